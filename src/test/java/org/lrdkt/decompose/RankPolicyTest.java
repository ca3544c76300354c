package org.lrdkt.decompose;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.lrdkt.LrdktException;
import org.lrdkt.ModelBuilder;
import org.lrdkt.onnx.Attrs;
import org.lrdkt.onnx.Graph;
import org.lrdkt.onnx.OnnxModel;
import org.lrdkt.onnx.TensorData;

/** Rank policies: energy, global budgets, rounding, break-even. */
class RankPolicyTest {

    private static OnnxModel convNet() {
        return new ModelBuilder(1, 8, 16, 16)
                .conv("c1", new long[] {16, 8, 3, 3}, true, Attrs.ofInts("pads", 1, 1, 1, 1)).relu()
                .conv("c2", new long[] {32, 16, 3, 3}, true, Attrs.ofInts("pads", 1, 1, 1, 1)).relu()
                .conv("c3", new long[] {32, 32, 3, 3}, true, Attrs.ofInts("strides", 2, 2)).relu().flatten()
                .gemm("fc", 32 * 7 * 7, 40, true, true, 1f, 1f).build();
    }

    @Test
    void energyPicksTheSmallestRankReachingIt() throws LrdktException {
        OnnxModel teacher = new ModelBuilder(2, 60).gemm("a", 60, 50, true, true, 1f, 1f).relu()
                .gemm("b", 50, 30, false, true, 1f, 1f).build();
        double e = 0.3;
        CompressReport report = Compressor.compress(teacher, CompressOptions.builder().energy(e).build()).report();
        Graph g = Graph.of(teacher);
        for (CompressReport.LayerDecision d : report.layers()) {
            // independent spectrum: SVD of the (out × in) weight
            float[] w = TensorData.toFloats(g.constant(d.name() + ".weight").orElseThrow());
            boolean transB = d.name().equals("a");
            int out = transB ? (int) d.weightShape()[0] : (int) d.weightShape()[1];
            int in = transB ? (int) d.weightShape()[1] : (int) d.weightShape()[0];
            float[] m = transB ? w : LayerWeights.transpose(w, in, out);
            float[] s = Lapack.svd(m, out, in).s();
            double total = 0;
            for (float x : s) {
                total += (double) x * x;
            }
            double kept = 0;
            int k = 0;
            while (kept < e * total) {
                kept += (double) s[k] * s[k];
                k++;
            }
            assertEquals(k, d.rank(), d.name());
            assertEquals(CompressReport.Status.DECOMPOSED, d.status(), d.name());
        }
    }

    @Test
    void targetMacsMeetsTheBudgetAndBeatsAUniformEnergy() throws LrdktException {
        OnnxModel teacher = convNet();
        double target = 0.4;
        CompressReport greedy = Compressor.compress(teacher, CompressOptions.builder()
                .target(CompressOptions.Policy.TARGET_MACS, target).build()).report();
        long before = greedy.layers().stream().mapToLong(CompressReport.LayerDecision::macsBefore).sum();
        long after = greedy.layers().stream().mapToLong(CompressReport.LayerDecision::macsAfter).sum();
        assertTrue(after <= target * before, after + " > " + target + " × " + before);
        assertTrue(after >= 0.9 * target * before, "the budget should be nearly used: " + after + " of " + before);
        // the best uniform energy meeting the same budget keeps no more energy in total
        double bestUniform = 0;
        for (double e = 0.05; e < 1; e += 0.01) {
            CompressReport r = Compressor.compress(teacher, CompressOptions.builder().energy(e).build()).report();
            if (r.layers().stream().mapToLong(CompressReport.LayerDecision::macsAfter).sum() <= target * before) {
                bestUniform = Math.max(bestUniform, keptSum(r));
            }
        }
        assertTrue(keptSum(greedy) >= bestUniform - 1e-9, keptSum(greedy) + " < uniform " + bestUniform);
    }

    private static double keptSum(CompressReport r) {
        return r.layers().stream().mapToDouble(CompressReport.LayerDecision::energyKept).sum();
    }

    @Test
    void targetParamsMeetsTheBudget() throws LrdktException {
        CompressReport r = Compressor.compress(convNet(), CompressOptions.builder()
                .target(CompressOptions.Policy.TARGET_PARAMS, 0.3).build()).report();
        long before = r.layers().stream().mapToLong(CompressReport.LayerDecision::paramsBefore).sum();
        long after = r.layers().stream().mapToLong(CompressReport.LayerDecision::paramsAfter).sum();
        assertTrue(after <= 0.3 * before);
    }

    @Test
    void roundToGivesMultiplesAndBreakEvenSkips() throws LrdktException {
        CompressReport r = Compressor.compress(convNet(), CompressOptions.builder().energy(0.5).roundTo(4).build())
                .report();
        for (CompressReport.LayerDecision d : r.layers()) {
            if (d.status() == CompressReport.Status.DECOMPOSED) {
                assertTrue(d.rank() % 4 == 0 || d.rank() == d.fullRank(), d.name() + " K=" + d.rank());
                assertTrue(d.rank() < d.breakEven());
            } else {
                assertTrue(d.reason().contains("break-even"), d.reason());
            }
        }
        CompressReport all = Compressor.compress(convNet(), CompressOptions.builder().energy(0.999).build()).report();
        List<CompressReport.LayerDecision> skipped = all.layers().stream()
                .filter(d -> d.status() == CompressReport.Status.SKIPPED).toList();
        assertTrue(!skipped.isEmpty() && skipped.stream().allMatch(d -> d.reason().contains("≥ break-even")));
        assertTrue(skipped.stream().allMatch(d -> d.paramsAfter() == d.paramsBefore() && d.rank() >= d.breakEven()));
    }

    @Test
    void autoPicksTheSchemeWithFewerMacs() throws LrdktException {
        CompressOptions o = CompressOptions.builder().energy(0.6).scheme(CompressOptions.Scheme.AUTO).build();
        CompressReport auto = Compressor.compress(convNet(), o).report();
        CompressReport spatial = Compressor.compress(convNet(),
                o.toBuilder().scheme(CompressOptions.Scheme.SPATIAL).build()).report();
        CompressReport channel = Compressor.compress(convNet(),
                o.toBuilder().scheme(CompressOptions.Scheme.CHANNEL).build()).report();
        for (int i = 0; i < 3; i++) { // the three convs
            CompressReport.LayerDecision a = auto.layers().get(i);
            long best = Math.min(spatial.layers().get(i).macsAfter(), channel.layers().get(i).macsAfter());
            assertEquals(best, a.macsAfter(), a.name());
        }
    }
}
