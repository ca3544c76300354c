package org.lrdkt.pipeline;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.lrdkt.Fidelity;
import org.lrdkt.LrdktException;
import org.lrdkt.OutputKind;
import org.lrdkt.data.Dataset;
import org.lrdkt.data.Datasets;
import org.lrdkt.data.Preprocessing;
import org.lrdkt.decompose.CompressOptions;
import org.lrdkt.decompose.CompressReport;
import org.lrdkt.decompose.Compressor;
import org.lrdkt.onnx.OnnxModel;
import org.lrdkt.onnx.Shapes;
import org.lrdkt.train.FinetuneResult;
import org.lrdkt.train.Finetuner;
import org.lrdkt.train.TrainSamples;
import org.lrdkt.validate.Benchmark;
import org.lrdkt.validate.Evaluator;
import org.lrdkt.validate.Evaluator.EvalResult;
import org.lrdkt.validate.HtmlReport;
import org.lrdkt.validate.ReportData;

/**
 * The whole method in one call: closed-form compression, knowledge-transfer fine-tuning, then teacher against
 * students in ONNX Runtime (accuracy on test data, latency in alternating blocks), optionally as an HTML report.
 */
public final class Pipeline {

    /** Hears about each stage as it starts, and about fine-tuning progress. */
    public interface Listener extends Finetuner.Progress {
        default void stage(String description) {
        }
    }

    private Pipeline() {
    }

    public static PipelineResult run(PipelineOptions options, Listener listener) throws LrdktException {
        OnnxModel teacher = OnnxModel.load(options.model());
        Preprocessing preprocessing = options.preprocessing().withModelInput(Shapes.declaredInputDims(teacher));
        // data is opened before any long step so that a bad path fails in a second, not after compressing
        TrainSamples train = options.finetune() != null && options.trainData() != null
                ? TrainSamples.open(options.trainData(), preprocessing, options.loaderThreads()) : null;
        Dataset test = options.testData() != null ? Datasets.open(options.testData(), null, preprocessing) : null;

        // a model with open spatial dims (detectors, OCR) is measured at the size its data has, unless told
        long[] dataShape = options.compress().inputShape() == null
                ? dataInputShape(teacher, train != null ? train.sampleShape() : test != null ? test.sampleShape() : null)
                : null;
        CompressOptions compress = dataShape == null ? options.compress()
                : options.compress().toBuilder().inputShape(dataShape).build();
        Benchmark.BenchOptions benchOptions = dataShape == null || options.bench().inputShape() != null
                ? options.bench() : options.bench().withInputShape(dataShape);

        listener.stage("compress " + options.model().getFileName() + " (" + compress.describe() + ")");
        Compressor.Compression compression = Compressor.compress(teacher, compress);
        OnnxModel student = compression.student();
        FinetuneResult finetune = null;
        if (train != null) {
            listener.stage("fine-tune the student against the teacher on " + train.size() + " samples");
            finetune = Finetuner.finetune(teacher, student, train, options.finetune(), listener);
        }
        OnnxModel result = finetune != null ? finetune.student() : student;
        result.save(options.output(), OnnxModel.ExternalData.AUTO);

        EvalResult teacherEval = null;
        EvalResult compressedEval = null;
        EvalResult finetunedEval = null;
        if (test != null) {
            listener.stage("evaluate on " + test.description());
            Evaluator.EvalOptions eval = Evaluator.EvalOptions.defaults();
            // each output is scored as what it was fine-tuned as (--output-loss can say better than its shape)
            Map<String, OutputKind> kinds = new LinkedHashMap<>();
            if (finetune != null) {
                finetune.outputLosses().forEach((name, loss) -> kinds.put(name, loss.kind()));
            }
            teacherEval = Evaluator.evaluate(teacher, null, test, eval);
            compressedEval = Evaluator.evaluate(student, teacher, test, eval, kinds);
            finetunedEval = finetune != null ? Evaluator.evaluate(result, teacher, test, eval, kinds) : null;
        }
        listener.stage("benchmark teacher against student in ONNX Runtime");
        Benchmark.BenchResult bench = Benchmark.compare(List.of(new Benchmark.NamedModel("teacher", teacher),
                new Benchmark.NamedModel("student", result)), benchOptions);

        Path report = null;
        if (options.reportDir() != null) {
            report = HtmlReport.write(options.reportDir(), reportData(options, compression.report(), finetune,
                    teacherEval, compressedEval, finetunedEval, bench));
        }
        return new PipelineResult(compression.report(), finetune, teacherEval, compressedEval, finetunedEval, bench,
                options.output(), report);
    }

