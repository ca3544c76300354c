package org.lrdkt.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.lrdkt.onnx.OnnxModel;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Passes that let go of their phase memory between ops compute what passes that keep everything compute: with a
 * restart after nearly every op, any array still read after its memory was reused would change the result.
 */
class ReleasingPhaseTest {

    private static final OnnxModel MODEL = MirrorModels.resnetStyle();

    /** A release after nearly every op, counted. */
    private static final class Counting implements Mirror.Release {
        private final ReleasingPhase phase;
        int restarts;

        Counting(ReleasingPhase phase) {
            this.phase = phase;
        }

        @Override
        public Map<String, INDArray> between(Map<String, INDArray> live) {
            Map<String, INDArray> moved = phase.between(live);
            restarts += moved != live ? 1 : 0;
            return moved;
        }
    }

    private static Map<String, INDArray> feeds() {
        Nd4j.getRandom().setSeed(3);
        return Map.of("input", Nd4j.rand(DataType.FLOAT, 2, 3, 16, 16).subi(0.5));
    }

    @Test
    @SuppressWarnings("try")
    void backwardPassReleasingAsItGoesGivesTheSameGradients() throws Exception {
        Mirror mirror = Mirror.of(MODEL, DataType.FLOAT, true);
        Map<String, INDArray> values = mirror.forward(feeds(), Set.of());
        INDArray readout = Nd4j.rand(DataType.FLOAT, values.get("logits").shape());
        INDArray expected = mirror.backward(values, Map.of("logits", readout)).flat().dup();
        try (Scratch step = new Scratch("test-step"); Scratch phase = new Scratch("test-phase");
             MemoryWorkspace ignored = step.cycle()) {
            Map<String, INDArray> inStep = mirror.forward(feeds(), Set.of());
            try (ReleasingPhase releasing = new ReleasingPhase(phase, step, 1, 0)) {
                Counting counting = new Counting(releasing);
                INDArray got = mirror.backward(inStep, Map.of("logits", readout), counting).flat();
                assertTrue(counting.restarts >= 4, counting.restarts + " restarts");
                assertEquals(expected, got);
            }
        }
    }

    @Test
    @SuppressWarnings("try")
    void inferenceReleasingAsItGoesKeepsOnlyWhatItIsAskedFor() throws Exception {
        Mirror mirror = Mirror.of(MODEL, DataType.FLOAT, false);
        String hint = MODEL.proto().getGraph().getNodeList().stream()
                .filter(n -> n.getOpType().equals("Relu")).findFirst().orElseThrow().getInput(0);
        Map<String, INDArray> everything = mirror.forward(feeds());
        try (Scratch step = new Scratch("test-step"); Scratch phase = new Scratch("test-phase");
             MemoryWorkspace ignored = step.cycle();
             ReleasingPhase releasing = new ReleasingPhase(phase, step, 1, 0)) {
            Counting counting = new Counting(releasing);
            Map<String, INDArray> kept = mirror.infer(feeds(), Set.of(hint), counting);
            assertTrue(counting.restarts >= 4, counting.restarts + " restarts");
            assertEquals(Set.of("logits", hint),
                    kept.keySet().stream().filter(mirror::computes).collect(Collectors.toSet()));
            assertEquals(everything.get("logits"), kept.get("logits"));
            assertEquals(everything.get(hint), kept.get(hint), "a kept tensor is not overwritten by its ReLU");
        }
    }
}
