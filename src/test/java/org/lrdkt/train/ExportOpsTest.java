package org.lrdkt.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lrdkt.onnx.Attrs.ofFloat;
import static org.lrdkt.onnx.Attrs.ofInt;
import static org.lrdkt.onnx.Attrs.ofInts;
import static org.lrdkt.onnx.Attrs.ofString;
import static org.lrdkt.GraphBuilder.in;
import static org.lrdkt.train.MirrorModels.relativeError;

import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.lrdkt.GraphBuilder;
import org.lrdkt.LrdktException;
import org.lrdkt.ModelBuilder;
import org.lrdkt.onnx.OnnxModel;
import org.lrdkt.onnx.TensorData;
import org.lrdkt.onnx.proto.Onnx.AttributeProto;
import org.lrdkt.onnx.proto.Onnx.TensorProto;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The ops real CNN exports add to the classifier set (issue 14): each graph runs forward against ONNX Runtime and
 * its parameter gradients, which flow back through every op of it, against finite differences.
 */
class ExportOpsTest {

    private static final long[] ELEMENTWISE_INPUT = {2, 3, 6, 6};
    private static final long[] SHAPE_INPUT = {2, 3, 7, 8};
    private static final long[] RESIZE_INPUT = {2, 3, 5, 6};

    private static String scalar(GraphBuilder b, String name, float value) {
        return b.initializer(name, new long[0], new float[] {value});
    }

    /** Max/Min/Sum/Mean (up to four inputs, broadcasting), PRelu, Elu, Softplus and the unary math ops, Pow. */
    static OnnxModel elementwise() {
        GraphBuilder b = new GraphBuilder(21).input("input", -1, 3, 6, 6);
        String a = b.node("Conv", in("input", b.weight("a.w", 0.5, 4, 3, 3, 3), b.weight("a.b", 0.2, 4)),
                ofInts("pads", 1, 1, 1, 1));
        String c = b.node("Conv", in("input", b.weight("c.w", 0.5, 4, 3, 1, 1)));
        String max = b.node("Max", in(a, c, b.weight("floor", 0.3, 4, 1, 1)));
        String min = b.node("Min", in(a, b.weight("ceiling", 0.3, 1, 6)));
        String sum = b.node("Sum", in(a, c, b.weight("sum.bias", 0.3, 4, 1, 1)));
        String mean = b.node("Mean", in(max, min));
        String prelu = b.node("PRelu", in(sum, b.weight("slope", 0.5, 4, 1, 1)));
        String elu = b.node("Elu", in(mean), ofFloat("alpha", 0.7f));
        String softplus = b.node("Softplus", in(prelu));
        String exp = b.node("Exp", in(b.node("Mul", in(elu, scalar(b, "half", 0.5f)))));
        String sqrt = b.node("Sqrt", in(b.node("Add", in(b.node("Abs", in(softplus)), scalar(b, "quarter", 0.25f)))));
        String log = b.node("Log", in(b.node("Add", in(sqrt, scalar(b, "one", 1f)))));
        String neg = b.node("Neg", in(b.node("Reciprocal", in(b.node("Add", in(b.node("Abs", in(c)), "one"))))));
        String pow = b.node("Pow", in(elu, scalar(b, "two", 2f)));
        b.node("Sum", "out", in(exp, log, neg, pow));
        return b.build("out", 13);
    }

