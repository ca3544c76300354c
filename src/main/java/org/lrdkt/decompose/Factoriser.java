package org.lrdkt.decompose;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.lrdkt.onnx.Attrs;
import org.lrdkt.onnx.TensorData;
import org.lrdkt.onnx.proto.Onnx.AttributeProto;
import org.lrdkt.onnx.proto.Onnx.NodeProto;
import org.lrdkt.onnx.proto.Onnx.TensorProto;

/**
 * Turns a factor pair into the two ONNX nodes that replace a layer. The first node has no bias; the second takes
 * the original (or BN-folded) bias and writes the layer's original output tensor, so every consumer and every
 * knowledge-transfer hint sees the same name as in the teacher.
 */
final class Factoriser {

    /** Conv attributes each factor gets explicitly, per axis; all others are copied from the original. */
    private static final Set<String> CONV_GEOMETRY = Set.of("kernel_shape", "strides", "pads", "dilations",
            "auto_pad", "group");

    /** The nodes and new initializers standing in for one layer. */
    record Replacement(List<NodeProto> nodes, List<TensorProto> initializers) {
    }

    private Factoriser() {
    }

    /** Node name suffixes of the first and second factor of each unfolding (the contract other stages read). */
    static String[] suffixes(Unfolding unfolding) {
        return switch (unfolding) {
            case SPATIAL -> new String[] {"lrd_v", "lrd_h"};
            case CHANNEL -> new String[] {"lrd_k", "lrd_1x1"};
            case FC -> new String[] {"lrd_a", "lrd_b"};
        };
    }

    static Replacement build(Candidate c, Unfolding unfolding, LowRank.Factors f, ConvGeometry geometry,
                             UniqueNames names) {
        String[] suffix = suffixes(unfolding);
        String first = names.take(c.name() + "/" + suffix[0]);
        String second = names.take(c.name() + "/" + suffix[1]);
        String firstWeight = names.take(first + ".weight");
        String secondWeight = names.take(second + ".weight");
        String middle = names.take(first + ".output");
        NodeProto node = c.layer().node();
        String output = c.batchNorm() != null ? c.batchNorm().getOutput(0) : node.getOutput(0);
        List<TensorProto> inits = new ArrayList<>();
        String bias = c.layer().kind() == org.lrdkt.onnx.Layer.Kind.MATMUL ? null : c.layer().biasTensor();
        if (c.foldedBias() != null) {
            bias = names.take(second + ".bias");
            inits.add(TensorData.fromFloats(bias, new long[] {c.foldedBias().length}, c.foldedBias(), c.dataType()));
        }
        int k = f.k();
        List<NodeProto> nodes = switch (unfolding) {
            case FC -> fullyConnected(c, f, first, second, firstWeight, secondWeight, middle, output, bias, inits);
            case SPATIAL, CHANNEL -> {
                long n = c.shape()[0];
                long ch = c.shape()[1];
                long kh = c.shape()[2];
                long kw = c.shape()[3];
                boolean spatial = unfolding == Unfolding.SPATIAL;
                // left = M's (C·kh[·kw]) × K side: filter k of the first conv is its column k
                long[] firstShape = spatial ? new long[] {k, ch, kh, 1} : new long[] {k, ch, kh, kw};
                inits.add(TensorData.fromFloats(firstWeight, firstShape, LayerWeights.transpose(f.left(), f.rows(), k),
                        c.dataType()));
                long[] secondShape = spatial ? new long[] {n, k, 1, kw} : new long[] {n, k, 1, 1};
                inits.add(TensorData.fromFloats(secondWeight, secondShape, secondConvWeight(f, (int) n, spatial ? (int) kw : 1),
                        c.dataType()));
                long[] p = geometry.pads();
                long[] s = geometry.strides();
                long[] d = geometry.dilations();
                NodeProto a = spatial
                        ? conv(node, first, node.getInput(0), firstWeight, null, middle, new long[] {kh, 1},
                        new long[] {s[0], 1}, new long[] {p[0], 0, p[2], 0}, new long[] {d[0], 1})
                        : conv(node, first, node.getInput(0), firstWeight, null, middle, new long[] {kh, kw}, s, p, d);
                NodeProto b = spatial
                        ? conv(node, second, middle, secondWeight, bias, output, new long[] {1, kw},
                        new long[] {1, s[1]}, new long[] {0, p[1], 0, p[3]}, new long[] {1, d[1]})
                        : conv(node, second, middle, secondWeight, bias, output, new long[] {1, 1},
                        new long[] {1, 1}, new long[] {0, 0, 0, 0}, new long[] {1, 1});
                yield List.of(a, b);
            }
        };
        return new Replacement(nodes, inits);
    }

