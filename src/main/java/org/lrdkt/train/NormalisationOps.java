package org.lrdkt.train;

import static org.lrdkt.train.Ops.axis;
import static org.lrdkt.train.Ops.leading;

import java.util.Arrays;
import java.util.stream.IntStream;
import org.lrdkt.onnx.Attrs;
import org.lrdkt.onnx.proto.Onnx.NodeProto;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Mirror ops that normalise: BatchNormalization (frozen statistics), LayerNormalization and InstanceNormalization
 * (statistics of the sample itself, differentiated through), Softmax. Reductions are {@link ReductionOps}.
 */
final class NormalisationOps {

    private NormalisationOps() {
    }

    /** [1, C, 1, ...]: a per-channel vector's shape for broadcasting against x. */
    private static long[] channelShape(INDArray x) {
        long[] s = new long[x.rank()];
        Arrays.fill(s, 1);
        s[1] = x.size(1);
        return s;
    }

    /** BatchNormalization with frozen statistics: y = (x − mean)/√(var+ε)·scale + B; scale and B train. */
    static final class BatchNorm implements MirrorOp {
        private final double epsilon;

        BatchNorm(NodeProto node) {
            epsilon = Attrs.getFloat(node, "epsilon", 1e-5f);
        }

        private INDArray invStd(INDArray var) {
            return Transforms.sqrt(var.add(epsilon), false).rdivi(1);
        }

        @Override
        public INDArray[] forward(INDArray[] in) {
            long[] cs = channelShape(in[0]);
            INDArray k = in[1].mul(invStd(in[4]));
            INDArray c = in[2].sub(in[3].mul(k));
            INDArray y = Tensors.broadcast("multiply", in[0], k.reshape('c', cs));
            return new INDArray[] {Tensors.broadcast("add", y, c.reshape('c', cs))};
        }

        @Override
        public boolean backwardReadsOutputs() {
            return false;
        }

        @Override
        public INDArray[] backward(INDArray[] in, INDArray[] out, INDArray[] g, boolean[] need) {
            long[] cs = channelShape(in[0]);
            INDArray inv = invStd(in[4]);
            INDArray[] grads = new INDArray[in.length];
            if (need[0]) {
                grads[0] = Tensors.broadcast("multiply", g[0], in[1].mul(inv).reshape('c', cs));
            }
            int[] reduce = IntStream.range(0, in[0].rank()).filter(i -> i != 1).toArray();
            if (need[1]) {
                INDArray normalised = Tensors.broadcast("multiply",
                        Tensors.broadcast("subtract", in[0], in[3].reshape('c', cs)), inv.reshape('c', cs));
                grads[1] = normalised.muli(g[0]).sum(reduce);
            }
            if (need[2]) {
                grads[2] = g[0].sum(reduce);
            }
            return grads;
        }
    }

    /** Softmax along one axis (opset 13+), or over the flattened trailing axes from {@code axis} (before 13). */
    static final class Softmax implements MirrorOp {
        private final long axis;
        private final boolean singleAxis;

        Softmax(long axis, boolean singleAxis) {
            this.axis = axis;
            this.singleAxis = singleAxis;
        }

        private INDArray view(INDArray x) {
            int a = axis(axis, x.rank());
            if (singleAxis) {
                return x;
            }
            long outer = leading(x, a);
            return x.reshape('c', outer, x.length() / outer);
        }

        private int dim(INDArray x) {
            return singleAxis ? axis(axis, x.rank()) : 1;
        }

        @Override
        public INDArray[] forward(INDArray[] in) {
            INDArray x = view(in[0]);
            INDArray y = Tensors.exec("softmax", new INDArray[] {x}, new int[] {dim(x)})[0];
            return new INDArray[] {y.reshape('c', in[0].shape())};
        }

        @Override
        public INDArray[] backward(INDArray[] in, INDArray[] out, INDArray[] g, boolean[] need) {
            INDArray y = view(out[0]);
            INDArray gy = view(g[0]);
            int d = dim(y);
            INDArray dot = gy.mul(y).sum(true, d);
            INDArray gx = Tensors.broadcast("subtract", gy, dot).muli(y);
            return new INDArray[] {gx.reshape('c', in[0].shape())};
        }
    }

