package org.lrdkt.decompose;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.lrdkt.Json;
import org.lrdkt.LrdktException;
import org.lrdkt.ModelBuilder;
import org.lrdkt.onnx.Attrs;
import org.lrdkt.onnx.Graph;
import org.lrdkt.onnx.OnnxModel;
import org.lrdkt.onnx.proto.Onnx.AttributeProto;
import org.lrdkt.onnx.proto.Onnx.NodeProto;
import org.lrdkt.onnx.proto.Onnx.TensorProto;

/** At full rank every factorisation reproduces the original layer's output in ONNX Runtime. */
class FactorisationTest {

    private static final double TOLERANCE = 1e-4;

    static Stream<Arguments> convGeometries() {
        return Stream.of(
                Arguments.of("stride 1, no pad", new AttributeProto[] {}),
                Arguments.of("stride 2, symmetric pad", new AttributeProto[] {Attrs.ofInts("strides", 2, 2),
                        Attrs.ofInts("pads", 1, 1, 1, 1)}),
                Arguments.of("strides 2x1, asymmetric pads", new AttributeProto[] {Attrs.ofInts("strides", 2, 1),
                        Attrs.ofInts("pads", 0, 2, 1, 0)}),
                Arguments.of("auto_pad SAME_UPPER stride 2", new AttributeProto[] {Attrs.ofString("auto_pad",
                        "SAME_UPPER"), Attrs.ofInts("strides", 2, 2)}),
                Arguments.of("auto_pad SAME_LOWER", new AttributeProto[] {Attrs.ofString("auto_pad", "SAME_LOWER"),
                        Attrs.ofInts("strides", 1, 2)}),
                Arguments.of("auto_pad VALID", new AttributeProto[] {Attrs.ofString("auto_pad", "VALID")}),
                Arguments.of("dilation 2", new AttributeProto[] {Attrs.ofInts("dilations", 2, 2),
                        Attrs.ofInts("pads", 2, 1, 2, 1)}));
    }

    @ParameterizedTest(name = "spatial {0}")
    @MethodSource("convGeometries")
    void spatialFullRankReproducesConv(String label, AttributeProto[] attrs) throws LrdktException {
        checkConvFullRank(CompressOptions.Scheme.SPATIAL, attrs, "lrd_v", "lrd_h");
    }

    @ParameterizedTest(name = "channel {0}")
    @MethodSource("convGeometries")
    void channelFullRankReproducesConv(String label, AttributeProto[] attrs) throws LrdktException {
        checkConvFullRank(CompressOptions.Scheme.CHANNEL, attrs, "lrd_k", "lrd_1x1");
    }

    private static void checkConvFullRank(CompressOptions.Scheme scheme, AttributeProto[] attrs, String first,
                                          String second) throws LrdktException {
        // kh ≠ kw catches axis mix-ups; 12x10 makes SAME padding totals odd (upper ≠ lower)
        ModelBuilder b = new ModelBuilder(2, 4, 12, 10).conv("conv", new long[] {6, 4, 3, 5}, true, attrs).relu();
        OnnxModel teacher = b.build();
        int full = scheme == CompressOptions.Scheme.SPATIAL ? Math.min(4 * 3, 6 * 5) : Math.min(4 * 3 * 5, 6);
        OnnxModel student = fullRank(teacher, scheme, Map.of("conv", full));
        assertNodes(student, "conv/" + first, "conv/" + second);
        assertTrue(ModelBuilder.outputError(teacher, student, b.inputShape()) < TOLERANCE);
    }

    @ParameterizedTest(name = "Gemm transB={0} alpha={1} beta={2} bias={3}")
    @MethodSource("gemmCases")
    void gemmFullRankReproducesLayer(boolean transB, float alpha, float beta, boolean bias) throws LrdktException {
        ModelBuilder b = new ModelBuilder(3, 12).gemm("fc", 12, 7, transB, bias, alpha, beta);
        OnnxModel teacher = b.build();
        OnnxModel student = fullRank(teacher, CompressOptions.Scheme.SPATIAL, Map.of("fc", 7));
        assertNodes(student, "fc/lrd_a", "fc/lrd_b");
        for (NodeProto n : student.graph().getNodeList()) {
            if (n.getName().startsWith("fc/")) {
                assertEquals("Gemm", n.getOpType());
                assertEquals(transB ? 1 : 0, Attrs.getInt(n, "transB", 0));
            }
        }
        assertTrue(ModelBuilder.outputError(teacher, student, b.inputShape()) < TOLERANCE);
    }

    static Stream<Arguments> gemmCases() {
        return Stream.of(Arguments.of(true, 1f, 1f, true), Arguments.of(false, 1f, 1f, true),
                Arguments.of(true, 0.7f, 1.9f, true), Arguments.of(false, 1.3f, 0.4f, true),
                Arguments.of(false, 1f, 1f, false));
    }

