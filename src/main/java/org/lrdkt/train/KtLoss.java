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
public record KtLoss(double softWeight, double temperature, double hintWeight) {

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
        return new Evaluation(new Terms(hard, soft, hint), grads);
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
