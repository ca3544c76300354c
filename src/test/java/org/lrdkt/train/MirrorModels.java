package org.lrdkt.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.lrdkt.onnx.Attrs.ofFloat;
import static org.lrdkt.onnx.Attrs.ofInt;
import static org.lrdkt.onnx.Attrs.ofInts;
import static org.lrdkt.GraphBuilder.in;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.lrdkt.GraphBuilder;
import org.lrdkt.LrdktException;
import org.lrdkt.ModelBuilder;
import org.lrdkt.onnx.Inference;
import org.lrdkt.onnx.OnnxModel;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Seeded models that exercise the mirror's ops, and the check of its forward pass against ONNX Runtime. */
final class MirrorModels {

    private MirrorModels() {
    }

    /** Max |mirror − ORT| relative to max |ORT| over the first output. */
    static double relativeError(OnnxModel model, long[] shape, double lo, double hi) throws LrdktException {
        int n = 1;
        for (long d : shape) {
            n *= (int) d;
        }
        float[] x = ModelBuilder.random(7, n, lo, hi);
        Inference.Tensor expected;
        try (Inference ort = Inference.open(model, new Inference.Settings(1, false, false))) {
            expected = ort.run(new Inference.Tensor(x, shape));
        }
        Mirror mirror = Mirror.of(model, DataType.FLOAT, true);
        INDArray got = mirror.forward(Map.of(mirror.inputNames().get(0), Nd4j.createFromArray(x).reshape(shape)))
                .get(mirror.outputNames().get(0));
        assertEquals(List.of(toObjects(expected.shape())), List.of(toObjects(got.shape())), "output shape");
        float[] g = got.castTo(DataType.FLOAT).dup('c').data().asFloat();
        double maxDiff = 0;
        double maxRef = 1e-12;
        for (int i = 0; i < g.length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs(g[i] - expected.values()[i]));
            maxRef = Math.max(maxRef, Math.abs(expected.values()[i]));
        }
        return maxDiff / maxRef;
    }

    private static Long[] toObjects(long[] a) {
        return Arrays.stream(a).boxed().toArray(Long[]::new);
    }

    /** Two residual blocks (one with a strided 1×1 projection), BatchNormalization, max pool, global pool. */
    static OnnxModel resnetStyle() {
        GraphBuilder b = new GraphBuilder(3).input("input", -1, 3, 16, 16);
        String x = convBnRelu(b, "input", "stem", 3, 8, 3, 1, true);
        x = b.node("MaxPool", in(x), ofInts("kernel_shape", 3, 3), ofInts("strides", 2, 2), ofInts("pads", 1, 1, 1, 1));
        String y = convBnRelu(b, x, "b1a", 8, 8, 3, 1, true);
        y = convBnRelu(b, y, "b1b", 8, 8, 3, 1, false);
        x = b.node("Relu", in(b.node("Add", in(x, y))));
        String z = convBnRelu(b, x, "b2a", 8, 16, 3, 2, true);
        z = convBnRelu(b, z, "b2b", 16, 16, 3, 1, false);
        String shortcut = convBnRelu(b, x, "b2s", 8, 16, 1, 2, false);
        x = b.node("Relu", in(b.node("Add", in(shortcut, z))));
        x = b.node("Flatten", in(b.node("GlobalAveragePool", in(x))));
        b.node("Gemm", "logits", in(x, b.weight("fc.w", 0.3, 10, 16), b.weight("fc.b", 0.1, 10)), ofInt("transB", 1));
        return b.build("logits", 13);
    }

    private static String convBnRelu(GraphBuilder b, String x, String name, int cin, int cout, int k, int stride,
                                     boolean relu) {
        String c = b.node("Conv", in(x, b.weight(name + ".w", 0.4, cout, cin, k, k)),
                ofInts("kernel_shape", k, k), ofInts("strides", stride, stride),
                ofInts("pads", k / 2, k / 2, k / 2, k / 2));
        String bn = b.node("BatchNormalization", in(c, b.weight(name + ".g", 1, cout), b.weight(name + ".beta", 0.3, cout),
                b.weight(name + ".mean", 0.3, cout), b.initializer(name + ".var", new long[] {cout},
                        ModelBuilder.random(cout, cout, 0.5, 2))), ofFloat("epsilon", 1e-5f));
        return relu ? b.node("Relu", in(bn)) : bn;
    }

    /** Every other op and attribute of the mirror on one graph: pads, groups, dilation, pools, activations, shapes. */
    static OnnxModel opZoo() {
        GraphBuilder b = new GraphBuilder(5).input("input", -1, 4, 11, 11);
        String x = b.node("Conv", in("input", b.weight("asym.w", 0.3, 6, 4, 3, 2), b.weight("asym.b", 0.1, 6)),
                ofInts("kernel_shape", 3, 2), ofInts("pads", 2, 0, 1, 1), ofInts("strides", 2, 1));
        x = b.node("LeakyRelu", in(x), ofFloat("alpha", 0.1f));
        x = b.node("Conv", in(x, b.constantNode("group.w", 0.3, 6, 3, 3, 3)),
                ofInts("kernel_shape", 3, 3), ofInt("group", 2), ofInts("dilations", 2, 1), ofInts("pads", 2, 1, 2, 1));
        String pooled = b.node("MaxPool", in(x), ofInts("kernel_shape", 3, 3), ofInts("pads", 1, 0, 1, 1),
                ofInts("strides", 2, 2), ofInt("ceil_mode", 1)); // straight on negative values: pads must be −∞
        String avgIn = b.node("AveragePool", in(x), ofInts("kernel_shape", 3, 3), ofInts("pads", 1, 1, 1, 1),
                ofInts("strides", 2, 2), ofInt("ceil_mode", 1));
        String avgPad = b.node("AveragePool", in(x), ofInts("kernel_shape", 3, 3), ofInts("pads", 1, 1, 1, 1),
                ofInts("strides", 2, 2), ofInt("count_include_pad", 1), ofInt("ceil_mode", 1));
        String s = b.node("Sigmoid", in(pooled));
        String t = b.node("Tanh", in(avgIn));
        String hs = b.node("HardSwish", in(b.node("Mul", in(avgPad, b.weight("scale", 3, 1, 6, 1, 1)))));
        String cat = b.node("Concat", in(s, t, hs), ofInt("axis", 1));
        cat = b.node("Sub", in(cat, b.weight("shift", 0.5, 18, 1, 1)));
        cat = b.node("Div", in(cat, b.initializer("two", new long[0], new float[] {2f})));
        cat = b.node("HardSigmoid", in(cat), ofFloat("alpha", 0.3f), ofFloat("beta", 0.4f));
        cat = b.node("Identity", in(b.node("Dropout", in(cat))));
        String tr = b.node("Transpose", in(cat), ofInts("perm", 0, 2, 3, 1));
        String flat = b.node("Reshape", in(tr, b.ints("shape", 0, -1)));
        String mm = b.node("MatMul", in(flat, b.weight("mm.w", 0.2, 18 * 24, 12)));
        mm = b.node("Clip", in(b.node("Add", in(mm, b.weight("mm.b", 0.2, 12))),
                b.initializer("lo", new long[0], new float[] {-0.5f}), b.initializer("hi", new long[0], new float[] {0.6f})));
        mm = b.node("Gemm", in(mm, b.weight("g.w", 0.4, 12, 7), b.weight("g.c", 0.2, 1, 7)), ofFloat("alpha", 0.7f),
                ofFloat("beta", 1.3f));
        b.node("Softmax", "probs", in(mm), ofInt("axis", 1));
        return b.build("probs", 14);
    }

    /** Gemm with each transpose flag, MatMul, and a MaxPool with asymmetric pads and overlapping windows. */
    static OnnxModel linearAndPooling() {
        GraphBuilder b = new GraphBuilder(9).input("input", -1, 3, 9, 9);
        String x = b.node("Conv", in("input", b.weight("c.w", 0.4, 4, 3, 3, 3)), ofInts("kernel_shape", 3, 3),
                ofInts("pads", 1, 1, 1, 1));
        x = b.node("MaxPool", in(x), ofInts("kernel_shape", 3, 3), ofInts("pads", 0, 1, 1, 0));
        x = b.node("Flatten", in(b.node("Relu", in(x))));
        x = b.node("Transpose", in(x), ofInts("perm", 1, 0));
        x = b.node("Gemm", in(x, b.weight("ta.w", 0.2, 256, 6)), ofInt("transA", 1));
        x = b.node("Gemm", in(x, b.weight("tb.w", 0.4, 5, 6), b.weight("tb.b", 0.2, 5)), ofInt("transB", 1));
        x = b.node("Gemm", in(b.node("Transpose", in(x), ofInts("perm", 1, 0)), b.weight("tab.w", 0.4, 3, 5)),
                ofInt("transA", 1), ofInt("transB", 1));
        b.node("MatMul", "out", in(x, b.weight("mm.w", 0.4, 3, 4)));
        return b.build("out", 14);
    }

    /**
     * Depthwise convs (channel multiplier 1 and 2) and grouped convs (group 2 and 4) side by side, behind a trainable
     * per-channel scale so that their input gradients reach a parameter: strides, dilations, asymmetric pads, with
     * and without bias, and non-square kernels, so that a transposed or mis-ordered weight layout changes the output.
     */
    static OnnxModel groupedConvolutions() {
        GraphBuilder b = new GraphBuilder(17).input("input", -1, 8, 11, 11);
        String x = b.node("Mul", in("input", b.weight("scale", 1.5, 1, 8, 1, 1)));
        String dw1 = b.node("Conv", in(x, b.weight("dw1.w", 0.5, 8, 1, 3, 3), b.weight("dw1.b", 0.2, 8)),
                ofInts("kernel_shape", 3, 3), ofInt("group", 8), ofInts("strides", 2, 2), ofInts("dilations", 2, 2),
                ofInts("pads", 2, 2, 2, 2));
        String dw2 = b.node("Conv", in(x, b.weight("dw2.w", 0.5, 16, 1, 3, 2)), ofInts("kernel_shape", 3, 2),
                ofInt("group", 8), ofInts("dilations", 2, 1), ofInts("pads", 2, 0, 1, 1));
        String g2 = b.node("Conv", in(x, b.weight("g2.w", 0.3, 6, 4, 3, 3), b.weight("g2.b", 0.2, 6)),
                ofInts("kernel_shape", 3, 3), ofInt("group", 2), ofInts("strides", 2, 2), ofInts("pads", 0, 1, 1, 0));
        String g4 = b.node("Conv", in(x, b.weight("g4.w", 0.4, 8, 2, 2, 3)), ofInts("kernel_shape", 2, 3),
                ofInt("group", 4), ofInts("dilations", 1, 2), ofInts("pads", 1, 1, 1, 1));
        String[] flat = {b.node("Flatten", in(dw1)), b.node("Flatten", in(dw2)), b.node("Flatten", in(g2)),
            b.node("Flatten", in(g4))};
        b.node("Concat", "out", flat, ofInt("axis", 1));
        return b.build("out", 14);
    }
}
