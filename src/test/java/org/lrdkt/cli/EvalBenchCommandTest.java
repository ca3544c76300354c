package org.lrdkt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.lrdkt.Json;

/** Exit codes and output of {@code lrdkt eval} and {@code lrdkt bench} on the LeNet fixture. */
class EvalBenchCommandTest {

    private static final String MODEL = "testdata/lenet5.onnx";
    private static final String DATA = "testdata/mnist/t10k-images-idx3-ubyte.gz";

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private PrintStream savedOut;
    private PrintStream savedErr;

    @BeforeEach
    void capture() {
        savedOut = System.out;
        savedErr = System.err;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void restore() {
        System.setOut(savedOut);
        System.setErr(savedErr);
    }

    private String stdout() {
        return out.toString(StandardCharsets.UTF_8);
    }

    private String stderr() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void evalPrintsAccuracyAndAgreementAsJson() throws Exception {
        assertEquals(0, Main.run("eval", "--model", MODEL, "--reference", MODEL, "--data", DATA, "--limit", "200",
                "--json", "--threads", "2"), stderr());
        JsonNode r = Json.MAPPER.readTree(stdout());
        assertEquals(200, r.get("samples").asInt());
        assertEquals(1.0, r.get("agreement").asDouble());
        assertTrue(r.get("top1").asDouble() > 0.95);
        assertTrue(r.get("preprocessing").asText().contains("scale 1/255"));
    }

    @Test
    void evalTablePrintsPreprocessing() {
        assertEquals(0, Main.run("eval", "--model", MODEL, "--data", DATA, "--limit", "20", "--threads", "2"));
        assertTrue(stdout().contains("top-1 accuracy"), stdout());
        assertTrue(stdout().contains("scale 1/255, mean 0, std 1, size 28x28, grayscale, NCHW"), stdout());
    }

    @Test
    void evalExitCodes() {
        assertEquals(2, Main.run("eval", "--data", DATA), "missing --model");
        assertTrue(stderr().contains("missing --model"), stderr());
        assertEquals(2, Main.run("eval", "--model", MODEL, "--data", DATA, "--limit", "zero"));
        assertEquals(2, Main.run("eval", "--model", MODEL, "--data", DATA, "--layout", "chw"));
        assertEquals(2, Main.run("eval", "--model", MODEL, "--data", DATA, "--std", "0"));
        assertEquals(1, Main.run("eval", "--model", MODEL, "--data", "testdata/no-such-file"));
        // the model file is not IDX data: bad magic, exit 1, one line
        err.reset();
        assertEquals(1, Main.run("eval", "--model", MODEL, "--data", MODEL));
        assertEquals(1, stderr().strip().lines().count(), stderr());
        assertTrue(stderr().contains("bad magic"), stderr());
        // 28x28 data into a model resized for 32x32 input is refused with the shapes named
        assertEquals(1, Main.run("eval", "--model", MODEL, "--data", DATA, "--resize", "32x32"));
        assertTrue(stderr().contains("1x32x32"), stderr());
    }

    @Test
    void benchComparesAgainstTheFirstModel() throws Exception {
        assertEquals(0, Main.run("bench", MODEL, MODEL, "--runs", "6", "--block", "3", "--warmup", "1",
                "--threads", "1", "--batch", "4", "--json"), stderr());
        JsonNode r = Json.MAPPER.readTree(stdout());
        assertEquals(2, r.get("models").size());
        assertEquals("lenet5.onnx #2", r.get("models").get(1).get("name").asText());
        assertEquals(6, r.get("models").get(0).get("latencyMs").get("count").asInt());
        // LeNet-5 MACs per sample, by hand: conv1 6·28²·25 + conv2 16·10²·150 + fc 400·120 + 120·84 + 84·10
        assertEquals(117_600 + 240_000 + 48_000 + 10_080 + 840, r.get("models").get(0).get("macsPerSample").asLong());
        assertEquals(61_706, r.get("models").get(0).get("params").asLong());
        assertEquals(1.0, r.get("ratios").get(0).get("macs").asDouble());
        assertEquals(4, r.get("models").get(0).get("inputShapes").get("input").get(0).asInt());
    }

    @Test
    void benchExitCodes() {
        assertEquals(2, Main.run("bench"));
        assertEquals(2, Main.run("bench", MODEL, "--provider", "tpu"));
        assertEquals(2, Main.run("bench", MODEL, "--runs", "0"));
        assertEquals(1, Main.run("bench", "testdata/missing.onnx"));
        if (!System.getProperty("java.class.path").contains("onnxruntime_gpu")) {
            err.reset();
            assertEquals(1, Main.run("bench", MODEL, "--provider", "cuda", "--runs", "1"));
            assertTrue(stderr().contains("CUDA execution provider is not available"), stderr());
        }
    }
}
