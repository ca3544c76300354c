package org.lrdkt.train;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.lrdkt.LrdktException;
import org.lrdkt.data.ImageFolderDataset;

/**
 * Training images decoded from their files as batches are needed, never all held at once: memory is the file list
 * plus a few batches in flight. Decoding runs on background threads, a bounded number of batches ahead of the
 * training step, so that the step finds its batch ready.
 *
 * <p>Results do not depend on thread timing: batches come out in the order asked for; the affine moves of a
 * batch are drawn on the calling thread, in batch order, when the batch is queued (the same draws as
 * {@link TrainData} makes); and each sample's random-resized crop comes from a generator seeded by the epoch's crop
 * seed and the sample's position in the epoch, whichever thread decodes it.
 */
final class StreamedImages implements TrainSamples {

    /** Memory that batches queued ahead may take, beyond the minimum of two batches. */
    private static final long PREFETCH_BYTES = 128L << 20;

    private final ImageFolderDataset images;
    private final int threads;

    /**
     * @param threads decoding threads (0 = decode on the thread that asks for the batch, when it asks)
     */
    StreamedImages(ImageFolderDataset images, int threads) {
        if (threads < 0) {
            throw new IllegalArgumentException("threads " + threads);
        }
        this.images = images;
        this.threads = threads;
    }

    @Override
    public int size() {
        return images.size();
    }

    @Override
    public long[] sampleShape() {
        return images.sampleShape();
    }

    @Override
    public int[] labels() {
        return images.labels();
    }

    @Override
    public String source() {
        return images.description() + ", streamed by " + (threads == 0 ? "the training thread"
                : threads + " decoding thread" + (threads == 1 ? "" : "s"));
    }

    @Override
    public boolean decodesImages() {
        return true;
    }

    @Override
    public float[] values(int[] indices) throws LrdktException {
        int per = sampleSize();
        float[] out = new float[indices.length * per];
        for (int i = 0; i < indices.length; i++) {
            images.fill(indices[i], out, i * per);
        }
        return out;
    }

    @Override
    public Loader loader(List<int[]> batches, Views views) {
        return new Prefetch(batches, views);
    }

    /**
     * Keeps up to {@code depth} batches queued; each sample is one task on the decoding pool, which takes tasks in
     * the order queued, so the oldest batch is always the furthest along.
     */
    private final class Prefetch implements Loader {

        private final Iterator<int[]> pending;
        private final Views views;
        private final ExecutorService pool;
        private final int depth;
        private final Deque<CompletableFuture<float[]>> queued = new ArrayDeque<>();
        /** Position in the epoch of the next sample queued: what seeds its crop. */
        private long position;

        Prefetch(List<int[]> batches, Views views) {
            this.pending = batches.iterator();
            this.views = views;
            this.pool = threads == 0 ? null : Executors.newFixedThreadPool(threads, daemonThreads());
            // two batches per thread in flight (PyTorch's default prefetch factor) and the one being handed over,
            // fewer when batches are large (held-out scoring), but always one decoding while a step runs
            long batchBytes = 4L * sampleSize() * (batches.isEmpty() ? 1 : batches.get(0).length);
            this.depth = threads == 0 ? 1 : (int) Math.max(2, Math.min(2 * threads + 1, PREFETCH_BYTES / batchBytes));
        }

        @Override
        public float[] next() throws LrdktException {
            while (queued.size() < depth && pending.hasNext()) {
                queued.add(queue(pending.next()));
            }
            CompletableFuture<float[]> head = queued.poll();
            if (head == null) {
                throw new IllegalStateException("no batches left");
            }
            try {
                return head.join();
            } catch (CompletionException e) {
                if (e.getCause() instanceof LrdktException l) {
                    throw l;
                }
                throw new LrdktException(LrdktException.Kind.IO, "decoding images failed: " + e.getCause(),
                        e.getCause());
            } catch (CancellationException e) {
                throw new LrdktException(LrdktException.Kind.IO, "decoding images was cancelled", e);
            }
        }

        /** Queues one batch: its affine moves drawn now, in order; its samples decoded on the pool. */
        private CompletableFuture<float[]> queue(int[] batch) throws LrdktException {
            int per = sampleSize();
            float[] values = new float[batch.length * per];
            RandomAffine.Moves moves = views != null && views.affine() != null
                    ? views.affine().draw(batch.length, views.random()) : null;
            List<CompletableFuture<Void>> samples = new ArrayList<>(batch.length);
            for (int i = 0; i < batch.length; i++) {
                int index = batch[i];
                int offset = i * per;
                long crop = views != null && views.cropping() != null ? views.cropSeed() * 1_000_003L + position : 0;
                position++;
                if (pool == null) {
                    decode(index, values, offset, crop);
                } else {
                    samples.add(CompletableFuture.runAsync(() -> {
                        try {
                            decode(index, values, offset, crop);
                        } catch (LrdktException e) {
                            throw new CompletionException(e);
                        }
                    }, pool));
                }
            }
            if (pool == null) {
                move(values, moves);
                return CompletableFuture.completedFuture(values);
            }
            return CompletableFuture.allOf(samples.toArray(CompletableFuture[]::new)).thenApply(v -> {
                move(values, moves);
                return values;
            });
        }

        private void decode(int index, float[] values, int offset, long cropSeed) throws LrdktException {
            if (views != null && views.cropping() != null) {
                images.fillRandomCrop(index, values, offset, views.cropping(), new SplittableRandom(cropSeed));
            } else {
                images.fill(index, values, offset);
            }
        }

        private void move(float[] values, RandomAffine.Moves moves) {
            if (moves != null) {
                views.affine().apply(values, moves);
            }
        }

        @Override
        public void close() {
            queued.forEach(f -> f.cancel(false));
            queued.clear();
            if (pool != null) {
                pool.shutdownNow();
            }
        }
    }

    private static java.util.concurrent.ThreadFactory daemonThreads() {
        AtomicInteger count = new AtomicInteger();
        return task -> {
            Thread t = new Thread(task, "lrdkt-loader-" + count.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
