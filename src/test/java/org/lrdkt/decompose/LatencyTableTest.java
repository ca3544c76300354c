package org.lrdkt.decompose;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.ToDoubleFunction;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lrdkt.LrdktException;
import org.lrdkt.ModelBuilder;
import org.lrdkt.onnx.Attrs;
import org.lrdkt.onnx.Graph;
import org.lrdkt.onnx.Layer;
import org.lrdkt.onnx.OnnxModel;
import org.lrdkt.onnx.Shapes;

/** Measured per-layer latency tables: the on-disk cache, interpolation, and allocation under a latency budget. */
class LatencyTableTest {

    @TempDir
    Path dir;

    /** Two convs large enough (≈ 19M MACs each) that a low-rank pair is clearly faster than the layer. */
    static OnnxModel convNet() {
        return new ModelBuilder(1, 32, 32, 32)
                .conv("c1", new long[] {64, 32, 3, 3}, true, Attrs.ofInts("pads", 1, 1, 1, 1)).relu()
                .conv("c2", new long[] {64, 64, 3, 3}, true, Attrs.ofInts("pads", 1, 1, 1, 1)).relu().build();
    }

    private static Candidate candidate(OnnxModel model, String name) throws LrdktException {
        Graph graph = Graph.of(model);
        Layer layer = graph.layersByName().get(name);
        Map<String, long[]> shapes = Shapes.infer(model, Shapes.resolveInputShapes(graph, null));
        return Candidate.of(graph, layer, shapes);
    }

    @Test
    void aSecondTableReadsTheCacheAndMeasuresNothing() throws LrdktException {
        OnnxModel model = convNet();
        Candidate c = candidate(model, "c2");
        LatencyTable first = new LatencyTable(dir, 1);
        LatencyTable.Curve measured = first.curve(c, Unfolding.SPATIAL, 1, model.proto());
        List<Integer> grid = LatencyTable.grid(c, Unfolding.SPATIAL, 1);
        assertEquals(grid.size(), first.measurements());
        assertEquals(grid, List.copyOf(measured.millis().keySet()));
        assertTrue(measured.millis().values().stream().allMatch(ms -> ms > 0), measured.millis().toString());

        LatencyTable second = new LatencyTable(dir, 1);
        LatencyTable.Curve cached = second.curve(c, Unfolding.SPATIAL, 1, model.proto());
        assertEquals(0, second.measurements());
        assertEquals(measured.millis(), cached.millis());

        // another thread count is another key: measured afresh
        LatencyTable twoThreads = new LatencyTable(dir, 2);
        twoThreads.curve(c, Unfolding.SPATIAL, 1, model.proto());
        assertEquals(grid.size(), twoThreads.measurements());
    }

    @Test
    void fullyConnectedLayersAreTimedToo() throws LrdktException {
        OnnxModel model = new ModelBuilder(4, 96).gemm("g", 96, 80, true, true, 1f, 1f).relu()
                .gemm("g2", 80, 72, false, true, 0.5f, 2f).matMul("m", 72, 64, true).build();
        for (String name : List.of("g", "g2", "m")) {
            LatencyTable table = new LatencyTable(dir, 1);
            LatencyTable.Curve curve = table.curve(candidate(model, name), Unfolding.FC, 1, model.proto());
            assertTrue(curve.millis().size() > 2 && curve.millis().values().stream().allMatch(ms -> ms > 0), name);
        }
    }

    @Test
    void anUnreadableCacheFileIsMeasuredAgain() throws Exception {
        OnnxModel model = convNet();
        Candidate c = candidate(model, "c1");
        new LatencyTable(dir, 1).curve(c, Unfolding.CHANNEL, 1, model.proto());
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) {
                Files.writeString(f, "{not json");
            }
        }
        LatencyTable again = new LatencyTable(dir, 1);
        again.curve(c, Unfolding.CHANNEL, 1, model.proto());
        assertTrue(again.measurements() > 0);
    }

    @Test
    void gridRunsFromTheStepToBreakEvenInMultiplesOfEightForLargeLayers() throws LrdktException {
        Candidate c = candidate(convNet(), "c2"); // spatial break-even 64·64·9 / (64·3 + 64·3) = 96
        List<Integer> grid = LatencyTable.grid(c, Unfolding.SPATIAL, 1);
        assertEquals(0, grid.get(0));
        assertTrue(grid.size() <= LatencyTable.GRID_POINTS + 1);
        assertTrue(grid.stream().skip(1).allMatch(k -> k % LatencyTable.ROUND == 0), grid.toString());
        assertTrue(grid.get(grid.size() - 1) <= Unfolding.SPATIAL.breakEven(c.shape()), grid.toString());
    }

    @Test
    void curveInterpolatesBetweenMeasuredRanks() {
        TreeMap<Integer, Double> ms = new TreeMap<>(Map.of(0, 10.0, 8, 2.0, 16, 4.0));
        LatencyTable.Curve curve = new LatencyTable.Curve("l", "key", ms);
        assertEquals(10.0, curve.original());
        assertEquals(2.0, curve.at(1)); // below the grid: the smallest measured rank
        assertEquals(3.0, curve.at(12), 1e-12);
        assertEquals(6.0, curve.at(24), 1e-12); // beyond: along the last segment
    }

    /** Compresses {@link #convNet()} with latency-priced ranks and checks Σ after ≤ target × Σ before. */
    private CompressReport compressWithinBudget(CompressOptions.Policy policy, double target,
                                                ToDoubleFunction<CompressReport.LayerDecision> before,
                                                ToDoubleFunction<CompressReport.LayerDecision> after)
            throws LrdktException {
        CompressReport r = Compressor.compress(convNet(), CompressOptions.builder().target(policy, target)
                .latency(new CompressOptions.Latency(dir, 1)).build()).report();
        double sumBefore = r.layers().stream().mapToDouble(before).sum();
        double sumAfter = r.layers().stream().mapToDouble(after).sum();
        assertTrue(sumAfter <= target * sumBefore, sumAfter + " > " + target + " × " + sumBefore);
        return r;
    }

    @Test
    void targetLatencyHonoursTheBudget() throws LrdktException {
        CompressReport r = compressWithinBudget(CompressOptions.Policy.TARGET_LATENCY, 0.6,
                CompressReport.LayerDecision::latencyMs, CompressReport.LayerDecision::latencyMsAfter);
        assertEquals(2, r.latency().size());
        assertTrue(r.layers().stream().anyMatch(d -> d.status() == CompressReport.Status.DECOMPOSED));
    }

    @Test
    void latencyObjectiveKeepsTheMacsBudget() throws LrdktException {
        CompressReport r = compressWithinBudget(CompressOptions.Policy.TARGET_MACS, 0.3,
                CompressReport.LayerDecision::macsBefore, CompressReport.LayerDecision::macsAfter);
        assertTrue(r.layers().stream().allMatch(d -> d.latencyMs() != null && d.latencyMsAfter() != null));
    }
}
