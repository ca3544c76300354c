package org.lrdkt.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class FinetuneOptionsTest {

    private static FinetuneOptions schedule(int epochs, boolean cosine, double warmupEpochs) {
        return new FinetuneOptions(epochs, 32, 0.1, 0.9, 0, Optimizer.Kind.SGD, cosine, warmupEpochs, 0, 0, 0, 0, 5,
                0.4, 1, null, false, 1, 0, 0.1, null, false);
    }

    @Test
    void warmUpRampsLinearlyFromTheFirstStepThenHandsOverToTheCosine() {
        FinetuneOptions o = schedule(10, true, 2);
        int steps = 100;
        double cosineAt = 0.1 * 0.5 * (1 + Math.cos(Math.PI * 0.5 / 10));
        assertEquals(0.1 * 0.5 * (1 + Math.cos(0)) / 200, o.learningRateAt(0, steps), 1e-15);
        assertEquals(cosineAt * 51 / 200, o.learningRateAt(0.5, steps), 1e-15);
        assertEquals(0.1 * 0.5 * (1 + Math.cos(Math.PI * 2 / 10)), o.learningRateAt(2, steps), 1e-15);
        assertEquals(0, o.learningRateAt(10, steps), 1e-15);
    }

    @Test
    void withoutWarmUpOrCosineTheRateIsConstant() {
        FinetuneOptions o = schedule(10, false, 0);
        assertEquals(0.1, o.learningRateAt(0, 100));
        assertEquals(0.1, o.learningRateAt(9.99, 100));
    }
}
