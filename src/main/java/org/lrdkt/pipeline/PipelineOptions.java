package org.lrdkt.pipeline;

import java.nio.file.Path;
import org.lrdkt.data.Preprocessing;
import org.lrdkt.decompose.CompressOptions;
import org.lrdkt.train.FinetuneOptions;
import org.lrdkt.validate.Benchmark;

/**
 * One run of the whole pipeline.
 *
 * @param model         the teacher (original model)
 * @param trainData     data to fine-tune on; null = no fine-tuning
 * @param testData      data to evaluate teacher and students on; null = no accuracy columns
 * @param preprocessing how samples become model input; unset sizes are taken from the teacher's input
 * @param finetune      fine-tuning settings; null = compress only (closed form)
 * @param output        where the final student is written (never the model itself)
 * @param reportDir     folder for report.json and report.html; null = no report
 * @param loaderThreads threads decoding an image folder ahead of the training step
 */
public record PipelineOptions(Path model, Path trainData, Path testData, Preprocessing preprocessing,
                              CompressOptions compress, FinetuneOptions finetune, Benchmark.BenchOptions bench,
                              Path output, Path reportDir, int loaderThreads) {
}
