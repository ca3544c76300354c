package org.lrdkt.train;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.lrdkt.OutputKind;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The knowledge-transfer loss of LRDKT (DESIGN.md, "Knowledge transfer") and its gradients:
 *
 * <pre>
 * L = CE(student, labels)                                   (only when labels exist)
 *   + Σ_o λ_soft · transfer_o(student_o, teacher_o)             (every output o; {@link OutputLoss})
 *   + Σ_h λ_hint · ½‖student_h − teacher_h‖² / max(‖teacher_h‖², n_h·τ²)   (norms over the whole batch)
 * </pre>
 * A classifier's transfer term is T²·CE(softmax(teacher/T), softmax(student/T)). Both cross-entropies are means
 * over the batch. The T² factor (Hinton et al. 2015) keeps the soft term's
 * gradients about the same size whatever the temperature, so λ_soft reads as the soft targets' share. Each hint is
 * a relative squared error: DESIGN.md's absolute ½‖·‖²/batch grows with the layer's size and activation scale, so
 * one large or unreproducible layer (a rank-1 first convolution) outweighs everything else; relative, a hint the
 * student cannot follow costs about λ_hint/2.
 *
 * <p>The relative error is scale-free in the weights but not in the biases, which add in absolute units: its
 * curvature along a bias of a hint tensor with C channels and n elements is (n/C)/‖teacher_h‖² = 1/(C·rms²). A
 * teacher tensor of rms 1e-9 (deep layers of an untrained torchvision MobileNet-v2: each depthwise convolution
 * scales its output by about √(2/C), and batch norm with fresh statistics never restores it) makes that ~1e16, so
 * the first SGD step at lr 1e-4 moves biases by ~1e3 against activations of ~1e-9: the next loss is ~1e22, the one
 * after NaN. Below the rms τ ({@link #HINT_RMS_FLOOR}) a hint is therefore the mean squared error over τ²,
 * continuous with the relative error at rms τ, which bounds the curvature by 1/(C·τ²); an all-zero teacher tensor
 * is the extreme case of the same rule.
 */
public record KtLoss(double softWeight, double temperature, double hintWeight) {

    /**
     * The transfer loss on a model output ({@code --output-loss}). {@link #AUTO} is resolved by {@link #resolve}
     * before training; an {@link Output} always holds one of the others.
     * <ul>
     * <li>{@code SOFTMAX}: T²-scaled soft cross-entropy over the class axis (axis 1 of a rank-2 or rank-4 output,
     * the last of a rank-3 one), a mean over samples and positions; on an output produced by a {@code Softmax}
     * node ({@link Output#probabilities}) the log-probabilities stand for the logits, so it is not normalised
     * twice;</li>
     * <li>{@code SIGMOID}: binary cross-entropy of the student's probabilities against the teacher's, element-wise
     * mean; on probabilities as they are when the output is produced by a {@code Sigmoid} node, else on logits
     * (σ applied to both);</li>
     * <li>{@code MSE}: relative squared error Σ(s − t)² / max(Σt², n·τ²) over all elements, τ as for the hints: the
     * mean squared error in units of the teacher output's own mean square, so that boxes in pixels weigh like
     * scores in [0, 1] when a model has both;</li>
     * <li>{@code COSINE}: 1 − cosine similarity of each sample's flattened output, a mean over samples.</li>
     * </ul>
     * Every output's term is weighted by λ_soft alike: each is a mean, O(1) and free of the output's size and units
     * (the softmax term through T², which keeps its gradients as at T = 1), so no output drowns the others.
     */
    public enum OutputLoss {
        AUTO, SOFTMAX, SIGMOID, MSE, COSINE;

        /** The kind of output this loss treats the output as: what scores how well it is followed. */
        public OutputKind kind() {
            return switch (this) {
                case SOFTMAX -> OutputKind.CLASSES;
                case SIGMOID -> OutputKind.MASK;
                case MSE, COSINE -> OutputKind.VALUES;
                case AUTO -> throw new IllegalStateException("unresolved output loss");
            };
        }

        /** The term's name in the training table. */
        public String term() {
            return switch (this) {
                case SOFTMAX -> "soft CE";
                case SIGMOID -> "BCE";
                case MSE -> "rel. MSE";
                case COSINE -> "1-cos";
                case AUTO -> "auto";
            };
        }
    }

    /** Probabilities are clamped into [ε, 1 − ε] before their logarithm. */
    static final double PROBABILITY_EPSILON = 1e-7;

    /**
     * One model output in the loss.
     *
     * @param name          the student's output tensor (key of its gradient)
     * @param loss          resolved, never AUTO
     * @param probabilities produced by a {@code Sigmoid} or {@code Softmax} node: probabilities, not logits
     * @param labels        class per sample for the hard cross-entropy (rank-2 SOFTMAX only), or null
     */
    public record Output(String name, OutputLoss loss, boolean probabilities, INDArray student, INDArray teacher,
                         int[] labels) {
        public Output {
            if (loss == null || loss == OutputLoss.AUTO) {
                throw new IllegalArgumentException("the output loss must be resolved, not " + loss);
            }
            if (labels != null && (loss != OutputLoss.SOFTMAX || student.rank() != 2)) {
                throw new IllegalArgumentException("labels need rank-2 logits under the softmax loss");
            }
        }
    }

    /**
     * What {@code requested} means for an output of {@code shape} produced by a node of type {@code producerOp}
     * (null for none): AUTO follows {@link OutputKind#of}: CLASSES → softmax, MASK → sigmoid, VALUES → MSE.
     */
    public static OutputLoss resolve(OutputLoss requested, long[] shape, String producerOp) {
        if (requested != OutputLoss.AUTO) {
            return requested;
        }
        return switch (OutputKind.of(shape, producerOp)) {
            case CLASSES -> OutputLoss.SOFTMAX;
            case MASK -> OutputLoss.SIGMOID;
            case VALUES -> OutputLoss.MSE;
        };
    }

    /**
     * The teacher activation rms below which a hint stops being relative (τ above). At 0.1 the curvature along a
     * bias is at most 100/C, which the default SGD (lr 0.01, momentum 0.9) steps stably from 16 channels on, while
     * LeNet-5's hints (rms 0.7 to 6 on MNIST) stay relative errors as before.
     */
    static final double HINT_RMS_FLOOR = 0.1;

    /** The value of each term (already weighted; {@code soft}: the transfer terms of all outputs) and the total. */
    public record Terms(double hard, double soft, double hint) {
        public double total() {
            return hard + soft + hint;
        }
    }

    /** A loss value with the gradient of every student tensor it reads (logits and hint tensors). */
    public record Evaluation(Terms terms, Map<String, INDArray> gradients) {
    }

    /**
     * The loss of a classifier: softmax over rank-2 logits.
     *
     * @param logitsName the student's output tensor name (key of its gradient)
     * @param labels     class per sample, or null for pure transfer
     * @param hints      hint tensor name → {student value, teacher value}
     */
    public Evaluation evaluate(String logitsName, INDArray student, INDArray teacher, int[] labels,
                               Map<String, INDArray[]> hints) {
        return evaluate(List.of(new Output(logitsName, OutputLoss.SOFTMAX, false, student, teacher, labels)), hints);
    }

    /**
     * The loss summed over {@code outputs} (each output's term weighted by λ_soft alike) and the hints. The
     * outputs are small next to the activations: each term runs in Java, in double, instead of as a dozen ND4J ops
     * that each cost more to dispatch than to compute.
     */
    public Evaluation evaluate(List<Output> outputs, Map<String, INDArray[]> hints) {
        double hard = 0;
        double transfer = 0;
        Map<String, INDArray> grads = new LinkedHashMap<>();
        for (Output o : outputs) {
            double[] s = Tensors.doubles(o.student());
            double[] grad = new double[s.length];
            // a Softmax output's log-probabilities stand for its logits: softmax(log p) = p; gradients in their
            // terms are carried back to p at the end
            boolean logProbabilities = o.loss() == OutputLoss.SOFTMAX && o.probabilities();
            double[] logits = logProbabilities ? clampedLog(s) : s;
            if (o.labels() != null) {
                hard += hardTerm(logits, (int) o.student().size(1), o.labels(), grad);
            }
            if (softWeight != 0 && o.teacher() != null) {
                double[] t = Tensors.doubles(o.teacher());
                transfer += outputTerm(o, logits, logProbabilities ? clampedLog(t) : t, grad);
            }
            if (logProbabilities) {
                for (int k = 0; k < s.length; k++) {
                    // the clamp is flat outside [ε, 1 − ε]: no gradient there
                    grad[k] = clamp(s[k]) == s[k] ? grad[k] / s[k] : 0;
                }
            }
            grads.put(o.name(), Tensors.fromDoubles(grad, o.student().shape(), o.student().dataType()));
        }
        return new Evaluation(new Terms(hard, transfer, hintTerm(hints, grads)), grads);
    }

    /** Mean cross-entropy of rank-2 logits against labels; adds its gradient to {@code grad}. */
    private static double hardTerm(double[] logits, int classes, int[] labels, double[] grad) {
        int batch = logits.length / classes;
        double[] logP = logSoftmax(logits, classes, 1);
        double hard = 0;
        for (int i = 0; i < batch; i++) {
            if (labels[i] < 0 || labels[i] >= classes) {
                throw new IllegalArgumentException("label " + labels[i] + " outside the model's " + classes
                        + " classes");
            }
            hard -= logP[i * classes + labels[i]] / batch;
            for (int c = 0; c < classes; c++) {
                int k = i * classes + c;
                grad[k] += (Math.exp(logP[k]) - (c == labels[i] ? 1 : 0)) / batch;
            }
        }
        return hard;
    }

    private static double[] clampedLog(double[] p) {
        double[] out = new double[p.length];
        for (int k = 0; k < p.length; k++) {
            out[k] = Math.log(clamp(p[k]));
        }
        return out;
    }

    /** The weighted hint term; adds each hint's gradient to {@code grads}. */
    private double hintTerm(Map<String, INDArray[]> hints, Map<String, INDArray> grads) {
        double hint = 0;
        if (hintWeight != 0) {
            for (Map.Entry<String, INDArray[]> h : hints.entrySet()) {
                INDArray teacherHint = h.getValue()[1];
                INDArray diff = h.getValue()[0].sub(teacherHint);
                double energy = teacherHint.mul(teacherHint).sumNumber().doubleValue();
                // relative error, so that layers of any size and scale weigh alike, but never relative to a
                // near-silent tensor (see the class comment)
                double reference = Math.max(energy, HINT_RMS_FLOOR * HINT_RMS_FLOOR * teacherHint.length());
                hint += hintWeight * 0.5 * diff.mul(diff).sumNumber().doubleValue() / reference;
                grads.merge(h.getKey(), diff.muli(hintWeight / reference), INDArray::add);
            }
        }
        return hint;
    }

    /**
     * The weighted transfer term of one output on student values {@code s} and teacher values {@code t} (C order,
     * the output's shape); adds its gradient with respect to {@code s} to {@code grad}.
     */
    private double outputTerm(Output o, double[] s, double[] t, double[] grad) {
        long[] shape = o.student().shape();
        int n = s.length;
        int batch = (int) shape[0];
        switch (o.loss()) {
            case SOFTMAX -> {
                int axis = OutputKind.classAxis(shape.length);
                int classes = (int) shape[axis];
                int inner = inner(shape, axis);
                int positions = n / classes;
                double[] sr = toRows(s, classes, inner);
                double[] tr = toRows(t, classes, inner);
                double[] logPs = logSoftmax(sr, classes, temperature);
                double[] logPt = logSoftmax(tr, classes, temperature);
                double scale = softWeight * temperature * temperature;
                double loss = 0;
                double[] gr = new double[n];
                for (int k = 0; k < n; k++) {
                    double pt = Math.exp(logPt[k]);
                    loss -= scale * pt * logPs[k] / positions;
                    gr[k] = (Math.exp(logPs[k]) - pt) * scale / (temperature * positions);
                }
                addFromRows(gr, classes, inner, grad);
                return loss;
            }
            case SIGMOID -> {
                double loss = 0;
                for (int k = 0; k < n; k++) {
                    if (o.probabilities()) {
                        double ps = clamp(s[k]);
                        double pt = clamp(t[k]);
                        loss -= softWeight * (pt * Math.log(ps) + (1 - pt) * Math.log(1 - ps)) / n;
                        // the clamp is flat outside [ε, 1 − ε]: no gradient there
                        grad[k] += ps == s[k] ? softWeight * (ps - pt) / (ps * (1 - ps) * n) : 0;
                    } else {
                        double pt = sigmoid(t[k]);
                        // BCE(σ(s), p_t) = softplus(s) − p_t·s, computed stably
                        double softplus = Math.max(s[k], 0) + Math.log1p(Math.exp(-Math.abs(s[k])));
                        loss += softWeight * (softplus - pt * s[k]) / n;
                        grad[k] += softWeight * (sigmoid(s[k]) - pt) / n;
                    }
                }
                return loss;
            }
            case MSE -> {
                double energy = 0;
                for (double v : t) {
                    energy += v * v;
                }
                double reference = Math.max(energy, HINT_RMS_FLOOR * HINT_RMS_FLOOR * n);
                double loss = 0;
                for (int k = 0; k < n; k++) {
                    double d = s[k] - t[k];
                    loss += softWeight * d * d / reference;
                    grad[k] += softWeight * 2 * d / reference;
                }
                return loss;
            }
            case COSINE -> {
                int per = n / batch;
                double loss = 0;
                for (int i = 0; i < batch; i++) {
                    double dot = 0;
                    double ss = 0;
                    double tt = 0;
                    for (int k = i * per; k < (i + 1) * per; k++) {
                        dot += s[k] * t[k];
                        ss += s[k] * s[k];
                        tt += t[k] * t[k];
                    }
                    double ns = Math.sqrt(Math.max(ss, COSINE_NORM_FLOOR));
                    double nt = Math.sqrt(Math.max(tt, COSINE_NORM_FLOOR));
                    double cos = dot / (ns * nt);
                    loss += softWeight * (1 - cos) / batch;
                    for (int k = i * per; k < (i + 1) * per; k++) {
                        // d cos/ds = t/(|s||t|) − cos·s/|s|²
                        double dCos = t[k] / (ns * nt) - (ss > COSINE_NORM_FLOOR ? cos * s[k] / (ns * ns) : 0);
                        grad[k] -= softWeight * dCos / batch;
                    }
                }
                return loss;
            }
            default -> throw new IllegalStateException("unresolved output loss " + o.loss());
        }
    }

    /** Squared norms below this count as this (an all-zero output has no direction). */
    static final double COSINE_NORM_FLOOR = 1e-24;

    private static double clamp(double p) {
        return Math.min(1 - PROBABILITY_EPSILON, Math.max(PROBABILITY_EPSILON, p));
    }

    static double sigmoid(double x) {
        return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
    }

    /** [outer, classes, inner] in C order → [outer·inner, classes]: one row per position. */
    private static double[] toRows(double[] a, int classes, int inner) {
        if (inner == 1) {
            return a;
        }
        double[] out = new double[a.length];
        int outer = a.length / (classes * inner);
        for (int o = 0; o < outer; o++) {
            for (int c = 0; c < classes; c++) {
                for (int j = 0; j < inner; j++) {
                    out[(o * inner + j) * classes + c] = a[(o * classes + c) * inner + j];
                }
            }
        }
        return out;
    }

    /** The inverse of {@link #toRows}, added to {@code out}. */
    private static void addFromRows(double[] rows, int classes, int inner, double[] out) {
        int outer = rows.length / (classes * inner);
        for (int o = 0; o < outer; o++) {
            for (int c = 0; c < classes; c++) {
                for (int j = 0; j < inner; j++) {
                    out[(o * classes + c) * inner + j] += rows[(o * inner + j) * classes + c];
                }
            }
        }
    }

    /** Elements after the class axis: H·W for [N,C,H,W], 1 for [N,T,C] and [N,C]. */
    private static int inner(long[] shape, int axis) {
        int inner = 1;
        for (int d = axis + 1; d < shape.length; d++) {
            inner *= (int) shape[d];
        }
        return inner;
    }

    /** Row-wise log softmax of {@code logits / temperature} ([rows, classes] in C order), computed stably. */
    static double[] logSoftmax(double[] logits, int classes, double temperature) {
        double[] out = new double[logits.length];
        for (int row = 0; row < logits.length; row += classes) {
            double max = Double.NEGATIVE_INFINITY;
            for (int c = row; c < row + classes; c++) {
                max = Math.max(max, logits[c] / temperature);
            }
            double sum = 0;
            for (int c = row; c < row + classes; c++) {
                sum += Math.exp(logits[c] / temperature - max);
            }
            double logSum = Math.log(sum);
            for (int c = row; c < row + classes; c++) {
                out[c] = logits[c] / temperature - max - logSum;
            }
        }
        return out;
    }
}
