package org.lrdkt.decompose;

import java.util.ArrayList;
import java.util.List;
import org.lrdkt.LrdktException;
import org.lrdkt.onnx.proto.Onnx.ModelProto;

/**
 * Sets every analysed layer's rank under the options' policy (energy, explicit ranks, or a global MACs, params or
 * latency budget), refusing ranks at or beyond break-even and saying why a layer is left alone.
 */
final class RankChooser {

    private RankChooser() {
    }

    static void choose(List<LayerPlan> todo, CompressOptions options, boolean beyondBreakEven, ModelProto teacher)
            throws LrdktException {
        int step = Math.max(1, options.roundTo());
        switch (options.policy()) {
            case ENERGY -> todo.forEach(p -> p.rank = energyRank(p, options.energy()));
            case RANKS -> {
                for (LayerPlan p : todo) {
                    int k = options.ranks().get(p.candidate.name());
                    int full = p.unfolding.fullRank(p.candidate.shape());
                    if (k > full) {
                        throw LrdktException.usage("rank " + k + " for layer '" + p.candidate.name()
                                + "' exceeds its full rank " + full + " (" + p.unfolding.name().toLowerCase()
                                + " unfolding " + p.unfolding.rows(p.candidate.shape()) + "x"
                                + p.unfolding.cols(p.candidate.shape()) + ")");
                    }
                    p.rank = k;
                }
            }
            case TARGET_MACS, TARGET_PARAMS, TARGET_LATENCY -> {
                allocateBudget(todo, options, step, teacher);
                return;
            }
            default -> throw new IllegalStateException(options.policy().toString());
        }
        for (LayerPlan p : todo) {
            int full = p.unfolding.fullRank(p.candidate.shape());
            p.rank = Math.min(full, (p.rank + step - 1) / step * step);
            double breakEven = p.unfolding.breakEven(p.candidate.shape());
            if (p.rank >= breakEven && !beyondBreakEven) {
                p.skipReason = "rank " + p.rank + " ≥ break-even " + String.format("%.1f", breakEven);
                p.refusedRank = p.rank;
                p.rank = 0;
            }
        }
    }

    private static void allocateBudget(List<LayerPlan> todo, CompressOptions options, int step, ModelProto teacher)
            throws LrdktException {
        if (options.latency() != null) {
            measureLatency(todo, options.latency(), step, teacher);
        }
        List<Budget.Layer> layers = new ArrayList<>();
        for (LayerPlan p : todo) {
            Budget.Metric cost = budgetMetric(p, options.policy());
            layers.add(new Budget.Layer(cost, p.latency != null ? latencyMetric(p) : cost, p.rankSpectrum,
                    p.unfolding.fullRank(p.candidate.shape())));
        }
        int[] ranks = Budget.allocate(layers, options.target(), step,
                options.policy().name().substring("TARGET_".length()).toLowerCase());
        for (int i = 0; i < ranks.length; i++) {
            LayerPlan p = todo.get(i);
            p.rank = ranks[i];
            if (p.rank == 0) {
                int first = Math.min(step, p.unfolding.fullRank(p.candidate.shape()));
                p.skipReason = slowerPair(p, first) ? String.format("no measured pair is faster (%.3f ms "
                        + "at rank %d vs %.3f ms)", p.latency.at(first), first, p.latency.original())
                        : "the budget is best spent elsewhere (break-even "
                        + String.format("%.1f", p.unfolding.breakEven(p.candidate.shape())) + ")";
            }
        }
    }

    /** Whether even the smallest rank's pair measured no faster than the layer itself. */
    private static boolean slowerPair(LayerPlan p, int rank) {
        return p.latency != null && p.latency.at(rank) >= p.latency.original();
    }

    /** A layer's cost under a budget policy as a function of rank. */
    private static Budget.Metric budgetMetric(LayerPlan p, CompressOptions.Policy policy) {
        Candidate c = p.candidate;
        Unfolding u = p.unfolding;
        return switch (policy) {
            case TARGET_MACS -> new Budget.Metric(k -> c.costAfter(u, k).macs(), c.costBefore().macs());
            case TARGET_PARAMS -> new Budget.Metric(k -> c.costAfter(u, k).params(), c.costBefore().params());
            case TARGET_LATENCY -> latencyMetric(p);
            default -> throw new IllegalStateException(policy.toString());
        };
    }

    private static Budget.Metric latencyMetric(LayerPlan p) {
        LatencyTable.Curve curve = p.latency;
        return new Budget.Metric(curve::at, curve.original());
    }

    /** Times every layer and its pairs (one at a time: parallel timings would disturb each other). */
    private static void measureLatency(List<LayerPlan> todo, CompressOptions.Latency settings, int step,
                                       ModelProto teacher) throws LrdktException {
        LatencyTable table = new LatencyTable(settings.cacheDir(), settings.threads());
        for (LayerPlan p : todo) {
            p.latency = table.curve(p.candidate, p.unfolding, step, teacher);
        }
    }

    /**
     * The paper's rule, except that round-off energy beyond a rank-deficient layer's numerical rank does not count:
     * at e = 1 it would otherwise push the rank to full (and past break-even) for nothing.
     */
    private static int energyRank(LayerPlan p, double energy) {
        Spectrum spectrum = p.rankSpectrum;
        int rank = spectrum.rankFor(energy);
        int numerical = Math.max(1, p.lowRank.numericalRank());
        return spectrum.kept(numerical) >= energy * (1 - 1e-6) ? Math.min(rank, numerical) : rank;
    }
}
