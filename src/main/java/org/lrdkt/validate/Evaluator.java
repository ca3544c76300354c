package org.lrdkt.validate;

import java.util.Arrays;
import java.util.List;
import org.lrdkt.Logits;
import org.lrdkt.LrdktException;
import org.lrdkt.TerminalProgress;
import org.lrdkt.TextTable;
import org.lrdkt.data.Dataset;
import org.lrdkt.onnx.Graph;
import org.lrdkt.onnx.Inference;
import org.lrdkt.onnx.OnnxModel;
import org.lrdkt.onnx.Shapes;
import org.lrdkt.onnx.proto.Onnx.ValueInfoProto;

/**
 * Accuracy of a model on a data set and, given a reference (the teacher), how closely the model follows it:
 * top-1 agreement, max and mean absolute output difference, mean per-sample cosine similarity. Every sum is kept in
 * double (float sums over 1e8 values drift by percents).
 */
public final class Evaluator {

    /** Batch size, ONNX Runtime settings and whether to show a progress bar. */
    public record EvalOptions(int batch, Inference.Settings settings, boolean progress) {
        public static EvalOptions defaults() {
            return new EvalOptions(64, Inference.Settings.defaults(), true);
        }
    }

    /**
     * What was measured. Accuracy fields are null for unlabelled data; top-5 fields are null below 5 classes;
     * reference fields are null without a reference. Accuracies and agreement are fractions in [0, 1].
     *
     * @param outputClasses size of the output's class axis, or 0 when the output is not (batch, classes)
     * @param cosine        mean over samples of cos(model output, reference output)
     */
    public record EvalResult(String model, String reference, String data, String preprocessing, int samples,
                             int outputClasses, Double top1, Double top5, Double referenceTop1, Double referenceTop5,
                             Double agreement, Double maxAbsDiff, Double meanAbsDiff, Double cosine, double seconds) {
    }

    private Evaluator() {
    }

    public static EvalResult evaluate(OnnxModel model, OnnxModel referenceOrNull, Dataset data, EvalOptions options)
            throws LrdktException {
        int batch = batchSize(model, data, options.batch());
        if (referenceOrNull != null) {
            int referenceBatch = batchSize(referenceOrNull, data, options.batch());
            if (fixedBatch(model) > 0 && fixedBatch(referenceOrNull) > 0 && batch != referenceBatch) {
                throw LrdktException.unsupported("model and reference have different fixed batch sizes ("
                        + batch + " and " + referenceBatch + ")");
            }
            batch = fixedBatch(model) > 0 ? batch : referenceBatch;
        }
        long started = System.nanoTime();
        Accuracy modelAccuracy = new Accuracy();
        Accuracy referenceAccuracy = new Accuracy();
        Fidelity fidelity = new Fidelity();
        try (Inference session = Inference.open(model, options.settings());
             Inference reference = referenceOrNull == null ? null : Inference.open(referenceOrNull, options.settings());
             TerminalProgress progress = TerminalProgress.start("eval", data.size(), "samples", options.progress())) {
            for (int start = 0; start < data.size(); start += batch) {
                int count = Math.min(batch, data.size() - start);
                Dataset.Batch b = data.batch(start, count);
                Inference.Tensor input = padded(b, batch, fixedBatch(model) > 0);
                Inference.Tensor out = session.run(input);
                int[] labels = b.labels();
                int width = perSample(out, "model");
                modelAccuracy.add(out.values(), width, count, labels, out.shape());
                if (reference != null) {
                    Inference.Tensor ref = reference.run(padded(b, batch, fixedBatch(referenceOrNull) > 0));
                    if (perSample(ref, "reference") != width) {
                        throw LrdktException.badInput("model output " + TextTable.dims(out.shape()) + " and reference "
                                + "output " + TextTable.dims(ref.shape()) + " differ in size; they cannot be compared");
                    }
                    referenceAccuracy.add(ref.values(), width, count, labels, ref.shape());
                    fidelity.add(out.values(), ref.values(), width, count, out.shape().length == 2);
                }
                progress.step(count);
            }
        }
        boolean labelled = data.labelled();
        int classes = modelAccuracy.classes;
        boolean hasTop5 = labelled && classes >= 5;
        boolean ref = referenceOrNull != null;
        return new EvalResult(name(model), ref ? name(referenceOrNull) : null, data.description(),
                data.preprocessing().describe(), data.size(), classes,
                labelled ? modelAccuracy.top1() : null, hasTop5 ? modelAccuracy.top5() : null,
                ref && labelled ? referenceAccuracy.top1() : null, ref && hasTop5 ? referenceAccuracy.top5() : null,
                ref && classes > 0 ? fidelity.agreement() : null, ref ? fidelity.maxAbs : null,
                ref ? fidelity.meanAbs() : null, ref ? fidelity.cosine() : null,
                (System.nanoTime() - started) / 1e9);
    }

    private static String name(OnnxModel model) {
        return model.source() == null ? "(in memory)" : model.source().toString();
    }

    /** The fixed batch dimension of the model's input, or 0 when it is dynamic. */
    private static long fixedBatch(OnnxModel model) throws LrdktException {
        return Shapes.declaredBatch(input(model));
    }

    private static ValueInfoProto input(OnnxModel model) throws LrdktException {
        List<ValueInfoProto> inputs = Graph.of(model).realInputs();
        if (inputs.size() != 1) {
            throw LrdktException.unsupported("evaluation feeds one input tensor but the model has " + inputs.size()
                    + " inputs");
        }
        return inputs.get(0);
    }

