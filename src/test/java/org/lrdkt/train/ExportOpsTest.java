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
import org.lrdkt.onnx.proto.Onnx.NodeProto;
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

    /**
     * Expand to a constant shape, to Shape(x) and to a shape that a Shape→Gather→Unsqueeze→Concat chain builds
     * from the batch (broadcasting batch 1 and a spatial axis of a weight-derived tensor).
     */
    static OnnxModel expands() {
        GraphBuilder b = new GraphBuilder(31).input("input", -1, 3, 5, 6);
        String conv = b.node("Conv", in("input", b.weight("w", 0.5, 4, 3, 3, 3), b.weight("b", 0.2, 4)),
                ofInts("pads", 1, 1, 1, 1));
        String channelMean = b.node("ReduceMean", in(conv), ofInts("axes", 1));
        String constant = b.node("Expand", in(channelMean, b.ints("shape.constant", 1, 4, 1, 1)));
        String pooled = b.node("GlobalAveragePool", in(conv));
        String toShape = b.node("Expand", in(pooled, b.node("Shape", in(conv))));
        String batch = b.node("Unsqueeze", in(b.node("Gather", in(b.node("Shape", in(conv)), b.scalarInt("zero", 0))),
                b.ints("axis0", 0)));
        String target = b.node("Concat", in(batch, b.ints("rest", 4, 5, 1)), ofInt("axis", 0));
        String scaled = b.node("Mul", in(b.weight("row", 0.5, 1, 4, 1, 6), scalar(b, "two", 2f)));
        String chained = b.node("Expand", in(scaled, target));
        String product = b.node("Mul", in(b.node("Add", in(conv, constant)), b.node("Add", in(toShape, chained))));
        b.node("Flatten", "out", in(product));
        return b.build("out", 13);
    }

    @Test
    void shapeChainsFollowTheBatchSize() throws Exception {
        for (long batch : new long[] {1, 2, 5}) {
            assertTrue(relativeError(shapeChain(), new long[] {batch, 3, 5, 6}, -1, 1) < 1e-4, "batch " + batch);
            assertTrue(relativeError(expands(), new long[] {batch, 3, 5, 6}, -1, 1) < 1e-4, "expand, batch " + batch);
        }
    }

    /**
     * ConvTranspose (the decoders of segmenters): stride 2 with pads and output_padding and a bias; dilation,
     * asymmetric pads and a non-square kernel; group 2; an output_shape that needs an odd total padding; auto_pad
     * SAME_UPPER and SAME_LOWER.
     */
    static OnnxModel transposedConvolutions() {
        GraphBuilder b = new GraphBuilder(32).input("input", -1, 3, 5, 6);
        String x = b.node("Conv", in("input", b.weight("w", 0.5, 4, 3, 3, 3), b.weight("b", 0.2, 4)),
                ofInts("pads", 1, 1, 1, 1));
        String up = b.node("ConvTranspose", in(x, b.weight("up.w", 0.4, 4, 3, 3, 3), b.weight("up.b", 0.2, 3)),
                ofInts("kernel_shape", 3, 3), ofInts("strides", 2, 2), ofInts("pads", 1, 1, 1, 1),
                ofInts("output_padding", 1, 1));
        String dilated = b.node("ConvTranspose", in(x, b.weight("dil.w", 0.4, 4, 2, 3, 2)),
                ofInts("strides", 2, 1), ofInts("dilations", 2, 1), ofInts("pads", 0, 1, 2, 0),
                ofInts("output_padding", 1, 0));
        String grouped = b.node("ConvTranspose", in(x, b.weight("grp.w", 0.4, 4, 3, 2, 2), b.weight("grp.b", 0.2, 6)),
                ofInt("group", 2), ofInts("strides", 2, 2));
        String shaped = b.node("ConvTranspose", in(x, b.weight("shp.w", 0.4, 4, 2, 3, 3)), ofInts("strides", 2, 2),
                ofInts("output_shape", 10, 11));
        String upper = b.node("ConvTranspose", in(x, b.weight("upper.w", 0.4, 4, 2, 4, 3)), ofInts("strides", 2, 2),
                ofString("auto_pad", "SAME_UPPER"));
        String lower = b.node("ConvTranspose", in(x, b.weight("lower.w", 0.4, 4, 2, 4, 3)), ofInts("strides", 2, 2),
                ofString("auto_pad", "SAME_LOWER"));
        String[] flat = Stream.of(up, dilated, grouped, shaped, upper, lower).map(t -> b.node("Flatten", in(t)))
                .toArray(String[]::new);
        b.node("Concat", "out", flat, ofInt("axis", 1));
        return b.build("out", 13);
    }

    /** GlobalMaxPool, ReduceMax and ReduceMin (axes attributes, keepdims on and off, all axes but the batch). */
    static OnnxModel reductions() {
        GraphBuilder b = new GraphBuilder(33).input("input", -1, 3, 5, 6);
        String x = b.node("Conv", in("input", b.weight("w", 0.5, 4, 3, 3, 3), b.weight("b", 0.2, 4)),
                ofInts("pads", 1, 1, 1, 1));
        String global = b.node("Flatten", in(b.node("GlobalMaxPool", in(x))));
        String rows = b.node("Flatten", in(b.node("ReduceMax", in(x), ofInts("axes", 2), ofInt("keepdims", 0))));
        String min = b.node("Flatten", in(b.node("ReduceMin", in(x), ofInts("axes", 1, -1))));
        String all = b.node("Unsqueeze", in(b.node("ReduceMax", in(x), ofInts("axes", 1, 2, 3), ofInt("keepdims", 0)),
                b.ints("axes", 1)));
        b.node("Concat", "out", in(global, rows, min, b.node("Mul", in(all, b.weight("s", 1, 1, 3)))),
                ofInt("axis", 1));
        return b.build("out", 13);
    }

    /** Opset 18's form: ReduceMax and ReduceMean with axes as input 1. */
    static OnnxModel reductionsOpset18() {
        GraphBuilder b = new GraphBuilder(34).input("input", -1, 3, 5, 6);
        String x = b.node("Conv", in("input", b.weight("w", 0.5, 4, 3, 3, 3), b.weight("b", 0.2, 4)));
        String max = b.node("ReduceMax", in(x, b.ints("max.axes", 1, 3)));
        String mean = b.node("ReduceMean", in(x, b.ints("mean.axes", 2)), ofInt("keepdims", 0));
        b.node("Concat", "out", in(b.node("Flatten", in(max)), b.node("Flatten", in(mean))), ofInt("axis", 1));
        return b.build("out", 18);
    }

    /**
     * LayerNormalization over the last axis (Scale and B) and over the last three (Scale only, ε 1e-3);
     * InstanceNormalization; Erf and the exact GELU chain of exports (x·½·(1 + erf(x/√2))).
     */
    static OnnxModel normalisations() {
        GraphBuilder b = new GraphBuilder(35).input("input", -1, 3, 5, 6);
        String x = b.node("Conv", in("input", b.weight("w", 0.5, 4, 3, 3, 3), b.weight("b", 0.2, 4)),
                ofInts("pads", 1, 1, 1, 1));
        String last = b.node("LayerNormalization", in(x, b.weight("ln.scale", 1, 6), b.weight("ln.bias", 0.3, 6)));
        String trailing = b.node("LayerNormalization", in(x, b.weight("ln3.scale", 1, 4, 5, 6)), ofInt("axis", 1),
                ofFloat("epsilon", 1e-3f));
        String instance = b.node("InstanceNormalization", in(x, b.weight("in.scale", 1, 4),
                b.weight("in.bias", 0.3, 4)));
        String erf = b.node("Erf", in(b.node("Add", in(last, trailing))));
        String half = b.node("Mul", in(instance, scalar(b, "half", 0.5f)));
        String gelu = b.node("Mul", in(half, b.node("Add", in(b.node("Erf", in(b.node("Div", in(instance,
                scalar(b, "root2", (float) Math.sqrt(2)))))), scalar(b, "one", 1f)))));
        b.node("Flatten", "out", in(b.node("Mul", in(erf, gelu))));
        return b.build("out", 17);
    }

    /** Gelu (opset 20), exact and with the tanh approximation. */
    static OnnxModel gelus() {
        GraphBuilder b = new GraphBuilder(36).input("input", -1, 3, 5, 6);
        String x = b.node("Conv", in("input", b.weight("w", 1, 4, 3, 3, 3), b.weight("b", 0.2, 4)));
        String exact = b.node("Gelu", in(x));
        String tanh = b.node("Gelu", in(x), ofString("approximate", "tanh"));
        b.node("Concat", "out", in(b.node("Flatten", in(exact)), b.node("Flatten", in(tanh))), ofInt("axis", 1));
        return b.build("out", 20);
    }

    /** PyTorch's fp16-weight export: FLOAT16 initializers each Cast to float in front of a float graph. */
    static OnnxModel castWeights() {
        return ModelBuilder.castWeights(TensorProto.DataType.FLOAT16_VALUE, -1, 3, 6, 6)
                .conv("conv", new long[] {4, 3, 3, 3}, true, ofInts("pads", 1, 1, 1, 1)).batchNorm("bn", 4).relu()
                .flatten().gemm("fc", 4 * 6 * 6, 5, true, true, 1f, 1f).build();
    }

    private static final long[] LINE_INPUT = {2, 3, 20};

    /**
     * The 1-D layers of keyword-spotting and other audio CNNs over [N, C, L]: Conv (padded, strided and dilated, and
     * with no attributes at all), BatchNormalization, MaxPool, AveragePool (padding counted and not), ConvTranspose.
     */
    static OnnxModel oneDimensional() {
        GraphBuilder b = new GraphBuilder(40).input("input", -1, 3, 20);
        String x = b.node("Conv", in("input", b.weight("c1.w", 0.5, 8, 3, 5), b.weight("c1.b", 0.2, 8)),
                ofInts("kernel_shape", 5), ofInts("pads", 2, 2));
        x = b.node("BatchNormalization", in(x, b.weight("bn.s", 1, 8), b.weight("bn.b", 0.2, 8),
                b.weight("bn.m", 0.2, 8), b.initializer("bn.v", new long[] {8}, ModelBuilder.random(4, 8, 0.5, 1.5))));
        x = b.node("MaxPool", in(b.node("Relu", in(x))), ofInts("kernel_shape", 3), ofInts("strides", 2),
                ofInts("pads", 1, 1));
        x = b.node("Conv", in(x, b.weight("c2.w", 0.5, 8, 8, 3)), ofInts("strides", 2), ofInts("dilations", 2),
                ofInts("pads", 2, 1));
        String plain = b.node("Conv", in(x, b.weight("c3.w", 0.5, 6, 8, 3), b.weight("c3.b", 0.2, 6)));
        String counted = b.node("AveragePool", in(x), ofInts("kernel_shape", 3), ofInts("pads", 1, 1),
                ofInt("count_include_pad", 1));
        String excluded = b.node("AveragePool", in(x), ofInts("kernel_shape", 2), ofInts("strides", 2),
                ofInts("pads", 0, 1), ofInt("ceil_mode", 1));
        String up = b.node("ConvTranspose", in(plain, b.weight("up.w", 0.5, 6, 4, 3), b.weight("up.b", 0.2, 4)),
                ofInts("strides", 2), ofInts("pads", 1, 0), ofInts("output_padding", 1));
        String[] flat = Stream.of(counted, excluded, up).map(t -> b.node("Flatten", in(t))).toArray(String[]::new);
        b.node("Concat", "out", flat, ofInt("axis", 1));
        return b.build("out", 13);
    }

    static Stream<Arguments> graphs() {
        return Stream.of(Arguments.of("elementwise", elementwise(), ELEMENTWISE_INPUT),
                Arguments.of("shapes", shapes(), SHAPE_INPUT),
                Arguments.of("shapes, opset 9", shapesOpset9(), SHAPE_INPUT),
                Arguments.of("resizes", resizes(), RESIZE_INPUT),
                Arguments.of("upsamples", upsamples(), RESIZE_INPUT),
                Arguments.of("shape chain", shapeChain(), RESIZE_INPUT),
                Arguments.of("expands", expands(), RESIZE_INPUT),
                Arguments.of("transposed convolutions", transposedConvolutions(), RESIZE_INPUT),
                Arguments.of("reductions", reductions(), RESIZE_INPUT),
                Arguments.of("reductions, opset 18", reductionsOpset18(), RESIZE_INPUT),
                Arguments.of("normalisations, erf", normalisations(), RESIZE_INPUT),
                Arguments.of("gelu", gelus(), RESIZE_INPUT),
                Arguments.of("fp16 weights behind Casts", castWeights(), ELEMENTWISE_INPUT),
                Arguments.of("1-D convolutions and pools", oneDimensional(), LINE_INPUT));
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

    /** Weights read through a Cast train as their FLOAT16 initializers, written back as FLOAT16. */
    @Test
    void castWeightsTrainAsTheirHalfInitializers() throws Exception {
        OnnxModel model = castWeights();
        Mirror mirror = Mirror.of(model, DataType.FLOAT, true);
        assertEquals(List.of("conv.weight", "conv.bias", "bn.scale", "bn.bias", "fc.weight", "fc.bias"),
                List.copyOf(mirror.parameters().keySet()));
        mirror.flatParameters().addi(0.125);
        for (TensorProto t : mirror.writeBack(model).graph().getInitializerList()) {
            assertEquals(TensorProto.DataType.FLOAT16_VALUE, t.getDataType(), t.getName());
            Mirror.Parameter p = mirror.parameters().get(t.getName());
            if (p != null) {
                assertEquals(p.value().getDouble(0), TensorData.toFloats(t)[0], 1e-3, t.getName());
            }
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
        for (String op : List.of("ConvTranspose", "Conv")) { // the 3-D convolutions of volumetric models
            GraphBuilder volume = new GraphBuilder(38).input("input", -1, 3, 4, 4, 4);
            volume.node(op, "out", in("input", volume.weight("w", 1, 3, 3, 3, 3, 3)), ofInts("strides", 2, 2, 2));
            OnnxModel threeD = volume.build("out", 13);
            e = assertThrows(LrdktException.class, () -> Mirror.of(threeD, DataType.FLOAT, true));
            assertTrue(e.getMessage().startsWith(op + " '/out/" + op + "' with a 3-D window"), e.getMessage());
        }
        GraphBuilder stats = new GraphBuilder(39).input("input", -1, 3, 4);
        String[] ln = stats.nodeWithOutputs("LayerNormalization", 2, "ln", in("input", stats.weight("scale", 1, 4)));
        stats.node("Add", "out", in(ln[0], ln[1]));
        e = assertThrows(LrdktException.class, () -> Mirror.of(stats.build("out", 17), DataType.FLOAT, true));
        assertTrue(e.getMessage().startsWith("LayerNormalization node '/ln/LayerNormalization' uses output 1"),
                e.getMessage());
    }

    /** ReduceMax and GlobalMaxPool hand an output's gradient to its maximum, split equally where several tie. */
    @Test
    void maxGradientIsSplitAmongTies() {
        MirrorOp pool = ReductionOps.Reduce.global(ReductionOps.Kind.MAX);
        INDArray x = Nd4j.createFromArray(new double[] {1, 3, 3, 2, 5, 4, 0, 1}).reshape(1, 2, 2, 2);
        INDArray[] in = {x};
        INDArray[] out = pool.forward(in);
        assertEquals(Nd4j.createFromArray(new double[] {3, 5}).reshape(1, 2, 1, 1), out[0]);
        INDArray g = pool.backward(in, out, new INDArray[] {Nd4j.createFromArray(new double[] {2, 7})
                .reshape(1, 2, 1, 1)}, new boolean[] {true})[0];
        assertEquals(Nd4j.createFromArray(new double[] {0, 1, 1, 0, 7, 0, 0, 0}).reshape(1, 2, 2, 2), g);
    }

    /** MaxPool, unlike ReduceMax, hands a tied window's gradient to its first maximum in row-major order (PyTorch's). */
    @Test
    void maxPoolGradientGoesToTheFirstMaximumOfItsWindow() {
        NodeProto node = NodeProto.newBuilder().setOpType("MaxPool").setName("pool")
                .addAttribute(ofInts("kernel_shape", 2, 2)).addAttribute(ofInts("strides", 1, 1)).build();
        MirrorOp pool = new PoolOp(node);
        INDArray x = Nd4j.createFromArray(new double[] {1, 4, 4, 4, 0, 4, 2, 3, 4}).reshape(1, 1, 3, 3);
        INDArray[] in = {x};
        INDArray[] out = pool.forward(in);
        assertEquals(Nd4j.createFromArray(new double[] {4, 4, 4, 4}).reshape(1, 1, 2, 2), out[0]);
        INDArray g = pool.backward(in, out, new INDArray[] {Nd4j.createFromArray(new double[] {1, 10, 100, 1000})
                .reshape(1, 1, 2, 2)}, new boolean[] {true})[0];
        // the four windows' first maxima: (0,1) [over (1,0)], (0,1) [over (0,2), (1,2)], (1,0), (1,2) [over (2,2)]
        assertEquals(Nd4j.createFromArray(new double[] {0, 11, 0, 100, 0, 1000, 0, 0, 0}).reshape(1, 1, 3, 3), g);
    }
}
