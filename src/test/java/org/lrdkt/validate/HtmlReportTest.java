package org.lrdkt.validate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lrdkt.Fidelity;
import org.lrdkt.Json;
import org.lrdkt.OutputKind;
import org.lrdkt.decompose.LayerWeights;
import org.lrdkt.decompose.Matrix;
import org.lrdkt.decompose.Spectrum;
import org.lrdkt.decompose.Unfolding;
import org.lrdkt.onnx.Graph;
import org.lrdkt.onnx.Layer;
import org.lrdkt.onnx.OnnxModel;

/**
 * The report on LeNet-5's real spectra: both files written, JSON round-trips, every chart is a decodable PNG
 * embedded in the page and nothing is loaded from outside it. Set LRDKT_REPORT_DEMO=DIR to keep a copy to look at.
 */
class HtmlReportTest {

    @TempDir
    Path dir;

    static ReportData lenetReport() throws Exception {
        OnnxModel lenet = OnnxModel.load(Path.of("testdata/lenet5.onnx"));
        Graph graph = Graph.of(lenet);
        List<ReportData.LayerEnergy> energies = new ArrayList<>();
        List<ReportData.LayerMacs> macs = new ArrayList<>();
        long[] layerMacs = {117_600, 240_000, 48_000, 10_080, 840};
        int i = 0;
        for (Layer layer : graph.layers()) {
            Unfolding unfolding = LayerWeights.paperUnfolding(layer);
            Spectrum s;
            try (Matrix m = LayerWeights.matrix(graph, layer, unfolding)) {
                s = Spectrum.of(m);
            }
            double[] cumulative = new double[s.size()];
            for (int k = 1; k <= s.size(); k++) {
                cumulative[k - 1] = s.kept(k);
            }
            int rank = s.rankFor(0.7);
            energies.add(new ReportData.LayerEnergy(layer.name(), cumulative, null, i == 0 ? 0 : rank, 0.7));
            macs.add(new ReportData.LayerMacs(layer.name(), layerMacs[i], layerMacs[i] / (i + 2)));
            i++;
        }
        List<ReportData.ModelPoint> points = List.of(
                new ReportData.ModelPoint("teacher", 0.985, 1.0, 61_706, 416_520, null),
                new ReportData.ModelPoint("student <e=0.7>", 0.97, 1.8, 20_000, 150_000,
                        List.of(new Fidelity.Figures("logits", OutputKind.CLASSES, 0.9712, 0.1135, false, null, 0.99, 0.1,
                                2.0, 0.3))),
                new ReportData.ModelPoint("unlabelled", null, 2.0, 10_000, 90_000, null));
        List<ReportData.TrainingEpoch> training = List.of(new ReportData.TrainingEpoch(0, 25.0, 0.36, false),
                new ReportData.TrainingEpoch(1, 12.5, 0.97, false), new ReportData.TrainingEpoch(2, 11.6, 0.99, true),
                new ReportData.TrainingEpoch(3, 11.7, 0.99, false));
        return new ReportData("LeNet-5 & friends", energies, macs, points, training, Map.of("note", Map.of("k", 1)));
    }

    @Test
    void writesSelfContainedHtmlAndJson() throws Exception {
        ReportData data = lenetReport();
        Path html = HtmlReport.write(dir, data);
        assertEquals(dir.resolve("report.html"), html);
        JsonNode json = Json.MAPPER.readTree(dir.resolve("report.json").toFile());
        assertEquals("LeNet-5 & friends", json.get("title").asText());
        assertEquals(5, json.get("energies").size());
        assertEquals(1.0, json.get("energies").get(4).get("cumulativeEnergy").get(9).asDouble(), 1e-9);

        String page = Files.readString(html);
        assertTrue(page.contains("LeNet-5 &amp; friends"));
        assertTrue(page.contains("student &lt;e=0.7&gt;"));
        assertTrue(page.contains("<td>97.12% agreement</td>"), "the fidelity to the teacher is in the table");
        assertFalse(page.contains("http://") || page.contains("https://") || page.contains("<script"),
                "self-contained, no external resources");
        Matcher m = Pattern.compile("data:image/png;base64,([A-Za-z0-9+/=]+)\"").matcher(page);
        int images = 0;
        while (m.find()) {
            BufferedImage png = ImageIO.read(new ByteArrayInputStream(Base64.getDecoder().decode(m.group(1))));
            assertNotNull(png, "chart " + images + " is a PNG");
            assertTrue(png.getWidth() >= 300);
            images++;
        }
        assertEquals(1 + 1 + 2 + 5, images, "scatter, MACs bars, held-out loss and score, one energy curve per layer");
        assertEquals(4, json.get("training").size());
        assertTrue(json.get("training").get(2).get("kept").asBoolean());
        assertTrue(page.contains("(left alone)"));

        String demo = System.getenv("LRDKT_REPORT_DEMO");
        if (demo != null) {
            HtmlReport.write(Path.of(demo), data);
        }
    }

    @Test
    void emptyReportStillRenders() throws Exception {
        HtmlReport.write(dir, new ReportData("empty", List.of(), List.of(), List.of(), List.of(), null));
        assertTrue(Files.readString(dir.resolve("report.html")).contains("<h1>empty</h1>"));
    }
}
