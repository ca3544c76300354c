package org.lrdkt.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.lrdkt.Cli;
import org.lrdkt.Json;
import org.lrdkt.LrdktException;
import org.lrdkt.ModelBuilder;
import org.lrdkt.onnx.OnnxModel;
import org.lrdkt.onnx.TensorData;
import org.lrdkt.onnx.proto.Onnx.GraphProto;
import org.lrdkt.onnx.proto.Onnx.ModelProto;
import org.lrdkt.onnx.proto.Onnx.TensorProto;

/**
 * Weights that break naive arithmetic. NaN/Inf in a layer about to be decomposed (weight, bias or folded
 * BatchNormalization) is refused with an error naming the layer, since every factor would be NaN; the layer can be
 * left out with --exclude. All-zero layers become an exact rank-1 pair of zeros. Rank-deficient layers are reported
 * with their numerical rank and, at energy 1, cut there. In every accepted case ONNX Runtime's outputs stay finite.
 */
class NumericalSanityTest {

    private static final long[] INPUT = {1, 3, 12, 12};

    @TempDir
    Path dir;

    /** conv1 (8,3,3,3) + BN, relu, conv2 (16,8,3,3) with bias, relu, flatten, fc (2304 → 10). */
    private static OnnxModel model() {
        return new ModelBuilder(INPUT).conv("conv1", new long[] {8, 3, 3, 3}, false).batchNorm("bn1", 8).relu()
                .conv("conv2", new long[] {16, 8, 3, 3}, true).relu().flatten().gemm("fc", 16 * 8 * 8, 10, true, true,
                        1, 1).build();
    }

    private static OnnxModel withInitializer(OnnxModel m, String name, UnaryOperator<float[]> change) {
        GraphProto.Builder g = m.graph().toBuilder();
        for (int i = 0; i < g.getInitializerCount(); i++) {
            TensorProto t = g.getInitializer(i);
            if (t.getName().equals(name)) {
                float[] values = change.apply(floats(t));
                g.setInitializer(i, TensorData.fromFloats(name, TensorData.dims(t), values, t.getDataType()));
                return OnnxModel.of(m.proto().toBuilder().setGraph(g).build());
            }
        }
        throw new IllegalArgumentException(name);
    }

    private static float[] floats(TensorProto t) {
        try {
            return TensorData.toFloats(t);
        } catch (LrdktException e) {
            throw new IllegalStateException(e);
        }
    }

    private static UnaryOperator<float[]> set(int index, float value) {
        return v -> {
            v[index] = value;
            return v;
        };
    }

    private Path save(OnnxModel m, String name) throws Exception {
        Path p = dir.resolve(name);
        m.save(p, OnnxModel.ExternalData.NEVER);
        return p;
    }

    private Cli.Result compress(OnnxModel m, String... flags) throws Exception {
        Path in = save(m, "in.onnx");
        String[] args = new String[flags.length + 6];
        args[0] = "compress";
        args[1] = in.toString();
        args[2] = "-o";
        args[3] = dir.resolve("out.onnx").toString();
        args[4] = "--report";
        args[5] = dir.resolve("report.json").toString();
        System.arraycopy(flags, 0, args, 6, flags.length);
        return Cli.run(args);
    }

    private void assertRefused(OnnxModel m, String... expected) throws Exception {
        Cli.Result r = compress(m);
        assertEquals(1, r.exitCode(), r.err());
        assertTrue(r.errIsOneLine(), r.err());
        for (String e : expected) {
            assertTrue(r.err().contains(e), r.err() + " should name " + e);
        }
        assertTrue(!Files.exists(dir.resolve("out.onnx")), "no output after a refusal");
    }

    @Test
    void nonFiniteWeightsAreRefusedNamingTheLayer() throws Exception {
        assertRefused(withInitializer(model(), "conv2.weight", set(5, Float.NaN)), "layer 'conv2'", "weight",
                "NaN");
        assertRefused(withInitializer(model(), "fc.weight", set(77, Float.NEGATIVE_INFINITY)), "layer 'fc'",
                "-Infinity");
        assertRefused(withInitializer(model(), "conv2.bias", set(3, Float.POSITIVE_INFINITY)), "layer 'conv2'",
                "bias");
        assertRefused(withInitializer(model(), "bn1.var", set(2, -1f)), "layer 'conv1'", "bn1", "variance");
        assertRefused(withInitializer(model(), "bn1.scale", set(0, Float.NaN)), "layer 'conv1'", "bn1");
    }

    @Test
    void aNonFiniteLayerCanBeExcluded() throws Exception {
        OnnxModel m = withInitializer(model(), "fc.weight", set(0, Float.NaN));
        Cli.Result r = compress(m, "--exclude", "^fc$");
        assertEquals(0, r.exitCode(), r.err());
    }

    private static float[] finiteOutput(Path model) throws Exception {
        float[] x = ModelBuilder.random(9, (int) (INPUT[1] * INPUT[2] * INPUT[3]), 1f);
        float[] y = ModelBuilder.run(OnnxModel.load(model), x, INPUT);
        for (float v : y) {
            assertTrue(Float.isFinite(v), model + " output holds " + v);
        }
        return y;
    }

    private JsonNode layer(String name) throws Exception {
        for (JsonNode l : Json.MAPPER.readTree(dir.resolve("report.json").toFile()).get("layers")) {
            if (l.get("name").asText().equals(name)) {
                return l;
            }
        }
        throw new AssertionError(name + " not in the report");
    }

