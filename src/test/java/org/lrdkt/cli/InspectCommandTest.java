package org.lrdkt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lrdkt.Cli;
import org.lrdkt.Json;
import org.lrdkt.TestModels;

class InspectCommandTest {

    @TempDir
    Path dir;

    @Test
    void printsTheLeNetLayersAndTotals() {
        Cli.Result r = Cli.run("inspect", TestModels.LENET.toString());
        assertEquals(0, r.exitCode(), r.err());
        for (String layer : new String[] {"/conv1/Conv", "/conv2/Conv", "/fc1/Gemm", "/fc2/Gemm", "/fc3/Gemm"}) {
            assertTrue(r.out().contains(layer), layer);
        }
        assertTrue(r.out().contains("total (5 layers, 5 decomposable)"), r.out());
        assertTrue(r.out().contains("1x16x10x10"), "conv2 output shape measured");
        // LeNet: 6·1·25 + 6 = 156 conv1 params; MACs 6·25·28·28 + 16·150·10·10 + 400·120 + 120·84 + 84·10
        assertTrue(r.out().contains("Conv/Gemm/MatMul MACs: " + (117600 + 240000 + 48000 + 10080 + 840)), r.out());
    }

    @Test
    void jsonCarriesTheSameNumbers() throws Exception {
        Cli.Result r = Cli.run("inspect", TestModels.LENET.toString(), "--json", "--input-shape", "2x1x28x28");
        assertEquals(0, r.exitCode(), r.err());
        JsonNode json = Json.MAPPER.readTree(r.out());
        assertEquals(5, json.get("layers").size());
        JsonNode conv1 = json.get("layers").get(0);
        assertEquals(2 * 117600, conv1.get("macs").asLong(), "batch 2 doubles the MACs");
        assertEquals(156, conv1.get("params").asLong());
        assertEquals(61706, json.get("modelParams").asLong());
        int[] ranks = new int[4];
        for (int i = 0; i < 4; i++) {
            ranks[i] = conv1.get("ranks").get(i).asInt();
        }
        assertTrue(ranks[0] <= ranks[1] && ranks[1] <= ranks[2] && ranks[2] <= ranks[3] && ranks[3] <= 5);
    }

    @Test
    void calibrationAddsTheDataAwareRanks() throws Exception {
        Cli.Result r = Cli.run("inspect", TestModels.LENET.toString(), "--json", "--calibration",
                TestModels.MNIST.toString(), "--calibration-samples", "256");
        assertEquals(0, r.exitCode(), r.err());
        JsonNode layers = Json.MAPPER.readTree(r.out()).get("layers");
        int lower = 0;
        for (JsonNode layer : layers) {
            JsonNode data = layer.get("calibratedRanks");
            JsonNode weights = layer.get("ranks");
            assertEquals(4, data.size());
            for (int i = 0; i < 4; i++) {
                int k = data.get(i).asInt();
                assertTrue(k >= 1 && k <= layer.get("fullRank").asInt());
                assertTrue(i == 0 || k >= data.get(i - 1).asInt(), "ranks grow with the energy level");
                lower += k < weights.get(i).asInt() ? 1 : 0;
            }
        }
        // a digit classifier's responses live in fewer directions than its weights span
        assertTrue(lower >= 10, "data-aware ranks below the weights' in only " + lower + " of 20 cells");
        Cli.Result table = Cli.run("inspect", TestModels.LENET.toString(), "--calibration",
                TestModels.MNIST.toString(), "--calibration-samples", "256");
        assertTrue(table.out().contains("data K@50%"), table.out());
    }

    @Test
    void worksOnAThirdPartyModelWithConstantNodeWeights() throws Exception {
        Path cls = TestModels.paddleOcr("ch_ppocr_mobile_v2.0_cls_infer.onnx", dir);
        Cli.Result r = Cli.run("inspect", cls.toString(), "--input-shape", "1x3x48x192");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("no: depthwise conv"), r.out());
        assertTrue(r.out().contains("Conv@0"), "layers are named by their node names");
        assertTrue(r.out().contains("decomposable)"));
    }

    @Test
    void dynamicDimsWithoutAShapeAndBadShapesAreUsageErrors() throws Exception {
        Path det = TestModels.paddleOcr("ch_PP-OCRv3_det_infer.onnx", dir);
        Cli.Result noShape = Cli.run("inspect", det.toString());
        assertEquals(2, noShape.exitCode());
        assertTrue(noShape.errIsOneLine() && noShape.err().contains("--input-shape"), noShape.err());
        Cli.Result badShape = Cli.run("inspect", TestModels.LENET.toString(), "--input-shape", "1x1xtwenty");
        assertEquals(2, badShape.exitCode());
        assertTrue(badShape.errIsOneLine(), badShape.err());
        Cli.Result wrongRank = Cli.run("inspect", TestModels.LENET.toString(), "--input-shape", "1x784");
        assertEquals(2, wrongRank.exitCode());
        Cli.Result noArgs = Cli.run("inspect");
        assertEquals(2, noArgs.exitCode());
        Cli.Result unknownFlag = Cli.run("inspect", TestModels.LENET.toString(), "--bogus");
        assertEquals(2, unknownFlag.exitCode());
        assertTrue(unknownFlag.errIsOneLine(), unknownFlag.err());
    }
}
