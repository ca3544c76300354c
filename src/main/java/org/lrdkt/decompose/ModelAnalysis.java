package org.lrdkt.decompose;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.lrdkt.LrdktException;
import org.lrdkt.TextTable;
import org.lrdkt.onnx.Costs;
import org.lrdkt.onnx.Graph;
import org.lrdkt.onnx.Layer;
import org.lrdkt.onnx.OnnxModel;
import org.lrdkt.onnx.Shapes;

/**
 * What {@code lrdkt inspect} reports: per Conv/Gemm/MatMul layer its shapes, params, MACs, the ranks keeping
 * 50/70/90/99% of the singular-value energy under the paper's unfolding, the break-even rank, and whether it can be
 * decomposed at all.
 */
public final class ModelAnalysis {

    /** Energy fractions reported per layer. */
    public static final double[] ENERGY_LEVELS = {0.5, 0.7, 0.9, 0.99};

    /** One layer's row. {@code ranks} is null when the layer cannot be decomposed. */
    public record LayerRow(String name, String op, long[] weightShape, long[] outputShape, long params, long macs,
                           String unfolding, int fullRank, int[] ranks, double breakEven, boolean decomposable,
                           String reason) {
    }

    /** The whole model. */
    public record Report(String model, Map<String, long[]> inputShapes, List<LayerRow> layers, long modelParams,
                         long layerParams, long layerMacs) {
    }

    private ModelAnalysis() {
    }

    public static Report analyse(OnnxModel model, long[] inputShape) throws LrdktException {
        Graph graph = Graph.of(model);
        Map<String, long[]> inputs = Shapes.resolveInputShapes(graph, inputShape);
        Map<String, long[]> shapes = Shapes.infer(model, inputs);
        List<LayerRow> rows = new ArrayList<>();
        long layerParams = 0;
        long layerMacs = 0;
        for (Layer layer : graph.layers()) {
            long[] out = shapes.get(layer.node().getOutput(0));
            Costs.Cost cost = Costs.of(layer, out);
            layerParams += cost.params();
            layerMacs += cost.macs();
            String op = layer.node().getOpType() + (layer.biasAdd() != null ? "+Add" : "");
            if (layer.unsupported() != null) {
                rows.add(new LayerRow(layer.name(), op, layer.weightShape(), out, cost.params(), cost.macs(), null, 0,
                        null, 0, false, layer.unsupported()));
                continue;
            }
            Unfolding unfolding = LayerWeights.paperUnfolding(layer);
            long[] shape = LayerWeights.unfoldShape(layer);
            Spectrum spectrum;
            try (Matrix matrix = LayerWeights.matrix(graph, layer, unfolding)) {
                spectrum = Spectrum.of(matrix);
            } catch (LrdktException e) {
                rows.add(new LayerRow(layer.name(), op, layer.weightShape(), out, cost.params(), cost.macs(),
                        unfolding.name().toLowerCase(), unfolding.fullRank(shape), null, unfolding.breakEven(shape),
                        false, e.getMessage()));
                continue;
            }
            int[] ranks = new int[ENERGY_LEVELS.length];
            for (int i = 0; i < ranks.length; i++) {
                ranks[i] = spectrum.rankFor(ENERGY_LEVELS[i]);
            }
            double breakEven = unfolding.breakEven(shape);
            boolean pays = ranks[0] < breakEven;
            rows.add(new LayerRow(layer.name(), op, layer.weightShape(), out, cost.params(), cost.macs(),
                    unfolding.name().toLowerCase(), unfolding.fullRank(shape), ranks, breakEven, pays,
                    pays ? null : "even 50% energy needs rank " + ranks[0] + " ≥ break-even "
                            + String.format("%.1f", breakEven)));
        }
        return new Report(model.source() == null ? "" : model.source().toString(), inputs, rows,
                Costs.modelParams(graph), layerParams, layerMacs);
    }

    /** The report as the table {@code lrdkt inspect} prints. */
    public static String table(Report report) {
        TextTable t = new TextTable("layer", "op", "weight", "output", "params>", "MACs>", "K@50%>", "K@70%>",
                "K@90%>", "K@99%>", "full>", "break-even>", "decomposable");
        for (LayerRow r : report.layers()) {
            int[] k = r.ranks();
            t.row(r.name(), r.op(), TextTable.dims(r.weightShape()), TextTable.dims(r.outputShape()),
                    TextTable.human(r.params()), TextTable.human(r.macs()),
                    k == null ? "-" : k[0], k == null ? "-" : k[1], k == null ? "-" : k[2], k == null ? "-" : k[3],
                    r.fullRank() == 0 ? "-" : r.fullRank(),
                    r.breakEven() == 0 ? "-" : String.format("%.1f", r.breakEven()),
                    r.decomposable() ? "yes" : "no: " + r.reason());
        }
        long decomposable = report.layers().stream().filter(LayerRow::decomposable).count();
        t.separator().row("total (" + report.layers().size() + " layers, " + decomposable + " decomposable)", "", "",
                "", TextTable.human(report.layerParams()), TextTable.human(report.layerMacs()), "", "", "", "", "", "",
                "");
        return "model " + report.model() + "  input " + Shapes.describe(report.inputShapes()) + "\n\n" + t.render()
                + "model parameters (all float constants): " + TextTable.human(report.modelParams()) + " ("
                + report.modelParams() + ")\n"
                + "Conv/Gemm/MatMul MACs: " + report.layerMacs() + " (other ops are not counted)\n";
    }
}
