package org.lrdkt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.lrdkt.Cli;
import org.lrdkt.ModelBuilder;
import org.lrdkt.Npy;
import org.lrdkt.onnx.Attrs;
import org.lrdkt.onnx.OnnxModel;
import org.lrdkt.onnx.proto.Onnx.TensorProto;

/**
 * Both fp16 export forms through the whole pipeline: compressed (calibrated), fine-tuned in fp32 and written with
 * every weight, factors included, still in FLOAT16.
 */
class HalfPrecisionRunTest {

    @TempDir
    static Path dir;

    static Stream<Arguments> exports() {
        int half = TensorProto.DataType.FLOAT16_VALUE;
        return Stream.of(Arguments.of("fp16 graph, Casts at input and output", ModelBuilder.typed(half, -1, 3, 8, 8)),
                Arguments.of("fp16 weights each Cast to float", ModelBuilder.castWeights(half, -1, 3, 8, 8)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("exports")
    void runKeepsWeightsInHalfPrecision(String label, ModelBuilder b) throws Exception {
        Path teacher = dir.resolve(label.hashCode() + ".onnx");
        b.conv("conv1", new long[] {16, 3, 3, 3}, true, Attrs.ofInts("pads", 1, 1, 1, 1)).batchNorm("bn", 16).relu()
                .conv("conv2", new long[] {16, 16, 3, 3}, true, Attrs.ofInts("pads", 1, 1, 1, 1)).relu().flatten()
                .gemm("fc", 16 * 8 * 8, 10, true, true, 1f, 1f).build().save(teacher, OnnxModel.ExternalData.NEVER);
        Path data = Npy.writeFloats(dir.resolve("noise.npy"), new long[] {64, 3, 8, 8},
                ModelBuilder.random(5, 64 * 3 * 8 * 8, 1f));
        Path out = dir.resolve(label.hashCode() + ".student.onnx");
        Cli.Result r = Cli.run("run", teacher.toString(), "--data", data.toString(), "--test-data", data.toString(),
                "--target-macs", "0.5", "--epochs", "2", "--batch", "16", "--bench-runs", "4", "--bench-block", "2",
                "--bench-warmup", "1", "-o", out.toString());
        assertEquals(0, r.exitCode(), r.err());
        OnnxModel student = OnnxModel.load(out);
        assertTrue(student.graph().getNodeList().stream().anyMatch(n -> n.getName().startsWith("conv2/lrd_")),
                "conv2 decomposed:\n" + r.out());
        for (TensorProto t : student.graph().getInitializerList()) {
            assertEquals(TensorProto.DataType.FLOAT16_VALUE, t.getDataType(), t.getName());
        }
    }
}
