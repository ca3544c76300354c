package org.lrdkt.validate;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.lrdkt.Fidelity;
import org.lrdkt.Logits;
import org.lrdkt.LrdktException;
import org.lrdkt.OutputKind;
import org.lrdkt.TerminalProgress;
import org.lrdkt.TextTable;
import org.lrdkt.data.Dataset;
import org.lrdkt.onnx.Graph;
import org.lrdkt.onnx.Inference;
import org.lrdkt.onnx.OnnxModel;
import org.lrdkt.onnx.Shapes;
import org.lrdkt.onnx.proto.Onnx.NodeProto;
import org.lrdkt.onnx.proto.Onnx.ValueInfoProto;

/**
 * Accuracy of a model on a data set and, given a reference (the teacher), how closely each of its outputs follows
 * the reference's: the figure that fits the output's kind ({@link Fidelity}): top-1 agreement for class logits (per
 * position for [N,C,H,W] and [N,T,C]), mask IoU at 0.5 for probabilities, cosine and relative L2 error for anything
 * else, with absolute differences. Every sum is kept in double.
 */
public final class Evaluator {

    /** Batch size, ONNX Runtime settings and whether to show a progress bar. */
    public record EvalOptions(int batch, Inference.Settings settings, boolean progress) {
        public static EvalOptions defaults() {
            return new EvalOptions(64, Inference.Settings.defaults(), true);
        }
    }

    /**
     * What was measured. Accuracy fields are null for unlabelled data or without a (batch, classes) output; top-5
     * fields are null below 5 classes; reference fields are null without a reference. Accuracies and agreement are
     * fractions in [0, 1].
     *
     * @param outputClasses size of the class axis of the first (batch, classes) output, or 0 when there is none:
     *                      accuracy and {@code agreement} are of that output
     * @param agreement     top-1 agreement of that output with the reference's
     * @param fidelity      per output both models share (by name), how closely it follows the reference's
     */
    public record EvalResult(String model, String reference, String data, String preprocessing, int samples,
                             int outputClasses, Double top1, Double top5, Double referenceTop1, Double referenceTop5,
                             Double agreement, List<Fidelity.Figures> fidelity, double seconds) {
    }

    private Evaluator() {
    }

    public static EvalResult evaluate(OnnxModel model, OnnxModel referenceOrNull, Dataset data, EvalOptions options)
            throws LrdktException {
        return evaluate(model, referenceOrNull, data, options, Map.of());
    }

    /**
     * @param kinds the kind of an output by name where it is known better than its shape and producer tell (the
     *              loss it was fine-tuned with: a [N,4] box regression looks like class logits)
     */
    public static EvalResult evaluate(OnnxModel model, OnnxModel referenceOrNull, Dataset data, EvalOptions options,
                                      Map<String, OutputKind> kinds) throws LrdktException {
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
        List<String[]> pairs = null;
        List<Fidelity> fidelity = new ArrayList<>();
        String classifier = null;
        try (Inference session = Inference.open(model, options.settings());
             Inference reference = referenceOrNull == null ? null : Inference.open(referenceOrNull, options.settings());
             TerminalProgress progress = TerminalProgress.start("eval", data.size(), "samples", options.progress())) {
            String input = session.inputNames().get(0);
            for (int start = 0; start < data.size(); start += batch) {
                int count = Math.min(batch, data.size() - start);
                Dataset.Batch b = data.batch(start, count);
                Map<String, Inference.Tensor> out = session.run(Map.of(input, padded(b, batch, fixedBatch(model) > 0)),
                        List.of());
                for (Inference.Tensor t : out.values()) {
                    perSample(t, "model");
                }
                if (start == 0) {
                    classifier = classifierOutput(session.outputNames(), out);
                }
                int[] labels = classifier == null ? null : b.labels();
                if (classifier != null) {
                    modelAccuracy.add(out.get(classifier).values(), count, labels, out.get(classifier).shape());
                }
                if (reference != null) {
                    Map<String, Inference.Tensor> ref = reference.run(Map.of(reference.inputNames().get(0),
                            padded(b, batch, fixedBatch(referenceOrNull) > 0)), List.of());
                    if (pairs == null) {
                        pairs = pairs(session.outputNames(), reference.outputNames());
                        checkNamed(kinds.keySet(), pairs);
                        for (String[] p : pairs) {
                            fidelity.add(fidelityOf(p[0], referenceOrNull, p[1], ref.get(p[1]).shape(), kinds));
                        }
                    }
                    for (int i = 0; i < pairs.size(); i++) {
                        Inference.Tensor o = out.get(pairs.get(i)[0]);
                        Inference.Tensor r = ref.get(pairs.get(i)[1]);
                        if (perSample(r, "reference") != perSample(o, "model")) {
                            throw LrdktException.badInput("model output " + TextTable.dims(o.shape()) + " and "
                                    + "reference output " + TextTable.dims(r.shape()) + " differ in size; they cannot "
                                    + "be compared");
                        }
                        fidelity.get(i).add(o.values(), r.values(), o.shape(), count);
                    }
                    if (classifier != null && ref.containsKey(classifier)) {
                        referenceAccuracy.add(ref.get(classifier).values(), count, labels,
                                ref.get(classifier).shape());
                    }
                }
                progress.step(count);
            }
        }
        boolean labelled = data.labelled() && classifier != null;
        int classes = modelAccuracy.classes;
        boolean hasTop5 = labelled && classes >= 5;
        boolean ref = referenceOrNull != null;
        List<Fidelity.Figures> figures = fidelity.stream().map(Fidelity::figures).toList();
        String agreed = classifier;
        Double agreement = figures.stream().filter(f -> f.output().equals(agreed)).findFirst()
                .map(Fidelity.Figures::agreement).orElse(null);
        return new EvalResult(name(model), ref ? name(referenceOrNull) : null, data.description(),
                data.preprocessing().describe(), data.size(), classes,
                labelled ? modelAccuracy.top1() : null, hasTop5 ? modelAccuracy.top5() : null,
                ref && labelled ? referenceAccuracy.top1() : null, ref && hasTop5 ? referenceAccuracy.top5() : null,
                agreement, ref ? figures : null, (System.nanoTime() - started) / 1e9);
    }

