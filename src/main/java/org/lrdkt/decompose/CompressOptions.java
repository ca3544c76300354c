package org.lrdkt.decompose;

import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * How {@link Compressor} chooses what to decompose and at which rank. Build with {@link #builder()}.
 *
 * @param policy     which rank policy decides K
 * @param energy     fraction of σ² energy to keep per layer (policy ENERGY); also the level at which
 *                   {@link Scheme#AUTO} compares schemes
 * @param ranks      explicit ranks by layer name (policy RANKS); layers not named are left untouched
 * @param target     kept fraction of the decomposable layers' MACs or params (TARGET_MACS / TARGET_PARAMS)
 * @param roundTo    every rank is rounded up to a multiple of this (1 = no rounding)
 * @param scheme     conv factorisation: spatial (paper), channel, or auto per layer
 * @param include    only layers whose name matches (find) are candidates; null = all
 * @param exclude    layers whose name matches are left untouched; null = none
 * @param inputShape input shape for measuring activations (null: the model's own with batch 1)
 * @param solver     how factors are computed
 * @param threads    layers analysed in parallel (1 = one at a time, BLAS uses every core)
 * @param latency    how ranks are priced by measured latency; null: by the budget's own metric
 * @param calibration data for the calibrated (data-aware) closed form; null: from the weights alone
 */
public record CompressOptions(Policy policy, double energy, Map<String, Integer> ranks, double target, int roundTo,
                              Scheme scheme, Pattern include, Pattern exclude, long[] inputShape,
                              LowRank.Solver solver, int threads, Latency latency,
                              Calibration calibration) {

    /** Rank policies. */
    public enum Policy { ENERGY, RANKS, TARGET_MACS, TARGET_PARAMS, TARGET_LATENCY }

    /**
     * Latency-aware allocation: ranks are bought by least energy lost per millisecond saved, the milliseconds
     * measured per layer with ONNX Runtime.
     *
     * @param cacheDir where the per-layer latency tables are cached
     * @param threads  ONNX Runtime intra-op threads the layers are timed with
     */
    public record Latency(Path cacheDir, int threads) {
        /** The default cache (~/.cache/lrdkt/latency) and every core. */
        public static Latency defaults() {
            return new Latency(LatencyTable.DEFAULT_DIR, Math.max(1, Runtime.getRuntime().availableProcessors()));
        }
    }

    /** Conv factorisation schemes. */
    public enum Scheme { SPATIAL, CHANNEL, AUTO }

    public static final double DEFAULT_ENERGY = 0.9;

    /**
     * A builder starting from the defaults: the paper's energy rule at 0.9 (the paper used 0.7 and 0.5), spatial
     * scheme, every layer, the automatic solver, one layer at a time, no latency pricing, no calibration.
     */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from these options. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.policy = policy;
        b.energy = energy;
        b.ranks = ranks;
        b.target = target;
        b.roundTo = roundTo;
        b.scheme = scheme;
        b.include = include;
        b.exclude = exclude;
        b.inputShape = inputShape;
        b.solver = solver;
        b.threads = threads;
        b.latency = latency;
        b.calibration = calibration;
        return b;
    }

    /** Sets options by name; the policy follows from the one rank rule set last. */
    public static final class Builder {
        private Policy policy = Policy.ENERGY;
        private double energy = DEFAULT_ENERGY;
        private Map<String, Integer> ranks = Map.of();
        private double target;
        private int roundTo = 1;
        private Scheme scheme = Scheme.SPATIAL;
        private Pattern include;
        private Pattern exclude;
        private long[] inputShape;
        private LowRank.Solver solver = LowRank.Solver.AUTO;
        private int threads = 1;
        private Latency latency;
        private Calibration calibration;

        private Builder() {
        }

        /** Policy ENERGY keeping this fraction of σ² energy per layer. */
        public Builder energy(double fraction) {
            policy = Policy.ENERGY;
            energy = fraction;
            return this;
        }

        /** Policy RANKS with these ranks by layer name. */
        public Builder ranks(Map<String, Integer> byLayer) {
            policy = Policy.RANKS;
            ranks = Map.copyOf(byLayer);
            return this;
        }

        /**
         * A global budget: {@code budget} TARGET_MACS, TARGET_PARAMS or TARGET_LATENCY keeping {@code fraction} of
         * the layers' cost (TARGET_LATENCY also needs {@link #latency}).
         */
        public Builder target(Policy budget, double fraction) {
            if (budget != Policy.TARGET_MACS && budget != Policy.TARGET_PARAMS && budget != Policy.TARGET_LATENCY) {
                throw new IllegalArgumentException("not a target policy: " + budget);
            }
            policy = budget;
            target = fraction;
            return this;
        }

        public Builder roundTo(int multiple) {
            roundTo = multiple;
            return this;
        }

        public Builder scheme(Scheme s) {
            scheme = s;
            return this;
        }

        public Builder include(Pattern p) {
            include = p;
            return this;
        }

        public Builder exclude(Pattern p) {
            exclude = p;
            return this;
        }

        public Builder inputShape(long[] shape) {
            inputShape = shape;
            return this;
        }

        public Builder solver(LowRank.Solver s) {
            solver = s;
            return this;
        }

        public Builder threads(int n) {
            threads = n;
            return this;
        }

        /** Prices ranks by measured latency (with TARGET_MACS: the latency objective); null turns that off. */
        public Builder latency(Latency l) {
            latency = l;
            return this;
        }

        /** Calibrates the closed form on data; null turns that off. */
        public Builder calibration(Calibration c) {
            calibration = c;
            return this;
        }

        public CompressOptions build() {
            return new CompressOptions(policy, energy, ranks, target, roundTo, scheme, include, exclude, inputShape,
                    solver, threads, latency, calibration);
        }
    }

    /** One line describing the policy, for reports. */
    public String describe() {
        String p = switch (policy) {
            case ENERGY -> "energy " + energy;
            case RANKS -> "explicit ranks (" + ranks.size() + " layers)";
            case TARGET_MACS -> "target MACs " + target;
            case TARGET_PARAMS -> "target params " + target;
            case TARGET_LATENCY -> "target latency " + target;
        };
        if (latency != null && policy == Policy.TARGET_MACS) {
            p += ", objective latency";
        }
        return p + ", scheme " + scheme.name().toLowerCase() + (roundTo > 1 ? ", round to " + roundTo : "")
                + (calibration != null ? ", " + calibration.describe() : "");
    }
}