    /**
     * [1, sample shape] when the model's single input leaves a non-batch dimension open and the data's samples
     * have the input's rank; else null (a fixed input, or nothing to go by).
     */
    private static long[] dataInputShape(OnnxModel model, long[] sampleShape) throws LrdktException {
        long[] declared = Shapes.declaredInputDims(model);
        if (sampleShape == null || declared == null || declared.length != sampleShape.length + 1) {
            return null;
        }
        for (int i = 1; i < declared.length; i++) {
            if (declared[i] == Shapes.DYNAMIC) {
                long[] shape = new long[declared.length];
                shape[0] = 1;
                System.arraycopy(sampleShape, 0, shape, 1, sampleShape.length);
                return shape;
            }
        }
        return null;
    }

    private static ReportData reportData(PipelineOptions options, CompressReport compress, FinetuneResult finetune,
                                         EvalResult teacher, EvalResult compressed, EvalResult finetuned,
                                         Benchmark.BenchResult bench) {
        Double threshold = options.compress().policy() == CompressOptions.Policy.ENERGY
                ? options.compress().energy() : null;
        List<ReportData.LayerEnergy> energies = new ArrayList<>();
        List<ReportData.LayerMacs> macs = new ArrayList<>();
        for (CompressReport.LayerDecision d : compress.layers()) {
            macs.add(new ReportData.LayerMacs(d.name(), d.macsBefore(), d.macsAfter()));
            if (d.cumulativeEnergy() != null) {
                boolean decomposed = d.status() == CompressReport.Status.DECOMPOSED;
                energies.add(new ReportData.LayerEnergy(d.name(), widen(d.cumulativeEnergy()),
                        widen(d.cumulativeWeightEnergy()), decomposed ? d.rank() : 0, threshold));
            }
        }
        Benchmark.ModelBench t = bench.models().get(0);
        Benchmark.ModelBench s = bench.models().get(1);
        double speedup = bench.ratios().get(0).speedup();
        List<ReportData.ModelPoint> points = new ArrayList<>();
        points.add(new ReportData.ModelPoint("teacher", top1(teacher), 1, t.params(), t.macsPerSample(), null));
        points.add(new ReportData.ModelPoint(compress.calibrated() ? "student, calibrated closed form"
                : "student, closed form", top1(compressed), speedup, s.params(), s.macsPerSample(),
                fidelity(compressed)));
        if (finetune != null) {
            points.add(new ReportData.ModelPoint("student, fine-tuned", top1(finetuned), speedup, s.params(),
                    s.macsPerSample(), fidelity(finetuned)));
        }
        List<ReportData.TrainingEpoch> training = new ArrayList<>();
        if (finetune != null) {
            training.add(new ReportData.TrainingEpoch(0, finetune.initialLoss(), finetune.initialScore(),
                    finetune.bestEpoch() == 0));
            for (FinetuneResult.Epoch e : finetune.history()) {
                training.add(new ReportData.TrainingEpoch(e.epoch(), e.heldOutLoss(), e.score(),
                        e.epoch() == finetune.bestEpoch()));
            }
        }
        Map<String, Object> sections = new LinkedHashMap<>();
        sections.put("compress", compress);
        if (finetune != null) {
            sections.put("finetune", finetune);
        }
        if (teacher != null) {
            sections.put("eval: teacher", teacher);
            sections.put("eval: student, closed form", compressed);
            if (finetuned != null) {
                sections.put("eval: student, fine-tuned", finetuned);
            }
        }
        sections.put("bench", bench);
        return new ReportData("lrdkt run: " + options.model().getFileName(), energies, macs, points, training,
                sections);
    }

    private static double[] widen(float[] values) {
        if (values == null) {
            return null;
        }
        double[] out = new double[values.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = values[i];
        }
        return out;
    }

    private static Double top1(EvalResult eval) {
        return eval == null ? null : eval.top1();
    }

    private static List<Fidelity.Figures> fidelity(EvalResult eval) {
        return eval == null ? null : eval.fidelity();
    }
}
