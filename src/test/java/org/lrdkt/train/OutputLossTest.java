package org.lrdkt.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.lrdkt.train.KtLoss.OutputLoss;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The output losses of {@code --output-loss} beyond rank-2 softmax: each value against a plain-double computation
 * written out again here on fixed tensors, each gradient against central finite differences, and AUTO's choices.
 */
class OutputLossTest {

    private static final double W = 0.6;
    private static final double T = 2;

    /** [N=2, C=3, H=1, W=2] segmentation logits, C order. */
    private static final long[] SEG = {2, 3, 1, 2};
    private static final double[] SEG_S = {0.5, -1.0, 1.2, 0.3, -0.4, 0.8, 2.0, 0.1, -0.6, 0.9, 0.0, -1.5};
    private static final double[] SEG_T = {1.0, -0.5, 0.2, 0.7, -1.4, 0.3, 1.1, 0.6, -0.2, 0.4, 0.5, -0.9};
    /** [N=2, T=2, C=3] sequence logits. */
    private static final long[] SEQ = {2, 2, 3};

    private static INDArray array(double[] v, long... shape) {
        return Nd4j.create(v, shape, DataType.DOUBLE);
    }

    private static KtLoss loss(OutputLoss l, boolean probabilities) {
        return new KtLoss(W, T, 0, l, probabilities);
    }

    private static KtLoss.Evaluation eval(KtLoss loss, double[] s, double[] t, long[] shape) {
        return loss.evaluate("out", array(s, shape), array(t, shape), null, Map.of());
    }

