package org.lrdkt.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** The flat-vector update rules against the textbook formulas, written per element in Java. */
class OptimizerTest {

    private static final double LR = 0.1;
    private static final double MOMENTUM = 0.9;
    private static final double DECAY = 0.01;

    /** Per element and step: {weight, gradient} → new weight, with the state kept in {@code first}/{@code second}. */
    private interface Rule {
        double apply(int i, double w, double g, int step, double[] first, double[] second);
    }

    private static final Rule SGD = (i, w, g, step, m, s) -> {
        m[i] = MOMENTUM * m[i] + g + DECAY * w;
        return w - LR * m[i];
    };

    private static final Rule ADAM = (i, w, g, step, m, s) -> {
        double gd = g + DECAY * w;
        m[i] = 0.9 * m[i] + 0.1 * gd;
        s[i] = 0.999 * s[i] + 0.001 * gd * gd;
        double mHat = m[i] / (1 - Math.pow(0.9, step));
        double sHat = s[i] / (1 - Math.pow(0.999, step));
        return w - LR * mHat / (Math.sqrt(sHat) + 1e-8);
    };

    /** Three steps of the optimizer against {@code rule}; {@code clipNorm} > 0 clips each gradient first. */
    private static void check(Optimizer.Kind kind, Rule rule, double clipNorm) throws Exception {
        Mirror mirror = Mirror.of(MirrorModels.linearAndPooling(), DataType.DOUBLE, true);
        INDArray flat = mirror.flatParameters();
        double[] w = flat.toDoubleVector();
        double[] m = new double[w.length];
        double[] s = new double[w.length];
        Optimizer optimizer = new Optimizer(kind, LR, MOMENTUM, DECAY, clipNorm, mirror);
        for (int step = 1; step <= 3; step++) {
            double[] g = new double[w.length];
            Map<String, INDArray> byName = new LinkedHashMap<>();
            INDArray grad = flat.ulike();
            for (int i = 0; i < g.length; i++) {
                g[i] = Math.sin(i * 0.37 + step);
                grad.putScalar(i, g[i]);
            }
            mirror.parameters().values().forEach(p -> byName.put(p.name(), Mirror.segment(grad, p)));
            optimizer.step(new Mirror.Gradients(grad, byName));
            double norm = Math.sqrt(java.util.Arrays.stream(g).map(v -> v * v).sum());
            if (clipNorm > 0) {
                assertTrue(norm > 2 * clipNorm, "the test gradient must be long enough to be clipped: " + norm);
                for (int i = 0; i < g.length; i++) {
                    g[i] *= clipNorm / norm;
                }
            }
            for (int i = 0; i < w.length; i++) {
                w[i] = rule.apply(i, w[i], g[i], step, m, s);
            }
            for (int i = 0; i < w.length; i++) {
                assertEquals(w[i], flat.getDouble(i), 1e-12, kind + " step " + step + " element " + i);
            }
        }
    }

    @Test
    void sgdWithMomentumAndWeightDecay() throws Exception {
        check(Optimizer.Kind.SGD, SGD, 0);
    }

    @Test
    void adamWithWeightDecay() throws Exception {
        check(Optimizer.Kind.ADAM, ADAM, 0);
    }

    /** The loss gradient is scaled to the clip norm before weight decay joins it, for both rules. */
    @Test
    void clippingScalesTheGradientDownToTheNormBeforeDecay() throws Exception {
        check(Optimizer.Kind.SGD, SGD, 0.5);
        check(Optimizer.Kind.ADAM, ADAM, 0.5);
    }

    @Test
    void stateSurvivesARestoreByName() throws Exception {
        Mirror mirror = Mirror.of(MirrorModels.linearAndPooling(), DataType.DOUBLE, true);
        Optimizer optimizer = new Optimizer(Optimizer.Kind.ADAM, LR, MOMENTUM, DECAY, 0, mirror);
        INDArray grad = mirror.flatParameters().ulike().assign(0.5);
        optimizer.step(new Mirror.Gradients(grad, Map.of()));
        Map<String, INDArray> saved = new LinkedHashMap<>();
        optimizer.state().forEach((k, v) -> saved.put(k, v.dup()));
        assertEquals(2 * mirror.parameters().size(), saved.size());
        Optimizer fresh = new Optimizer(Optimizer.Kind.ADAM, LR, MOMENTUM, DECAY, 0, mirror);
        fresh.restore(saved, optimizer.steps());
        assertEquals(optimizer.steps(), fresh.steps());
        fresh.state().forEach((k, v) -> assertEquals(saved.get(k), v, k));
    }
}
