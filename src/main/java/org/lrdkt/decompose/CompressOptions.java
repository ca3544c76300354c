package org.lrdkt.decompose;

import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * How {@link Compressor} chooses what to decompose and at which rank.
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

    /** The paper's energy rule at 0.9 (the paper used 0.7 and 0.5), spatial scheme, every layer. */
    public static CompressOptions defaults() {
        return new CompressOptions(Policy.ENERGY, DEFAULT_ENERGY, Map.of(), 0, 1, Scheme.SPATIAL, null, null, null,
                LowRank.Solver.AUTO, 1, null, null);
    }

    public CompressOptions withEnergy(double e) {
        return new CompressOptions(Policy.ENERGY, e, ranks, target, roundTo, scheme, include, exclude, inputShape,
                solver, threads, latency, calibration);
    }

    public CompressOptions withRanks(Map<String, Integer> r) {
        return new CompressOptions(Policy.RANKS, energy, Map.copyOf(r), target, roundTo, scheme, include, exclude,
                inputShape, solver, threads, latency, calibration);
    }

    /**
     * A global budget: {@code policy} TARGET_MACS, TARGET_PARAMS or TARGET_LATENCY keeping {@code fraction} of the
     * layers' cost (TARGET_LATENCY also needs {@link #withLatency}).
     */
    public CompressOptions withTarget(Policy p, double fraction) {
        if (p != Policy.TARGET_MACS && p != Policy.TARGET_PARAMS && p != Policy.TARGET_LATENCY) {
            throw new IllegalArgumentException("not a target policy: " + p);
        }
        return new CompressOptions(p, energy, ranks, fraction, roundTo, scheme, include, exclude, inputShape, solver,
                threads, latency, calibration);
    }

    /** Keeps the policy; changes the energy level AUTO compares schemes at. */
    public CompressOptions withAutoEnergy(double e) {
        return new CompressOptions(policy, e, ranks, target, roundTo, scheme, include, exclude, inputShape, solver,
                threads, latency, calibration);
    }

    public CompressOptions withRoundTo(int m) {
        return new CompressOptions(policy, energy, ranks, target, m, scheme, include, exclude, inputShape, solver,
                threads, latency, calibration);
    }

    public CompressOptions withScheme(Scheme s) {
        return new CompressOptions(policy, energy, ranks, target, roundTo, s, include, exclude, inputShape, solver,
                threads, latency, calibration);
    }

    public CompressOptions withInclude(Pattern p) {
        return new CompressOptions(policy, energy, ranks, target, roundTo, scheme, p, exclude, inputShape, solver,
                threads, latency, calibration);
    }

    public CompressOptions withExclude(Pattern p) {
        return new CompressOptions(policy, energy, ranks, target, roundTo, scheme, include, p, inputShape, solver,
                threads, latency, calibration);
    }

    public CompressOptions withInputShape(long[] shape) {
        return new CompressOptions(policy, energy, ranks, target, roundTo, scheme, include, exclude, shape, solver,
                threads, latency, calibration);
    }

    public CompressOptions withSolver(LowRank.Solver s) {
        return new CompressOptions(policy, energy, ranks, target, roundTo, scheme, include, exclude, inputShape, s,
                threads, latency, calibration);
    }

    public CompressOptions withThreads(int n) {
        return new CompressOptions(policy, energy, ranks, target, roundTo, scheme, include, exclude, inputShape,
                solver, n, latency, calibration);
    }

    /** Prices ranks by measured latency (with TARGET_MACS: the latency objective); null turns that off. */
    public CompressOptions withLatency(Latency l) {
        return new CompressOptions(policy, energy, ranks, target, roundTo, scheme, include, exclude, inputShape,
                solver, threads, l, calibration);
    }

    /** Calibrates the closed form on data; null turns that off. */
    public CompressOptions withCalibration(Calibration c) {
        return new CompressOptions(policy, energy, ranks, target, roundTo, scheme, include, exclude, inputShape,
                solver, threads, latency, c);
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