    @ParameterizedTest(name = "MatMul bias={0}")
    @MethodSource("matMulCases")
    void matMulFullRankStaysMatMul(boolean bias) throws LrdktException {
        ModelBuilder b = new ModelBuilder(2, 5, 10).matMul("proj", 10, 8, bias);
        OnnxModel teacher = b.build();
        OnnxModel student = fullRank(teacher, CompressOptions.Scheme.SPATIAL, Map.of("proj", 8));
        assertNodes(student, "proj/lrd_a", "proj/lrd_b");
        long matMuls = student.graph().getNodeList().stream().filter(n -> n.getOpType().equals("MatMul")).count();
        assertEquals(2, matMuls);
        assertTrue(ModelBuilder.outputError(teacher, student, b.inputShape()) < TOLERANCE);
    }

    static Stream<Boolean> matMulCases() {
        return Stream.of(true, false);
    }

    @Test
    void constantNodeWeightsAreReplacedAndRemoved() throws LrdktException {
        ModelBuilder b = new ModelBuilder(1, 3, 8, 8).constantNodes()
                .conv("conv", new long[] {5, 3, 3, 3}, true, Attrs.ofInts("pads", 1, 1, 1, 1)).flatten()
                .gemm("fc", 5 * 8 * 8, 4, true, true, 1f, 1f);
        OnnxModel teacher = b.build();
        OnnxModel student = fullRank(teacher, CompressOptions.Scheme.SPATIAL, Map.of("conv", 9, "fc", 4));
        assertTrue(ModelBuilder.outputError(teacher, student, b.inputShape()) < TOLERANCE);
        // the two replaced weights' Constant nodes are gone; the two biases remain
        long constants = student.graph().getNodeList().stream().filter(n -> n.getOpType().equals("Constant")).count();
        assertEquals(2, constants);
    }

    /** A 1-D conv (keyword spotting, audio) takes the channel scheme whichever is asked: one spatial axis. */
    @ParameterizedTest(name = "{0}")
    @EnumSource(CompressOptions.Scheme.class)
    void oneDimensionalConvFullRankReproducesLayer(CompressOptions.Scheme scheme) throws LrdktException {
        ModelBuilder b = new ModelBuilder(2, 3, 20).conv("conv", new long[] {8, 3, 5}, true,
                Attrs.ofInts("pads", 2, 1), Attrs.ofInts("strides", 2), Attrs.ofInts("dilations", 2))
                .batchNorm("bn", 8).relu().conv("same", new long[] {6, 8, 3}, false, Attrs.ofString("auto_pad",
                        "SAME_UPPER"));
        OnnxModel teacher = b.build();
        OnnxModel student = fullRank(teacher, scheme, Map.of("conv", 8, "same", 6));
        assertNodes(student, "conv/lrd_k", "conv/lrd_1x1");
        assertNodes(student, "same/lrd_k", "same/lrd_1x1");
        Graph graph = Graph.of(student);
        assertEquals(List.of(8L, 3L, 5L), dims(graph, node(student, "conv/lrd_k").getInput(1)));
        assertEquals(List.of(8L, 8L, 1L), dims(graph, node(student, "conv/lrd_1x1").getInput(1)));
        assertEquals(List.of(2L, 1L), node(student, "conv/lrd_k").getAttributeList().stream()
                .filter(a -> a.getName().equals("pads")).findFirst().orElseThrow().getIntsList());
        assertTrue(ModelBuilder.outputError(teacher, student, b.inputShape()) < TOLERANCE);
    }

    private static List<Long> dims(Graph graph, String tensor) {
        return graph.constant(tensor).orElseThrow().getDimsList();
    }

    @Test
    void batchNormIsFoldedExactly() throws LrdktException {
        ModelBuilder b = new ModelBuilder(1, 3, 9, 9).constantNodes()
                .conv("conv", new long[] {6, 3, 3, 3}, false, Attrs.ofInts("pads", 1, 1, 1, 1))
                .batchNorm("bn", 6).relu();
        OnnxModel teacher = b.build();
        OnnxModel student = fullRank(teacher, CompressOptions.Scheme.SPATIAL, Map.of("conv", 9));
        assertTrue(student.graph().getNodeList().stream().noneMatch(n -> n.getOpType().equals("BatchNormalization")));
        // the last factor writes the BN's output tensor, which the teacher also has
        NodeProto last = node(student, "conv/lrd_h");
        Graph teacherGraph = Graph.of(teacher);
        assertEquals("BatchNormalization", teacherGraph.producer(last.getOutput(0)).getOpType());
        assertTrue(ModelBuilder.outputError(teacher, student, b.inputShape()) < TOLERANCE);
    }

    @Test
    void float16WeightsGiveFloat16Factors() throws LrdktException {
        ModelBuilder b = ModelBuilder.typed(TensorProto.DataType.FLOAT16_VALUE, 3, 12).matMul("proj", 12, 6, true);
        OnnxModel teacher = b.build();
        OnnxModel student = fullRank(teacher, CompressOptions.Scheme.SPATIAL, Map.of("proj", 6));
        for (TensorProto t : student.graph().getInitializerList()) {
            assertEquals(TensorProto.DataType.FLOAT16_VALUE, t.getDataType(), t.getName());
        }
        // half precision: the factors are rounded to 11 significant bits, so compare at half's resolution
        assertTrue(ModelBuilder.outputError(teacher, student, b.inputShape()) < 5e-3);
    }

