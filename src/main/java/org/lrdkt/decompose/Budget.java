package org.lrdkt.decompose;

import java.util.List;
import java.util.PriorityQueue;
import java.util.function.IntToLongFunction;
import org.lrdkt.LrdktException;

/**
 * Global rank allocation under a cost budget (MACs or params). Every layer starts at the smallest rank; ranks then
 * grow one step at a time where they buy the most normalised σ² energy per unit of cost, as long as the total stays
 * within the budget. Energy gains shrink along each spectrum, so this greedy order is the order of least energy
 * lost per cost saved. A layer whose next step would reach its original cost is restored whole (untouched) instead.
 */
final class Budget {

    /** One layer's options: cost at rank k (params or MACs), the cost untouched, its spectrum, its rank limit. */
    record Layer(IntToLongFunction costAt, long untouchedCost, Spectrum spectrum, int fullRank) {
    }

    private Budget() {
    }

    /**
     * Ranks for each layer (0 = leave untouched) keeping the total cost within {@code target} × the untouched total.
     * {@code step} is the rank granularity (--round-to).
     */
    static int[] allocate(List<Layer> layers, double target, int step, String metric) throws LrdktException {
        int n = layers.size();
        int[] rank = new int[n];
        long untouched = 0;
        long total = 0;
        for (int i = 0; i < n; i++) {
            Layer l = layers.get(i);
            untouched += l.untouchedCost();
            int first = Math.min(step, l.fullRank());
            if (l.costAt().applyAsLong(first) < l.untouchedCost()) {
                rank[i] = first;
                total += l.costAt().applyAsLong(first);
            } else {
                total += l.untouchedCost(); // cannot pay even at the smallest rank
            }
        }
        long budget = (long) Math.floor(target * untouched);
        if (total > budget) {
            throw LrdktException.usage(String.format("--target-%s %s cannot be met: every layer at rank %d already keeps "
                    + "%.4f of the decomposable layers' %s", metric, target, step, (double) total / untouched, metric));
        }
        record Step(int layer, double gainPerCost) {
        }
        PriorityQueue<Step> queue = new PriorityQueue<>((a, b) -> Double.compare(b.gainPerCost, a.gainPerCost));
        for (int i = 0; i < n; i++) {
            offer(queue, layers.get(i), i, rank[i], step, Step::new);
        }
        while (!queue.isEmpty()) {
            Step s = queue.poll();
            Layer l = layers.get(s.layer);
            int k = rank[s.layer];
            int next = nextRank(l, k, step);
            long delta = cost(l, next) - l.costAt().applyAsLong(k);
            if (total + delta > budget) {
                continue; // this layer's next step does not fit; cheaper steps elsewhere still may
            }
            total += delta;
            rank[s.layer] = next;
            offer(queue, l, s.layer, next, step, Step::new);
        }
        return rank;
    }

    /** The next rank up, or 0 (untouched) when it would cost as much as the original layer. */
    private static int nextRank(Layer l, int k, int step) {
        int next = Math.min(k + step, l.fullRank());
        return l.costAt().applyAsLong(next) >= l.untouchedCost() ? 0 : next;
    }

    private static long cost(Layer l, int rank) {
        return rank == 0 ? l.untouchedCost() : l.costAt().applyAsLong(rank);
    }

    private interface StepFactory<T> {
        T make(int layer, double gainPerCost);
    }

    private static <T> void offer(PriorityQueue<T> queue, Layer l, int index, int k, int step, StepFactory<T> make) {
        if (k == 0 || k >= l.fullRank()) {
            return; // untouched or already complete
        }
        int next = nextRank(l, k, step);
        double gain = (next == 0 ? 1 : l.spectrum().kept(next)) - l.spectrum().kept(k);
        long delta = cost(l, next) - l.costAt().applyAsLong(k);
        queue.add(make.make(index, delta <= 0 ? Double.MAX_VALUE : gain / delta));
    }
}
