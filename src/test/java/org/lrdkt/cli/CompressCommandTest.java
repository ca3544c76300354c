package org.lrdkt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.lrdkt.Cli;
import org.lrdkt.Json;
import org.lrdkt.ModelBuilder;
import org.lrdkt.Npy;
import org.lrdkt.onnx.Attrs;
import org.lrdkt.onnx.OnnxModel;

/** {@code lrdkt compress} end to end on the LeNet-5 fixture, and its refusals. */
class CompressCommandTest {

    private static final Path LENET = Path.of("testdata/lenet5.onnx");

    @TempDir
    Path dir;

    @Test
    void compressesLenetAndOnnxRuntimeRunsIt() throws Exception {
        Path out = dir.resolve("lenet-lrd.onnx");
        Path report = dir.resolve("report.json");
        assertEquals(0, Main.run("compress", LENET.toString(), "-o", out.toString(), "--energy", "0.9", "--report",
                report.toString()));
        OnnxModel teacher = OnnxModel.load(LENET);
        OnnxModel student = OnnxModel.load(out);
        float[] x = ModelBuilder.random(1, 28 * 28, 0.5f);
        for (int i = 0; i < x.length; i++) {
            x[i] = Math.abs(x[i]) * 2; // pixels in [0, 1]
        }
        long[] shape = {1, 1, 28, 28};
        float[] logits = ModelBuilder.run(student, x, shape);
        assertEquals(10, logits.length);
        // 90% energy everywhere moves the logits, but not beyond recognition
        assertTrue(ModelBuilder.relativeError(logits, ModelBuilder.run(teacher, x, shape)) < 0.5);
        JsonNode json = Json.MAPPER.readTree(report.toFile());
        assertEquals(5, json.get("layers").size());
        JsonNode conv1 = json.get("layers").get(0);
        assertEquals("/conv1/Conv", conv1.get("name").asText());
        assertEquals(conv1.get("fullRank").asInt(), conv1.get("cumulativeEnergy").size());
        assertTrue(student.metadata("lrdkt.ranks").contains("\"/fc1/Gemm\""));
    }

    @Test
    void targetLatencyWritesMeasuredTimesIntoTheReportAndCachesThem() throws Exception {
        Path model = dir.resolve("convs.onnx");
        new ModelBuilder(1, 48, 24, 24).conv("conv", new long[] {96, 48, 3, 3}, true,
                Attrs.ofInts("pads", 1, 1, 1, 1)).relu().build().save(model, OnnxModel.ExternalData.AUTO);
        Path out = dir.resolve("convs-lrd.onnx");
        Path report = dir.resolve("report.json");
        Path cache = dir.resolve("cache");
        String[] args = {"compress", model.toString(), "-o", out.toString(), "--target-latency", "0.6",
                "--latency-cache", cache.toString(), "--report", report.toString()};
        Cli.Result first = Cli.run(args);
        assertEquals(0, first.exitCode(), first.err());
        assertTrue(first.out().contains("ms after"), first.out());
        assertTrue(first.out().contains("measured latency of the decomposable layers"), first.out());
        JsonNode json = Json.MAPPER.readTree(report.toFile());
        assertEquals(1, json.get("latency").size());
        assertTrue(json.get("latency").get(0).get("millis").has("0"));
        double before = 0;
        double after = 0;
        for (JsonNode layer : json.get("layers")) {
            before += layer.get("latencyMs").asDouble();
            after += layer.get("latencyMsAfter").asDouble();
        }
        assertTrue(after <= 0.6 * before, after + " vs " + before);
        try (Stream<Path> files = Files.list(cache)) {
            assertEquals(1, files.count());
        }
        // the latency objective under a MACs budget reads the same cache
        Cli.Result objective = Cli.run("compress", model.toString(), "-o", out.toString(), "--target-macs", "0.4",
                "--objective", "latency", "--latency-cache", cache.toString());
        assertEquals(0, objective.exitCode(), objective.err());
        assertTrue(objective.out().contains("objective latency"), objective.out());
    }

