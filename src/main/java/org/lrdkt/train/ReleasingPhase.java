package org.lrdkt.train;

import java.util.Collection;
import java.util.Map;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A pass (a backward pass, or a forward pass that no backward pass reads) in a cycle of {@code phase} memory that
 * restarts whenever it holds {@code ratio} times the tensors the pass still needs (and at least {@code minBytes}):
 * those move to the enclosing {@code keep} memory, and the rest (activations or gradients used up, op temporaries)
 * is reused at once, as PyTorch frees a tensor after its last use. Phase memory then grows to about ratio × the
 * live tensors, and what moves is about 1/ratio of what the pass allocates: the sum is least near
 * ratio = √(allocated / live). Without it, at batch 8 a ResNet-50 student's backward pass held 974 MiB and the
 * teacher's forward pass 539 MiB.
 */
final class ReleasingPhase implements Mirror.Release, AutoCloseable {

    /** A handful: √(allocated / live) for the CNNs measured (BENCHMARKS.md, "Training memory"). */
    static final int RATIO = 4;
    /** Below this a pass keeps everything: restarting would save less than it costs. */
    static final long MIN_BYTES = 32L << 20;

    private final Scratch phase;
    private final Scratch keep;
    private final int ratio;
    private final long minBytes;
    private MemoryWorkspace scope;

    /** Opens a phase cycle; {@code keep} must have a cycle open already. */
    ReleasingPhase(Scratch phase, Scratch keep, int ratio, long minBytes) {
        this.phase = phase;
        this.keep = keep;
        this.ratio = ratio;
        this.minBytes = minBytes;
        scope = phase.cycle();
    }

    ReleasingPhase(Scratch phase, Scratch keep) {
        this(phase, keep, RATIO, MIN_BYTES);
    }

    @Override
    public Map<String, INDArray> between(Map<String, INDArray> live) {
        long used = phase.used();
        if (used < minBytes || used < ratio * bytes(live.values())) {
            return live;
        }
        Map<String, INDArray> moved = keep.adopt(live);
        scope.close();
        scope = phase.cycle();
        return moved;
    }

    private static long bytes(Collection<INDArray> arrays) {
        long sum = 0;
        for (INDArray a : arrays) {
            sum += a.length() * a.dataType().width();
        }
        return sum;
    }

    @Override
    public void close() {
        scope.close();
    }
}
