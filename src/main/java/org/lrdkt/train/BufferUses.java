package org.lrdkt.train;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Frees the native memory of a pass's activations and gradients the moment nothing reads them any more, instead
 * of when the garbage collector happens to collect their Java wrappers. Counts, per native buffer, the tensors
 * that use it (views, reshapes and pass-through gradients share their source's buffer) and closes the buffer when
 * the count reaches zero. Pinned buffers (weights, the caller's inputs and seeds) are never closed, nor are
 * buffers that ND4J does not allow closing (workspace memory, constants).
 */
final class BufferUses {

    private final Set<DataBuffer> pinned;
    private final Map<DataBuffer, Integer> uses = new IdentityHashMap<>();

    /** {@code pinned}: buffers that outlive the pass (an identity set; more can be added with {@link #pin}). */
    BufferUses(Set<DataBuffer> pinned) {
        this.pinned = Collections.newSetFromMap(new IdentityHashMap<>());
        this.pinned.addAll(pinned);
    }

    /** The buffer that owns {@code a}'s memory (a view's buffer points at its source's), or null for none. */
    static DataBuffer root(INDArray a) {
        if (a == null || a.isEmpty() || a.data() == null) {
            return null;
        }
        DataBuffer b = a.data();
        while (b.originalDataBuffer() != null && b.originalDataBuffer() != b) {
            b = b.originalDataBuffer();
        }
        return b;
    }

    void pin(INDArray a) {
        DataBuffer b = root(a);
        if (b != null) {
            pinned.add(b);
        }
    }

    /** One more tensor reads {@code a}'s buffer. */
    void hold(INDArray a) {
        DataBuffer b = root(a);
        if (b != null) {
            uses.merge(b, 1, Integer::sum);
        }
    }

    /** A tensor that read {@code a}'s buffer is done; the buffer is freed when it was the last. */
    void drop(INDArray a) {
        DataBuffer b = root(a);
        if (b == null) {
            return;
        }
        Integer left = uses.merge(b, -1, Integer::sum);
        if (left != null && left > 0) {
            return;
        }
        uses.remove(b);
        if (!pinned.contains(b) && b.closeable()) {
            b.close();
        }
    }
}