    /** The second conv's weight (N, K, 1, kw) from right = K × (N·kw): W[n, k, 0, j] = right[k, (n, j)]. */
    private static float[] secondConvWeight(LowRank.Factors f, int n, int kw) {
        int k = f.k();
        float[] w = new float[n * k * kw];
        for (int r = 0; r < k; r++) {
            for (int o = 0; o < n; o++) {
                System.arraycopy(f.right(), r * f.cols() + o * kw, w, (o * k + r) * kw, kw);
            }
        }
        return w;
    }

    private static NodeProto conv(NodeProto original, String name, String input, String weight, String bias,
                                  String output, long[] kernel, long[] strides, long[] pads, long[] dilations) {
        NodeProto.Builder b = NodeProto.newBuilder().setName(name).setOpType("Conv").setDomain(original.getDomain())
                .addInput(input).addInput(weight).addOutput(output);
        if (bias != null) {
            b.addInput(bias);
        }
        for (AttributeProto a : original.getAttributeList()) {
            if (!CONV_GEOMETRY.contains(a.getName())) {
                b.addAttribute(a);
            }
        }
        return b.addAttribute(Attrs.ofInts("kernel_shape", kernel)).addAttribute(Attrs.ofInts("strides", strides))
                .addAttribute(Attrs.ofInts("pads", pads)).addAttribute(Attrs.ofInts("dilations", dilations))
                .addAttribute(Attrs.ofInt("group", 1)).build();
    }

    /**
     * y = x·Wᵀ with W = left·right (out × in) becomes x·rightᵀ (in → K) then ·leftᵀ (K → out). Gemm keeps its transB
     * layout for both weights, alpha on the first and beta with the bias on the second; MatMul stays MatMul and its
     * bias Add stays where it is.
     */
    private static List<NodeProto> fullyConnected(Candidate c, LowRank.Factors f, String first, String second,
                                                  String firstWeight, String secondWeight, String middle,
                                                  String output, String bias, List<TensorProto> inits) {
        NodeProto node = c.layer().node();
        int k = f.k();
        int out = f.rows();
        int in = f.cols();
        boolean gemm = c.layer().kind() == org.lrdkt.onnx.Layer.Kind.GEMM;
        boolean transB = gemm && Attrs.getInt(node, "transB", 0) != 0;
        // stored as op(B) expects: (K × in) / (out × K) when transposed, else (in × K) / (K × out)
        inits.add(transB ? TensorData.fromFloats(firstWeight, new long[] {k, in}, f.right(), c.dataType())
                : TensorData.fromFloats(firstWeight, new long[] {in, k}, LayerWeights.transpose(f.right(), k, in),
                c.dataType()));
        inits.add(transB ? TensorData.fromFloats(secondWeight, new long[] {out, k}, f.left(), c.dataType())
                : TensorData.fromFloats(secondWeight, new long[] {k, out}, LayerWeights.transpose(f.left(), out, k),
                c.dataType()));
        NodeProto.Builder a = NodeProto.newBuilder().setName(first).setOpType(node.getOpType())
                .setDomain(node.getDomain()).addInput(node.getInput(0)).addInput(firstWeight).addOutput(middle);
        NodeProto.Builder b = NodeProto.newBuilder().setName(second).setOpType(node.getOpType())
                .setDomain(node.getDomain()).addInput(middle).addInput(secondWeight).addOutput(node.getOutput(0));
        if (gemm) {
            a.addAttribute(Attrs.ofInt("transB", transB ? 1 : 0))
                    .addAttribute(Attrs.ofFloat("alpha", Attrs.getFloat(node, "alpha", 1f)));
            b.addAttribute(Attrs.ofInt("transB", transB ? 1 : 0));
            if (bias != null) {
                b.addInput(bias).addAttribute(Attrs.ofFloat("beta", Attrs.getFloat(node, "beta", 1f)));
            }
        }
        return List.of(a.build(), b.build());
    }
}