    /**
     * PyTorch's fp16-weight export: FLOAT16 initializers each Cast to float in front of a float graph. The factors
     * (and a BN-folded bias) are stored as FLOAT16 behind Casts of their own, and the original weights, their Casts
     * and the folded BN's parameters are gone.
     */
    @Test
    void castFloat16WeightsGiveFloat16FactorsBehindCasts() throws LrdktException {
        ModelBuilder b = ModelBuilder.castWeights(TensorProto.DataType.FLOAT16_VALUE, 2, 3, 8, 8)
                .conv("conv", new long[] {6, 3, 3, 3}, true, Attrs.ofInts("pads", 1, 1, 1, 1)).batchNorm("bn", 6)
                .relu().flatten().gemm("fc", 6 * 8 * 8, 5, true, true, 1f, 1f).relu().matMul("proj", 5, 4, true);
        OnnxModel teacher = b.build();
        OnnxModel student = fullRank(teacher, CompressOptions.Scheme.SPATIAL, Map.of("conv", 9, "fc", 5, "proj", 4));
        Graph graph = Graph.of(student);
        for (TensorProto t : student.graph().getInitializerList()) {
            assertEquals(TensorProto.DataType.FLOAT16_VALUE, t.getDataType(), t.getName());
            assertEquals("Cast", graph.consumers(t.getName()).get(0).getOpType(), t.getName() + " is read as float");
        }
        for (NodeProto n : student.graph().getNodeList()) {
            assertFalse(graph.consumers(n.getOutput(0)).isEmpty() && !graph.isGraphOutput(n.getOutput(0)),
                    "dead node " + n.getName());
        }
        assertTrue(student.graph().getNodeList().stream().noneMatch(n -> n.getOpType().equals("BatchNormalization")));
        assertTrue(student.graph().getInitializerList().stream().noneMatch(t -> t.getName().startsWith("bn.")));
        for (String layer : List.of("conv/lrd_v", "conv/lrd_h", "fc/lrd_a", "fc/lrd_b", "proj/lrd_a", "proj/lrd_b")) {
            assertEquals("Cast", graph.producer(node(student, layer).getInput(1)).getOpType(), layer);
        }
        // the factors are rounded to half's 11 significant bits, like the weights they replace
        assertTrue(ModelBuilder.outputError(teacher, student, b.inputShape()) < 5e-3);
    }

    @Test
    void studentKeepsContractNamesAndMetadata() throws LrdktException {
        ModelBuilder b = new ModelBuilder(1, 2, 6, 6).conv("c", new long[] {4, 2, 3, 3}, true).flatten()
                .gemm("g", 4 * 4 * 4, 3, true, true, 1f, 1f);
        OnnxModel teacher = b.build();
        OnnxModel student = fullRank(teacher, CompressOptions.Scheme.SPATIAL, Map.of("c", 2, "g", 2));
        assertEquals(teacher.proto().getIrVersion(), student.proto().getIrVersion());
        assertEquals(teacher.proto().getOpsetImportList(), student.proto().getOpsetImportList());
        assertEquals(teacher.graph().getInputList(), student.graph().getInputList());
        assertEquals(teacher.graph().getOutputList(), student.graph().getOutputList());
        assertEquals("ModelBuilder", student.metadata("origin"));
        assertEquals(Map.of("c", 2, "g", 2),
                Json.MAPPER.convertValue(readJson(student.metadata(OnnxModel.RANKS_METADATA_KEY)), Map.class));
        List<?> hints = Json.MAPPER.convertValue(readJson(student.metadata(OnnxModel.HINTS_METADATA_KEY)), List.class);
        assertEquals(List.of(node(teacher, "c").getOutput(0), node(teacher, "g").getOutput(0)), hints);
        assertEquals("c/lrd_v.weight", node(student, "c/lrd_v").getInput(1));
        assertFalse(student.graph().getInitializerList().stream().anyMatch(t -> t.getName().equals("c.weight")));
    }

    private static Object readJson(String s) {
        try {
            return Json.MAPPER.readTree(s);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    static OnnxModel fullRank(OnnxModel teacher, CompressOptions.Scheme scheme, Map<String, Integer> ranks)
            throws LrdktException {
        CompressOptions o = CompressOptions.builder().ranks(ranks).scheme(scheme).build();
        return Compressor.compress(teacher, o, true).student();
    }

    static NodeProto node(OnnxModel model, String name) {
        return model.graph().getNodeList().stream().filter(n -> n.getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no node " + name));
    }

    private static void assertNodes(OnnxModel student, String first, String second) {
        NodeProto a = node(student, first);
        NodeProto b = node(student, second);
        assertEquals(a.getOutput(0), b.getInput(0));
    }
}
