package org.lrdkt.decompose;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import org.lrdkt.LrdktException;

/**
 * Runs per-layer work {@code threads} layers at a time, largest first so that the long ones do not start last. Each
 * running task reserves about three float copies of its weight (its native matrix, Gram and products, results) from
 * an allowance of a quarter of the maximum heap, so that parallel layers never hold more than that at once; a layer
 * larger than the whole allowance runs alone.
 */
final class LayerPool {

    /** Work on one layer; may throw. */
    interface LayerTask {
        void run(LayerPlan p) throws LrdktException;
    }

    private LayerPool() {
    }

    static void forEach(List<LayerPlan> plans, int threads, LayerTask task) throws LrdktException {
        int workers = Math.max(1, Math.min(threads, plans.size()));
        if (workers == 1) {
            for (LayerPlan p : plans) {
                task.run(p);
            }
            return;
        }
        long allowanceMiB = Math.max(1, Runtime.getRuntime().maxMemory() / 4 >> 20);
        Semaphore memory = new Semaphore((int) Math.min(Integer.MAX_VALUE, allowanceMiB), true);
        ExecutorService pool = Executors.newFixedThreadPool(workers);
        try {
            List<LayerPlan> order = new ArrayList<>(plans);
            order.sort((a, b) -> Long.compare(b.candidate.weightElements(), a.candidate.weightElements()));
            List<Future<?>> futures = new ArrayList<>();
            for (LayerPlan p : order) {
                int needMiB = (int) Math.min(allowanceMiB, Math.max(1, 3 * 4 * p.candidate.weightElements() >> 20));
                futures.add(pool.submit(() -> {
                    memory.acquire(needMiB);
                    try {
                        task.run(p);
                    } finally {
                        memory.release(needMiB);
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
        } catch (ExecutionException e) {
            if (e.getCause() instanceof LrdktException le) {
                throw le;
            }
            throw new LrdktException(LrdktException.Kind.RUNTIME, "decomposition failed: " + e.getCause(),
                    e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LrdktException(LrdktException.Kind.RUNTIME, "interrupted", e);
        } finally {
            pool.shutdownNow();
        }
    }
}
