package org.lrdkt.train;

import static org.lrdkt.train.Ops.axis;
import static org.lrdkt.train.Ops.leading;

import java.util.Arrays;
import java.util.stream.IntStream;
import org.lrdkt.onnx.Attrs;
import org.lrdkt.onnx.proto.Onnx.NodeProto;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/** Mirror ops that normalise or reduce: BatchNormalization (frozen statistics), Softmax and global pooling. */
final class NormalisationOps {

    private NormalisationOps() {
    }

    /** BatchNormalization with frozen statistics: y = (x − mean)/√(var+ε)·scale + B; scale and B train. */
    static final class BatchNorm implements MirrorOp {
        private final double epsilon;

        BatchNorm(NodeProto node) {
            epsilon = Attrs.getFloat(node, "epsilon", 1e-5f);
        }

        private static long[] channelShape(INDArray x) {
            long[] s = new long[x.rank()];
            Arrays.fill(s, 1);
            s[1] = x.size(1);
            return s;
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
        public INDArray[] backward(INDArray[] in, INDArray[] out, INDArray[] g, boolean[] need) {
            long[] cs = channelShape(in[0]);
            INDArray inv = invStd(in[4]);
            INDArray[] grads = new INDArray[in.length];
            if (need[0]) {
                grads[0] = Tensors.broadcast("multiply", g[0], in[1].mul(inv).reshape('c', cs));
            }
            int[] reduce = java.util.stream.IntStream.range(0, in[0].rank()).filter(i -> i != 1).toArray();
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

    static final class GlobalAveragePool implements MirrorOp {
        private static int[] spatial(INDArray x) {
            return java.util.stream.IntStream.range(2, x.rank()).toArray();
        }

        @Override
        public INDArray[] forward(INDArray[] in) {
            return new INDArray[] {in[0].mean(true, spatial(in[0]))};
        }

        @Override
        public INDArray[] backward(INDArray[] in, INDArray[] out, INDArray[] g, boolean[] need) {
            long area = in[0].length() / (in[0].size(0) * in[0].size(1));
            INDArray zeros = Nd4j.zeros(in[0].dataType(), in[0].shape());
            return new INDArray[] {Tensors.broadcast("add", zeros, g[0].div(area))};
        }
    }

    /**
     * ReduceMean and ReduceSum over the given axes (attribute, or input 1 from ReduceSum-13 and ReduceMean-18; none
     * means all unless noop_with_empty_axes), keeping the reduced axes as size 1 when keepdims.
     */
    static final class Reduce implements MirrorOp {
        private final boolean mean;
        private final long[] attrAxes;
        private final boolean keepDims;
        private final boolean noopWithoutAxes;

        Reduce(NodeProto node) {
            mean = node.getOpType().equals("ReduceMean");
            attrAxes = Attrs.getInts(node, "axes", null);
            keepDims = Attrs.getInt(node, "keepdims", 1) != 0;
            noopWithoutAxes = Attrs.getInt(node, "noop_with_empty_axes", 0) != 0;
        }

        /** The reduced axes, or null for none (the no-op case). */
        private int[] axes(INDArray[] in) {
            long[] given = attrAxes != null ? attrAxes : in.length > 1 && in[1] != null ? in[1].toLongVector() : null;
            int rank = in[0].rank();
            if (given == null || given.length == 0) {
                return noopWithoutAxes ? null : IntStream.range(0, rank).toArray();
            }
            return Arrays.stream(given).mapToInt(a -> axis(a, rank)).sorted().toArray();
        }

        private long count(INDArray x, int[] axes) {
            return Arrays.stream(axes).mapToLong(x::size).reduce(1, (a, b) -> a * b);
        }

        @Override
        public INDArray[] forward(INDArray[] in) {
            int[] axes = axes(in);
            if (axes == null) {
                return new INDArray[] {in[0].dup()};
            }
            INDArray y = in[0].sum(keepDims, axes);
            return new INDArray[] {mean ? y.divi(count(in[0], axes)) : y};
        }

        @Override
        public INDArray[] backward(INDArray[] in, INDArray[] out, INDArray[] g, boolean[] need) {
            int[] axes = axes(in);
            INDArray[] grads = new INDArray[in.length];
            if (axes == null) {
                grads[0] = g[0];
                return grads;
            }
            long[] kept = in[0].shape().clone();
            for (int a : axes) {
                kept[a] = 1;
            }
            INDArray gy = g[0].reshape('c', kept);
            if (mean) {
                gy = gy.div(count(in[0], axes));
            }
            grads[0] = Tensors.broadcast("add", Nd4j.zeros(in[0].dataType(), in[0].shape()), gy);
            return grads;
        }
    }
}
