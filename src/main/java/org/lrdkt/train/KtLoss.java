package org.lrdkt.train;

import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

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
        long batch = student.size(0);
        Map<String, INDArray> grads = new LinkedHashMap<>();
        INDArray gradLogits = Nd4j.zeros(student.dataType(), student.shape());
        double hard = 0;
        if (labels != null) {
            INDArray logP = logSoftmax(student);
            INDArray oneHot = oneHot(labels, student);
            hard = -logP.mul(oneHot).sumNumber().doubleValue() / batch;
            gradLogits.addi(Transforms.exp(logP, true).subi(oneHot).divi(batch));
        }
        double soft = 0;
        if (softWeight != 0 && teacher != null) {
            INDArray logPs = logSoftmax(student.div(temperature));
            INDArray pt = Transforms.exp(logSoftmax(teacher.div(temperature)), false);
            double scale = softWeight * temperature * temperature;
            soft = -scale * pt.mul(logPs).sumNumber().doubleValue() / batch;
            // d/ds of −Σ p_t·log softmax(s/T) = (softmax(s/T) − p_t)/T
            gradLogits.addi(Transforms.exp(logPs, false).subi(pt).muli(scale / (temperature * batch)));
        }
        grads.put(logitsName, gradLogits);
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

    /** log softmax over axis 1 of [batch, classes], computed stably. */
    static INDArray logSoftmax(INDArray logits) {
        INDArray shifted = logits.subColumnVector(logits.max(1));
        INDArray logSum = Transforms.log(Transforms.exp(shifted, true).sum(true, 1), false);
        return shifted.subiColumnVector(logSum);
    }

    private static INDArray oneHot(int[] labels, INDArray like) {
        INDArray out = Nd4j.zeros(like.dataType(), like.shape());
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= like.size(1)) {
                throw new IllegalArgumentException("label " + labels[i] + " outside the model's " + like.size(1)
                        + " classes");
            }
            out.putScalar(i, labels[i], 1.0);
        }
        return out;
    }
}
