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
 *   + Σ_h λ_hint · ½‖student_h − teacher_h‖² / ‖teacher_h‖²        (norms over the whole batch)
 * </pre>
 * Both cross-entropies are means over the batch. The T² factor (Hinton et al. 2015) keeps the soft term's
 * gradients about the same size whatever the temperature, so λ_soft reads as the soft targets' share. Each hint is
 * a relative squared error: DESIGN.md's absolute ½‖·‖²/batch grows with the layer's size and activation scale, so
 * one large or unreproducible layer (a rank-1 first convolution) outweighs everything else; relative, a hint the
 * student cannot follow costs about λ_hint/2.
 */
public record KtLoss(double softWeight, double temperature, double hintWeight) {

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
        double[] s = Nd.doubles(student);
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
            double[] logPt = logSoftmax(Nd.doubles(teacher), classes, temperature);
            double scale = softWeight * temperature * temperature;
            for (int k = 0; k < s.length; k++) {
                double pt = Math.exp(logPt[k]);
                soft -= scale * pt * logPs[k] / batch;
                // d/ds of −Σ p_t·log softmax(s/T) = (softmax(s/T) − p_t)/T
                gradLogits[k] += (Math.exp(logPs[k]) - pt) * scale / (temperature * batch);
            }
        }
        Map<String, INDArray> grads = new LinkedHashMap<>();
        grads.put(logitsName, Nd.fromDoubles(gradLogits, student.shape(), student.dataType()));
        double hint = 0;
        if (hintWeight != 0) {
            for (Map.Entry<String, INDArray[]> h : hints.entrySet()) {
                INDArray teacherHint = h.getValue()[1];
                INDArray diff = h.getValue()[0].sub(teacherHint);
                double energy = teacherHint.mul(teacherHint).sumNumber().doubleValue();
                // relative error, so that layers of any size and scale weigh alike; an all-zero teacher tensor
                // falls back to the mean squared error
                double reference = energy > 0 ? energy : teacherHint.length();
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
