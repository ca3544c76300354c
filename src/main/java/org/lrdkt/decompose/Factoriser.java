package org.lrdkt.decompose;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.lrdkt.LrdktException;
import org.lrdkt.onnx.Attrs;
import org.lrdkt.onnx.Layer;
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

    /**
     * The new tensors of one replacement, stored in the layer weight's data type. Where the layer read its weight
     * through a Cast (fp16 weights in a float graph), each is read through a Cast to the same type, so the written
     * model keeps its weights in their original precision.
     */
    private static final class FactorTensors {
        private final List<TensorProto> initializers = new ArrayList<>();
        private final List<NodeProto> casts = new ArrayList<>();
        private final Candidate candidate;
        private final UniqueNames names;

        FactorTensors(Candidate candidate, UniqueNames names) {
            this.candidate = candidate;
            this.names = names;
        }

        /** Adds the initializer; returns the tensor the factor nodes read (its Cast's output where one is needed). */
        String add(String name, long[] dims, float[] values) {
            initializers.add(TensorData.fromFloats(name, dims, values, candidate.dataType()));
            if (candidate.computeType() == candidate.dataType()) {
                return name;
            }
            String cast = names.take(name + ".cast");
            casts.add(NodeProto.newBuilder().setName(cast).setOpType("Cast").addInput(name).addOutput(cast)
                    .addAttribute(Attrs.ofInt("to", candidate.computeType())).build());
            return cast;
        }
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

    /**
     * The nodes and initializers standing in for one layer. {@code biasShift} (null: none) is added to the layer's
     * effective bias, in the units of the unfolded weight (before a Gemm's alpha): the calibrated closed form's
     * mean correction.
     */
    static Replacement build(Candidate c, Unfolding unfolding, LowRank.Factors f, double[] biasShift,
                             ConvGeometry geometry, UniqueNames names) throws LrdktException {
        String[] suffix = suffixes(unfolding);
        String first = names.take(c.name() + "/" + suffix[0]);
        String second = names.take(c.name() + "/" + suffix[1]);
        String firstWeight = names.take(first + ".weight");
        String secondWeight = names.take(second + ".weight");
        String middle = names.take(first + ".output");
        NodeProto node = c.layer().node();
        String output = c.batchNorm() != null ? c.batchNorm().getOutput(0) : node.getOutput(0);
        FactorTensors inits = new FactorTensors(c, names);
        boolean matMul = c.layer().kind() == Layer.Kind.MATMUL;
        String bias = matMul ? null : c.layer().biasTensor();
        float[] biasValues = biasShift != null && !matMul ? correctedBias(c, biasShift) : c.foldedBias();
        if (biasValues != null) {
            bias = inits.add(names.take(second + ".bias"), new long[] {biasValues.length}, biasValues);
        }
        int k = f.k();
        List<NodeProto> nodes = switch (unfolding) {
            case FC -> {
                boolean shiftAfter = matMul && biasShift != null;
                String product = shiftAfter ? names.take(second + ".output") : output;
                List<NodeProto> pair = fullyConnected(c, f, first, second, firstWeight, secondWeight, middle,
                        product, bias, biasShift != null, inits);
                if (!shiftAfter) {
                    yield pair;
                }
                // a MatMul has no bias input: the mean correction is an Add of its own, before any bias Add
                String shiftName = inits.add(names.take(second + ".mean_shift"), new long[] {biasShift.length},
                        Matrix.narrow(biasShift));
                yield List.of(pair.get(0), pair.get(1), NodeProto.newBuilder().setName(names.take(second + "/shift"))
                        .setOpType("Add").setDomain(node.getDomain()).addInput(product).addInput(shiftName)
                        .addOutput(output).build());
            }
            case SPATIAL, CHANNEL -> {
                long n = c.shape()[0];
                long ch = c.shape()[1];
                long kh = c.shape()[2];
                long kw = c.shape()[3];
                boolean spatial = unfolding == Unfolding.SPATIAL;
                // left = M's (C·kh[·kw]) × K side: filter k of the first conv is its column k
                long[] firstShape = spatial ? new long[] {k, ch, kh, 1} : c.oneDimensional() ? new long[] {k, ch, kw}
                        : new long[] {k, ch, kh, kw};
                String firstInput = inits.add(firstWeight, firstShape, LayerWeights.transpose(f.left(), f.rows(), k));
                long[] secondShape = spatial ? new long[] {n, k, 1, kw} : c.oneDimensional() ? new long[] {n, k, 1}
                        : new long[] {n, k, 1, 1};
                String secondInput = inits.add(secondWeight, secondShape,
                        secondConvWeight(f, (int) n, spatial ? (int) kw : 1));
                long[] p = geometry.pads();
                long[] s = geometry.strides();
                long[] d = geometry.dilations();
                NodeProto a = spatial
                        ? conv(node, first, node.getInput(0), firstInput, null, middle, new long[] {kh, 1},
                        new long[] {s[0], 1}, new long[] {p[0], 0, p[2], 0}, new long[] {d[0], 1})
                        : conv(node, first, node.getInput(0), firstInput, null, middle, new long[] {kh, kw}, s, p, d);
                NodeProto b = spatial
                        ? conv(node, second, middle, secondInput, bias, output, new long[] {1, kw},
                        new long[] {1, s[1]}, new long[] {0, p[1], 0, p[3]}, new long[] {1, d[1]})
                        : conv(node, second, middle, secondInput, bias, output, new long[] {1, 1},
                        new long[] {1, 1}, new long[] {0, 0, 0, 0}, new long[] {1, 1});
                yield c.oneDimensional() ? List.of(lineConv(a), lineConv(b)) : List.of(a, b);
            }
        };
        List<NodeProto> all = new ArrayList<>(inits.casts);
        all.addAll(nodes);
        return new Replacement(all, inits.initializers);
    }

    /**
     * The layer's effective bias plus the mean correction. A conv's is its (BN-folded) bias per output channel; a
     * Gemm's is beta·C (C of one value broadcast) plus alpha·shift, written with beta 1.
     */
    private static float[] correctedBias(Candidate c, double[] shift) throws LrdktException {
        int n = shift.length;
        double scale = 1;
        float[] base = c.foldedBias();
        if (base == null && c.layer().biasTensor() != null) {
            base = TensorData.toFloats(c.graph().constant(c.layer().biasTensor()).orElseThrow());
        }
        if (c.layer().kind() == Layer.Kind.GEMM) {
            NodeProto node = c.layer().node();
            scale = Attrs.getFloat(node, "alpha", 1f);
            double beta = Attrs.getFloat(node, "beta", 1f);
            if (base != null && base.length != n && base.length != 1) {
                throw LrdktException.unsupported("Gemm bias of " + base.length + " values for " + n + " outputs "
                        + "cannot take the calibration's mean correction");
            }
            float[] effective = new float[n];
            for (int i = 0; base != null && i < n; i++) {
                effective[i] = (float) (beta * base[base.length == 1 ? 0 : i]);
            }
            base = effective;
        }
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = (float) ((base == null ? 0 : base[i]) + scale * shift[i]);
        }
        return out;
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

    /** A factor conv built 2-D over a unit height (see {@link ConvGeometry}) as the 1-D conv it stands for. */
    private static NodeProto lineConv(NodeProto twoD) {
        NodeProto.Builder b = twoD.toBuilder();
        for (int i = 0; i < b.getAttributeCount(); i++) {
            AttributeProto a = b.getAttribute(i);
            if (a.getName().equals("pads")) {
                b.setAttribute(i, Attrs.ofInts("pads", a.getInts(1), a.getInts(3)));
            } else if (CONV_GEOMETRY.contains(a.getName()) && a.getIntsCount() == 2) {
                b.setAttribute(i, Attrs.ofInts(a.getName(), a.getInts(1)));
            }
        }
        return b.build();
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
                                                  String output, String bias, boolean effectiveBias,
                                                  FactorTensors inits) {
        NodeProto node = c.layer().node();
        int k = f.k();
        int out = f.rows();
        int in = f.cols();
        boolean gemm = c.layer().kind() == Layer.Kind.GEMM;
        boolean transB = gemm && Attrs.transB(node);
        // stored as op(B) expects: (K × in) / (out × K) when transposed, else (in × K) / (K × out)
        String firstInput = transB ? inits.add(firstWeight, new long[] {k, in}, f.right())
                : inits.add(firstWeight, new long[] {in, k}, LayerWeights.transpose(f.right(), k, in));
        String secondInput = transB ? inits.add(secondWeight, new long[] {out, k}, f.left())
                : inits.add(secondWeight, new long[] {k, out}, LayerWeights.transpose(f.left(), out, k));
        NodeProto.Builder a = NodeProto.newBuilder().setName(first).setOpType(node.getOpType())
                .setDomain(node.getDomain()).addInput(node.getInput(0)).addInput(firstInput).addOutput(middle);
        NodeProto.Builder b = NodeProto.newBuilder().setName(second).setOpType(node.getOpType())
                .setDomain(node.getDomain()).addInput(middle).addInput(secondInput).addOutput(output);
        if (gemm) {
            a.addAttribute(Attrs.ofInt("transB", transB ? 1 : 0))
                    .addAttribute(Attrs.ofFloat("alpha", Attrs.getFloat(node, "alpha", 1f)));
            b.addAttribute(Attrs.ofInt("transB", transB ? 1 : 0));
            if (bias != null) {
                // a corrected bias already holds beta·C
                b.addInput(bias).addAttribute(Attrs.ofFloat("beta", effectiveBias ? 1f : Attrs.getFloat(node, "beta",
                        1f)));
            }
        }
        return List.of(a.build(), b.build());
    }
}
