package org.lrdkt.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.lrdkt.TestModels;
import org.lrdkt.onnx.OnnxModel;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Activations and gradients freed as soon as they are dead change no result: the same outputs, the same gradients
 * bit for bit, step after step; freed buffers are really closed, and weights and inputs never are.
 */
class MirrorMemoryTest {

    private static List<OnnxModel> models() throws Exception {
        return List.of(MirrorModels.resnetStyle(), MirrorModels.opZoo(), MirrorModels.linearAndPooling(),
                MirrorModels.groupedConvolutions(), Decomposed.lenet(OnnxModel.load(TestModels.LENET), 3, 20));
    }

    private static long[] inputShape(Mirror mirror, int index) {
        return switch (index) {
            case 0 -> new long[] {2, 3, 16, 16};
            case 1 -> new long[] {2, 4, 11, 11};
            case 2 -> new long[] {2, 3, 9, 9};
            case 3 -> new long[] {2, 8, 11, 11};
            default -> new long[] {3, 1, 28, 28};
        };
    }

    @Test
    void keptForwardReturnsTheSameOutputsAndNothingElse() throws Exception {
        List<OnnxModel> models = models();
        for (int m = 0; m < models.size(); m++) {
            Mirror mirror = Mirror.of(models.get(m), DataType.FLOAT, false);
            String input = mirror.inputNames().get(0);
            String output = mirror.outputNames().get(0);
            INDArray x = Nd4j.rand(DataType.FLOAT, inputShape(mirror, m));
            INDArray expected = mirror.forward(Map.of(input, x)).get(output).dup();
            Map<String, INDArray> kept = mirror.forward(Map.of(input, x), Set.of(output));
            assertEquals(Set.of(output), kept.keySet());
            assertEquals(expected, kept.get(output), "model " + m);
            mirror.release(kept);
            assertFalse(x.data().wasClosed(), "the caller's input is never freed");
        }
    }

    @Test
    void releasingBackwardGivesTheSameGradientsStepAfterStep() throws Exception {
        List<OnnxModel> models = models();
        for (int m = 0; m < models.size(); m++) {
            Mirror mirror = Mirror.of(models.get(m), DataType.FLOAT, true);
            String input = mirror.inputNames().get(0);
            String output = mirror.outputNames().get(0);
            INDArray x = Nd4j.rand(DataType.FLOAT, inputShape(mirror, m));
            Map<String, INDArray> values = mirror.forward(Map.of(input, x));
            INDArray seed = Nd4j.rand(DataType.FLOAT, values.get(output).shape());
            INDArray expected = mirror.backward(values, Map.of(output, seed)).flat().dup();
            for (int step = 0; step < 3; step++) {
                Map<String, INDArray> fresh = mirror.forward(Map.of(input, x));
                List<INDArray> activations = new ArrayList<>();
                fresh.forEach((name, v) -> {
                    if (mirror.computes(name) && !v.isView()) {
                        activations.add(v);
                    }
                });
                INDArray got = mirror.backward(fresh, Map.of(output, seed), true).flat();
                assertEquals(expected, got, "model " + m + ", step " + step);
                assertFalse(activations.isEmpty());
                for (INDArray a : activations) {
                    assertTrue(a.data().wasClosed() || !a.closeable(), "model " + m + ": an activation outlived backward");
                }
                assertFalse(x.data().wasClosed(), "the caller's input is never freed");
                assertFalse(seed.data().wasClosed(), "the caller's seed is never freed");
            }
            Map<String, INDArray> weights = new HashMap<>();
            mirror.parameters().forEach((k, p) -> weights.put(k, p.value()));
            weights.values().forEach(w -> assertFalse(w.data().wasClosed()));
        }
    }
}
