package org.lrdkt.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.ToDoubleFunction;
import org.lrdkt.LrdktException;
import org.lrdkt.onnx.OnnxModel;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Analytic gradients against central finite differences, on a loss or on a whole mirror. */
final class GradientChecks {

    private GradientChecks() {
    }

    private static final double STEP = 1e-6;


    /** Checks {@code analytic} against finite differences of {@code loss} on {@code samples} entries of {@code x}. */
    static void check(String what, INDArray x, INDArray analytic, ToDoubleFunction<INDArray> loss,
                              int samples, long seed) {
        Random r = new Random(seed);
        INDArray flat = x.reshape(x.length());
        INDArray grad = analytic.reshape(analytic.length());
        double scale = Math.max(1e-8, grad.amaxNumber().doubleValue());
        for (int s = 0; s < samples; s++) {
            long i = (long) (r.nextDouble() * x.length());
            double old = flat.getDouble(i);
            flat.putScalar(i, old + STEP);
            double plus = loss.applyAsDouble(x);
            flat.putScalar(i, old - STEP);
            double minus = loss.applyAsDouble(x);
            flat.putScalar(i, old);
            double numeric = (plus - minus) / (2 * STEP);
            double error = Math.abs(numeric - grad.getDouble(i)) / scale;
            assertTrue(error < 1e-5, what + "[" + i + "]: analytic " + grad.getDouble(i) + " numeric " + numeric);
        }
    }

    static INDArray randn(long seed, long... shape) {
        Nd4j.getRandom().setSeed(seed);
        return Nd4j.randn(DataType.DOUBLE, shape);
    }

    /**
     * Parameter gradients of the whole mirror (every op) for a random linear readout of its output, back-propagated
     * through the forward pass that training runs (activations overwritten where only the output is read).
     */
    static void checkMirror(OnnxModel model, long[] inputShape, int samplesPerParameter) throws LrdktException {
        Mirror mirror = Mirror.of(model, DataType.DOUBLE, true);
        String input = mirror.inputNames().get(0);
        String output = mirror.outputNames().get(0);
        INDArray x = randn(21, inputShape);
        Map<String, INDArray> values = mirror.forward(Map.of(input, x), Set.of());
        INDArray readout = randn(22, values.get(output).shape());
        Map<String, INDArray> grads = mirror.backward(values, Map.of(output, readout)).byName();
        ToDoubleFunction<INDArray> loss = ignored -> {
            try {
                return mirror.forward(Map.of(input, x)).get(output).mul(readout).sumNumber().doubleValue();
            } catch (LrdktException e) {
                throw new IllegalStateException(e);
            }
        };
        assertTrue(grads.keySet().equals(mirror.parameters().keySet()), "a gradient per parameter: "
                + grads.keySet() + " vs " + mirror.parameters().keySet());
        for (Mirror.Parameter p : mirror.parameters().values()) {
            assertTrue(grads.get(p.name()).amaxNumber().doubleValue() > 0, "the loss reaches " + p.name());
            check(p.name(), p.value(), grads.get(p.name()), loss, samplesPerParameter, p.name().hashCode());
        }
    }
}
