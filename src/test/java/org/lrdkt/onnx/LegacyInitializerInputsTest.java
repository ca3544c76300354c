package org.lrdkt.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lrdkt.Cli;
import org.lrdkt.ModelBuilder;
import org.lrdkt.onnx.proto.Onnx.GraphProto;
import org.lrdkt.onnx.proto.Onnx.ModelProto;
import org.lrdkt.onnx.proto.Onnx.TensorProto;
import org.lrdkt.onnx.proto.Onnx.TensorShapeProto;
import org.lrdkt.onnx.proto.Onnx.TypeProto;
import org.lrdkt.onnx.proto.Onnx.ValueInfoProto;

/** A model of IR version 3 lists every initializer among its inputs, and so must every model lrdkt writes of it. */
class LegacyInitializerInputsTest {

    private static final Path CHECKER = Path.of("tools/check_onnx.py");

    @TempDir
    Path dir;

    private static final long[] INPUT = {1, 16, 12, 12};

    /** Conv, ReLU, Flatten, Gemm as an IR 3 exporter writes it: the weights listed as inputs too. */
    private static OnnxModel irThreeTeacher() {
        ModelProto built = new ModelBuilder(INPUT).conv("conv", new long[] {32, 16, 3, 3}, true).relu().flatten()
                .gemm("fc", 32 * 10 * 10, 10, true, true, 1f, 1f).build().proto();
        GraphProto.Builder graph = built.getGraph().toBuilder();
        for (TensorProto t : built.getGraph().getInitializerList()) {
            TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
            t.getDimsList().forEach(d -> shape.addDimBuilder().setDimValue(d));
            graph.addInput(ValueInfoProto.newBuilder().setName(t.getName()).setType(TypeProto.newBuilder()
                    .setTensorType(TypeProto.Tensor.newBuilder().setElemType(t.getDataType()).setShape(shape))));
        }
        // ONNX's checker wants the output's shape, which ModelBuilder leaves out
        graph.getOutputBuilder(0).getTypeBuilder().getTensorTypeBuilder().setShape(TensorShapeProto.newBuilder()
                .addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(1))
                .addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(10)));
        return OnnxModel.of(built.toBuilder().setIrVersion(3).setGraph(graph).build());
    }

    private static Set<String> names(List<ValueInfoProto> values) {
        Set<String> names = new HashSet<>();
        values.forEach(v -> assertTrue(names.add(v.getName()), "listed twice: " + v.getName()));
        return names;
    }

    private Path compressed() throws Exception {
        Path teacher = dir.resolve("ir3.onnx");
        irThreeTeacher().save(teacher, OnnxModel.ExternalData.NEVER);
        Path student = dir.resolve("ir3-lrd.onnx");
        Cli.Result r = Cli.run("compress", teacher.toString(), "-o", student.toString(), "--energy", "0.5");
        assertEquals(0, r.exitCode(), r.err());
        return student;
    }

    @Test
    void aRewrittenIrThreeModelListsEveryInitializerAsAnInputAndRunsTheSame() throws Exception {
        OnnxModel student = OnnxModel.load(compressed());
        assertEquals(3, student.proto().getIrVersion());
        Set<String> initializers = new HashSet<>();
        student.graph().getInitializerList().forEach(t -> initializers.add(t.getName()));
        assertTrue(initializers.size() > 4, "the rewrite added factor weights: " + initializers);
        Set<String> inputs = names(student.graph().getInputList());
        assertTrue(inputs.containsAll(initializers), "unlisted: " + initializers.stream()
                .filter(n -> !inputs.contains(n)).toList());
        assertEquals(List.of("input"), Graph.of(student).realInputs().stream().map(ValueInfoProto::getName).toList(),
                "no weight became an input the caller must feed");
        float[] x = ModelBuilder.random(3, 16 * 12 * 12, 1f);
        assertEquals(10, ModelBuilder.run(student, x, INPUT).length);
    }

    @Test
    void modelsOfLaterIrVersionsAreWrittenAsTheyAre() throws Exception {
        ModelProto irSeven = new ModelBuilder(INPUT).conv("conv", new long[] {32, 16, 3, 3}, true).build().proto();
        Path saved = dir.resolve("ir7.onnx");
        OnnxModel.of(irSeven).save(saved, OnnxModel.ExternalData.NEVER);
        assertArrayEquals(irSeven.toByteArray(), Files.readAllBytes(saved));
    }

    @Test
    void onnxsOwnCheckerAcceptsTheRewrittenModel() throws Exception {
        assumeTrue(pythonOnnxAvailable(), "/usr/bin/python3 with the onnx package (tools/setup-python.sh)");
        Path student = compressed();
        Process checker = new ProcessBuilder(CHECKER.toAbsolutePath().toString(), student.toString())
                .redirectErrorStream(true).start();
        String output = new String(checker.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, checker.waitFor(), output);
        assertTrue(output.startsWith("ok "), output);
    }

    private static boolean pythonOnnxAvailable() throws Exception {
        Path python = Path.of("/usr/bin/python3");
        if (!Files.isExecutable(python)) {
            return false;
        }
        Process probe = new ProcessBuilder(python.toString(), "-c", "import onnx").redirectErrorStream(true).start();
        probe.getInputStream().readAllBytes();
        return probe.waitFor() == 0;
    }
}
