package org.lrdkt.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;
import org.lrdkt.Cli;
import org.lrdkt.TestModels;
import org.lrdkt.onnx.Attrs;
import org.lrdkt.onnx.proto.Onnx.GraphProto;
import org.lrdkt.onnx.proto.Onnx.ModelProto;
import org.lrdkt.onnx.proto.Onnx.NodeProto;
import org.lrdkt.onnx.proto.Onnx.TensorProto;
import org.lrdkt.onnx.proto.Onnx.TensorShapeProto;
import org.lrdkt.onnx.proto.Onnx.ValueInfoProto;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Hostile and malformed models, seeded and bounded: every command that reads a model (inspect, compress, eval, bench,
 * finetune as teacher and as student) must answer with exit code 0 (a harmless mutation), or 1/2 with exactly one
 * line on stderr — never a stack trace, a hang or an OutOfMemoryError from a size the file merely claims — and a
 * failed command leaves nothing in its output folder. The cheap commands see every case, the ones that start ONNX
 * Runtime or ND4J every {@value #HEAVY_EVERY}th fuzzed case and every structural one. Per class and command the
 * outcomes (exit codes) are printed for BENCHMARKS.md.
 */
class HostileModelsTest {

    static final byte[] LENET = read(TestModels.LENET);
    static final int HEAVY_EVERY = 4;
    private static final Map<String, Map<Integer, Integer>> OUTCOMES = new TreeMap<>();
    private static final Map<String, AtomicInteger> CASES = new LinkedHashMap<>();
    private static final Map<String, Double> SECONDS = new TreeMap<>();
    private static Path student;

    private static byte[] read(Path p) {
        try {
            return Files.readAllBytes(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A command run against hostile input: {@code MODEL} (the hostile file), {@code OUT} (an output path in the same
     * folder), {@code STUDENT} (a valid compressed LeNet) and {@code TRAIN} (a 128-image MNIST training folder) are
     * substituted.
     *
     * @param label  the name outcomes are counted under
     * @param heavy  starts ONNX Runtime or ND4J: run on a subset of the fuzzed cases
     * @param writes whether a failure must leave no output behind
     */
    record HostileCommand(String label, boolean heavy, boolean writes, String... args) {
    }

    static List<HostileCommand> commands() {
        String t10k = TestModels.MNIST.resolve("t10k-images-idx3-ubyte.gz").toString();
        return List.of(
                new HostileCommand("inspect", false, false, "inspect", "MODEL"),
                new HostileCommand("compress", false, true, "compress", "MODEL", "-o", "OUT"),
                new HostileCommand("eval", true, false, "eval", "--model", "MODEL", "--data", t10k, "--limit", "16",
                        "--batch", "16", "--threads", "1"),
                new HostileCommand("bench", true, false, "bench", "MODEL", "--runs", "2", "--warmup", "0",
                        "--threads", "1"),
                new HostileCommand("finetune (teacher)", true, true, "finetune", "--teacher", "MODEL", "--student",
                        "STUDENT", "--data", "TRAIN", "--epochs", "1", "--limit", "64", "-o", "OUT"),
                new HostileCommand("finetune (student)", true, true, "finetune", "--teacher",
                        TestModels.LENET.toString(), "--student", "MODEL", "--data", "TRAIN", "--epochs", "1",
                        "--limit", "64", "-o", "OUT"),
                new HostileCommand("run", true, true, "run", "MODEL", "--data", "TRAIN", "--test-data", t10k,
                        "--epochs", "1", "--limit", "64", "--bench-runs", "2", "--bench-warmup", "0", "-o", "OUT"));
    }

    /** A valid student for the finetune-as-teacher runs, compressed once, next to a small training set. */
    private static synchronized Path student() throws IOException {
        if (student == null) {
            Path dir = Files.createTempDirectory("hostile-student");
            TestDirs.writeMnistSubset(dir, "train", 128);
            student = dir.resolve("student.onnx");
            Cli.Result r = Cli.run("compress", TestModels.LENET.toString(), "-o", student.toString());
            // ND4J logs its start-up banner once per JVM; let that happen outside the captured runs
            Nd4j.create(1);
            assertEquals(0, r.exitCode(), r.err());
            for (String f : TestDirs.listing(dir)) {
                dir.resolve(f).toFile().deleteOnExit();
            }
            dir.toFile().deleteOnExit();
        }
        return student;
    }

    /**
     * Runs every command on one hostile model; {@code withHeavy} includes the ONNX Runtime and ND4J ones. A command
     * may exit 0 only where {@code mayAccept} allows it (a fuzzed mutation may be harmless; a structural one is not).
     */
    static void assertCleanOutcome(String category, byte[] model, boolean withHeavy, Predicate<String> mayAccept)
            throws IOException {
        CASES.computeIfAbsent(category.startsWith("structural") ? "structural" : category,
                k -> new AtomicInteger()).incrementAndGet();
        Path dir = Files.createTempDirectory("hostile");
        Path file = dir.resolve("m.onnx");
        Files.write(file, model);
        Path out = dir.resolve("out.onnx");
        try {
            for (HostileCommand c : commands()) {
                if (c.heavy() && !withHeavy) {
                    continue;
                }
                long started = System.nanoTime();
                Cli.Result r = runCommand(c, file, out);
                SECONDS.merge(c.label(), (System.nanoTime() - started) / 1e9, Double::sum);
                String what = category + " / " + c.label();
                OUTCOMES.computeIfAbsent(classOf(category) + " / " + c.label(), k -> new TreeMap<>())
                        .merge(r.exitCode(), 1, Integer::sum);
                assertTrue(r.exitCode() == 0 || r.exitCode() == 1 || r.exitCode() == 2, what + ": exit " + r.exitCode());
                if (r.exitCode() != 0) {
                    assertTrue(r.errIsOneLine() && !r.err().contains("internal error")
                            && !r.err().contains("out of memory"), what + ": " + r.err());
                    if (c.writes()) {
                        assertEquals(List.of("m.onnx"), TestDirs.listing(dir), what + ": failure left files behind");
                    }
                } else {
                    assertTrue(mayAccept.test(c.label()), what + ": a broken model was accepted");
                    assertTrue(!c.writes() || Files.exists(out), what + ": exit 0 without output");
                }
                TestDirs.clearExcept(dir, file);
            }
        } finally {
            TestDirs.clearExcept(dir, null);
        }
    }

    /** The first {@code count} images and labels of the MNIST fixture's {@code set}, as uncompressed IDX files. */
    private static Cli.Result runCommand(HostileCommand c, Path model, Path out) throws IOException {
        Path student = student();
        String[] args = c.args().clone();
        for (int i = 0; i < args.length; i++) {
            args[i] = args[i].replace("MODEL", model.toString()).replace("OUT", out.toString())
                    .replace("STUDENT", student.toString()).replace("TRAIN", student.getParent().toString());
        }
        return assertTimeoutPreemptively(Duration.ofSeconds(60), () -> Cli.run(args), c.label() + " hung");
    }

    private static String classOf(String category) {
        return category.startsWith("structural") ? category.substring("structural: ".length()) : category;
    }

    private static final AtomicInteger TRUNCATIONS = new AtomicInteger();
    private static final AtomicInteger FLIPS = new AtomicInteger();

    @Property(tries = 40, seed = "20261125")
    void truncatedAnywhere(@ForAll @IntRange(min = 0, max = 248_569) int length) throws IOException {
        assertCleanOutcome("truncated file", Arrays.copyOf(LENET, Math.min(length, LENET.length - 1)),
                TRUNCATIONS.getAndIncrement() % HEAVY_EVERY == 0, command -> false);
    }

    @Property(tries = 60, seed = "20261125")
    void flippedBytes(@ForAll @IntRange(min = 1, max = 8) int flips, @ForAll long seed) throws IOException {
        byte[] b = LENET.clone();
        Random r = new Random(seed);
        // bias towards the graph structure at the start and end of the file, where flips change meaning
        for (int i = 0; i < flips; i++) {
            int pos = r.nextBoolean() ? r.nextInt(2000) : b.length - 1 - r.nextInt(Math.min(b.length, 6000));
            b[pos] ^= (byte) (1 << r.nextInt(8));
        }
        // a flipped bit inside a name or a float value leaves a valid model
        assertCleanOutcome("flipped bytes", b, FLIPS.getAndIncrement() % HEAVY_EVERY == 0, command -> true);
    }

    private static ModelProto lenet() {
        try {
            return ModelProto.parseFrom(LENET);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static ModelProto withGraph(UnaryOperator<GraphProto.Builder> change) {
        ModelProto m = lenet();
        return m.toBuilder().setGraph(change.apply(m.getGraph().toBuilder())).build();
    }

    private static int initializerIndex(GraphProto.Builder g, String name) {
        for (int i = 0; i < g.getInitializerCount(); i++) {
            if (g.getInitializer(i).getName().equals(name)) {
                return i;
            }
        }
        throw new IllegalArgumentException(name);
    }

    private static GraphProto.Builder setWeight(GraphProto.Builder g, String name, UnaryOperator<TensorProto.Builder> f) {
        int i = initializerIndex(g, name);
        return g.setInitializer(i, f.apply(g.getInitializer(i).toBuilder()));
    }

    private static int nodeIndex(GraphProto.Builder g, String name) {
        for (int i = 0; i < g.getNodeCount(); i++) {
            if (g.getNode(i).getName().equals(name)) {
                return i;
            }
        }
        throw new IllegalArgumentException(name);
    }

    private static GraphProto.Builder setNode(GraphProto.Builder g, String name, UnaryOperator<NodeProto.Builder> f) {
        int i = nodeIndex(g, name);
        return g.setNode(i, f.apply(g.getNode(i).toBuilder()));
    }

    private static GraphProto.Builder setInputDim(GraphProto.Builder g, int axis, long value) {
        ValueInfoProto in = g.getInput(0);
        TensorShapeProto.Builder shape = in.getType().getTensorType().getShape().toBuilder();
        shape.setDim(axis, TensorShapeProto.Dimension.newBuilder().setDimValue(value));
        ValueInfoProto.Builder b = in.toBuilder();
        b.getTypeBuilder().getTensorTypeBuilder().setShape(shape);
        return g.setInput(0, b);
    }

    /** Structural mutations real hostile or broken files carry. */
    static Map<String, ModelProto> structuralCases() {
        Map<String, ModelProto> cases = new LinkedHashMap<>();
        long[][] absurdDims = {{-1, 400}, {0, 400}, {1L << 40, 1L << 40}, {Long.MAX_VALUE, 2}, {120, 400, 1 << 30}};
        for (long[] dims : absurdDims) {
            cases.put("absurd dims " + Arrays.toString(dims), withGraph(g -> setWeight(g, "fc1.weight",
                    t -> t.clearDims().addAllDims(Arrays.stream(dims).boxed().toList()))));
        }
        cases.put("raw_data shorter than shape", withGraph(g -> setWeight(g, "conv2.weight",
                t -> t.setRawData(t.getRawData().substring(0, 100)))));
        for (int type : new int[] {0, 8, 3, 7, 999}) {
            cases.put("weight data type " + type, withGraph(g -> setWeight(g, "conv1.weight", t -> t.setDataType(type))));
        }
        cases.put("cycle", withGraph(g -> setNode(g, "/conv1/Conv", n -> n.setInput(0, "/relu4/Relu_output_0"))));
        cases.put("dangling tensor name", withGraph(g -> setNode(g, "/fc2/Gemm", n -> n.setInput(0, "nowhere"))));
        cases.put("duplicate node outputs", withGraph(g -> setNode(g, "/relu1/Relu",
                n -> n.setOutput(0, "/relu2/Relu_output_0"))));
        cases.put("missing initializer", withGraph(g -> g.removeInitializer(initializerIndex(g, "fc3.weight"))));
        cases.put("zero input dim", withGraph(g -> setInputDim(g, 2, 0)));
        cases.put("negative input dim", withGraph(g -> setInputDim(g, 3, -5)));
        cases.put("huge input dims", withGraph(g -> setInputDim(setInputDim(g, 2, 1L << 31), 3, 1L << 31)));
        cases.put("conv stride 0", withGraph(g -> setNode(g, "/conv1/Conv",
                n -> n.addAttribute(Attrs.ofInts("strides", 0, 0)))));
        cases.put("conv group 0", withGraph(g -> setNode(g, "/conv2/Conv", n -> n.addAttribute(Attrs.ofInt("group", 0)))));
        cases.put("conv group 7", withGraph(g -> setNode(g, "/conv2/Conv", n -> n.addAttribute(Attrs.ofInt("group", 7)))));
        cases.put("huge pads", withGraph(g -> setNode(g, "/conv1/Conv",
                n -> n.addAttribute(Attrs.ofInts("pads", 1 << 20, 1 << 20, 1 << 20, 1 << 20)))));
        cases.put("unknown op", withGraph(g -> setNode(g, "/relu3/Relu", n -> n.setOpType("NoSuchOp"))));
        cases.put("no opset", lenet().toBuilder().clearOpsetImport().build());
        cases.put("future opset", lenet().toBuilder().setOpsetImport(0,
                lenet().getOpsetImport(0).toBuilder().setVersion(999)).build());
        cases.put("ir_version 0", lenet().toBuilder().setIrVersion(0).build());
        cases.put("empty graph", lenet().toBuilder().setGraph(GraphProto.newBuilder().setName("g")).build());
        cases.put("no inputs", withGraph(GraphProto.Builder::clearInput));
        return cases;
    }

    /**
     * The structural cases some commands accept, and why: eval, finetune and run take the input shape from the data
     * (run measures a model with open dims at its data's sample shape), so a negative declared input dim does not
     * matter to them.
     */
    private static final Map<String, Set<String>> HARMLESS_TO = Map.of("negative input dim",
            Set.of("eval", "finetune (teacher)", "finetune (student)", "run"));

    @net.jqwik.api.Example
    void structurallyBroken() throws IOException {
        for (Map.Entry<String, ModelProto> c : structuralCases().entrySet()) {
            assertCleanOutcome("structural: " + c.getKey(), c.getValue().toByteArray(), true,
                    HARMLESS_TO.getOrDefault(c.getKey(), Set.of())::contains);
        }
    }

    private static final String RESIZED = "32x32 images for a 28x28 model";

    /** Broken IDX data sets: {images file, labels file}; {@code null} labels means none beside the images. */
    static Map<String, byte[][]> badDataCases() throws IOException {
        byte[] images = TestDirs.gunzip(TestModels.MNIST.resolve("t10k-images-idx3-ubyte.gz"));
        byte[] labels = TestDirs.gunzip(TestModels.MNIST.resolve("t10k-labels-idx1-ubyte.gz"));
        byte[] gz = Files.readAllBytes(TestModels.MNIST.resolve("t10k-images-idx3-ubyte.gz"));
        Map<String, byte[][]> cases = new LinkedHashMap<>();
        cases.put("empty images file", new byte[][] {new byte[0], labels});
        cases.put("truncated gzip", new byte[][] {Arrays.copyOf(gz, gz.length / 2), labels});
        cases.put("corrupt gzip body", new byte[][] {flip(gz, gz.length / 3), labels});
        cases.put("truncated images", new byte[][] {Arrays.copyOf(images, images.length - 100), labels});
        cases.put("truncated header", new byte[][] {Arrays.copyOf(images, 10), labels});
        cases.put("extra bytes", new byte[][] {Arrays.copyOf(images, images.length + 7), labels});
        cases.put("wrong magic", new byte[][] {withInt(images, 0, 0x12345678), labels});
        cases.put("float element type", new byte[][] {withInt(images, 0, 0x00000D03), labels});
        cases.put("labels file as images", new byte[][] {labels, labels});
        cases.put("claims 2^31-1 images", new byte[][] {withInt(images, 4, Integer.MAX_VALUE), labels});
        cases.put("claims 65536x65536 pixels", new byte[][] {withInt(withInt(images, 8, 65536), 12, 65536), labels});
        cases.put("negative dim", new byte[][] {withInt(images, 8, -28), labels});
        cases.put("zero images", new byte[][] {Arrays.copyOf(withInt(images, 4, 0), 16), labels});
        cases.put("label count mismatch", new byte[][] {images, Arrays.copyOf(withInt(labels, 4, 1999),
                8 + 1999)});
        cases.put("label 255 of 10 classes", new byte[][] {images, withByte(labels, 8, 255)});
        cases.put("labels truncated", new byte[][] {images, Arrays.copyOf(labels, 500)});
        cases.put(RESIZED, new byte[][] {idx32(), null});
        return cases;
    }

    private static byte[] flip(byte[] b, int at) {
        byte[] c = b.clone();
        for (int i = at; i < at + 64; i++) {
            c[i] ^= (byte) 0x5a;
        }
        return c;
    }

    private static byte[] withInt(byte[] b, int at, int value) {
        byte[] c = b.clone();
        ByteBuffer.wrap(c).putInt(at, value);
        return c;
    }

    private static byte[] withByte(byte[] b, int at, int value) {
        byte[] c = b.clone();
        c[at] = (byte) value;
        return c;
    }

    private static byte[] idx32() {
        ByteBuffer b = ByteBuffer.allocate(16 + 4 * 32 * 32);
        b.putInt(0x00000803).putInt(4).putInt(32).putInt(32);
        return b.array();
    }

    @net.jqwik.api.Example
    void badDataFiles() throws IOException {
        Path student = student();
        for (Map.Entry<String, byte[][]> c : badDataCases().entrySet()) {
            Path dir = Files.createTempDirectory("hostile-data");
            Path images = dir.resolve("train-images-idx3-ubyte.gz");
            Files.write(images, c.getValue()[0]);
            if (c.getValue()[1] != null) {
                Files.write(dir.resolve("train-labels-idx1-ubyte.gz"), c.getValue()[1]);
            }
            Path out = dir.resolve("out.onnx");
            List<String> before = TestDirs.listing(dir);
            String[][] runs = {
                {"eval", "eval", "--model", TestModels.LENET.toString(), "--data", images.toString(), "--threads", "1"},
                {"finetune", "finetune", "--teacher", TestModels.LENET.toString(), "--student", student.toString(),
                    "--data", dir.toString(), "--epochs", "1", "--limit", "64", "-o", out.toString()}};
            try {
                for (String[] run : runs) {
                    String[] args = Arrays.copyOfRange(run, 1, run.length);
                    String what = "bad data: " + c.getKey() + " / " + run[0];
                    CASES.computeIfAbsent("bad data", k -> new AtomicInteger()).incrementAndGet();
                    Cli.Result r = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> Cli.run(args), what);
                    OUTCOMES.computeIfAbsent(what, k -> new TreeMap<>()).merge(r.exitCode(), 1, Integer::sum);
                    if (r.exitCode() == 0) {
                        // images of another size are resized to the model's input, as the preprocessing flags say
                        assertTrue(c.getKey().startsWith(RESIZED), what + " was accepted");
                        for (String f : TestDirs.listing(dir)) {
                            if (!before.contains(f)) {
                                Files.delete(dir.resolve(f));
                            }
                        }
                        continue;
                    }
                    assertTrue(r.exitCode() == 1 || r.exitCode() == 2, what + ": exit " + r.exitCode());
                    assertTrue(r.errIsOneLine() && !r.err().contains("internal error")
                            && !r.err().contains("out of memory"), what + ": " + r.err());
                    assertEquals(before, TestDirs.listing(dir), what + ": failure left files behind");
                }
            } finally {
                TestDirs.clearExcept(dir, null);
            }
        }
    }

    @AfterContainer
    static void printCounts() {
        System.out.println("hostile-model cases: " + CASES + "; seconds per command: " + SECONDS);
        OUTCOMES.forEach((k, v) -> System.out.println("hostile-model outcome: " + k + " exit codes " + v));
    }
}
