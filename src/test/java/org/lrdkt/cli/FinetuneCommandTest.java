package org.lrdkt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lrdkt.Cli;
import org.lrdkt.TestModels;
import org.lrdkt.onnx.Inference;
import org.lrdkt.onnx.OnnxModel;
import org.lrdkt.onnx.proto.Onnx.GraphProto;
import org.lrdkt.onnx.proto.Onnx.ModelProto;
import org.lrdkt.onnx.proto.Onnx.NodeProto;

/** {@code lrdkt finetune}: a short real run, and one-line errors that write nothing. */
class FinetuneCommandTest {

    @TempDir
    static Path dir;
    static String teacher;

    @BeforeAll
    static void setUp() {
        teacher = TestModels.LENET.toString();
    }

    private static String save(String name, ModelProto proto) throws Exception {
        Path p = dir.resolve(name);
        OnnxModel.of(proto).save(p, OnnxModel.ExternalData.NEVER);
        return p.toString();
    }

    /** The LeNet fixture with one change to its graph, saved as {@code name}. */
    private static String lenetWith(String name, Consumer<GraphProto.Builder> change)
            throws Exception {
        ModelProto p = OnnxModel.load(TestModels.LENET).proto();
        GraphProto.Builder g = p.getGraph().toBuilder();
        change.accept(g);
        return save(name, p.toBuilder().setGraph(g).build());
    }

    private static void assertFailsWritingNothing(int code, String expected, String... args) {
        Path out = dir.resolve("out-" + System.nanoTime() + ".onnx");
        String[] all = new String[args.length + 3];
        all[0] = "finetune";
        System.arraycopy(args, 0, all, 1, args.length);
        all[args.length + 1] = "-o";
        all[args.length + 2] = out.toString();
        Cli.Result r = Cli.run(all);
        assertEquals(code, r.exitCode(), r.err());
        assertTrue(r.errIsOneLine(), r.err());
        assertTrue(r.err().contains(expected), r.err());
        assertFalse(Files.exists(out), "nothing written");
        assertFalse(Files.exists(Path.of(out + ".ckpt")), "no checkpoint");
    }

    @Test
    void shortRunWritesAStudentThatOrtRuns() throws Exception {
        Path out = dir.resolve("ft.onnx");
        Cli.Result r = Cli.run("finetune", "--teacher", teacher, "--student", teacher, "--data",
                TestModels.MNIST.toString(), "-o", out.toString(), "--epochs", "1", "--limit", "256", "--batch", "64",
                "--hints", "/conv2/Conv_output_0", "--report", dir.resolve("ft.json").toString(),
                "--test-data", TestModels.MNIST.toString());
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("held-out accuracy") && r.out().contains("wrote "), r.out());
        // the folder holds both splits: test data means its 2,000 t10k digits, not the 8,000 training ones
        assertTrue(r.out().contains("test accuracy (ONNX Runtime, 2000 samples)"), r.out());
        // stderr is no terminal here: plain lines for the log, no carriage-return frames of a bar
        assertTrue(r.err().contains("lrdkt finetune: epoch 1/1 done in ") && !r.err().contains("\r"), r.err());
        assertFalse(Files.exists(Path.of(out + ".ckpt")), "checkpoint removed after a finished run");
        try (Inference ort = Inference.open(OnnxModel.load(out), new Inference.Settings(1, true, false))) {
            assertEquals(10, ort.run(new Inference.Tensor(new float[784], new long[] {1, 1, 28, 28})).values().length);
        }
        assertTrue(Files.readString(dir.resolve("ft.json")).contains("\"history\""));
    }

    @Test
    void aTestDataFolderWithOnlyTheTrainingSplitIsRefused() throws Exception {
        Path trainOnly = Files.createDirectories(dir.resolve("train-only"));
        for (String file : new String[] {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"}) {
            Files.copy(TestModels.MNIST.resolve(file), trainOnly.resolve(file));
        }
        assertFailsWritingNothing(2, "holds the MNIST training split but no test split", "--teacher", teacher,
                "--student", teacher, "--data", TestModels.MNIST.toString(), "--test-data", trainOnly.toString());
    }

    @Test
    void missingFlagsAreUsageErrors() {
        assertFailsWritingNothing(2, "missing --student", "--teacher", teacher, "--data", "testdata/mnist");
        assertFailsWritingNothing(2, "--optimizer", "--teacher", teacher, "--student", teacher, "--data",
                "testdata/mnist", "--optimizer", "rmsprop");
    }

    @Test
    void studentWithOtherOutputIsNotADecomposition() throws Exception {
        String student = lenetWith("renamed.onnx", g -> {
            int last = g.getNodeCount() - 1;
            g.setNode(last, g.getNode(last).toBuilder().setOutput(0, "scores"));
            g.setOutput(0, g.getOutput(0).toBuilder().setName("scores"));
        });
        assertFailsWritingNothing(1, "not a decomposition of the teacher", "--teacher", teacher, "--student", student,
                "--data", "testdata/mnist");
    }

    @Test
    void studentWithOtherInputShapeIsNotADecomposition() throws Exception {
        String student = lenetWith("wide.onnx", g -> {
            var in = g.getInput(0).toBuilder();
            in.getTypeBuilder().getTensorTypeBuilder().getShapeBuilder().getDimBuilder(2).setDimValue(32);
            g.setInput(0, in);
        });
        // ONNX Runtime refuses the model before the training mirror would see the shape mismatch
        assertFailsWritingNothing(1, "wide.onnx: ONNX Runtime cannot load the model", "--teacher", teacher,
                "--student", student,
                "--data", "testdata/mnist");
    }

    @Test
    void unsupportedOpIsNamed() throws Exception {
        String student = lenetWith("sign.onnx", g -> g.setNode(1, NodeProto.newBuilder(g.getNode(1)).setOpType("Sign")));
        assertFailsWritingNothing(1, "op Sign (node '/relu1/Relu')", "--teacher", teacher, "--student", student,
                "--data", "testdata/mnist");
    }

    @Test
    void emptyDataSetIsRefused() throws Exception {
        Path empty = dir.resolve("empty");
        Files.createDirectories(empty);
        writeIdx(empty.resolve("train-images-idx3-ubyte.gz"), 0x803, 0, 28, 28);
        assertFailsWritingNothing(1, "is empty", "--teacher", teacher, "--student", teacher, "--data",
                empty.toString());
    }

    @Test
    void unknownHintIsRefused() {
        assertFailsWritingNothing(2, "hint tensor 'nowhere'", "--teacher", teacher, "--student", teacher, "--data",
                "testdata/mnist", "--hints", "nowhere");
    }

    @Test
    void resumeWithoutCheckpointIsRefused() {
        assertFailsWritingNothing(2, "no checkpoint", "--teacher", teacher, "--student", teacher, "--data",
                "testdata/mnist", "--resume", "--limit", "100");
    }

    private static void writeIdx(Path file, int magic, int... dims) throws IOException {
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(file))) {
            ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length);
            b.putInt(magic);
            for (int d : dims) {
                b.putInt(d);
            }
            out.write(b.array());
        }
    }
}
