package org.lrdkt.pipeline;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.lrdkt.LrdktException;
import org.lrdkt.data.Dataset;
import org.lrdkt.data.Datasets;
import org.lrdkt.data.IdxDataset;
import org.lrdkt.data.Preprocessing;
import org.lrdkt.onnx.AtomicFiles;
import org.lrdkt.onnx.Inference;
import org.lrdkt.onnx.OnnxModel;
import org.lrdkt.onnx.Shapes;
import org.lrdkt.train.Checkpoint;
import org.lrdkt.train.FinetuneOptions;
import org.lrdkt.train.FinetuneResult;
import org.lrdkt.train.Finetuner;
import org.lrdkt.train.TrainSamples;
import org.lrdkt.validate.Evaluator;

/**
 * {@code lrdkt finetune} in one call: checks both models and the data before any training, fine-tunes with a
 * checkpoint beside the output (removed once the run is done), writes the student and scores the written models
 * with ONNX Runtime on test data. It sits here rather than in {@code train} because it joins two stages: training,
 * and validation's scoring.
 */
public final class Finetuning {

    /**
     * One fine-tuning job.
     *
     * @param teacher       the original model (frozen)
     * @param student       the decomposed model to train
     * @param data          training data
     * @param testData      labelled data to score teacher and students on afterwards (the test split of a folder);
     *                      null = none
     * @param preprocessing how samples become model input; unset sizes are taken from the teacher's input
     * @param options       training settings; their checkpoint is placed by {@link Checkpoint#pathFor}
     * @param output        where the fine-tuned student is written (never over either model)
     * @param loaderThreads threads decoding an image folder ahead of the training step ({@link TrainSamples#open})
     */
    public record Job(Path teacher, Path student, Path data, Path testData, Preprocessing preprocessing,
                      FinetuneOptions options, Path output, int loaderThreads) {
    }

    /** Top-1 accuracy on the test data, as ONNX Runtime computes it for the models written. */
    public record TestScores(int samples, double teacher, double before, double after) {
    }

    /**
     * What the job did.
     *
     * @param test     null without test data
     * @param warnings things that went wrong after the student was written, which do not fail the run
     */
    public record Result(FinetuneResult finetune, TestScores test, List<String> warnings, Path output) {

        /** The epoch table, then the test scores when there were any. */
        public String summary() {
            String table = finetune.table();
            return test == null ? table : table + String.format("test accuracy (ONNX Runtime, %d samples): teacher "
                    + "%.2f%%, student before %.2f%%, fine-tuned %.2f%%%n", test.samples(), 100 * test.teacher(),
                    100 * test.before(), 100 * test.after());
        }
    }

    private Finetuning() {
    }

    public static Result run(Job job, Finetuner.Progress progress) throws LrdktException {
        AtomicFiles.checkNotSameFile(job.teacher(), job.output());
        AtomicFiles.checkNotSameFile(job.student(), job.output());
        Path checkpoint = Checkpoint.pathFor(job.output());
        FinetuneOptions options = job.options().withCheckpoint(checkpoint, job.options().resume());
        OnnxModel teacher = OnnxModel.load(job.teacher());
        OnnxModel student = OnnxModel.load(job.student());
        Inference.checkLoads(teacher, job.teacher());
        Inference.checkLoads(student, job.student());
        Preprocessing preprocessing = job.preprocessing().withModelInput(Shapes.declaredInputDims(teacher));
        TrainSamples data = TrainSamples.open(job.data(), preprocessing, job.loaderThreads());
        Dataset test = job.testData() != null ? testData(job.testData(), preprocessing) : null;

        FinetuneResult result = Finetuner.finetune(teacher, student, data, options, progress);
        result.student().save(job.output(), OnnxModel.ExternalData.AUTO);
        List<String> warnings = new ArrayList<>();
        try {
            Files.deleteIfExists(checkpoint); // the run finished: nothing left to resume
        } catch (IOException e) {
            warnings.add("could not delete checkpoint " + checkpoint);
        }
        TestScores scores = test == null ? null : new TestScores(test.size(), top1(teacher, test), top1(student, test),
                top1(result.student(), test));
        return new Result(result, scores, warnings, job.output());
    }

    /** The test split of {@code path}, checked for labels before any training: it is only read to score. */
    private static Dataset testData(Path path, Preprocessing preprocessing) throws LrdktException {
        Dataset test = Datasets.open(IdxDataset.testImages(path), null, preprocessing);
        if (!test.labelled()) {
            throw LrdktException.badInput("test data " + test.description() + " has no labels");
        }
        return test;
    }

    /** Top-1 accuracy as ONNX Runtime computes it: the model written, not the training mirror, is what scores. */
    private static double top1(OnnxModel model, Dataset test) throws LrdktException {
        return Evaluator.evaluate(model, null, test, new Evaluator.EvalOptions(500, Inference.Settings.defaults(),
                false)).top1();
    }
}
