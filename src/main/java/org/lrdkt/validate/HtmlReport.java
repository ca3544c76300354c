package org.lrdkt.validate;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;
import org.lrdkt.Fidelity;
import org.lrdkt.Json;
import org.lrdkt.LrdktException;
import org.lrdkt.TextTable;
import org.lrdkt.onnx.AtomicFiles;

/**
 * Writes {@code report.json} (the data) and a self-contained {@code report.html} (charts drawn by XChart, embedded
 * as base64 PNG, no external files or scripts) into a folder.
 */
public final class HtmlReport {

    private static final int SMALL_WIDTH = 380;
    private static final int SMALL_HEIGHT = 260;

    static {
        // charts are drawn off-screen; a server without a display must not try to open one
        System.setProperty("java.awt.headless", "true");
    }

    private HtmlReport() {
    }

    /** Writes both files atomically; returns the path of report.html. */
    public static Path write(Path dir, ReportData data) throws LrdktException {
        Path json = dir.resolve("report.json");
        Path html = dir.resolve("report.html");
        AtomicFiles.writeString(json, Json.write(data) + "\n");
        AtomicFiles.writeString(html, html(data));
        return html;
    }

    static String html(ReportData data) throws LrdktException {
        StringBuilder body = new StringBuilder();
        body.append("<h1>").append(escape(data.title())).append("</h1>\n");
        if (!data.models().isEmpty()) {
            body.append("<h2>Accuracy against measured speedup</h2>\n").append(image(scatter(data.models()),
                    "accuracy vs speedup")).append(modelTable(data.models()));
        }
        if (!data.layerMacs().isEmpty()) {
            body.append("<h2>MACs per layer, before and after</h2>\n").append(image(macsChart(data.layerMacs()),
                    "MACs per layer"));
        }
        if (!data.training().isEmpty()) {
            body.append("<h2>Fine-tuning on the held-out split</h2>\n<p>Knowledge-transfer loss and score after each "
                    + "epoch; the red marker is the epoch whose weights were kept. The untrained student (epoch 0, "
                    + "in report.json) is drawn only when it was kept: it is far off the trained epochs' scale.</p>\n"
                    + "<div class=\"grid\">\n")
                    .append(image(trainingChart(data.training(), "held-out loss",
                            ReportData.TrainingEpoch::heldOutLoss), "held-out loss per epoch"))
                    .append(image(trainingChart(data.training(), "held-out score %",
                            e -> 100 * e.heldOutScore()), "held-out score per epoch"))
                    .append("</div>\n");
        }
        if (!data.energies().isEmpty()) {
            body.append("<h2>Singular-value energy per layer</h2>\n<p>Cumulative share of Σσ² kept by the top K "
                    + "singular values; the red marker is the rank chosen.</p>\n<div class=\"grid\">\n");
            for (ReportData.LayerEnergy e : data.energies()) {
                XYChart chart = energyChart(e);
                body.append(image(chart, "energy of " + chart.getTitle()));
            }
            body.append("</div>\n");
        }
        for (Map.Entry<String, Object> s : data.sections().entrySet()) {
            body.append("<details><summary>").append(escape(s.getKey())).append("</summary><pre>")
                    .append(escape(Json.write(s.getValue()))).append("</pre></details>\n");
        }
        return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + escape(data.title())
                + "</title>\n<style>body{font-family:sans-serif;margin:2em;color:#222}img{margin:4px;border:1px solid #ddd}"
                + ".grid{display:flex;flex-wrap:wrap}table{border-collapse:collapse;margin:1em 0}"
                + "td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}td:first-child,th:first-child"
                + "{text-align:left}pre{background:#f6f6f6;padding:1em;overflow:auto}</style></head><body>\n"
                + body + "<p><small>Data: report.json in the same folder.</small></p>\n</body></html>\n";
    }