    /** softmax(v/T) over the given indices of v. */
    private static double[] softmaxAt(double[] v, int[] at) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i : at) {
            max = Math.max(max, v[i] / T);
        }
        double sum = 0;
        double[] p = new double[at.length];
        for (int c = 0; c < at.length; c++) {
            p[c] = Math.exp(v[at[c]] / T - max);
            sum += p[c];
        }
        for (int c = 0; c < at.length; c++) {
            p[c] /= sum;
        }
        return p;
    }

    /** W·T²·mean over positions of −Σ_c p_t·log p_s, positions given as index lists of their classes. */
    private static double perPositionSoftCe(double[] s, double[] t, int[][] positions) {
        double total = 0;
        for (int[] at : positions) {
            double[] ps = softmaxAt(s, at);
            double[] pt = softmaxAt(t, at);
            for (int c = 0; c < at.length; c++) {
                total -= pt[c] * Math.log(ps[c]);
            }
        }
        return W * T * T * total / positions.length;
    }

    private static void checkGradient(KtLoss loss, double[] s, double[] t, long[] shape) {
        double[] g = eval(loss, s, t, shape).gradients().get("out").ravel().toDoubleVector();
        double h = 1e-6;
        for (int k = 0; k < s.length; k++) {
            double[] up = s.clone();
            double[] down = s.clone();
            up[k] += h;
            down[k] -= h;
            double numeric = (eval(loss, up, t, shape).terms().total() - eval(loss, down, t, shape).terms().total())
                    / (2 * h);
            assertEquals(numeric, g[k], 1e-6 * Math.max(1, Math.abs(numeric)), loss.outputLoss() + " element " + k);
        }
    }

    @Test
    void softmaxPerPositionOfSegmentationLogits() {
        // positions (n, h, w): classes at n*6 + c*2 + j
        int[][] positions = {{0, 2, 4}, {1, 3, 5}, {6, 8, 10}, {7, 9, 11}};
        KtLoss l = loss(OutputLoss.SOFTMAX, false);
        assertEquals(perPositionSoftCe(SEG_S, SEG_T, positions), eval(l, SEG_S, SEG_T, SEG).terms().soft(), 1e-12);
        checkGradient(l, SEG_S, SEG_T, SEG);
    }

    @Test
    void softmaxPerPositionOfSequenceLogits() {
        int[][] positions = {{0, 1, 2}, {3, 4, 5}, {6, 7, 8}, {9, 10, 11}};
        KtLoss l = loss(OutputLoss.SOFTMAX, false);
        assertEquals(perPositionSoftCe(SEG_S, SEG_T, positions), eval(l, SEG_S, SEG_T, SEQ).terms().soft(), 1e-12);
        checkGradient(l, SEG_S, SEG_T, SEQ);
    }

    @Test
    void sigmoidOnLogitsIsBceOfBothSigmoids() {
        KtLoss l = loss(OutputLoss.SIGMOID, false);
        double expected = 0;
        for (int k = 0; k < SEG_S.length; k++) {
            double ps = 1 / (1 + Math.exp(-SEG_S[k]));
            double pt = 1 / (1 + Math.exp(-SEG_T[k]));
            expected -= W * (pt * Math.log(ps) + (1 - pt) * Math.log(1 - ps)) / SEG_S.length;
        }
        assertEquals(expected, eval(l, SEG_S, SEG_T, SEG).terms().soft(), 1e-12);
        checkGradient(l, SEG_S, SEG_T, SEG);
    }

    @Test
    void sigmoidOnProbabilitiesTakesThemAsTheyAre() {
        double[] s = {0.2, 0.9, 0.55, 0.01, 0.7, 0.35};
        double[] t = {0.1, 0.8, 0.6, 0.05, 0.95, 0.5};
        long[] shape = {2, 1, 1, 3};
        KtLoss l = loss(OutputLoss.SIGMOID, true);
        double expected = 0;
        for (int k = 0; k < s.length; k++) {
            expected -= W * (t[k] * Math.log(s[k]) + (1 - t[k]) * Math.log(1 - s[k])) / s.length;
        }
        assertEquals(expected, eval(l, s, t, shape).terms().soft(), 1e-12);
        checkGradient(l, s, t, shape);
    }

    @Test
    void mseIsTheMeanSquaredError() {
        KtLoss l = loss(OutputLoss.MSE, false);
        double expected = 0;
        for (int k = 0; k < SEG_S.length; k++) {
            expected += W * (SEG_S[k] - SEG_T[k]) * (SEG_S[k] - SEG_T[k]) / SEG_S.length;
        }
        long[] shape = {2, 6};
        assertEquals(expected, eval(l, SEG_S, SEG_T, shape).terms().soft(), 1e-12);
        checkGradient(l, SEG_S, SEG_T, shape);
    }

    @Test
    void cosineIsOneMinusTheCosinePerSample() {
        KtLoss l = loss(OutputLoss.COSINE, false);
        double expected = 0;
        for (int i = 0; i < 2; i++) {
            double dot = 0;
            double ss = 0;
            double tt = 0;
            for (int k = 6 * i; k < 6 * i + 6; k++) {
                dot += SEG_S[k] * SEG_T[k];
                ss += SEG_S[k] * SEG_S[k];
                tt += SEG_T[k] * SEG_T[k];
            }
            expected += W * (1 - dot / Math.sqrt(ss * tt)) / 2;
        }
        long[] shape = {2, 6};
        assertEquals(expected, eval(l, SEG_S, SEG_T, shape).terms().soft(), 1e-12);
        checkGradient(l, SEG_S, SEG_T, shape);
        checkGradient(l, SEG_S, SEG_T, SEG);
    }

    @Test
    void rankTwoSoftmaxIsUnchanged() {
        long[] shape = {2, 6};
        KtLoss.Evaluation old = new KtLoss(W, T, 0).evaluate("out", array(SEG_S, shape), array(SEG_T, shape), null,
                Map.of());
        KtLoss.Evaluation explicit = eval(loss(OutputLoss.SOFTMAX, false), SEG_S, SEG_T, shape);
        assertEquals(old.terms(), explicit.terms());
        assertEquals(old.gradients().get("out"), explicit.gradients().get("out"));
    }

    @Test
    void labelsOnlyFitRankTwoSoftmax() {
        KtLoss mse = loss(OutputLoss.MSE, false);
        assertThrows(IllegalArgumentException.class, () -> mse.evaluate("out", array(SEG_S, 2, 6),
                array(SEG_T, 2, 6), new int[] {0, 1}, Map.of()));
        assertThrows(IllegalArgumentException.class, () -> new KtLoss(W, T, 0, OutputLoss.AUTO, false));
    }

    @Test
    void autoFollowsTheOutput() {
        assertEquals(OutputLoss.SOFTMAX, KtLoss.resolve(OutputLoss.AUTO, new long[] {8, 10}, "Gemm"));
        assertEquals(OutputLoss.MSE, KtLoss.resolve(OutputLoss.AUTO, new long[] {8, 1}, "Gemm"));
        assertEquals(OutputLoss.SIGMOID, KtLoss.resolve(OutputLoss.AUTO, new long[] {8, 1, 64, 64}, "Sigmoid"));
        assertEquals(OutputLoss.SIGMOID, KtLoss.resolve(OutputLoss.AUTO, new long[] {8, 10}, "Sigmoid"));
        assertEquals(OutputLoss.SOFTMAX, KtLoss.resolve(OutputLoss.AUTO, new long[] {8, 21, 64, 64}, "Conv"));
        assertEquals(OutputLoss.SOFTMAX, KtLoss.resolve(OutputLoss.AUTO, new long[] {8, 25, 37}, "Softmax"));
        assertEquals(OutputLoss.SOFTMAX, KtLoss.resolve(OutputLoss.AUTO, new long[] {8, 25, 6625}, "Softmax"));
        assertEquals(OutputLoss.MSE, KtLoss.resolve(OutputLoss.AUTO, new long[] {8, 25, 6625}, "MatMul"));
        assertEquals(OutputLoss.MSE, KtLoss.resolve(OutputLoss.AUTO, new long[] {8, 1, 64, 64}, "Conv"));
        assertEquals(OutputLoss.COSINE, KtLoss.resolve(OutputLoss.COSINE, new long[] {8, 10}, "Gemm"));
    }

    @Test
    void agreementPerPosition() {
        KtLoss l = loss(OutputLoss.SOFTMAX, false);
        // identical outputs agree everywhere; per sample the share of positions, summed over the batch
        assertEquals(2.0, l.agreementSum(array(SEG_S, SEG), array(SEG_S, SEG)), 1e-12);
        double a = l.agreementSum(array(SEG_S, SEG), array(SEG_T, SEG));
        int agree = 0;
        int[][] positions = {{0, 2, 4}, {1, 3, 5}, {6, 8, 10}, {7, 9, 11}};
        for (int[] at : positions) {
            agree += argMax(SEG_S, at) == argMax(SEG_T, at) ? 1 : 0;
        }
        assertEquals(agree / 2.0, a, 1e-12);
    }

    private static int argMax(double[] v, int[] at) {
        int best = 0;
        for (int c = 1; c < at.length; c++) {
            if (v[at[c]] > v[at[best]]) {
                best = c;
            }
        }
        return best;
    }
}