    static Stream<Arguments> badCommandLines() {
        String lenet = LENET.toString();
        return Stream.<String[]>of(
                new String[] {"compress", lenet, "--energy", "0.9"}, // no -o
                new String[] {"compress", lenet, "-o", "OUT", "--energy", "1.5"},
                new String[] {"compress", lenet, "-o", "OUT", "--energy", "abc"},
                new String[] {"compress", lenet, "-o", "OUT", "--energy", "0.5", "--target-macs", "0.3"},
                new String[] {"compress", lenet, "-o", "OUT", "--scheme", "tucker"},
                new String[] {"compress", lenet, "-o", "OUT", "--round-to", "0"},
                new String[] {"compress", lenet, "-o", "OUT", "--include", "("},
                new String[] {"compress", lenet, "-o", "OUT", "--no-such-flag"},
                new String[] {"compress", lenet, "-o", lenet},
                new String[] {"compress", lenet, "-o", "OUT", "--target-macs", "0.0001"},
                new String[] {"compress", lenet, "-o", "OUT", "--ranks", "RANKS:{\"/no/such\": 3}"},
                new String[] {"compress", lenet, "-o", "OUT", "--ranks", "RANKS:{\"/conv1/Conv\": 0}"},
                new String[] {"compress", lenet, "-o", "OUT", "--ranks", "RANKS:{\"/conv1/Conv\": -2}"},
                new String[] {"compress", lenet, "-o", "OUT", "--ranks", "RANKS:{\"/fc3/Gemm\": 11}"},
                new String[] {"compress", lenet, "-o", "OUT", "--ranks", "RANKS:{\"/fc3/Gemm\": 2.5}"},
                new String[] {"compress", lenet, "-o", "OUT", "--ranks", "RANKS:not json"},
                new String[] {"compress", lenet, "-o", "OUT", "--ranks", "missing-ranks.json"},
                new String[] {"compress", lenet, "-o", "OUT", "--target-latency", "0"},
                new String[] {"compress", lenet, "-o", "OUT", "--target-latency", "1.5"},
                new String[] {"compress", lenet, "-o", "OUT", "--target-latency", "-0.2"},
                new String[] {"compress", lenet, "-o", "OUT", "--target-latency", "fast"},
                new String[] {"compress", lenet, "-o", "OUT", "--target-latency", "0.5", "--target-macs", "0.5"},
                new String[] {"compress", lenet, "-o", "OUT", "--objective", "latency"},
                new String[] {"compress", lenet, "-o", "OUT", "--objective", "latency", "--energy", "0.5"},
                new String[] {"compress", lenet, "-o", "OUT", "--objective", "speed", "--target-macs", "0.5"},
                new String[] {"compress", lenet, "-o", "OUT", "--calibration-samples", "64"},
                new String[] {"compress", lenet, "-o", "OUT", "--calibration", "testdata/mnist",
                    "--calibration-samples", "0"},
                new String[] {"compress", lenet, "-o", "OUT", "--calibration", "testdata/mnist",
                    "--calibration-ranks", "both"},
                new String[] {"compress", lenet, "-o", "OUT", "--calibration", "testdata/mnist",
                    "--calibration-shrinkage", "-1"})
                .map(a -> Arguments.of((Object) a));
    }

    @ParameterizedTest
    @MethodSource("badCommandLines")
    void badInputIsOneLineExitTwoAndWritesNothing(String[] template) throws Exception {
        String[] args = template.clone();
        Path out = dir.resolve("out.onnx");
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("OUT")) {
                args[i] = out.toString();
            } else if (args[i].startsWith("RANKS:")) {
                Path ranks = dir.resolve("ranks.json");
                Files.writeString(ranks, args[i].substring(6));
                args[i] = ranks.toString();
            } else if (args[i].equals("missing-ranks.json")) {
                args[i] = dir.resolve(args[i]).toString();
            }
        }
        long lenetSize = Files.size(LENET);
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream saved = System.err;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        int code;
        try {
            code = Main.run(args);
        } finally {
            System.setErr(saved);
        }
        String message = err.toString(StandardCharsets.UTF_8);
        assertEquals(2, code, message);
        assertEquals(1, message.strip().lines().count(), message);
        assertFalse(Files.exists(out), "nothing may be written");
        try (Stream<Path> files = Files.list(dir)) {
            assertTrue(files.allMatch(p -> p.getFileName().toString().equals("ranks.json")));
        }
        assertEquals(lenetSize, Files.size(LENET));
    }

    static Stream<Arguments> badCalibrationData() {
        return Stream.of(Arguments.of("missing", null, "does not exist"),
                Arguments.of("wrong shape", new long[] {4, 3, 28, 28}, "gives samples of shape 3x28x28"),
                Arguments.of("wrong rank", new long[] {4, 784}, "gives samples of shape 784"),
                Arguments.of("empty", new long[] {0, 1, 28, 28}, "N > 0"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badCalibrationData")
    void badCalibrationDataIsOneLineAndWritesNothing(String label, long[] shape, String fragment) throws Exception {
        Path data = dir.resolve("calibration.npy");
        if (shape != null) {
            Npy.writeFloats(data, shape, new float[(int) Arrays.stream(shape).reduce(1, (a, b) -> a * b)]);
        }
        Path out = dir.resolve("out.onnx");
        Cli.Result r = Cli.run("compress", LENET.toString(), "-o", out.toString(), "--calibration", data.toString());
        assertEquals(1, r.exitCode(), r.err());
        assertTrue(r.errIsOneLine(), r.err());
        assertTrue(r.err().contains("calibration") && r.err().contains(fragment), r.err());
        assertFalse(Files.exists(out), "nothing may be written");
    }
}
