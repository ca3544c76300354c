package org.lrdkt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lrdkt.Cli;
import org.lrdkt.GraphBuilder;
import org.lrdkt.Json;
import org.lrdkt.Npy;
import org.lrdkt.onnx.Attrs;
import org.lrdkt.onnx.OnnxModel;

/**
 * Knowledge transfer beyond classifiers, end to end: a conv trunk with a sigmoid mask head and a box regression head
 * is compressed, fine-tuned label-free on unlabelled tensors (each output with its own loss) and evaluated against
 * the teacher; the fidelity of both outputs is better after fine-tuning than after the closed form.
 */
class TwoHeadRunTest {

    @TempDir
    static Path dir;
    static Path teacher;
    static Path data;

    @BeforeAll
    static void write() throws Exception {
        teacher = dir.resolve("two-heads.onnx");
        twoHeads().save(teacher, OnnxModel.ExternalData.AUTO);
        Random random = new Random(7);
        float[] x = new float[128 * 2 * 8 * 8];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian();
        }
        data = Npy.writeFloats(dir.resolve("noise.npy"), new long[] {128, 2, 8, 8}, x);
    }

    /** x [N,2,8,8] → two 3×3 convolutions of 16 channels → mask [N,1,8,8] (Sigmoid) and boxes [N,4] (Gemm). */
    static OnnxModel twoHeads() {
        return twoHeads(8, 8);
    }

    /** The same with input [N,2,height,width]; -1 leaves a side open, as detectors and OCR models do. */
    static OnnxModel twoHeads(long height, long width) {
        GraphBuilder b = new GraphBuilder(11);
        b.input("x", -1, 2, height, width);
        String c1 = conv(b, "x", "c1", 2, 16, 3);
        String c2 = conv(b, c1, "c2", 16, 16, 3);
        b.node("Sigmoid", "mask", GraphBuilder.in(b.node("Conv", GraphBuilder.in(c2, b.weight("m.w", 0.5, 1, 16, 1,
                1), b.weight("m.b", 0.1, 1)))));
        String pooled = b.node("Flatten", GraphBuilder.in(b.node("GlobalAveragePool", GraphBuilder.in(c2))));
        b.node("Gemm", "boxes", GraphBuilder.in(pooled, b.weight("r.w", 1, 4, 16), b.weight("r.b", 0.1, 4)),
                Attrs.ofInt("transB", 1));
        return b.build(13, "mask", "boxes");
    }

    private static String conv(GraphBuilder b, String in, String name, int inChannels, int outChannels, int k) {
        String c = b.node("Conv", GraphBuilder.in(in, b.weight(name + ".w", 0.5, outChannels, inChannels, k, k),
                b.weight(name + ".b", 0.1, outChannels)), Attrs.ofInts("pads", 1, 1, 1, 1));
        return b.node("Relu", name, GraphBuilder.in(c));
    }

    @Test
    void bothHeadsFollowTheTeacherBetterAfterFineTuning() throws Exception {
        Path out = dir.resolve("student.onnx");
        Path report = dir.resolve("report");
        Cli.Result r = Cli.run("run", teacher.toString(), "--data", data.toString(), "--test-data", data.toString(),
                "--energy", "0.5", "--no-calibration", "--output-loss", "boxes=mse", "--epochs", "6", "--batch", "16", "--bench-runs", "10",
                "--bench-block", "5", "--bench-warmup", "2", "--report", report.toString(), "-o", out.toString());
        assertEquals(0, r.exitCode(), r.err());
        // a [N,4] Gemm output reads as class logits by its shape: boxes=mse says what it is, mask stays auto (sigmoid).
        // The training table names the losses; both outputs appear in the summary with the figures of their kind
        assertTrue(r.out().contains("BCE+rel. MSE"), r.out());
        assertTrue(r.out().contains("mask: ") && r.out().contains("mask IoU") && r.out().contains("boxes: ")
                && r.out().contains("rel. L2"), r.out());

        JsonNode models = Json.MAPPER.readTree(Files.readString(report.resolve("report.json"))).get("models");
        JsonNode closedForm = models.get(1).get("fidelity");
        JsonNode fineTuned = models.get(2).get("fidelity");
        assertEquals("mask", closedForm.get(0).get("output").asText());
        assertEquals("MASK", closedForm.get(0).get("kind").asText());
        assertEquals("VALUES", closedForm.get(1).get("kind").asText());
        double iouBefore = closedForm.get(0).get("maskIou").asDouble();
        double iouAfter = fineTuned.get(0).get("maskIou").asDouble();
        double l2Before = closedForm.get(1).get("relativeL2").asDouble();
        double l2After = fineTuned.get(1).get("relativeL2").asDouble();
        assertTrue(iouAfter > iouBefore, "mask IoU " + iouBefore + " -> " + iouAfter + "\n" + r.out());
        assertTrue(l2After < l2Before, "boxes relative L2 " + l2Before + " -> " + l2After + "\n" + r.out());
        assertTrue(Files.readString(report.resolve("report.html")).contains("mask IoU"));

        // eval of the written student against the teacher on the same unlabelled tensors prints each output's figures
        Cli.Result e = Cli.run("eval", "--model", out.toString(), "--reference", teacher.toString(), "--data",
                data.toString(), "--output-kind", "boxes=values");
        assertEquals(0, e.exitCode(), e.err());
        assertTrue(!e.out().contains("boxes: top-1 agreement"), "boxes are values, not classes:\n" + e.out());
        for (String row : new String[] {"mask: mask IoU at 0.5", "mask: cosine similarity", "boxes: cosine similarity",
            "boxes: relative L2 error"}) {
            assertTrue(e.out().contains(row), row + " in\n" + e.out());
        }
        assertTrue(e.out().contains(String.format("%.4f", iouAfter)), "eval and run agree:\n" + e.out());
        assertTrue(e.out().contains(String.format("%.4g", l2After)), "eval and run agree:\n" + e.out());
    }

    @Test
    void openSpatialDimsTakeTheDataSampleShape() throws Exception {
        Path open = dir.resolve("open-sides.onnx");
        twoHeads(-1, -1).save(open, OnnxModel.ExternalData.AUTO);
        Cli.Result r = Cli.run("run", open.toString(), "--test-data", data.toString(), "--no-finetune", "--energy",
                "0.5", "--no-calibration", "--bench-runs", "4", "--bench-block", "2", "--bench-warmup", "1", "-o",
                dir.resolve("open-student.onnx").toString());
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("1x2x8x8"), "compressed and benchmarked at the data's shape:\n" + r.out());
    }

    @Test
    void badOutputKindsAreOneLineUsageErrors() {
        for (String bad : new String[] {"boxes=boxy", "nope=mask", "values"}) {
            Cli.Result r = Cli.run("eval", "--model", teacher.toString(), "--reference", teacher.toString(), "--data",
                    data.toString(), "--output-kind", bad);
            assertEquals(2, r.exitCode(), bad + ": " + r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
            assertTrue(r.err().contains("--output-kind"), r.err());
        }
    }

    @Test
    void badOutputLossesAreOneLineUsageErrors() {
        for (String[] bad : new String[][] {{"boxes=l2"}, {"scores=mse"}, {"mse,mse,mse"}}) {
            Cli.Result r = Cli.run("finetune", "--teacher", teacher.toString(), "--student", teacher.toString(),
                    "--data", data.toString(), "--epochs", "1", "--output-loss", bad[0], "-o",
                    dir.resolve("never.onnx").toString());
            assertEquals(2, r.exitCode(), bad[0] + ": " + r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
            assertTrue(r.err().contains("--output-loss"), r.err());
        }
    }
}