    /**
     * x standardised over its axes from {@code from} on: x̂ = (x − mean)/√(var + ε) with the biased variance, and
     * the 1/√(var + ε) it divided by (kept axes of size 1).
     */
    private record Standardised(INDArray normalised, INDArray invStd, int[] axes) {

        static Standardised of(INDArray x, int from, double epsilon) {
            int[] axes = IntStream.range(from, x.rank()).toArray();
            INDArray centred = Tensors.broadcast("subtract", x, x.mean(true, axes));
            INDArray invStd = Transforms.sqrt(centred.mul(centred).mean(true, axes).addi(epsilon), false).rdivi(1);
            return new Standardised(Tensors.broadcast("multiply", centred, invStd), invStd, axes);
        }

        /** dL/dx from g = dL/dx̂: (g − mean(g) − x̂·mean(g·x̂))/√(var + ε), means over the standardised axes. */
        INDArray inputGradient(INDArray g) {
            INDArray projected = Tensors.broadcast("multiply", normalised, g.mul(normalised).mean(true, axes));
            INDArray r = Tensors.broadcast("subtract", g, g.mean(true, axes)).subi(projected);
            return Tensors.broadcast("multiply", r, invStd);
        }
    }

    /**
     * LayerNormalization (opset 17): x standardised over the axes from {@code axis} on, times Scale plus B (both
     * broadcast against those axes, both trainable). The Mean and InvStdDev outputs are not computed.
     */
    static final class LayerNorm implements MirrorOp {
        private final long axis;
        private final double epsilon;

        LayerNorm(NodeProto node) {
            axis = Attrs.getInt(node, "axis", -1);
            epsilon = Attrs.getFloat(node, "epsilon", 1e-5f);
        }

        @Override
        public INDArray[] forward(INDArray[] in) {
            Standardised s = Standardised.of(in[0], axis(axis, in[0].rank()), epsilon);
            INDArray y = Tensors.broadcast("multiply", s.normalised(), in[1]);
            return new INDArray[] {in.length > 2 && in[2] != null ? Tensors.broadcast("add", y, in[2]) : y};
        }

        @Override
        public INDArray[] backward(INDArray[] in, INDArray[] out, INDArray[] g, boolean[] need) {
            Standardised s = Standardised.of(in[0], axis(axis, in[0].rank()), epsilon);
            INDArray[] grads = new INDArray[in.length];
            if (need[0]) {
                grads[0] = s.inputGradient(Tensors.broadcast("multiply", g[0], in[1]));
            }
            if (need[1]) {
                grads[1] = Tensors.reduceTo(g[0].mul(s.normalised()), in[1].shape());
            }
            if (in.length > 2 && in[2] != null && need[2]) {
                grads[2] = Tensors.reduceTo(g[0], in[2].shape());
            }
            return grads;
        }
    }

    /**
     * InstanceNormalization: each sample's channel standardised over its spatial axes, times a per-channel scale plus
     * a per-channel B (both [C], both trainable).
     */
    static final class InstanceNorm implements MirrorOp {
        private final double epsilon;

        InstanceNorm(NodeProto node) {
            epsilon = Attrs.getFloat(node, "epsilon", 1e-5f);
        }

        @Override
        public INDArray[] forward(INDArray[] in) {
            long[] cs = channelShape(in[0]);
            INDArray y = Tensors.broadcast("multiply", Standardised.of(in[0], 2, epsilon).normalised(),
                    in[1].reshape('c', cs));
            return new INDArray[] {Tensors.broadcast("add", y, in[2].reshape('c', cs))};
        }

        @Override
        public INDArray[] backward(INDArray[] in, INDArray[] out, INDArray[] g, boolean[] need) {
            Standardised s = Standardised.of(in[0], 2, epsilon);
            int[] perChannel = IntStream.range(0, in[0].rank()).filter(i -> i != 1).toArray();
            INDArray[] grads = new INDArray[in.length];
            if (need[0]) {
                grads[0] = s.inputGradient(Tensors.broadcast("multiply", g[0], in[1].reshape('c',
                        channelShape(in[0]))));
            }
            if (need[1]) {
                grads[1] = g[0].mul(s.normalised()).sum(perChannel);
            }
            if (need[2]) {
                grads[2] = g[0].sum(perChannel);
            }
            return grads;
        }
    }
}