    /** Pad (constant, reflect, edge), Slice (steps 2, −3, −1), Split, Unsqueeze/Squeeze, Cast, ReduceMean/Sum. */
    static OnnxModel shapes() {
        GraphBuilder b = new GraphBuilder(22).input("input", -1, 3, 7, 8);
        String x = b.node("Conv", in("input", b.weight("w", 0.5, 4, 3, 3, 3), b.weight("b", 0.2, 4)),
                ofInts("pads", 1, 1, 1, 1));
        x = b.node("Pad", in(x, b.ints("pads.constant", 0, 0, 1, 2, 0, 0, 2, 1), scalar(b, "pad.value", 0.5f)));
        x = b.node("Pad", in(x, b.ints("pads.reflect", 0, 0, 2, 1, 0, 0, 1, 2)), ofString("mode", "reflect"));
        x = b.node("Pad", in(x, b.ints("pads.edge", 0, 0, 1, 0, 0, 0, 0, 3)), ofString("mode", "edge"));
        x = b.node("Slice", in(x, b.ints("starts", 1, 0), b.ints("ends", -1, 100), b.ints("axes", 2, 3),
                b.ints("steps", 1, 2)));
        x = b.node("Slice", in(x, b.ints("back.starts", -2, 100), b.ints("back.ends", 0, -100),
                b.ints("back.axes", 2, 3), b.ints("back.steps", -3, -1)));
        String[] parts = b.nodeWithOutputs("Split", 2, "split", in(x, b.ints("sizes", 1, 3)), ofInt("axis", 1));
        String unsqueezed = b.node("Unsqueeze", in(parts[0], b.ints("unsqueeze.axes", 2)));
        String squeezed = b.node("Squeeze", in(unsqueezed, b.ints("squeeze.axes", -3)));
        x = b.node("Concat", in(parts[1], squeezed), ofInt("axis", 1));
        x = b.node("Cast", in(b.node("Cast", in(x), ofInt("to", TensorProto.DataType.DOUBLE_VALUE))),
                ofInt("to", TensorProto.DataType.FLOAT_VALUE));
        String rowMeans = b.node("ReduceMean", in(x), ofInts("axes", 3));
        String sums = b.node("ReduceSum", in(x, b.ints("sum.axes", 1, 2)), ofInt("keepdims", 0));
        b.node("Concat", "out", in(b.node("Flatten", in(b.node("Add", in(x, rowMeans)))), sums), ofInt("axis", 1));
        return b.build("out", 13);
    }

    /** The attribute forms of opset 9: Pad (edge), Slice, Split, Unsqueeze/Squeeze, ReduceSum; ReduceMean of all. */
    static OnnxModel shapesOpset9() {
        GraphBuilder b = new GraphBuilder(23).input("input", -1, 3, 7, 8);
        String x = b.node("Conv", in("input", b.weight("w", 0.5, 4, 3, 3, 3), b.weight("b", 0.2, 4)));
        x = b.node("Pad", in(x), ofInts("pads", 0, 0, 1, 1, 0, 0, 2, 0), ofString("mode", "edge"));
        x = b.node("Slice", in(x), ofInts("starts", 1), ofInts("ends", 1000), ofInts("axes", 3));
        String[] parts = b.nodeWithOutputs("Split", 2, "split", in(x), ofInt("axis", 1), ofInts("split", 1, 3));
        String squeezed = b.node("Squeeze", in(b.node("Unsqueeze", in(parts[0]), ofInts("axes", 0))),
                ofInts("axes", 0));
        x = b.node("Concat", in(parts[1], squeezed), ofInt("axis", 1));
        String sums = b.node("Flatten", in(b.node("ReduceSum", in(x), ofInts("axes", 2), ofInt("keepdims", 0))));
        String mean = b.node("Flatten", in(b.node("ReduceMean", in(x))));
        b.node("Add", "out", in(sums, mean));
        return b.build("out", 9);
    }

    /**
     * Resize (opset 13): nearest by scales (half_pixel, round_prefer_floor), linear by sizes (align_corners),
     * linear down by scales 0.5 (half_pixel); roi empty or omitted, scales omitted where sizes are given.
     */
    static OnnxModel resizes() {
        GraphBuilder b = new GraphBuilder(28).input("input", -1, 3, 5, 6);
        String x = b.node("Conv", in("input", b.weight("w", 0.5, 4, 3, 3, 3), b.weight("b", 0.2, 4)),
                ofInts("pads", 1, 1, 1, 1));
        // PyTorch's export gives roi as an empty tensor; elsewhere it is omitted
        String roi = b.initializer("roi", new long[] {0}, new float[0]);
        String near = b.node("Resize", in(x, roi, b.initializer("up", new long[] {4}, new float[] {1, 1, 2, 1.5f})));
        String linear = b.node("Resize", in(near, "", "", b.ints("sizes", 2, 4, 7, 13)), ofString("mode", "linear"),
                ofString("coordinate_transformation_mode", "align_corners"));
        String down = b.node("Resize", in(linear, "", b.initializer("down", new long[] {4},
                new float[] {1, 1, 0.5f, 0.5f})), ofString("mode", "linear"));
        b.node("Concat", "out", in(b.node("Flatten", in(down)), b.node("Flatten", in(near))), ofInt("axis", 1));
        return b.build("out", 13);
    }

