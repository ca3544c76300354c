package org.lrdkt.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * KtLoss against its formula (class comment of {@link KtLoss}), each term written out again in plain double
 * arithmetic on fixed tensors: the values of the hard, soft and hint terms and the gradients of the logits and of
 * each hint tensor.
 */
class KtLossTest {

    private static final double SOFT_WEIGHT = 0.4;
    private static final double TEMPERATURE = 3;
    private static final double HINT_WEIGHT = 0.7;

    private static final double[][] STUDENT = {{1.5, -0.3, 0.2, 2.0}, {-1.0, 0.4, 0.9, 0.1}};
    private static final double[][] TEACHER = {{2.5, -1.0, 0.0, 1.0}, {-0.5, 1.5, 0.3, -0.2}};
    private static final int[] LABELS = {3, 1};
    /** A hint above the rms floor (relative error) and one below it (mean squared error over τ²). */
    private static final double[] LOUD_STUDENT = {0.9, -1.2, 0.4, 2.2, -0.7, 1.1};
    private static final double[] LOUD_TEACHER = {1.0, -1.0, 0.5, 2.0, -0.5, 1.5};
    private static final double[] QUIET_STUDENT = {0.02, -0.01, 0.005, 0.03};
    private static final double[] QUIET_TEACHER = {0.01, -0.02, 0.0, 0.01};

    private static double[] softmax(double[] logits, double temperature) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : logits) {
            max = Math.max(max, v / temperature);
        }
        double sum = 0;
        double[] p = new double[logits.length];
        for (int i = 0; i < p.length; i++) {
            p[i] = Math.exp(logits[i] / temperature - max);
            sum += p[i];
        }
        for (int i = 0; i < p.length; i++) {
            p[i] /= sum;
        }
        return p;
    }

    private static double squaredNorm(double[] v) {
        double sum = 0;
        for (double x : v) {
            sum += x * x;
        }
        return sum;
    }

    /** max(‖t‖², n·τ²): the hint's normaliser. */
    private static double normaliser(double[] teacher) {
        return Math.max(squaredNorm(teacher), teacher.length * KtLoss.HINT_RMS_FLOOR * KtLoss.HINT_RMS_FLOOR);
    }

    private static INDArray array(double[] values, long... shape) {
        return Nd4j.createFromArray(values).castTo(DataType.DOUBLE).reshape('c', shape);
    }

    private static INDArray array(double[][] rows) {
        return Nd4j.createFromArray(rows).castTo(DataType.DOUBLE);
    }

    private static void assertClose(double[] expected, INDArray actual, String what) {
        double[] got = actual.dup('c').data().asDouble();
        assertEquals(expected.length, got.length, what);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], got[i], 1e-12 * Math.max(1, Math.abs(expected[i])), what + "[" + i + "]");
        }
    }

    @Test
    void valuesAndGradientsFollowTheFormula() {
        // the two hint fixtures sit on either side of the floor, so both branches of the normaliser are checked
        assertTrue(squaredNorm(LOUD_TEACHER) > normaliser(LOUD_TEACHER) - 1e-15);
        assertTrue(squaredNorm(QUIET_TEACHER) < normaliser(QUIET_TEACHER));
        int batch = STUDENT.length;
        int classes = STUDENT[0].length;
        double hard = 0;
        double soft = 0;
        double[] gradLogits = new double[batch * classes];
        for (int i = 0; i < batch; i++) {
            double[] p = softmax(STUDENT[i], 1);
            double[] ps = softmax(STUDENT[i], TEMPERATURE);
            double[] pt = softmax(TEACHER[i], TEMPERATURE);
            hard -= Math.log(p[LABELS[i]]) / batch;
            for (int c = 0; c < classes; c++) {
                soft -= SOFT_WEIGHT * TEMPERATURE * TEMPERATURE * pt[c] * Math.log(ps[c]) / batch;
                double hardGrad = (p[c] - (c == LABELS[i] ? 1 : 0)) / batch;
                double softGrad = SOFT_WEIGHT * TEMPERATURE * (ps[c] - pt[c]) / batch;
                gradLogits[i * classes + c] = hardGrad + softGrad;
            }
        }
        double hint = 0;
        double[] gradLoud = new double[LOUD_STUDENT.length];
        double[] gradQuiet = new double[QUIET_STUDENT.length];
        for (int k = 0; k < LOUD_STUDENT.length; k++) {
            double d = LOUD_STUDENT[k] - LOUD_TEACHER[k];
            hint += HINT_WEIGHT * 0.5 * d * d / normaliser(LOUD_TEACHER);
            gradLoud[k] = HINT_WEIGHT * d / normaliser(LOUD_TEACHER);
        }
        for (int k = 0; k < QUIET_STUDENT.length; k++) {
            double d = QUIET_STUDENT[k] - QUIET_TEACHER[k];
            hint += HINT_WEIGHT * 0.5 * d * d / normaliser(QUIET_TEACHER);
            gradQuiet[k] = HINT_WEIGHT * d / normaliser(QUIET_TEACHER);
        }

        KtLoss.Evaluation e = new KtLoss(SOFT_WEIGHT, TEMPERATURE, HINT_WEIGHT).evaluate("logits", array(STUDENT),
                array(TEACHER), LABELS, Map.of(
                        "loud", new INDArray[] {array(LOUD_STUDENT, 2, 3), array(LOUD_TEACHER, 2, 3)},
                        "quiet", new INDArray[] {array(QUIET_STUDENT, 2, 2), array(QUIET_TEACHER, 2, 2)}));

        assertEquals(hard, e.terms().hard(), 1e-12, "hard cross-entropy");
        assertEquals(soft, e.terms().soft(), 1e-12, "T²-scaled soft cross-entropy");
        assertEquals(hint, e.terms().hint(), 1e-12, "hint terms");
        assertClose(gradLogits, e.gradients().get("logits"), "logits gradient");
        assertClose(gradLoud, e.gradients().get("loud"), "relative hint gradient");
        assertClose(gradQuiet, e.gradients().get("quiet"), "floored hint gradient");
    }
}
