package org.lrdkt.validate;

import java.util.Arrays;

/**
 * Summary of latencies in milliseconds. Percentiles interpolate linearly between order statistics (NumPy's default),
 * so P50 is the median.
 */
public record LatencyStats(int count, double p50, double p90, double p99, double mean, double min, double max) {

    public static LatencyStats of(double[] millis) {
        if (millis.length == 0) {
            throw new IllegalArgumentException("no timings");
        }
        double[] sorted = millis.clone();
        Arrays.sort(sorted);
        double sum = 0;
        for (double v : sorted) {
            sum += v;
        }
        return new LatencyStats(sorted.length, percentile(sorted, 50), percentile(sorted, 90), percentile(sorted, 99),
                sum / sorted.length, sorted[0], sorted[sorted.length - 1]);
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
