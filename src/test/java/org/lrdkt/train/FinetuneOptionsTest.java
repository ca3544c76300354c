package org.lrdkt.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class FinetuneOptionsTest {

    private static FinetuneOptions.Schedule schedule(int epochs, boolean cosine, double warmupEpochs) {
        return new FinetuneOptions.Schedule(epochs, 32, 0.1, 0.9, 0, Optimizer.Kind.SGD, cosine, warmupEpochs, 0);
    }

    @Test
    void warmUpRampsLinearlyFromTheFirstStepThenHandsOverToTheCosine() {
        FinetuneOptions.Schedule o = schedule(10, true, 2);
        int steps = 100;
        double cosineAt = 0.1 * 0.5 * (1 + Math.cos(Math.PI * 0.5 / 10));
        assertEquals(0.1 * 0.5 * (1 + Math.cos(0)) / 200, o.learningRateAt(0, steps), 1e-15);
        assertEquals(cosineAt * 51 / 200, o.learningRateAt(0.5, steps), 1e-15);
        assertEquals(0.1 * 0.5 * (1 + Math.cos(Math.PI * 2 / 10)), o.learningRateAt(2, steps), 1e-15);
        assertEquals(0, o.learningRateAt(10, steps), 1e-15);
    }

    @Test
    void withoutWarmUpOrCosineTheRateIsConstant() {
        FinetuneOptions.Schedule o = schedule(10, false, 0);
        assertEquals(0.1, o.learningRateAt(0, 100));
        assertEquals(0.1, o.learningRateAt(9.99, 100));
    }

    @Test
    void theResumeFingerprintIgnoresOnlyWhereTheCheckpointLiesAndWhetherItIsResumed() {
        FinetuneOptions d = FinetuneOptions.defaults();
        String written = d.withCheckpoint(Path.of("a/out.onnx.ckpt"), false).fingerprint();
        assertEquals(written, d.withCheckpoint(Path.of("b/moved.onnx.ckpt"), true).fingerprint());
        assertEquals(written, d.fingerprint());
        assertEquals(1, written.lines().count(), "one line, for the error message: " + written);
        for (FinetuneOptions other : List.of(d.withSchedule(d.schedule().withEpochs(41)),
                d.withAugmentation(FinetuneOptions.Augmentation.NONE),
                d.withTransfer(new FinetuneOptions.Transfer(5, 0.4, 1, List.of(), false)),
                d.withSampling(new FinetuneOptions.Sampling(2, 0, 0.1)))) {
            assertNotEquals(written, other.fingerprint(), other.toString());
        }
    }
}