    /** Upsample (opset 9, scales input): nearest ×2 and linear ×(1.5, 2). */
    static OnnxModel upsamples() {
        GraphBuilder b = new GraphBuilder(29).input("input", -1, 3, 5, 6);
        String x = b.node("Conv", in("input", b.weight("w", 0.5, 4, 3, 3, 3), b.weight("b", 0.2, 4)));
        String near = b.node("Upsample", in(x, b.initializer("twice", new long[] {4}, new float[] {1, 1, 2, 2})));
        String linear = b.node("Upsample", in(x, b.initializer("odd", new long[] {4}, new float[] {1, 1, 1.5f, 2})),
                ofString("mode", "linear"));
        b.node("Concat", "out", in(b.node("Flatten", in(near)), b.node("Flatten", in(linear))), ofInt("axis", 1));
        return b.build("out", 9);
    }

    /**
     * ConstantOfShape(Shape(x)) added to x; the flatten of PyTorch exports, Reshape(x, Concat(Unsqueeze(Gather(
     * Shape(x), 0)), [-1])), of a Gather of float channels (indices negative and repeated); a Gemm.
     */
    static OnnxModel shapeChain() {
        GraphBuilder b = new GraphBuilder(30).input("input", -1, 3, 5, 6);
        String conv = b.node("Conv", in("input", b.weight("w", 0.5, 4, 3, 3, 3), b.weight("b", 0.2, 4)));
        AttributeProto quarter = AttributeProto.newBuilder().setName("value").setType(AttributeProto.AttributeType
                .TENSOR).setT(TensorData.fromFloats("v", new long[] {1}, new float[] {0.25f},
                        TensorProto.DataType.FLOAT_VALUE)).build();
        String x = b.node("Add", in(conv, b.node("ConstantOfShape", in(b.node("Shape", in(conv))), quarter)));
        String batch = b.node("Gather", in(b.node("Shape", in(x)), b.scalarInt("zero", 0)));
        String target = b.node("Concat", in(b.node("Unsqueeze", in(batch, b.ints("axis0", 0))), b.ints("rest", -1)),
                ofInt("axis", 0));
        String flat = b.node("Reshape", in(b.node("Gather", in(x, b.ints("channels", 3, -1, 0)), ofInt("axis", 1)),
                target));
        b.node("Gemm", "out", in(flat, b.weight("fc.w", 0.3, 5, 3 * 3 * 4), b.weight("fc.b", 0.1, 5)),
                ofInt("transB", 1));
        return b.build("out", 13);
    }

    @Test
    void shapeChainsFollowTheBatchSize() throws Exception {
        for (long batch : new long[] {1, 2, 5}) {
            assertTrue(relativeError(shapeChain(), new long[] {batch, 3, 5, 6}, -1, 1) < 1e-4, "batch " + batch);
        }
    }

