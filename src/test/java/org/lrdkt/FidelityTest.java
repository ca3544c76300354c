package org.lrdkt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Each fidelity figure against a reference computed by hand on a few values. */
class FidelityTest {

    private static Fidelity.Figures measure(OutputKind kind, boolean probabilities, float[] out, float[] ref,
                                            long... shape) {
        Fidelity f = new Fidelity("out", kind, probabilities);
        f.add(out, ref, shape, (int) shape[0]);
        return f.figures();
    }

    @Test
    void classifierAgreementCosineAndDistances() {
        // (1,0) vs (0,1): disagree, cos 0; (3,4) vs (3,4): agree, cos 1
        Fidelity.Figures f = measure(OutputKind.CLASSES, false, new float[] {1, 0, 3, 4},
                new float[] {0, 1, 3, 4}, 2, 2);
        assertEquals(0.5, f.agreement());
        assertFalse(f.perPosition());
        assertNull(f.maskIou());
        assertEquals(0.5, f.cosine(), 1e-15);
        assertEquals(Math.sqrt(2.0 / 26), f.relativeL2(), 1e-15);
        assertEquals(1.0, f.maxAbsDiff());
        assertEquals(0.5, f.meanAbsDiff());
        assertEquals(0.5, f.headline());
        assertEquals("50.00% agreement", f.summary());
    }

    @Test
    void majorityAgreementIsTheShareOfTheReferencesMostFrequentClass() {
        // reference top-1 classes 2, 0, 2, 2: always answering 2 would agree on 3 of 4; this model always answers 0
        Fidelity.Figures f = measure(OutputKind.CLASSES, false, new float[] {1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0},
                new float[] {0, 1, 2, 3, 1, 0, 0, 0, 5, 1, 1, 4}, 4, 3);
        assertEquals(0.75, f.majorityAgreement());
        assertEquals(0.25, f.agreement());
        assertNull(measure(OutputKind.VALUES, false, new float[] {1, 2}, new float[] {1, 2}, 1, 2)
                .majorityAgreement());
    }

    @Test
    void segmentationAgreesPerPosition() {
        // [N=1, C=2, H=1, W=3]: model classes per position (0, 1, 0), reference (1, 1, 0)
        Fidelity.Figures f = measure(OutputKind.CLASSES, false, new float[] {1, 0, 5, 0, 2, 1},
                new float[] {0, 0, 5, 1, 2, 1}, 1, 2, 1, 3);
        assertEquals(2.0 / 3, f.agreement(), 1e-15);
        assertTrue(f.perPosition());
        assertEquals("66.67% agreement per position", f.summary());
    }

    @Test
    void sequencesAgreePerStepAndPaddingIsIgnored() {
        // [N=2, T=2, C=3], only the first sample counts (a padded batch): steps (2 vs 2) and (0 vs 1)
        float[] out = {0, 1, 2, 5, 1, 0, /* padding */ 9, 9, 9, 9, 9, 9};
        float[] ref = {0, 0, 3, 1, 4, 0, /* padding */ 0, 0, 0, 0, 0, 0};
        Fidelity f = new Fidelity("seq", OutputKind.CLASSES, false);
        f.add(out, ref, new long[] {2, 2, 3}, 1);
        assertEquals(0.5, f.figures().agreement(), 1e-15);
        assertEquals(4.0, f.figures().maxAbsDiff(), 1e-15);
    }

    @Test
    void maskIouAtOneHalfForProbabilitiesAndAtZeroForLogits() {
        // model mask {0, 2}, reference {0, 1}: intersection 1, union 3
        Fidelity.Figures p = measure(OutputKind.MASK, true, new float[] {0.9f, 0.2f, 0.6f, 0.4f},
                new float[] {0.8f, 0.7f, 0.3f, 0.1f}, 1, 1, 2, 2);
        assertEquals(1.0 / 3, p.maskIou(), 1e-15);
        assertNull(p.agreement());
        assertEquals(1.0 / 3, p.headline(), 1e-15);
        Fidelity.Figures logits = measure(OutputKind.MASK, false, new float[] {1, -1, 0.5f, -2},
                new float[] {2, 1, -1, -1}, 1, 4);
        assertEquals(1.0 / 3, logits.maskIou(), 1e-15);
        Fidelity.Figures empty = measure(OutputKind.MASK, true, new float[] {0.1f, 0.2f}, new float[] {0.3f, 0.4f},
                1, 2);
        assertEquals(1.0, empty.maskIou(), "two empty masks are the same mask");
    }

    @Test
    void valuesCosineAndRelativeL2OverBatches() {
        // two samples of width 2, added one batch at a time: (1,2) vs (1,2), (3,4) vs (2,2)
        Fidelity f = new Fidelity("boxes", OutputKind.VALUES, false);
        f.add(new float[] {1, 2}, new float[] {1, 2}, new long[] {1, 2}, 1);
        f.add(new float[] {3, 4}, new float[] {2, 2}, new long[] {1, 2}, 1);
        Fidelity.Figures v = f.figures();
        assertEquals((1 + 14 / (5 * Math.sqrt(8))) / 2, v.cosine(), 1e-15);
        assertEquals(Math.sqrt(5.0 / 13), v.relativeL2(), 1e-15);
        assertEquals(0.75, v.meanAbsDiff(), 1e-15);
        assertNull(v.agreement());
        assertNull(v.maskIou());
        assertEquals(v.cosine(), v.headline());
        assertEquals(String.format("%.4f cosine, %.4f rel. L2", v.cosine(), v.relativeL2()), v.summary());
        assertEquals("boxes: " + v.summary() + "; boxes: " + v.summary(), Fidelity.Figures.summary(List.of(v, v)));
    }

    @Test
    void kindFollowsShapeAndProducer() {
        assertEquals(OutputKind.CLASSES, OutputKind.of(new long[] {8, 10}, "Gemm"));
        assertEquals(OutputKind.VALUES, OutputKind.of(new long[] {8, 1}, "Gemm"));
        assertEquals(OutputKind.MASK, OutputKind.of(new long[] {8, 1, 64, 64}, "Sigmoid"));
        assertEquals(OutputKind.CLASSES, OutputKind.of(new long[] {8, 21, 64, 64}, "Conv"));
        assertEquals(OutputKind.CLASSES, OutputKind.of(new long[] {8, 25, 6625}, "Softmax"));
        assertEquals(OutputKind.VALUES, OutputKind.of(new long[] {8, 25, 6625}, "MatMul"));
        assertEquals(OutputKind.VALUES, OutputKind.of(new long[] {8, 1, 64, 64}, "Conv"));
        assertTrue(OutputKind.probabilities("Softmax") && OutputKind.probabilities("Sigmoid"));
        assertFalse(OutputKind.probabilities("Gemm"));
    }
}