    /** Checks that samples fit the model's input and picks the batch size it accepts. */
    private static int batchSize(OnnxModel model, Dataset data, int requested) throws LrdktException {
        ValueInfoProto input = input(model);
        long[] declared = Shapes.declaredDims(input);
        long[] sample = data.sampleShape();
        if (declared.length != 0) {
            boolean fits = declared.length == sample.length + 1;
            for (int i = 1; fits && i < declared.length; i++) {
                fits = declared[i] == Shapes.DYNAMIC || declared[i] == sample[i - 1];
            }
            if (!fits) {
                throw LrdktException.badInput("data samples are " + TextTable.dims(sample) + " but model input '"
                        + input.getName() + "' is " + Shapes.describeDeclared(input)
                        + "; adjust --resize/--channels/--layout");
            }
        }
        long fixed = fixedBatch(model);
        return fixed > 0 ? (int) fixed : Math.max(1, Math.min(requested, data.size()));
    }

    /** A model with a fixed batch size gets the last, short batch padded with zeros (its extra outputs ignored). */
    private static Inference.Tensor padded(Dataset.Batch b, int batch, boolean fixed) {
        if (!fixed || b.count() == batch) {
            return new Inference.Tensor(b.values(), b.shape());
        }
        long[] shape = b.shape().clone();
        shape[0] = batch;
        float[] values = Arrays.copyOf(b.values(), b.values().length / b.count() * batch);
        return new Inference.Tensor(values, shape);
    }

    private static int perSample(Inference.Tensor out, String which) throws LrdktException {
        if (out.shape().length == 0 || out.shape()[0] <= 0) {
            throw LrdktException.unsupported(which + " output " + TextTable.dims(out.shape()) + " has no batch axis");
        }
        return Math.toIntExact(out.values().length / out.shape()[0]);
    }

    /** Top-1/top-5 counts over (batch, classes) outputs. */
    static final class Accuracy {
        long top1;
        long top5;
        long seen;
        int classes;

        void add(float[] logits, int width, int count, int[] labels, long[] shape) throws LrdktException {
            if (shape.length != 2) {
                classes = 0;
                if (labels != null) {
                    throw LrdktException.unsupported("accuracy needs a (batch, classes) output; the model's is "
                            + TextTable.dims(shape));
                }
                return;
            }
            classes = width;
            if (labels == null) {
                return;
            }
            for (int i = 0; i < count; i++) {
                if (labels[i] >= width) {
                    throw LrdktException.badInput("label " + labels[i] + " of sample " + (seen + i) + " is outside "
                            + "the model's " + width + " output classes");
                }
                int rank = Logits.rankOf(logits, i * width, width, labels[i]);
                top1 += rank == 0 ? 1 : 0;
                top5 += rank < 5 ? 1 : 0;
            }
            seen += count;
        }

        double top1() {
            return seen == 0 ? 0 : (double) top1 / seen;
        }

        double top5() {
            return seen == 0 ? 0 : (double) top5 / seen;
        }
    }

    /** Agreement and output distances of a model against its reference, in double. */
    static final class Fidelity {
        long agree;
        long samples;
        double maxAbs;
        double sumAbs;
        long elements;
        double sumCosine;

        void add(float[] out, float[] ref, int width, int count, boolean classification) {
            for (int i = 0; i < count; i++) {
                int o = i * width;
                if (classification) {
                    agree += Logits.argmax(out, o, width) == Logits.argmax(ref, o, width) ? 1 : 0;
                }
                double dot = 0;
                double normOut = 0;
                double normRef = 0;
                for (int j = 0; j < width; j++) {
                    double a = out[o + j];
                    double b = ref[o + j];
                    double diff = Math.abs(a - b);
                    maxAbs = Math.max(maxAbs, diff);
                    sumAbs += diff;
                    dot += a * b;
                    normOut += a * a;
                    normRef += b * b;
                }
                sumCosine += normOut == 0 || normRef == 0 ? (normOut == normRef ? 1 : 0)
                        : dot / Math.sqrt(normOut * normRef);
                elements += width;
                samples++;
            }
        }

        double agreement() {
            return samples == 0 ? 0 : (double) agree / samples;
        }

        double meanAbs() {
            return elements == 0 ? 0 : sumAbs / elements;
        }

        double cosine() {
            return samples == 0 ? 0 : sumCosine / samples;
        }
    }

    /** The result as the table {@code lrdkt eval} prints. */
    public static String table(EvalResult r) {
        TextTable t = new TextTable("metric", "value");
        t.row("model", r.model());
        if (r.reference() != null) {
            t.row("reference", r.reference());
        }
        t.row("data", r.data());
        t.row("preprocessing", r.preprocessing());
        t.row("samples", r.samples());
        if (r.top1() != null) {
            t.row("top-1 accuracy", percent(r.top1()));
        }
        if (r.top5() != null) {
            t.row("top-5 accuracy", percent(r.top5()));
        }
        if (r.referenceTop1() != null) {
            t.row("reference top-1 accuracy", percent(r.referenceTop1()));
        }
        if (r.referenceTop5() != null) {
            t.row("reference top-5 accuracy", percent(r.referenceTop5()));
        }
        if (r.agreement() != null) {
            t.row("top-1 agreement", percent(r.agreement()));
        }
        if (r.maxAbsDiff() != null) {
            t.row("max |output diff|", String.format("%.3g", r.maxAbsDiff()));
            t.row("mean |output diff|", String.format("%.3g", r.meanAbsDiff()));
            t.row("cosine similarity", String.format("%.6f", r.cosine()));
        }
        t.row("time", String.format("%.2f s", r.seconds()));
        return t.render();
    }

    static String percent(double fraction) {
        return String.format("%.2f%%", fraction * 100);
    }
}
