package org.lrdkt.decompose;

import java.util.List;
import java.util.PriorityQueue;
import java.util.function.IntToDoubleFunction;
import org.lrdkt.LrdktException;

/**
 * Global rank allocation under a cost budget (MACs, params or measured latency). Every layer starts at the smallest
 * rank; ranks then grow one step at a time where they buy the most normalised σ² energy per unit of price, as long
 * as the total cost stays within the budget. The price is usually the cost itself; with the latency objective it is
 * the measured time while the budget stays in MACs. Energy gains shrink along each spectrum, so this greedy order is
 * the order of least energy lost per price saved. A layer whose next step would reach its original cost or price is
 * restored whole (untouched) instead.
 */
final class Budget {

    /** A quantity as a function of rank, and its value for the untouched layer. */
    record Metric(IntToDoubleFunction at, double untouched) {

        double of(int rank) {
            return rank == 0 ? untouched : at.applyAsDouble(rank);
        }
    }

    /** One layer's options: the budgeted cost, the price ranks are bought at, its spectrum, its rank limit. */
    record Layer(Metric cost, Metric price, Spectrum spectrum, int fullRank) {

        /** A layer whose price is its cost. */
        static Layer priced(Metric cost, Spectrum spectrum, int fullRank) {
            return new Layer(cost, cost, spectrum, fullRank);
        }

        /** Whether rank k is no cheaper than the original in cost or in price. */
        boolean notWorthIt(int k) {
            return cost.of(k) >= cost.untouched() || price.of(k) >= price.untouched();
        }
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
        double untouched = 0;
        double total = 0;
        for (int i = 0; i < n; i++) {
            Layer l = layers.get(i);
            untouched += l.cost().untouched();
            int first = Math.min(step, l.fullRank());
            if (!l.notWorthIt(first)) {
                rank[i] = first;
            }
            total += l.cost().of(rank[i]); // untouched when it cannot pay even at the smallest rank
        }
        double budget = target * untouched;
        if (total > budget) {
            throw LrdktException.usage(String.format("--target-%s %s cannot be met: every layer at rank %d (or "
                    + "untouched where that is no cheaper) already keeps %.4f of the decomposable layers' %s", metric,
                    target, step, total / untouched, metric));
        }
        record Step(int layer, double gainPerPrice) {
        }
        PriorityQueue<Step> queue = new PriorityQueue<>((a, b) -> Double.compare(b.gainPerPrice, a.gainPerPrice));
        for (int i = 0; i < n; i++) {
            offer(queue, layers.get(i), i, rank[i], step, Step::new);
        }
        while (!queue.isEmpty()) {
            Step s = queue.poll();
            Layer l = layers.get(s.layer);
            int k = rank[s.layer];
            int next = nextRank(l, k, step);
            double delta = l.cost().of(next) - l.cost().of(k);
            if (total + delta > budget) {
                continue; // this layer's next step does not fit; cheaper steps elsewhere still may
            }
            total += delta;
            rank[s.layer] = next;
            offer(queue, l, s.layer, next, step, Step::new);
        }
        return rank;
    }

    /** The next rank up, or 0 (untouched) when it would cost or be priced as much as the original layer. */
    private static int nextRank(Layer l, int k, int step) {
        int next = Math.min(k + step, l.fullRank());
        return l.notWorthIt(next) ? 0 : next;
    }

    private interface StepFactory<T> {
        T make(int layer, double gainPerPrice);
    }

    private static <T> void offer(PriorityQueue<T> queue, Layer l, int index, int k, int step, StepFactory<T> make) {
        if (k == 0 || k >= l.fullRank()) {
            return; // untouched or already complete
        }
        int next = nextRank(l, k, step);
        double gain = (next == 0 ? 1 : l.spectrum().kept(next)) - l.spectrum().kept(k);
        double delta = l.price().of(next) - l.price().of(k);
        queue.add(make.make(index, delta <= 0 ? Double.MAX_VALUE : gain / delta));
    }
}