    static Stream<Arguments> graphs() {
        return Stream.of(Arguments.of("elementwise", elementwise(), ELEMENTWISE_INPUT),
                Arguments.of("shapes", shapes(), SHAPE_INPUT),
                Arguments.of("shapes, opset 9", shapesOpset9(), SHAPE_INPUT),
                Arguments.of("resizes", resizes(), RESIZE_INPUT),
                Arguments.of("upsamples", upsamples(), RESIZE_INPUT),
                Arguments.of("shape chain", shapeChain(), RESIZE_INPUT));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("graphs")
    void forwardMatchesOrt(String name, OnnxModel model, long[] inputShape) throws Exception {
        assertTrue(relativeError(model, inputShape, -1, 1) < 1e-4);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("graphs")
    void parameterGradientsMatchFiniteDifferences(String name, OnnxModel model, long[] inputShape) throws Exception {
        GradientChecks.checkMirror(model, inputShape, 8);
    }

    @Test
    void sumOperandsAndPReluSlopesTrain() throws Exception {
        Mirror mirror = Mirror.of(elementwise(), DataType.DOUBLE, true);
        assertTrue(mirror.parameters().keySet().containsAll(List.of("sum.bias", "slope")),
                mirror.parameters().keySet().toString());
    }

    @Test
    void castToIntegersTruncatesTowardsZero() throws Exception {
        GraphBuilder b = new GraphBuilder(24).input("input", -1, 3, 4, 4);
        String scaled = b.node("Mul", in("input", scalar(b, "five", 5f)));
        String ints = b.node("Cast", in(scaled), ofInt("to", TensorProto.DataType.INT64_VALUE));
        b.node("Cast", "out", in(ints), ofInt("to", TensorProto.DataType.FLOAT_VALUE));
        assertEquals(0, relativeError(b.build("out", 13), new long[] {2, 3, 4, 4}, -1, 1));
    }

    /** An fp16 export trains in fp32 and gets its weights written back as fp16. */
    @Test
    void halfPrecisionWeightsAreWrittenBackAsHalf() throws Exception {
        GraphBuilder b = new GraphBuilder(25).input("input", -1, 2, 5, 5);
        String half = b.node("Cast", in("input"), ofInt("to", TensorProto.DataType.FLOAT16_VALUE));
        float[] w = ModelBuilder.random(3, 3 * 2 * 3 * 3, -0.5, 0.5);
        String conv = b.node("Conv", in(half, b.initializer("w16", new long[] {3, 2, 3, 3}, w,
                TensorProto.DataType.FLOAT16_VALUE)));
        b.node("Cast", "out", in(conv), ofInt("to", TensorProto.DataType.FLOAT_VALUE));
        OnnxModel model = b.build("out", 13);
        Mirror mirror = Mirror.of(model, DataType.FLOAT, true);
        Mirror.Parameter p = mirror.parameters().get("w16");
        assertEquals(DataType.FLOAT, p.value().dataType(), "trains in fp32");
        Map<String, INDArray> grads = mirror.backward(
                mirror.forward(Map.of("input", Nd4j.rand(DataType.FLOAT, 2, 2, 5, 5))),
                Map.of("out", Nd4j.ones(DataType.FLOAT, 2, 3, 3, 3))).byName();
        assertTrue(grads.get("w16").amaxNumber().doubleValue() > 0, "the gradient passes both casts");
        p.value().addi(0.125);
        TensorProto written = mirror.writeBack(model).graph().getInitializer(0);
        assertEquals(TensorProto.DataType.FLOAT16_VALUE, written.getDataType());
        float[] back = TensorData.toFloats(written);
        for (int i = 0; i < w.length; i++) {
            assertEquals(p.value().getDouble(i), back[i], 1e-3, "fp16 value " + i);
        }
    }

    @Test
    void anOpVariantTheMirrorCannotTrainIsNamedWithItsNode() {
        GraphBuilder b = new GraphBuilder(26).input("input", -1, 3, 4, 4);
        b.node("Pow", "out", in("input", b.weight("exponents", 1, 4)));
        LrdktException e = assertThrows(LrdktException.class, () -> Mirror.of(b.build("out", 13), DataType.FLOAT,
                true).forward(Map.of("input", Nd4j.rand(DataType.FLOAT, 1, 3, 4, 4))));
        assertTrue(e.getMessage().startsWith("Pow '/out/Pow': an exponent of shape [4]"), e.getMessage());
        GraphBuilder wrap = new GraphBuilder(27).input("input", -1, 3, 4, 4);
        wrap.node("Pad", "out", in("input", wrap.ints("pads", 0, 0, 1, 1, 0, 0, 1, 1)), ofString("mode", "wrap"));
        e = assertThrows(LrdktException.class, () -> Mirror.of(wrap.build("out", 19), DataType.FLOAT, true));
        assertTrue(e.getMessage().startsWith("Pad '/out/Pad': mode wrap"), e.getMessage());
    }
}
