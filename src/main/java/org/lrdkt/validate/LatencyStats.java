package org.lrdkt.validate;

import java.util.Arrays;
import org.lrdkt.Percentiles;

/**
 * Summary of latencies in milliseconds; percentiles as {@link Percentiles} computes them (P50 is the median).
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
        return new LatencyStats(sorted.length, Percentiles.percentile(sorted, 50), Percentiles.percentile(sorted, 90),
                Percentiles.percentile(sorted, 99), sum / sorted.length, sorted[0], sorted[sorted.length - 1]);
    }
}
