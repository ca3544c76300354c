package org.lrdkt.decompose;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.lrdkt.TextTable;
import org.lrdkt.onnx.Costs;
import org.lrdkt.onnx.Layer;
import org.lrdkt.onnx.OnnxModel;
import org.lrdkt.onnx.Shapes;

/**
 * What {@link Compressor} decided for every Conv/Gemm/MatMul layer, with costs before and after, and totals.
 *
 * @param model       the teacher's file, or "" when built in memory
 * @param policy      the rank policy in words
 * @param inputShapes the input shapes activations were measured at
 * @param layers      one decision per layer, in graph order
 * @param totals      sums and ratios
 * @param latency     the measured per-layer latency tables (null unless ranks were priced by latency)
 * @param calibrated  whether the closed form was calibrated on data (the policy line says on what)
 */
public record CompressReport(String model, String policy, Map<String, long[]> inputShapes, List<LayerDecision> layers,
                             Totals totals, List<LayerLatency> latency, boolean calibrated) {

    /** Whether a layer was rewritten. */
    public enum Status { DECOMPOSED, SKIPPED }

    /**
     * One layer's decision.
     *
     * @param name             layer name (node name, or weight name when the node has none)
     * @param op               Conv, Gemm, MatMul or MatMul+Add (+BN when a BatchNormalization was folded in)
     * @param weightShape      the weight's shape as stored
     * @param status           decomposed or skipped
     * @param reason           why it was skipped (null when decomposed)
     * @param scheme           spatial, channel or fc (null when the layer was never analysed)
     * @param rank             the rank K used, or the one that was refused (null when none was chosen)
     * @param fullRank         the unfolding's full rank (0 when not analysed)
     * @param numericalRank    singular values above round-off (below fullRank: rank-deficient weights; 0 for an
     *                         all-zero layer or when not analysed)
     * @param breakEven        rank at which the pair has as many weights as the layer (0 when not analysed)
     * @param energyKept       fraction of σ² energy the rank keeps (1 when untouched)
     * @param paramsBefore     the layer's params (weight + bias)
     * @param paramsAfter      params after (= before when skipped)
     * @param macsBefore       the layer's MACs at the measured input shape
     * @param macsAfter        MACs after (= before when skipped)
     * @param outputTensor     the tensor holding the layer's result; kept by the last factor (a KT hint point)
     * @param nodes            names of the nodes that replace it (empty when skipped)
     * @param solver           how the factors were computed (SVD or GRAM; null when not analysed)
     * @param cumulativeEnergy normalised cumulative σ² curve of the scheme's unfolding: entry i = energy kept by
     *                         rank i+1 (null when not analysed); when calibrated, of the responses on the
     *                         calibration set (the data-aware spectrum)
     * @param cumulativeWeightEnergy the same curve for the weights alone, when calibrated (else null)
     * @param latencyMs        the layer's measured ONNX Runtime time in ms (null when not measured)
     * @param latencyMsAfter   the chosen pair's time, interpolated between measured ranks (= before when skipped)
     */
    public record LayerDecision(String name, String op, long[] weightShape, Status status, String reason,
                                String scheme, Integer rank, int fullRank, int numericalRank, double breakEven,
                                double energyKept, long paramsBefore, long paramsAfter, long macsBefore,
                                long macsAfter, String outputTensor, List<String> nodes, String solver,
                                float[] cumulativeEnergy, float[] cumulativeWeightEnergy,
                                Double latencyMs, Double latencyMsAfter) {
    }

    /**
     * One layer's latency table.
     *
     * @param layer  layer name
     * @param key    what the timings are cached under (op, shapes, attributes, scheme, threads, provider)
     * @param millis median ms by rank; rank 0 is the original layer
     */
    public record LayerLatency(String layer, String key, Map<Integer, Double> millis) {
    }

    /**
     * Sums over all layers and the whole model.
     *
     * @param layerParamsBefore params of all Conv/Gemm/MatMul layers in the teacher
     * @param layerParamsAfter  the same layers in the student
     * @param layerMacsBefore   their MACs in the teacher
     * @param layerMacsAfter    their MACs in the student
     * @param modelParamsBefore every float constant of the teacher
     * @param modelParamsAfter  every float constant of the student
     * @param decomposed        layers rewritten
     * @param skipped           layers left untouched
     */
    public record Totals(long layerParamsBefore, long layerParamsAfter, long layerMacsBefore, long layerMacsAfter,
                         long modelParamsBefore, long modelParamsAfter, int decomposed, int skipped) {

        /** MACs before ÷ after (the speed-up in MACs). */
        public double macsReduction() {
            return layerMacsAfter == 0 ? 0 : (double) layerMacsBefore / layerMacsAfter;
        }

        /** Model params before ÷ after (the compression ratio). */
        public double paramsReduction() {
            return modelParamsAfter == 0 ? 0 : (double) modelParamsBefore / modelParamsAfter;
        }
    }

    /** The report of one compression, from every layer's plan in graph order. */
    static CompressReport assemble(OnnxModel teacher, CompressOptions options, Map<String, long[]> inputs,
                                   Map<String, long[]> shapes, List<LayerPlan> plans, Map<String, List<String>> nodes,
                                   long modelBefore, long modelAfter) {
        List<LayerDecision> rows = new ArrayList<>();
        List<LayerLatency> latency = new ArrayList<>();
        long pb = 0;
        long pa = 0;
        long mb = 0;
        long ma = 0;
        int decomposed = 0;
        for (LayerPlan p : plans) {
            Layer l = p.layer;
            Candidate c = p.candidate;
            boolean done = p.analysed() && p.rank > 0;
            Costs.Cost before = Costs.of(l, shapes.get(l.node().getOutput(0)));
            String op = l.node().getOpType() + (l.biasAdd() != null ? "+Add" : "")
                    + (c != null && c.batchNorm() != null ? "+BN" : "");
            Costs.Cost after = done ? c.costAfter(p.unfolding, p.rank) : before;
            float[] curve = p.analysed() ? cumulative(p.lowRank.spectrum()) : null;
            float[] weightCurve = p.weightSpectrum != null ? cumulative(p.weightSpectrum) : null;
            Double msBefore = p.latency != null ? p.latency.original() : null;
            Double msAfter = p.latency == null ? null : done ? p.latency.at(p.rank) : msBefore;
            rows.add(new LayerDecision(l.name(), op, l.weightShape(),
                    done ? Status.DECOMPOSED : Status.SKIPPED, done ? null : p.skipReason,
                    p.analysed() ? p.unfolding.name().toLowerCase() : null,
                    done ? Integer.valueOf(p.rank) : p.refusedRank > 0 ? Integer.valueOf(p.refusedRank) : null,
                    p.analysed() ? p.unfolding.fullRank(c.shape()) : 0, p.analysed() ? p.lowRank.numericalRank() : 0,
                    p.analysed() ? p.unfolding.breakEven(c.shape()) : 0,
                    done ? p.rankSpectrum.kept(p.rank) : 1, before.params(), after.params(), before.macs(),
                    after.macs(), c != null ? c.outputTensor() : l.outputTensor(), nodes.getOrDefault(l.name(),
                    List.of()), p.analysed() ? (p.lowRank.calibrated() ? "CALIBRATED" : p.lowRank.solver().name()) : null,
                    curve, weightCurve, msBefore, msAfter));
            if (p.latency != null) {
                latency.add(new LayerLatency(l.name(), p.latency.key(), p.latency.millis()));
            }
            pb += before.params();
            pa += after.params();
            mb += before.macs();
            ma += after.macs();
            decomposed += done ? 1 : 0;
        }
        return new CompressReport(teacher.source() == null ? "" : teacher.source().toString(), options.describe(),
                inputs, rows, new Totals(pb, pa, mb, ma, modelBefore, modelAfter, decomposed,
                plans.size() - decomposed), latency.isEmpty() ? null : latency,
                options.calibration() != null);
    }

    private static float[] cumulative(Spectrum s) {
        float[] curve = new float[s.size()];
        for (int i = 0; i < curve.length; i++) {
            curve[i] = (float) s.kept(i + 1);
        }
        return curve;
    }

    /** The report as printed by {@code lrdkt compress}; measured latency columns when ranks were priced by it. */
    public String table() {
        boolean timed = latency != null;
        List<String> headers = new ArrayList<>(List.of("layer", "op", "weight", "decision", "scheme", "K>", "full>",
                "break-even>", "energy>", "params>", "params after>", "MACs>", "MACs after>"));
        if (timed) {
            headers.addAll(List.of("ms>", "ms after>"));
        }
        TextTable t = new TextTable(headers.toArray(String[]::new));
        double msBefore = 0;
        double msAfter = 0;
        for (LayerDecision d : layers) {
            boolean done = d.status() == Status.DECOMPOSED;
            List<Object> row = new ArrayList<>(List.of(d.name(), d.op(), TextTable.dims(d.weightShape()),
                    done ? "decomposed" : "skipped: " + d.reason(),
                    d.scheme() == null ? "-" : d.scheme(), d.rank() == null || !done ? "-" : d.rank(),
                    d.fullRank() == 0 ? "-" : d.numericalRank() < d.fullRank()
                            ? d.fullRank() + " (rank " + d.numericalRank() + ")" : d.fullRank(),
                    d.breakEven() == 0 ? "-" : String.format("%.1f", d.breakEven()),
                    done ? String.format("%.3f", d.energyKept()) : "-", TextTable.human(d.paramsBefore()),
                    TextTable.human(d.paramsAfter()), TextTable.human(d.macsBefore()), TextTable.human(d.macsAfter())));
            if (timed) {
                row.add(d.latencyMs() == null ? "-" : String.format("%.3f", d.latencyMs()));
                row.add(d.latencyMsAfter() == null ? "-" : String.format("%.3f", d.latencyMsAfter()));
                msBefore += d.latencyMs() == null ? 0 : d.latencyMs();
                msAfter += d.latencyMsAfter() == null ? 0 : d.latencyMsAfter();
            }
            t.row(row.toArray());
        }
        Totals s = totals;
        List<Object> total = new ArrayList<>(List.of("total (" + s.decomposed() + " decomposed, " + s.skipped()
                + " skipped)", "", "", "", "", "", "", "", "", TextTable.human(s.layerParamsBefore()),
                TextTable.human(s.layerParamsAfter()), TextTable.human(s.layerMacsBefore()),
                TextTable.human(s.layerMacsAfter())));
        if (timed) {
            total.add(String.format("%.3f", msBefore));
            total.add(String.format("%.3f", msAfter));
        }
        t.separator().row(total.toArray());
        return "model " + model + "  input " + Shapes.describe(inputShapes) + "  policy " + policy + "\n\n"
                + t.render()
                + String.format("model parameters: %d -> %d (%.2fx smaller)%n", s.modelParamsBefore(),
                s.modelParamsAfter(), s.paramsReduction())
                + String.format("Conv/Gemm/MatMul MACs: %d -> %d (%.2fx fewer)%n", s.layerMacsBefore(),
                s.layerMacsAfter(), s.macsReduction())
                + (timed ? String.format("measured latency of the decomposable layers, each alone: %.3f ms -> %.3f ms "
                + "(%.3f of before; other ops not counted)%n", msBefore, msAfter, msAfter / msBefore) : "");
    }
}
