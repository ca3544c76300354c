package org.lrdkt.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.lrdkt.LrdktException;
import org.lrdkt.train.KtLoss.OutputLoss;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The output losses of {@code --output-loss} beyond rank-2 softmax: each value against a plain-double computation
 * written out again here on fixed tensors, each gradient against central finite differences, the sum over several
 * outputs, AUTO's choices and the parsing of per-output lists.
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

    /** One output's loss kind and whether it holds probabilities. */
    private record Kind(OutputLoss loss, boolean probabilities) {
    }

    private static Kind loss(OutputLoss l, boolean probabilities) {
        return new Kind(l, probabilities);
    }

    private static KtLoss.Evaluation eval(Kind kind, double[] s, double[] t, long[] shape) {
        return new KtLoss(W, T, 0).evaluate(List.of(new KtLoss.Output("out", kind.loss(), kind.probabilities(),
                array(s, shape), array(t, shape), null)), Map.of());
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

    private static void checkGradient(Kind loss, double[] s, double[] t, long[] shape) {
        double[] g = eval(loss, s, t, shape).gradients().get("out").ravel().toDoubleVector();
        double h = 1e-6;
        for (int k = 0; k < s.length; k++) {
            double[] up = s.clone();
            double[] down = s.clone();
            up[k] += h;
            down[k] -= h;
            double numeric = (eval(loss, up, t, shape).terms().total() - eval(loss, down, t, shape).terms().total())
                    / (2 * h);
            assertEquals(numeric, g[k], 1e-6 * Math.max(1, Math.abs(numeric)), loss.loss() + " element " + k);
        }
    }

    @Test
    void softmaxPerPositionOfSegmentationLogits() {
        // positions (n, h, w): classes at n*6 + c*2 + j
        int[][] positions = {{0, 2, 4}, {1, 3, 5}, {6, 8, 10}, {7, 9, 11}};
        Kind l = loss(OutputLoss.SOFTMAX, false);
        assertEquals(perPositionSoftCe(SEG_S, SEG_T, positions), eval(l, SEG_S, SEG_T, SEG).terms().soft(), 1e-12);
        checkGradient(l, SEG_S, SEG_T, SEG);
    }

    @Test
    void softmaxPerPositionOfSequenceLogits() {
        int[][] positions = {{0, 1, 2}, {3, 4, 5}, {6, 7, 8}, {9, 10, 11}};
        Kind l = loss(OutputLoss.SOFTMAX, false);
        assertEquals(perPositionSoftCe(SEG_S, SEG_T, positions), eval(l, SEG_S, SEG_T, SEQ).terms().soft(), 1e-12);
        checkGradient(l, SEG_S, SEG_T, SEQ);
    }

    @Test
    void sigmoidOnLogitsIsBceOfBothSigmoids() {
        Kind l = loss(OutputLoss.SIGMOID, false);
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
        Kind l = loss(OutputLoss.SIGMOID, true);
        double expected = 0;
        for (int k = 0; k < s.length; k++) {
            expected -= W * (t[k] * Math.log(s[k]) + (1 - t[k]) * Math.log(1 - s[k])) / s.length;
        }
        assertEquals(expected, eval(l, s, t, shape).terms().soft(), 1e-12);
        checkGradient(l, s, t, shape);
    }

    @Test
    void mseIsTheSquaredErrorRelativeToTheTeachersEnergy() {
        Kind l = loss(OutputLoss.MSE, false);
        double error = 0;
        double energy = 0;
        for (int k = 0; k < SEG_S.length; k++) {
            error += (SEG_S[k] - SEG_T[k]) * (SEG_S[k] - SEG_T[k]);
            energy += SEG_T[k] * SEG_T[k];
        }
        long[] shape = {2, 6};
        assertEquals(W * error / energy, eval(l, SEG_S, SEG_T, shape).terms().soft(), 1e-12);
        checkGradient(l, SEG_S, SEG_T, shape);
        // free of the output's units: boxes in pixels weigh like values near 1
        double[] s1000 = Arrays.stream(SEG_S).map(v -> 1000 * v).toArray();
        double[] t1000 = Arrays.stream(SEG_T).map(v -> 1000 * v).toArray();
        assertEquals(W * error / energy, eval(l, s1000, t1000, shape).terms().soft(), 1e-12);
        // a near-silent teacher output (rms below τ) counts the plain mean squared error over τ²
        double[] quiet = new double[SEG_T.length];
        double tau = KtLoss.HINT_RMS_FLOOR;
        double expected = 0;
        for (int k = 0; k < quiet.length; k++) {
            quiet[k] = 1e-3 * SEG_T[k];
            expected += W * (SEG_S[k] - quiet[k]) * (SEG_S[k] - quiet[k]) / (quiet.length * tau * tau);
        }
        assertEquals(expected, eval(l, SEG_S, quiet, shape).terms().soft(), 1e-12);
        checkGradient(l, SEG_S, quiet, shape);
    }

    @Test
    void cosineIsOneMinusTheCosinePerSample() {
        Kind l = loss(OutputLoss.COSINE, false);
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
        // the classifier form is the general one with a single softmax output on logits
        KtLoss.Evaluation explicit = eval(loss(OutputLoss.SOFTMAX, false), SEG_S, SEG_T, shape);
        assertEquals(old.terms(), explicit.terms());
        assertEquals(old.gradients().get("out"), explicit.gradients().get("out"));
    }

    @Test
    void labelsOnlyFitRankTwoSoftmax() {
        assertThrows(IllegalArgumentException.class, () -> new KtLoss.Output("out", OutputLoss.MSE, false,
                array(SEG_S, 2, 6), array(SEG_T, 2, 6), new int[] {0, 1}));
        assertThrows(IllegalArgumentException.class, () -> new KtLoss.Output("out", OutputLoss.SOFTMAX, false,
                array(SEG_S, SEG), array(SEG_T, SEG), new int[] {0, 1}));
        assertThrows(IllegalArgumentException.class, () -> new KtLoss.Output("out", OutputLoss.AUTO, false,
                array(SEG_S, 2, 6), array(SEG_T, 2, 6), null));
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

    /** [N=2, C=3] probabilities, as a Softmax node leaves them (each row sums to 1). */
    private static final double[] PROBS_S = {0.2, 0.5, 0.3, 0.6, 0.1, 0.3};
    private static final double[] PROBS_T = {0.1, 0.7, 0.2, 0.5, 0.25, 0.25};

    @Test
    void softmaxOnProbabilitiesIsSoftCeOnTheirLogarithms() {
        // a Softmax output is not normalised a second time: softmax(log p / T) = p^(1/T) / Σ p^(1/T)
        double expected = 0;
        for (int i = 0; i < 2; i++) {
            double zs = 0;
            double zt = 0;
            for (int c = 0; c < 3; c++) {
                zs += Math.pow(PROBS_S[3 * i + c], 1 / T);
                zt += Math.pow(PROBS_T[3 * i + c], 1 / T);
            }
            for (int c = 0; c < 3; c++) {
                double qs = Math.pow(PROBS_S[3 * i + c], 1 / T) / zs;
                double qt = Math.pow(PROBS_T[3 * i + c], 1 / T) / zt;
                expected -= W * T * T * qt * Math.log(qs) / 2;
            }
        }
        long[] shape = {2, 3};
        Kind l = loss(OutputLoss.SOFTMAX, true);
        assertEquals(expected, eval(l, PROBS_S, PROBS_T, shape).terms().soft(), 1e-12);
        checkGradient(l, PROBS_S, PROBS_T, shape);
        // with labels, the hard term is −log p of the label
        KtLoss.Evaluation hard = new KtLoss(0, T, 0).evaluate(List.of(new KtLoss.Output("out", OutputLoss.SOFTMAX,
                true, array(PROBS_S, shape), array(PROBS_T, shape), new int[] {1, 0})), Map.of());
        assertEquals(-(Math.log(0.5) + Math.log(0.6)) / 2, hard.terms().hard(), 1e-12);
    }

    @Test
    void severalOutputsSumTheirTermsAndKeepTheirGradients() {
        long[] mask = {2, 1, 1, 3};
        double[] maskS = {0.2, 0.9, 0.55, 0.01, 0.7, 0.35};
        double[] maskT = {0.1, 0.8, 0.6, 0.05, 0.95, 0.5};
        long[] boxes = {2, 6};
        long[] classes = {2, 3};
        KtLoss loss = new KtLoss(W, T, 0);
        List<KtLoss.Output> all = List.of(
                new KtLoss.Output("mask", OutputLoss.SIGMOID, true, array(maskS, mask), array(maskT, mask), null),
                new KtLoss.Output("boxes", OutputLoss.MSE, false, array(SEG_S, boxes), array(SEG_T, boxes), null),
                new KtLoss.Output("seg", OutputLoss.SOFTMAX, false, array(SEG_S, SEG), array(SEG_T, SEG), null),
                new KtLoss.Output("cls", OutputLoss.SOFTMAX, false, array(PROBS_S, classes),
                        array(PROBS_T, classes), new int[] {2, 0}));
        KtLoss.Evaluation sum = loss.evaluate(all, Map.of());
        double soft = 0;
        double hard = 0;
        for (KtLoss.Output o : all) {
            KtLoss.Evaluation alone = loss.evaluate(List.of(o), Map.of());
            soft += alone.terms().soft();
            hard += alone.terms().hard();
            assertEquals(alone.gradients().get(o.name()), sum.gradients().get(o.name()), o.name());
        }
        assertEquals(soft, sum.terms().soft(), 1e-12);
        assertEquals(hard, sum.terms().hard(), 1e-12);
        assertTrue(hard > 0 && soft > 0);
        // the summed loss against finite differences, along every element of every output
        double h = 1e-6;
        for (int o = 0; o < all.size(); o++) {
            double[] g = sum.gradients().get(all.get(o).name()).ravel().toDoubleVector();
            double[] v = all.get(o).student().ravel().toDoubleVector();
            for (int k = 0; k < v.length; k++) {
                double numeric = (totalWith(loss, all, o, k, h) - totalWith(loss, all, o, k, -h)) / (2 * h);
                assertEquals(numeric, g[k], 1e-6 * Math.max(1, Math.abs(numeric)), all.get(o).name() + " " + k);
            }
        }
    }

    /** The total loss with element {@code k} of output {@code o}'s student values moved by {@code step}. */
    private static double totalWith(KtLoss loss, List<KtLoss.Output> outputs, int o, int k, double step) {
        List<KtLoss.Output> moved = new ArrayList<>(outputs);
        KtLoss.Output out = outputs.get(o);
        INDArray s = out.student().dup();
        s.putScalar(k, s.getDouble(k) + step);
        moved.set(o, new KtLoss.Output(out.name(), out.loss(), out.probabilities(), s, out.teacher(), out.labels()));
        return loss.evaluate(moved, Map.of()).terms().total();
    }

    @Test
    void outputLossesOnePerOutputByPositionOrName() throws LrdktException {
        List<String> outputs = List.of("scores", "boxes");
        assertEquals(Map.of("scores", OutputLoss.MSE, "boxes", OutputLoss.MSE),
                OutputLosses.parse("mse").forOutputs(outputs));
        assertEquals(Map.of("scores", OutputLoss.SIGMOID, "boxes", OutputLoss.MSE),
                OutputLosses.parse("sigmoid, MSE").forOutputs(outputs));
        assertEquals(Map.of("scores", OutputLoss.SIGMOID, "boxes", OutputLoss.MSE),
                OutputLosses.parse("boxes=mse,scores=sigmoid").forOutputs(outputs));
        assertEquals(Map.of("scores", OutputLoss.COSINE, "boxes", OutputLoss.MSE),
                OutputLosses.parse("cosine,boxes=mse").forOutputs(outputs));
        assertEquals(Map.of("scores", OutputLoss.AUTO, "boxes", OutputLoss.MSE),
                OutputLosses.parse("boxes=mse").forOutputs(outputs));
        assertEquals(Map.of("scores", OutputLoss.AUTO, "boxes", OutputLoss.AUTO),
                OutputLosses.AUTO.forOutputs(outputs));
    }

    @Test
    void badOutputLossesAreOneLineUsageErrors() {
        List<String> outputs = List.of("scores", "boxes");
        for (String bad : new String[] {"softmaxx", "boxes=l1", "", "mse,,mse", "nope=mse", "mse,mse,mse",
                "scores=mse,scores=sigmoid", "mse,sigmoid,boxes=cosine"}) {
            LrdktException e = assertThrows(LrdktException.class,
                    () -> OutputLosses.parse(bad).forOutputs(outputs), bad);
            assertEquals(LrdktException.Kind.USAGE, e.kind(), bad);
            assertTrue(e.getMessage().contains("--output-loss") && !e.getMessage().contains("\n"), e.getMessage());
        }
    }
}
