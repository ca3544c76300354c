package org.lrdkt.validate;


import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.lrdkt.Percentiles;

/** The benchmark's statistics and schedule on synthetic timings: nothing here is timed. */
class BenchmarkStatisticsTest {

    @Test
    void percentilesInterpolateLikeNumpy() {
        double[] oneToHundred = new double[100];
        for (int i = 0; i < 100; i++) {
            oneToHundred[99 - i] = i + 1; // unsorted on purpose
        }
        LatencyStats s = LatencyStats.of(oneToHundred);
        // numpy.percentile(range(1, 101), [50, 90, 99]) = 50.5, 90.1, 99.01
        assertEquals(50.5, s.p50(), 1e-12);
        assertEquals(90.1, s.p90(), 1e-12);
        assertEquals(99.01, s.p99(), 1e-12);
        assertEquals(50.5, s.mean(), 1e-12);
        assertEquals(1, s.min());
        assertEquals(100, s.max());
        assertEquals(3.0, Percentiles.median(new double[] {9, 1, 3}));
        assertEquals(7.0, LatencyStats.of(new double[] {7}).p99());
    }

    @Test
    void scheduleAlternatesBlocksInAbbaOrderAndGivesEveryModelExactlyItsRuns() {
        List<BlockSchedule.Block> plan = BlockSchedule.plan(2, 25, 10);
        assertEquals(List.of(new BlockSchedule.Block(0, 0, 10), new BlockSchedule.Block(0, 1, 10),
                new BlockSchedule.Block(1, 1, 10), new BlockSchedule.Block(1, 0, 10),
                new BlockSchedule.Block(2, 0, 5), new BlockSchedule.Block(2, 1, 5)), plan);
        assertEquals(3, BlockSchedule.rounds(25, 10));
        assertEquals(1, BlockSchedule.rounds(5, 10));
        int[] runs = new int[3];
        BlockSchedule.plan(3, 7, 1).forEach(b -> runs[b.model()] += b.count());
        assertEquals(List.of(7, 7, 7), List.of(runs[0], runs[1], runs[2]));
    }

    @Test
    void ratiosUseMediansAndReportPerRoundSpread() {
        // baseline: 10 ms with one 100 ms outlier; candidate: 4 ms, then 5 ms in round 2 (machine slowed down)
        double[][][] timings = {
            {{10, 10, 100}, {10, 10, 10}},
            {{4, 4, 4}, {5, 5, 5}},
        };
        ModelBenchFixture base = new ModelBenchFixture("teacher", 1000, 5000, 4000, timings[0]);
        ModelBenchFixture student = new ModelBenchFixture("student", 250, 1000, 1000, timings[1]);
        List<Benchmark.Ratio> ratios = Benchmark.ratios(List.of(base.bench(), student.bench()), timings);
        assertEquals(1, ratios.size());
        Benchmark.Ratio r = ratios.get(0);
        assertEquals("student", r.name());
        assertEquals("teacher", r.baseline());
        // medians: baseline 10 (the outlier does not move it), student 4.5 (mean of 4 and 5 as the middle pair)
        assertEquals(10 / 4.5, r.speedup(), 1e-12);
        assertEquals(2.0, r.speedupRoundMin(), 1e-12);
        assertEquals(2.5, r.speedupRoundMax(), 1e-12);
        assertEquals(4.0, r.params(), 1e-12);
        assertEquals(5.0, r.macs(), 1e-12);
        assertEquals(4.0, r.bytes(), 1e-12);
    }

    @Test
    void sameTimingsGiveRatioOne() {
        double[][][] timings = {{{3, 1, 2}}, {{2, 3, 1}}};
        ModelBenchFixture a = new ModelBenchFixture("a", 1, 1, 1, timings[0]);
        ModelBenchFixture b = new ModelBenchFixture("b", 1, 1, 1, timings[1]);
        Benchmark.Ratio r = Benchmark.ratios(List.of(a.bench(), b.bench()), timings).get(0);
        assertEquals(1.0, r.speedup());
        assertEquals(1.0, r.speedupRoundMin());
    }

    /** A ModelBench whose latency stats come from the given rounds, as Benchmark.compare builds them. */
    private record ModelBenchFixture(String name, long params, long macs, long bytes, double[][] rounds) {
        Benchmark.ModelBench bench() {
            LatencyStats stats = LatencyStats.of(Benchmark.flatten(rounds));
            return new Benchmark.ModelBench(name, Map.of(), params, macs, bytes, stats, 1000 / stats.p50(), null);
        }
    }
}