    @ParameterizedTest
    @ValueSource(strings = {"svd", "gram"})
    void allZeroLayersBecomeAnExactZeroPair(String solver) throws Exception {
        OnnxModel m = withInitializer(withInitializer(model(), "fc.weight", v -> new float[v.length]),
                "conv2.weight", v -> new float[v.length]);
        Cli.Result r = compress(m, "--solver", solver, "--energy", "0.9");
        assertEquals(0, r.exitCode(), r.err());
        for (String name : new String[] {"fc", "conv2"}) {
            JsonNode l = layer(name);
            assertEquals("DECOMPOSED", l.get("status").asText(), name);
            assertEquals(1, l.get("rank").asInt(), name);
            assertEquals(0, l.get("numericalRank").asInt(), name);
            assertEquals(1.0, l.get("energyKept").asDouble(), 0, name);
        }
        float[] teacher = finiteOutput(save(m, "teacher.onnx"));
        float[] student = finiteOutput(dir.resolve("out.onnx"));
        for (int i = 0; i < teacher.length; i++) {
            assertEquals(teacher[i], student[i], 1e-5f);
        }
    }

    /** A weight of exactly rank {@code rank} in its paper unfolding: a sum of {@code rank} outer products. */
    private static float[] lowRank(int rows, int cols, int rank, long seed) {
        Random r = new Random(seed);
        float[] m = new float[rows * cols];
        for (int k = 0; k < rank; k++) {
            float[] a = new float[rows];
            float[] b = new float[cols];
            for (int i = 0; i < rows; i++) {
                a[i] = (float) r.nextGaussian();
            }
            for (int j = 0; j < cols; j++) {
                b[j] = (float) r.nextGaussian() * 0.1f;
            }
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < cols; j++) {
                    m[i * cols + j] += a[i] * b[j];
                }
            }
        }
        return m;
    }

    /** conv2's spatial unfolding is (C·kh) × (N·kw) with M[(c,i),(n,j)] = W[n,c,i,j]; fold a low-rank M back. */
    private static float[] spatialLowRank(int n, int c, int kh, int kw, int rank) {
        float[] m = lowRank(c * kh, n * kw, rank, 5);
        float[] w = new float[n * c * kh * kw];
        for (int o = 0; o < n; o++) {
            for (int ci = 0; ci < c; ci++) {
                for (int i = 0; i < kh; i++) {
                    for (int j = 0; j < kw; j++) {
                        w[((o * c + ci) * kh + i) * kw + j] = m[(ci * kh + i) * (n * kw) + o * kw + j];
                    }
                }
            }
        }
        return w;
    }

    private static OnnxModel rankDeficient() {
        return withInitializer(withInitializer(model(), "fc.weight", v -> lowRank(10, 16 * 8 * 8, 3, 4)),
                "conv2.weight", v -> spatialLowRank(16, 8, 3, 3, 2));
    }

    @ParameterizedTest
    @ValueSource(strings = {"svd", "gram"})
    void rankDeficientLayersAreCutAtTheirNumericalRankAndReported(String solver) throws Exception {
        OnnxModel m = rankDeficient();
        Cli.Result r = compress(m, "--solver", solver, "--energy", "1");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("(rank 3)") && r.out().contains("(rank 2)"), r.out());
        assertEquals(3, layer("fc").get("numericalRank").asInt());
        assertEquals(3, layer("fc").get("rank").asInt());
        assertEquals(2, layer("conv2").get("numericalRank").asInt());
        assertEquals(2, layer("conv2").get("rank").asInt());
        assertTrue(layer("conv2").get("energyKept").asDouble() > 1 - 1e-6);
        float[] teacher = finiteOutput(save(m, "teacher.onnx"));
        float[] student = finiteOutput(dir.resolve("out.onnx"));
        assertTrue(ModelBuilder.relativeError(student, teacher) < 1e-4, "exact up to round-off");
    }

    @ParameterizedTest
    @ValueSource(strings = {"svd", "gram"})
    void ranksBeyondTheNumericalRankStayFinite(String solver) throws Exception {
        OnnxModel m = rankDeficient();
        Path ranks = dir.resolve("ranks.json");
        Files.writeString(ranks, "{\"fc\": 9, \"conv2\": 10}");
        Cli.Result r = compress(m, "--solver", solver, "--ranks", ranks.toString());
        assertEquals(0, r.exitCode(), r.err());
        assertEquals(9, layer("fc").get("rank").asInt());
        float[] teacher = finiteOutput(save(m, "teacher.onnx"));
        float[] student = finiteOutput(dir.resolve("out.onnx"));
        assertTrue(ModelBuilder.relativeError(student, teacher) < 1e-4, "exact up to round-off");
    }

    @Test
    void tinyWeightsNearUnderflowStayFinite() throws Exception {
        OnnxModel m = withInitializer(model(), "fc.weight", v -> {
            for (int i = 0; i < v.length; i++) {
                v[i] *= 1e-30f;
            }
            return v;
        });
        Cli.Result r = compress(m, "--solver", "gram", "--energy", "0.9");
        assertEquals(0, r.exitCode(), r.err());
        finiteOutput(dir.resolve("out.onnx"));
        ModelProto student = OnnxModel.load(dir.resolve("out.onnx")).proto();
        for (TensorProto t : student.getGraph().getInitializerList()) {
            for (float v : floats(t)) {
                assertTrue(Float.isFinite(v), t.getName());
            }
        }
    }
}
