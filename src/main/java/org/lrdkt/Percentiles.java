package org.lrdkt;

import java.util.Arrays;

/**
 * Order statistics of timings, shared by the benchmark and the per-layer latency measurements. Percentiles
 * interpolate linearly between order statistics (NumPy's default), so P50 is the median.
 */
public final class Percentiles {

    private Percentiles() {
    }

    /** The q-th percentile (0..100) of ascending values, linearly interpolated. */
    public static double percentile(double[] sorted, double q) {
        double position = q / 100 * (sorted.length - 1);
        int lower = (int) Math.floor(position);
        int upper = Math.min(lower + 1, sorted.length - 1);
        return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - lower);
    }

    public static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return percentile(sorted, 50);
    }
}
