package org.lrdkt.reliability;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
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

/**
 * Hostile and malformed models, seeded and bounded: every command that reads a model must answer with exit code 0
 * (a harmless mutation), or 1/2 with exactly one line on stderr — never a stack trace, a hang or an
 * OutOfMemoryError from a size the file merely claims. The counts of cases tried are printed for BENCHMARKS.md.
 */
class HostileModelsTest {

    private static final byte[] LENET = read(TestModels.LENET);
    private static final Map<String, AtomicInteger> TRIED = new LinkedHashMap<>();

    private static byte[] read(Path p) {
        try {
            return Files.readAllBytes(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Commands run against each hostile model; {@code MODEL} and {@code OUT} are substituted. */
    static List<String[]> commands() {
        List<String[]> commands = new ArrayList<>();
        commands.add(new String[] {"inspect", "MODEL"});
        return commands;
    }

    private static void assertCleanOutcome(String category, byte[] model) throws IOException {
        Path dir = Files.createTempDirectory("hostile");
        Path file = dir.resolve("m.onnx");
        Files.write(file, model);
        for (String[] template : commands()) {
            String[] args = template.clone();
            for (int i = 0; i < args.length; i++) {
                args[i] = args[i].replace("MODEL", file.toString()).replace("OUT", dir.resolve("out.onnx").toString());
            }
            Cli.Result r = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> Cli.run(args),
                    category + ": " + args[0] + " hung");
            TRIED.computeIfAbsent(category + " / " + args[0], k -> new AtomicInteger()).incrementAndGet();
            assertTrue(r.exitCode() == 0 || r.exitCode() == 1 || r.exitCode() == 2, category + ": exit " + r.exitCode());
            if (r.exitCode() != 0) {
                assertTrue(r.errIsOneLine() && !r.err().contains("internal error") && !r.err().contains("out of memory"),
                        category + " / " + args[0] + ": " + r.err());
            }
        }
        try (var files = Files.list(dir)) {
            files.forEach(f -> f.toFile().delete());
        }
        Files.delete(dir);
    }

    @Property(tries = 40, seed = "20261125")
    void truncatedAnywhere(@ForAll @IntRange(min = 0, max = 248_569) int length) throws IOException {
        assertCleanOutcome("truncated file", java.util.Arrays.copyOf(LENET, Math.min(length, LENET.length - 1)));
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
        assertCleanOutcome("flipped bytes", b);
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
            cases.put("absurd dims " + java.util.Arrays.toString(dims), withGraph(g -> setWeight(g, "fc1.weight",
                    t -> t.clearDims().addAllDims(java.util.Arrays.stream(dims).boxed().toList()))));
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

    @net.jqwik.api.Example
    void structurallyBroken() throws IOException {
        for (Map.Entry<String, ModelProto> c : structuralCases().entrySet()) {
            assertCleanOutcome("structural: " + c.getKey(), c.getValue().toByteArray());
        }
    }

    @AfterContainer
    static void printCounts() {
        int total = TRIED.values().stream().mapToInt(AtomicInteger::get).sum();
        System.out.println("hostile-model cases tried: " + total + " " + TRIED);
    }
}
