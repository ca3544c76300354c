package org.lrdkt.train;

import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The knowledge-transfer loss of LRDKT (DESIGN.md, "Knowledge transfer") and its gradients:
 *
 * <pre>
 * L = CE(student, labels)                                   (only when labels exist)
 *   + λ_soft · T² · CE(softmax(teacher/T), softmax(student/T))
 *   + Σ_h λ_hint · ½‖student_h − teacher_h‖² / max(‖teacher_h‖², n_h·τ²)   (norms over the whole batch)
 * </pre>
 * Both cross-entropies are means over the batch. The T² factor (Hinton et al. 2015) keeps the soft term's
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
public record KtLoss(double softWeight, double temperature, double hintWeight, OutputLoss outputLoss,
                     boolean probabilities) {

    /**
     * The transfer loss on the model output ({@code --output-loss}). {@link #AUTO} is resolved by
     * {@link #resolve} before training; a {@link KtLoss} always holds one of the others.
     * <ul>
     * <li>{@code SOFTMAX}: T²-scaled soft cross-entropy over the class axis (axis 1 of a rank-2 or rank-4 output,
     * the last of a rank-3 one), a mean over samples and positions;</li>
     * <li>{@code SIGMOID}: binary cross-entropy of the student's probabilities against the teacher's, element-wise
     * mean; on probabilities as they are when the output is produced by a {@code Sigmoid} node
     * ({@link #probabilities}), else on logits (σ applied to both);</li>
     * <li>{@code MSE}: mean squared error over all elements;</li>
     * <li>{@code COSINE}: 1 − cosine similarity of each sample's flattened output, a mean over samples.</li>
     * </ul>
     */
    public enum OutputLoss { AUTO, SOFTMAX, SIGMOID, MSE, COSINE }

    /** Classes beyond this are not taken for a class axis by {@link OutputLoss#AUTO} (an embedding, a feature map). */
    static final long MAX_AUTO_CLASSES = 4096;

    /** Probabilities are clamped into [ε, 1 − ε] before their logarithm. */
    static final double PROBABILITY_EPSILON = 1e-7;

    /** The soft-target classifier loss of before {@code --output-loss}: softmax over axis 1 of rank-2 logits. */
    public KtLoss(double softWeight, double temperature, double hintWeight) {
        this(softWeight, temperature, hintWeight, OutputLoss.SOFTMAX, false);
    }

    public KtLoss {
        if (outputLoss == null || outputLoss == OutputLoss.AUTO) {
            throw new IllegalArgumentException("the output loss must be resolved, not " + outputLoss);
        }
    }

    /**
     * What {@code requested} means for an output of {@code shape} produced by a node of type {@code producerOp}
     * (null for none): AUTO picks sigmoid after a Sigmoid node, softmax for rank-2 logits of more than one class and
     * for rank-3/4 outputs produced by Softmax or with a class axis of 2..{@value #MAX_AUTO_CLASSES}, else MSE.
     */
    public static OutputLoss resolve(OutputLoss requested, long[] shape, String producerOp) {
        if (requested != OutputLoss.AUTO) {
            return requested;
        }
        if ("Sigmoid".equals(producerOp)) {
            return OutputLoss.SIGMOID;
        }
        if (shape.length == 2 && shape[1] > 1) {
            return OutputLoss.SOFTMAX;
        }
        if (shape.length == 3 || shape.length == 4) {
            long classes = shape[classAxis(shape.length)];
            if ("Softmax".equals(producerOp) || (classes > 1 && classes <= MAX_AUTO_CLASSES)) {
                return OutputLoss.SOFTMAX;
            }
        }
        return OutputLoss.MSE;
    }

    /** The class axis of a softmax output: the last of rank 3 ([N,T,C]), else 1 ([N,C] and [N,C,H,W]). */
    static int classAxis(int rank) {
        return rank == 3 ? 2 : 1;
    }

    /** Whether hard labels fit this output: rank-2 logits under the softmax loss. */
    public boolean takesLabels(long[] shape) {
        return outputLoss == OutputLoss.SOFTMAX && shape.length == 2;
    }

    /**
     * The teacher activation rms below which a hint stops being relative (τ above). At 0.1 the curvature along a
     * bias is at most 100/C, which the default SGD (lr 0.01, momentum 0.9) steps stably from 16 channels on, while
     * LeNet-5's hints (rms 0.7 to 6 on MNIST) stay relative errors as before.
     */
    static final double HINT_RMS_FLOOR = 0.1;

    /** The value of each term (already weighted) and the total. */
    public record Terms(double hard, double soft, double hint) {
        public double total() {
            return hard + soft + hint;
        }
    }

    /** A loss value with the gradient of every student tensor it reads (logits and hint tensors). */
    public record Evaluation(Terms terms, Map<String, INDArray> gradients) {
    }

    /**
     * @param logitsName the student's output tensor name (key of its gradient)
     * @param labels     class per sample, or null for pure transfer
     * @param hints      hint tensor name → {student value, teacher value}
     */
    public Evaluation evaluate(String logitsName, INDArray student, INDArray teacher, int[] labels,
                               Map<String, INDArray[]> hints) {
        if (outputLoss != OutputLoss.SOFTMAX || student.rank() != 2) {
            if (labels != null) {
                throw new IllegalArgumentException("labels need rank-2 logits under the softmax loss");
            }
            double[] grad = new double[(int) student.length()];
            double soft = softWeight != 0 && teacher != null ? outputTerm(student, teacher, grad) : 0;
            Map<String, INDArray> grads = new LinkedHashMap<>();
            grads.put(logitsName, Tensors.fromDoubles(grad, student.shape(), student.dataType()));
            return new Evaluation(new Terms(0, soft, hintTerm(hints, grads)), grads);
        }
        // the logits are small ([batch, classes]): both cross-entropies run in Java, in double, instead of as a
        // dozen ND4J ops that each cost more to dispatch than to compute
        int batch = (int) student.size(0);
        int classes = (int) student.size(1);
        double[] s = Tensors.doubles(student);
        double[] gradLogits = new double[s.length];
        double hard = 0;
        if (labels != null) {
            double[] logP = logSoftmax(s, classes, 1);
            for (int i = 0; i < batch; i++) {
                if (labels[i] < 0 || labels[i] >= classes) {
                    throw new IllegalArgumentException("label " + labels[i] + " outside the model's " + classes
                            + " classes");
                }
                hard -= logP[i * classes + labels[i]] / batch;
                for (int c = 0; c < classes; c++) {
                    int k = i * classes + c;
                    gradLogits[k] += (Math.exp(logP[k]) - (c == labels[i] ? 1 : 0)) / batch;
                }
            }
        }
        double soft = 0;
        if (softWeight != 0 && teacher != null) {
            double[] logPs = logSoftmax(s, classes, temperature);
            double[] logPt = logSoftmax(Tensors.doubles(teacher), classes, temperature);
            double scale = softWeight * temperature * temperature;
            for (int k = 0; k < s.length; k++) {
                double pt = Math.exp(logPt[k]);
                soft -= scale * pt * logPs[k] / batch;
                // d/ds of −Σ p_t·log softmax(s/T) = (softmax(s/T) − p_t)/T
                gradLogits[k] += (Math.exp(logPs[k]) - pt) * scale / (temperature * batch);
            }
        }
        Map<String, INDArray> grads = new LinkedHashMap<>();
        grads.put(logitsName, Tensors.fromDoubles(gradLogits, student.shape(), student.dataType()));
        return new Evaluation(new Terms(hard, soft, hintTerm(hints, grads)), grads);
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
     * The weighted transfer term of a non-classifier output (or of per-position softmax); writes its gradient with
     * respect to the student output into {@code grad} (C order, the output's shape).
     */
    private double outputTerm(INDArray student, INDArray teacher, double[] grad) {
        double[] s = Tensors.doubles(student);
        double[] t = Tensors.doubles(teacher);
        long[] shape = student.shape();
        int n = s.length;
        int batch = (int) shape[0];
        switch (outputLoss) {
            case SOFTMAX -> {
                int axis = classAxis(shape.length);
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
                fromRows(gr, classes, inner, grad);
                return loss;
            }
            case SIGMOID -> {
                double loss = 0;
                for (int k = 0; k < n; k++) {
                    if (probabilities) {
                        double ps = clamp(s[k]);
                        double pt = clamp(t[k]);
                        loss -= softWeight * (pt * Math.log(ps) + (1 - pt) * Math.log(1 - ps)) / n;
                        // the clamp is flat outside [ε, 1 − ε]: no gradient there
                        grad[k] = ps == s[k] ? softWeight * (ps - pt) / (ps * (1 - ps) * n) : 0;
                    } else {
                        double pt = sigmoid(t[k]);
                        // BCE(σ(s), p_t) = softplus(s) − p_t·s, computed stably
                        double softplus = Math.max(s[k], 0) + Math.log1p(Math.exp(-Math.abs(s[k])));
                        loss += softWeight * (softplus - pt * s[k]) / n;
                        grad[k] = softWeight * (sigmoid(s[k]) - pt) / n;
                    }
                }
                return loss;
            }
            case MSE -> {
                double loss = 0;
                for (int k = 0; k < n; k++) {
                    double d = s[k] - t[k];
                    loss += softWeight * d * d / n;
                    grad[k] = softWeight * 2 * d / n;
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
                        grad[k] = -softWeight * dCos / batch;
                    }
                }
                return loss;
            }
            default -> throw new IllegalStateException("unresolved output loss " + outputLoss);
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

    /** The inverse of {@link #toRows}, into {@code out}. */
    private static void fromRows(double[] rows, int classes, int inner, double[] out) {
        int outer = rows.length / (classes * inner);
        for (int o = 0; o < outer; o++) {
            for (int c = 0; c < classes; c++) {
                for (int j = 0; j < inner; j++) {
                    out[(o * classes + c) * inner + j] = rows[(o * inner + j) * classes + c];
                }
            }
        }
    }

    /**
     * How far the student follows the teacher on one batch, in [0, 1] per sample summed over the batch: top-1 agreement
     * per position for softmax, agreement of the 0.5 threshold for sigmoid, max(0, cosine) for MSE and cosine.
     */
    double agreementSum(INDArray student, INDArray teacher) {
        double[] s = Tensors.doubles(student);
        double[] t = Tensors.doubles(teacher);
        long[] shape = student.shape();
        int batch = (int) shape[0];
        int per = s.length / batch;
        double sum = 0;
        switch (outputLoss) {
            case SOFTMAX -> {
                int axis = classAxis(shape.length);
                int classes = (int) shape[axis];
                int inner = inner(shape, axis);
                double[] sr = toRows(s, classes, inner);
                double[] tr = toRows(t, classes, inner);
                int rowsPerSample = per / classes;
                for (int r = 0; r < sr.length / classes; r++) {
                    sum += argMax(sr, r * classes, classes) == argMax(tr, r * classes, classes) ? 1.0 / rowsPerSample
                            : 0;
                }
            }
            case SIGMOID -> {
                double threshold = probabilities ? 0.5 : 0;
                for (int k = 0; k < s.length; k++) {
                    sum += (s[k] > threshold) == (t[k] > threshold) ? 1.0 / per : 0;
                }
            }
            default -> {
                for (int i = 0; i < batch; i++) {
                    double dot = 0;
                    double ss = 0;
                    double tt = 0;
                    for (int k = i * per; k < (i + 1) * per; k++) {
                        dot += s[k] * t[k];
                        ss += s[k] * s[k];
                        tt += t[k] * t[k];
                    }
                    sum += Math.max(0, dot / Math.sqrt(Math.max(ss, COSINE_NORM_FLOOR)
                            * Math.max(tt, COSINE_NORM_FLOOR)));
                }
            }
        }
        return sum;
    }

    /** Elements after the class axis: H·W for [N,C,H,W], 1 for [N,T,C] and [N,C]. */
    private static int inner(long[] shape, int axis) {
        int inner = 1;
        for (int d = axis + 1; d < shape.length; d++) {
            inner *= (int) shape[d];
        }
        return inner;
    }

    private static int argMax(double[] a, int from, int n) {
        int best = 0;
        for (int c = 1; c < n; c++) {
            if (a[from + c] > a[from + best]) {
                best = c;
            }
        }
        return best;
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
