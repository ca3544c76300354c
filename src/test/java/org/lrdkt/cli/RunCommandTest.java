package org.lrdkt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lrdkt.Cli;
import org.lrdkt.Json;
import org.lrdkt.TestModels;
import org.lrdkt.data.Datasets;
import org.lrdkt.data.Preprocessing;
import org.lrdkt.onnx.Inference;
import org.lrdkt.onnx.OnnxModel;
import org.lrdkt.validate.Evaluator;

/** {@code lrdkt run}: the embedded example end to end (shortened), a user model, and refusals. */
class RunCommandTest {

    private static final String[] SHORT = {"--epochs", "1", "--limit", "1500", "--bench-runs", "40",
        "--bench-block", "10", "--bench-warmup", "5"};

    @TempDir
    Path dir;

    @Test
    void embeddedExampleRunsEveryStageAndReportsWhatItMeasured() throws Exception {
        Path out = dir.resolve("student.onnx");
        Path report = dir.resolve("report");
        Cli.Result r = Cli.run(concat(new String[] {"run", "-o", out.toString(), "--report", report.toString()},
                SHORT));
        assertEquals(0, r.exitCode(), r.err());
        Matcher macs = Pattern.compile("MACs: \\d+ -> \\d+ \\(([0-9.]+)x fewer\\)").matcher(r.out());
        assertTrue(macs.find() && Double.parseDouble(macs.group(1)) >= 4.0, "at most a quarter of the MACs:\n"
                + r.out());
        // the example calibrates its closed form on the training digits (about a third without)
        Matcher closedForm = Pattern.compile("student, calibrated closed form .* ([0-9.]+)%\\s+[0-9.]+%")
                .matcher(r.out());
        assertTrue(closedForm.find(), r.out());
        assertTrue(Double.parseDouble(closedForm.group(1)) >= 80, closedForm.group());

        // the summary's accuracies are what ONNX Runtime measures on the teacher and the written model, measured
        // independently here (the banner above the table quotes the teacher's figure as a constant)
        double written = top1OnTestDigits(OnnxModel.load(out));
        Matcher row = Pattern.compile("student, fine-tuned .* ([0-9.]+)%\\s+([0-9.]+)%").matcher(r.out());
        assertTrue(row.find(), r.out());
        assertEquals(100 * written, Double.parseDouble(row.group(1)), 0.006);
        assertTrue(written > 0.9, "one short epoch of KT already recovers most accuracy: " + written);
        Matcher teacherRow = Pattern.compile("(?m)^teacher .* ([0-9.]+)%\\s*$").matcher(r.out());
        assertTrue(teacherRow.find(), r.out());
        assertEquals(100 * top1OnTestDigits(OnnxModel.load(TestModels.LENET)), Double.parseDouble(teacherRow.group(1)),
                0.006);

        JsonNode json = Json.MAPPER.readTree(Files.readString(report.resolve("report.json")));
        assertEquals(3, json.get("models").size());
        assertEquals(5, json.get("layerMacs").size());
        assertTrue(Files.readString(report.resolve("report.html")).contains("data:image/png;base64,"));
    }

    /** Top-1 accuracy of {@code model} on the fixture's 2,000 test digits, in ONNX Runtime. */
    private static double top1OnTestDigits(OnnxModel model) throws Exception {
        return Evaluator.evaluate(model, null,
                Datasets.open(Path.of("testdata/mnist/t10k-images-idx3-ubyte.gz"), null, Preprocessing.defaults()),
                new Evaluator.EvalOptions(256, Inference.Settings.defaults(), false)).top1();
    }

    @Test
    void userModelWithoutDataIsCompressedAndBenchmarkedOnly() throws Exception {
        Path out = dir.resolve("lenet-lrd.onnx");
        Cli.Result r = Cli.run("run", TestModels.LENET.toString(), "--energy", "0.9", "-o", out.toString(),
                "--bench-runs", "20", "--bench-block", "10");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("accuracy not measured"), r.out());
        assertFalse(r.out().contains("fine-tuned"), r.out());
        assertTrue(Files.exists(out));
    }

    @Test
    void badInputFailsInOneLineAndWritesNothing() throws Exception {
        Path out = dir.resolve("never.onnx");
        Path notOnnx = Files.writeString(dir.resolve("notes.onnx"), "not a model");
        String[][] cases = {
            {"run", dir.resolve("missing.onnx").toString(), "-o", out.toString()},
            {"run", notOnnx.toString(), "-o", out.toString()},
            {"run", TestModels.LENET.toString(), "--data", dir.resolve("nowhere").toString(), "-o", out.toString()},
            {"run", "--energy", "1.5", "-o", out.toString()},
            {"run", "--energy", "0.9", "--target-macs", "0.5", "-o", out.toString()},
            {"run", TestModels.LENET.toString(), "-o", TestModels.LENET.toString()},
        };
        for (String[] args : cases) {
            Cli.Result r = Cli.run(args);
            assertTrue(r.exitCode() == 1 || r.exitCode() == 2, String.join(" ", args) + ": " + r.err());
            assertTrue(r.errIsOneLine(), r.err());
            assertFalse(Files.exists(out), String.join(" ", args));
        }
    }

    private static String[] concat(String[] a, String[] b) {
        String[] all = new String[a.length + b.length];
        System.arraycopy(a, 0, all, 0, a.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }
}