    /** The first output of shape (batch, classes) with more than one class, or null: what accuracy is taken on. */
    private static String classifierOutput(List<String> names, Map<String, Inference.Tensor> out) {
        for (String name : names) {
            long[] shape = out.get(name).shape();
            if (shape.length == 2 && shape[1] > 1) {
                return name;
            }
        }
        return null;
    }

    /**
     * Model output → reference output: those of the same name; two models of one output each are compared whatever
     * their names.
     */
    private static List<String[]> pairs(List<String> model, List<String> reference) throws LrdktException {
        List<String[]> pairs = new ArrayList<>();
        for (String name : model) {
            if (reference.contains(name)) {
                pairs.add(new String[] {name, name});
            }
        }
        if (pairs.isEmpty() && model.size() == 1 && reference.size() == 1) {
            pairs.add(new String[] {model.get(0), reference.get(0)});
        }
        if (pairs.isEmpty()) {
            throw LrdktException.badInput("model outputs " + model + " and reference outputs " + reference
                    + " share no name; they cannot be compared");
        }
        return pairs;
    }

    /** Every output named in {@code --output-kind} must be one of those compared. */
    private static void checkNamed(Iterable<String> named, List<String[]> pairs) throws LrdktException {
        List<String> compared = pairs.stream().map(p -> p[0]).toList();
        for (String name : named) {
            if (!compared.contains(name)) {
                throw LrdktException.usage("--output-kind names '" + name + "', which is not among the outputs "
                        + "compared " + compared);
            }
        }
    }

    /**
     * The fidelity measure of a model output: of the kind given for it, else of the kind its shape and the
     * reference's node that produces it make it.
     */
    private static Fidelity fidelityOf(String output, OnnxModel reference, String referenceOutput, long[] shape,
                                       Map<String, OutputKind> kinds) throws LrdktException {
        NodeProto producer = Graph.of(reference).producer(referenceOutput);
        String op = producer == null ? null : producer.getOpType();
        return new Fidelity(output, kinds.getOrDefault(output, OutputKind.of(shape, op)),
                OutputKind.probabilities(op));
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

    /** Top-1/top-5 counts over a (batch, classes) output. */
    static final class Accuracy {
        long top1;
        long top5;
        long seen;
        int classes;

        void add(float[] logits, int count, int[] labels, long[] shape) throws LrdktException {
            int width = (int) shape[1];
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
        if (r.fidelity() != null) {
            for (Fidelity.Figures f : r.fidelity()) {
                // one output: plain names, as before; several: each figure under its output's name
                String prefix = r.fidelity().size() > 1 ? f.output() + ": " : "";
                if (f.agreement() != null) {
                    t.row(prefix + (f.perPosition() ? "per-position top-1 agreement" : "top-1 agreement"),
                            percent(f.agreement()));
                    t.row(prefix + "  naming the reference's most frequent class", percent(f.majorityAgreement()));
                }
                if (f.maskIou() != null) {
                    t.row(prefix + "mask IoU at 0.5", String.format("%.4f", f.maskIou()));
                }
                t.row(prefix + "cosine similarity", String.format("%.6f", f.cosine()));
                t.row(prefix + "relative L2 error", String.format("%.4g", f.relativeL2()));
                t.row(prefix + "max |output diff|", String.format("%.3g", f.maxAbsDiff()));
                t.row(prefix + "mean |output diff|", String.format("%.3g", f.meanAbsDiff()));
            }
        }
        t.row("time", String.format("%.2f s", r.seconds()));
        return t.render();
    }

    static String percent(double fraction) {
        return String.format("%.2f%%", fraction * 100);
    }
}