    static XYChart energyChart(ReportData.LayerEnergy e) {
        XYChart chart = new XYChartBuilder().width(SMALL_WIDTH).height(SMALL_HEIGHT).title(e.layer())
                .xAxisTitle("rank K").yAxisTitle("energy kept").build();
        style(chart.getStyler());
        chart.getStyler().setLegendVisible(false);
        chart.getStyler().setYAxisMin(0.0).setYAxisMax(1.0);
        chart.getStyler().setXAxisTickMarkSpacingHint(100);
        chart.getStyler().setXAxisDecimalPattern("#");
        double[] energy = e.cumulativeEnergy();
        double[] ranks = new double[energy.length];
        for (int i = 0; i < ranks.length; i++) {
            ranks[i] = i + 1;
        }
        XYSeries curve = chart.addSeries(e.weightEnergy() != null ? "on the data" : "energy", ranks, energy);
        curve.setMarker(SeriesMarkers.NONE).setLineColor(new Color(0x1f77b4));
        if (e.weightEnergy() != null) { // calibrated: the data-aware curve above, the weights' own dashed
            chart.getStyler().setLegendVisible(true);
            XYSeries weights = chart.addSeries("weights alone", ranks, e.weightEnergy());
            weights.setMarker(SeriesMarkers.NONE).setLineColor(new Color(0xff7f0e))
                    .setLineStyle(new BasicStroke(1f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
                            new float[] {4f, 4f}, 0f));
        }
        if (e.threshold() != null) {
            XYSeries level = chart.addSeries("threshold", new double[] {1, Math.max(2, energy.length)},
                    new double[] {e.threshold(), e.threshold()});
            level.setMarker(SeriesMarkers.NONE).setLineColor(Color.GRAY)
                    .setLineStyle(new BasicStroke(1f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
                            new float[] {4f, 4f}, 0f));
        }
        if (e.chosenRank() > 0 && e.chosenRank() <= energy.length) {
            int k = e.chosenRank();
            XYSeries line = chart.addSeries("K", new double[] {k, k}, new double[] {0, energy[k - 1]});
            line.setMarker(SeriesMarkers.NONE).setLineColor(Color.RED);
            XYSeries dot = chart.addSeries("K=" + k, new double[] {k}, new double[] {energy[k - 1]});
            dot.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter).setMarker(SeriesMarkers.CIRCLE)
                    .setMarkerColor(Color.RED);
            chart.setTitle(e.layer() + "  (K = " + k + " of " + energy.length + ")");
        } else {
            chart.setTitle(e.layer() + "  (left alone)");
        }
        return chart;
    }

    static XYChart trainingChart(List<ReportData.TrainingEpoch> epochs, String quantity,
                                 ToDoubleFunction<ReportData.TrainingEpoch> value) {
        XYChart chart = new XYChartBuilder().width(2 * SMALL_WIDTH).height(SMALL_HEIGHT)
                .title(quantity + " per epoch").xAxisTitle("epoch").yAxisTitle(quantity).build();
        style(chart.getStyler());
        chart.getStyler().setLegendVisible(false);
        chart.getStyler().setXAxisDecimalPattern("#");
        List<ReportData.TrainingEpoch> drawn = epochs.stream()
                .filter(e -> e.epoch() > 0 || e.kept() || epochs.size() == 1).toList();
        double[] x = new double[drawn.size()];
        double[] y = new double[drawn.size()];
        for (int i = 0; i < x.length; i++) {
            x[i] = drawn.get(i).epoch();
            y[i] = value.applyAsDouble(drawn.get(i));
        }
        chart.addSeries(quantity, x, y).setMarker(SeriesMarkers.NONE).setLineColor(new Color(0x1f77b4));
        for (ReportData.TrainingEpoch e : drawn) {
            if (e.kept()) {
                chart.addSeries("kept", new double[] {e.epoch()}, new double[] {value.applyAsDouble(e)})
                        .setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter).setMarker(SeriesMarkers.CIRCLE)
                        .setMarkerColor(Color.RED);
            }
        }
        return chart;
    }

    static CategoryChart macsChart(List<ReportData.LayerMacs> layers) {
        int width = Math.max(600, Math.min(1800, 60 * layers.size() + 200));
        CategoryChart chart = new CategoryChartBuilder().width(width).height(420).title("MACs per layer (millions)")
                .xAxisTitle("layer").yAxisTitle("MMACs").build();
        style(chart.getStyler());
        chart.getStyler().setXAxisLabelRotation(45);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        List<String> names = new ArrayList<>();
        List<Double> before = new ArrayList<>();
        List<Double> after = new ArrayList<>();
        for (ReportData.LayerMacs l : layers) {
            names.add(l.layer());
            before.add(l.before() / 1e6);
            after.add(l.after() / 1e6);
        }
        chart.addSeries("before", names, before).setFillColor(new Color(0x9ecae1));
        chart.addSeries("after", names, after).setFillColor(new Color(0x3182bd));
        return chart;
    }

    static XYChart scatter(List<ReportData.ModelPoint> models) {
        XYChart chart = new XYChartBuilder().width(640).height(420).title("Top-1 accuracy vs measured speedup")
                .xAxisTitle("speedup × (median latency, vs baseline)").yAxisTitle("top-1 accuracy %").build();
        style(chart.getStyler());
        chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        chart.getStyler().setMarkerSize(12);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
        double low = Double.POSITIVE_INFINITY;
        double high = Double.NEGATIVE_INFINITY;
        double fastest = 1;
        for (ReportData.ModelPoint m : models) {
            if (m.accuracy() != null) {
                chart.addSeries(m.name(), new double[] {m.speedup()}, new double[] {m.accuracy() * 100});
                low = Math.min(low, m.accuracy() * 100);
                high = Math.max(high, m.accuracy() * 100);
                fastest = Math.max(fastest, m.speedup());
            }
        }
        if (low <= high) {
            // keep points off the frame: pad the accuracy range, start speedups at 0 so ratios read true
            double pad = Math.max(0.5, (high - low) * 0.15);
            chart.getStyler().setYAxisMin(Math.max(0, low - pad)).setYAxisMax(Math.min(100, high + pad));
            chart.getStyler().setXAxisMin(0.0).setXAxisMax(fastest * 1.15);
        } else {
            chart.setTitle("No model was evaluated on labelled data");
            chart.addSeries("no data", new double[] {1}, new double[] {0});
        }
        return chart;
    }

    private static void style(Styler styler) {
        styler.setChartBackgroundColor(Color.WHITE);
        styler.setPlotBackgroundColor(Color.WHITE);
        styler.setPlotBorderVisible(false);
        styler.setAntiAlias(true);
    }

    private static String modelTable(List<ReportData.ModelPoint> models) {
        StringBuilder sb = new StringBuilder("<table><tr><th>model</th><th>top-1</th><th>fidelity to teacher</th>"
                + "<th>speedup ×</th><th>params</th><th>MACs</th></tr>\n");
        for (ReportData.ModelPoint m : models) {
            sb.append("<tr><td>").append(escape(m.name())).append("</td><td>")
                    .append(m.accuracy() == null ? "–" : String.format("%.2f%%", m.accuracy() * 100))
                    .append("</td><td>").append(m.fidelity() == null ? "–" : escape(Fidelity.Figures.summary(m.fidelity()))).append("</td><td>").append(String.format("%.2f", m.speedup())).append("</td><td>")
                    .append(TextTable.human(m.params())).append("</td><td>")
                    .append(TextTable.human(m.macs())).append("</td></tr>\n");
        }
        return sb.append("</table>\n").toString();
    }

    private static String image(Chart<?, ?> chart, String alt) throws LrdktException {
        try {
            byte[] png = BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
            return "<img alt=\"" + escape(alt) + "\" src=\"data:image/png;base64,"
                    + Base64.getEncoder().encodeToString(png) + "\">\n";
        } catch (IOException | RuntimeException e) {
            throw new LrdktException(LrdktException.Kind.RUNTIME, "cannot draw chart '" + alt + "': " + e.getMessage(),
                    e);
        }
    }

    static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
