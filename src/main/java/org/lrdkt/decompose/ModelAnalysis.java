package org.lrdkt.decompose;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
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

    /**
     * One layer's row. {@code ranks} (from the weights' spectrum) is null when the layer cannot be decomposed;
     * {@code calibratedRanks} (from the response spectrum on calibration data) is null unless calibrated.
     */
    public record LayerRow(String name, String op, long[] weightShape, long[] outputShape, long params, long macs,
                           String unfolding, int fullRank, int[] ranks, int[] calibratedRanks, double breakEven,
                           boolean decomposable, String reason) {
    }

    /** The whole model. */
    public record Report(String model, Map<String, long[]> inputShapes, List<LayerRow> layers, long modelParams,
                         long layerParams, long layerMacs) {
    }

    private ModelAnalysis() {
    }

    public static Report analyse(OnnxModel model, long[] inputShape) throws LrdktException {
        return analyse(model, inputShape, null);
    }

    /** As {@link #analyse(OnnxModel, long[])}, with the data-aware ranks too when {@code calibration} is given. */
    public static Report analyse(OnnxModel model, long[] inputShape, Calibration calibration) throws LrdktException {
        Graph graph = Graph.of(model);
        Map<String, long[]> inputs = Shapes.resolveInputShapes(graph, inputShape);
        Map<String, long[]> shapes = Shapes.infer(model, inputs);
        Map<String, int[]> calibrated = calibration == null ? Map.of()
                : calibratedRanks(model, graph, shapes, calibration);
        List<LayerRow> rows = new ArrayList<>();
        long layerParams = 0;
        long layerMacs = 0;
        for (Layer layer : graph.layers()) {
            long[] out = shapes.get(layer.node().getOutput(0));
            Costs.Cost cost = Costs.of(layer, out);
            layerParams += cost.params();
            layerMacs += cost.macs();
            String op = layer.node().getOpType() + (layer.biasAdd() != null ? "+Add" : "");
            Optional<String> notDecomposable = Decomposability.reasonNotDecomposable(graph, layer);
            if (notDecomposable.isPresent()) {
                rows.add(new LayerRow(layer.name(), op, layer.weightShape(), out, cost.params(), cost.macs(), null, 0,
                        null, null, 0, false, notDecomposable.get()));
                continue;
            }
            Unfolding unfolding = LayerWeights.paperUnfolding(layer);
            long[] shape = LayerWeights.unfoldShape(layer);
            Spectrum spectrum;
            try (Matrix matrix = LayerWeights.matrix(graph, layer, unfolding)) {
                spectrum = Spectrum.of(matrix);
            } catch (LrdktException e) {
                rows.add(new LayerRow(layer.name(), op, layer.weightShape(), out, cost.params(), cost.macs(),
                        unfolding.name().toLowerCase(), unfolding.fullRank(shape), null, null,
                        unfolding.breakEven(shape), false, e.getMessage()));
                continue;
            }
            int[] ranks = new int[ENERGY_LEVELS.length];
            for (int i = 0; i < ranks.length; i++) {
                ranks[i] = spectrum.rankFor(ENERGY_LEVELS[i]);
            }
            double breakEven = unfolding.breakEven(shape);
            boolean pays = ranks[0] < breakEven;
            rows.add(new LayerRow(layer.name(), op, layer.weightShape(), out, cost.params(), cost.macs(),
                    unfolding.name().toLowerCase(), unfolding.fullRank(shape), ranks, calibrated.get(layer.name()),
                    breakEven, pays,
                    pays ? null : "even 50% energy needs rank " + ranks[0] + " ≥ break-even "
                            + String.format("%.1f", breakEven)));
        }
        return new Report(model.source() == null ? "" : model.source().toString(), inputs, rows,
                Costs.modelParams(graph), layerParams, layerMacs);
    }

    /** Per decomposable layer, the ranks keeping each of {@link #ENERGY_LEVELS} of its response energy. */
    private static Map<String, int[]> calibratedRanks(OnnxModel model, Graph graph, Map<String, long[]> shapes,
                                                      Calibration calibration) throws LrdktException {
        List<LayerPlan> plans = new ArrayList<>();
        for (Layer layer : graph.layers()) {
            if (Decomposability.reasonNotDecomposable(graph, layer).isEmpty()) {
                LayerPlan p = new LayerPlan(layer);
                p.candidate = Candidate.of(graph, layer, shapes);
                plans.add(p);
            }
        }
        CompressOptions options = CompressOptions.builder().calibration(calibration).build();
        Map<String, int[]> ranks = new HashMap<>();
        try {
            CalibrationRun.collect(model, plans, shapes, options);
            for (LayerPlan p : plans) {
                Unfolding u = LayerWeights.paperUnfolding(p.layer);
                Spectrum spectrum;
                try (Matrix m = p.candidate.matrix(u)) {
                    spectrum = p.statistics.decompose(u, m, calibration.shrinkage()).spectrum();
                }
                int[] k = new int[ENERGY_LEVELS.length];
                for (int i = 0; i < k.length; i++) {
                    k[i] = spectrum.rankFor(ENERGY_LEVELS[i]);
                }
                ranks.put(p.layer.name(), k);
            }
        } finally {
            plans.stream().filter(p -> p.statistics != null).forEach(p -> p.statistics.close());
        }
        return ranks;
    }

    private static void addRanks(List<Object> row, int[] ranks) {
        for (int i = 0; i < ENERGY_LEVELS.length; i++) {
            row.add(ranks == null ? "-" : ranks[i]);
        }
    }

    /** The report as the table {@code lrdkt inspect} prints. */
    public static String table(Report report) {
        boolean calibrated = report.layers().stream().anyMatch(r -> r.calibratedRanks() != null);
        List<String> headers = new ArrayList<>(List.of("layer", "op", "weight", "output", "params>", "MACs>", "K@50%>",
                "K@70%>", "K@90%>", "K@99%>"));
        if (calibrated) { // the same energy levels of the responses on the calibration data
            headers.addAll(List.of("data K@50%>", "K@70%>", "K@90%>", "K@99%>"));
        }
        headers.addAll(List.of("full>", "break-even>", "decomposable"));
        TextTable t = new TextTable(headers.toArray(String[]::new));
        for (LayerRow r : report.layers()) {
            List<Object> row = new ArrayList<>(List.of(r.name(), r.op(), TextTable.dims(r.weightShape()),
                    TextTable.dims(r.outputShape()), TextTable.human(r.params()), TextTable.human(r.macs())));
            addRanks(row, r.ranks());
            if (calibrated) {
                addRanks(row, r.calibratedRanks());
            }
            row.addAll(List.of(r.fullRank() == 0 ? "-" : r.fullRank(),
                    r.breakEven() == 0 ? "-" : String.format("%.1f", r.breakEven()),
                    r.decomposable() ? "yes" : "no: " + r.reason()));
            t.row(row.toArray());
        }
        long decomposable = report.layers().stream().filter(LayerRow::decomposable).count();
        List<Object> total = new ArrayList<>(List.of("total (" + report.layers().size() + " layers, " + decomposable
                + " decomposable)", "", "", "", TextTable.human(report.layerParams()),
                TextTable.human(report.layerMacs())));
        while (total.size() < headers.size()) {
            total.add("");
        }
        t.separator().row(total.toArray());
        return "model " + report.model() + "  input " + Shapes.describe(report.inputShapes()) + "\n\n" + t.render()
                + "model parameters (all float constants): " + TextTable.human(report.modelParams()) + " ("
                + report.modelParams() + ")\n"
                + "Conv/Gemm/MatMul MACs: " + report.layerMacs() + " (other ops are not counted)\n";
    }
}
