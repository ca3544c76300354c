package org.lrdkt.reliability;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.lrdkt.Cli;
import org.lrdkt.ModelBuilder;
import org.lrdkt.TestModels;
import org.lrdkt.onnx.OnnxModel;

/**
 * Same input and flags give a byte-identical compressed model: twice in one JVM, in a fresh JVM, and whether the
 * layers are analysed on one thread or several. Not across BLAS thread counts: OpenBLAS's results for the SVD and
 * eigen routines differ in the last bits between OMP_NUM_THREADS=1 and 2 (measured on LeNet-5), so a byte-exact
 * rerun needs the same OMP_NUM_THREADS, which the child JVM is given ({@link AtomicOutputsTest#start}).
 */
class ReproducibleOutputsTest {

    @TempDir
    Path dir;

    /** Conv+BN, a second conv, a Gemm and a MatMul+Add: every layer kind the compressor rewrites. */
    private Path multiLayer() throws Exception {
        Path p = dir.resolve("multi.onnx");
        new ModelBuilder(1, 3, 16, 16).conv("conv1", new long[] {16, 3, 3, 3}, false).batchNorm("bn1", 16).relu()
                .conv("conv2", new long[] {32, 16, 3, 3}, true).relu().flatten()
                .gemm("fc1", 32 * 12 * 12, 128, true, true, 1, 1).relu().matMul("fc2", 128, 10, true).build()
                .save(p, OnnxModel.ExternalData.NEVER);
        return p;
    }

    static Stream<Arguments> flagSets() {
        return Stream.of(
                Arguments.of("lenet", new String[] {}),
                Arguments.of("lenet", new String[] {"--target-macs", "0.3"}),
                Arguments.of("lenet", new String[] {"--scheme", "auto", "--target-params", "0.4", "--round-to", "4"}),
                Arguments.of("multi", new String[] {"--energy", "0.8", "--solver", "gram"}),
                Arguments.of("multi", new String[] {"--target-macs", "0.5", "--scheme", "auto"}),
                Arguments.of("multi", new String[] {"--target-params", "0.3", "--scheme", "channel", "--solver",
                    "svd"}));
    }

    private byte[] compress(Path model, String name, String[] flags, String... extra) throws Exception {
        Path out = dir.resolve(name);
        List<String> args = new ArrayList<>(List.of("compress", model.toString(), "-o", out.toString()));
        args.addAll(List.of(flags));
        args.addAll(List.of(extra));
        Cli.Result r = Cli.run(args.toArray(String[]::new));
        assertEquals(0, r.exitCode(), r.err());
        return Files.readAllBytes(out);
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("flagSets")
    void sameFlagsGiveTheSameBytes(String model, String[] flags) throws Exception {
        Path in = model.equals("lenet") ? TestModels.LENET : multiLayer();
        byte[] first = compress(in, "a.onnx", flags);
        assertArrayEquals(first, compress(in, "b.onnx", flags), "second run");
        assertArrayEquals(first, compress(in, "c.onnx", flags, "--threads", "2"), "layers analysed in parallel");
    }

    @Test
    void aFreshJvmWritesTheSameBytes() throws Exception {
        String[] flags = {"--target-macs", "0.3", "--scheme", "auto"};
        Path in = multiLayer();
        byte[] here = compress(in, "here.onnx", flags);
        Path there = dir.resolve("there.onnx");
        ChildRuns.runToEnd(dir, "compress", in.toString(), "-o", there.toString(), flags[0], flags[1],
                flags[2], flags[3]);
        assertArrayEquals(here, Files.readAllBytes(there));
    }
}
