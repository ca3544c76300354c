package org.lrdkt.train;

import org.bytedeco.javacpp.Pointer;

/**
 * Keeps the training loop's resident memory bounded. ND4J frees an array's native buffer only when the JVM
 * collects its Java wrapper, and a training step allocates megabytes natively but only kilobytes of heap: the heap
 * never fills, no collection runs, and the process grows by gigabytes (8 GB resident after 10 LeNet-5 epochs). This
 * asks for a collection whenever resident memory has grown by {@link #SLACK_BYTES} since the last one.
 */
final class NativeMemoryGuard {

    private static final long SLACK_BYTES = 512L << 20;

    private long limit = Pointer.physicalBytes() + SLACK_BYTES;

    /** Call between steps; cheap (reads the process's resident size) unless a collection is due. */
    void check() {
        if (Pointer.physicalBytes() > limit) {
            System.gc();
            limit = Pointer.physicalBytes() + SLACK_BYTES;
        }
    }
}
