package org.lrdkt.train;

import static org.lrdkt.train.Ops.axis;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.IntStream;
import org.lrdkt.onnx.Attrs;
import org.lrdkt.onnx.proto.Onnx.NodeProto;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Mirror ops that reduce a tensor over some of its axes: ReduceSum/Mean/Max/Min and the global pools, which reduce
 * over every spatial axis and keep them as size 1.
 */
final class ReductionOps {

    private ReductionOps() {
    }

    enum Kind { SUM, MEAN, MAX, MIN }

    /**
     * A reduction over the given axes (attribute, or input 1 from ReduceSum-13 and the other Reduce ops' opset 18;
     * none means all unless noop_with_empty_axes), keeping the reduced axes as size 1 when keepdims. Max and Min send
     * each output's gradient to the elements that hold the extreme value, split equally among ties (as PyTorch's
     * amax/amin do): ties, rare in trained activations, then keep the gradient's sum exact.
     */
    static final class Reduce implements MirrorOp {
        private final Kind kind;
        private final long[] attrAxes;
        private final boolean keepDims;
        private final boolean noopWithoutAxes;
        private final boolean spatial;

        private Reduce(Kind kind, long[] attrAxes, boolean keepDims, boolean noopWithoutAxes, boolean spatial) {
            this.kind = kind;
            this.attrAxes = attrAxes;
            this.keepDims = keepDims;
            this.noopWithoutAxes = noopWithoutAxes;
            this.spatial = spatial;
        }

        /** ReduceSum, ReduceMean, ReduceMax or ReduceMin. */
        static Reduce of(NodeProto node) {
            Kind kind = Kind.valueOf(node.getOpType().substring("Reduce".length()).toUpperCase(Locale.ROOT));
            return new Reduce(kind, Attrs.getInts(node, "axes", null), Attrs.getInt(node, "keepdims", 1) != 0,
                    Attrs.getInt(node, "noop_with_empty_axes", 0) != 0, false);
        }

        /** GlobalAveragePool (MEAN) or GlobalMaxPool (MAX): over axes 2.., kept. */
        static Reduce global(Kind kind) {
            return new Reduce(kind, null, true, false, true);
        }

        /** The reduced axes, or null for none (the no-op case). */
        private int[] axes(INDArray[] in) {
            int rank = in[0].rank();
            if (spatial) {
                return IntStream.range(2, rank).toArray();
            }
            long[] given = attrAxes != null ? attrAxes : in.length > 1 && in[1] != null ? in[1].toLongVector() : null;
            if (given == null || given.length == 0) {
                return noopWithoutAxes ? null : IntStream.range(0, rank).toArray();
            }
            return Arrays.stream(given).mapToInt(a -> axis(a, rank)).sorted().toArray();
        }

        private static long count(INDArray x, int[] axes) {
            return Arrays.stream(axes).mapToLong(x::size).reduce(1, (a, b) -> a * b);
        }

        @Override
        public INDArray[] forward(INDArray[] in) {
            int[] axes = axes(in);
            INDArray x = in[0];
            if (axes == null) {
                return new INDArray[] {x.dup()};
            }
            INDArray y = switch (kind) {
                case SUM -> x.sum(keepDims, axes);
                case MEAN -> x.sum(keepDims, axes).divi(count(x, axes));
                case MAX -> x.max(keepDims, axes);
                case MIN -> x.min(keepDims, axes);
            };
            return new INDArray[] {y};
        }

        @Override
        public INDArray[] backward(INDArray[] in, INDArray[] out, INDArray[] g, boolean[] need) {
            int[] axes = axes(in);
            INDArray x = in[0];
            INDArray[] grads = new INDArray[in.length];
            if (axes == null) {
                grads[0] = g[0];
                return grads;
            }
            long[] kept = x.shape().clone();
            for (int a : axes) {
                kept[a] = 1;
            }
            INDArray gy = g[0].reshape('c', kept);
            INDArray zeros = Nd4j.zeros(x.dataType(), x.shape());
            grads[0] = switch (kind) {
                case SUM -> Tensors.broadcast("add", zeros, gy);
                case MEAN -> Tensors.broadcast("add", zeros, gy.div(count(x, axes)));
                case MAX, MIN -> {
                    INDArray extreme = x.eq(Tensors.broadcast("add", zeros, out[0].reshape('c', kept)))
                            .castTo(x.dataType());
                    INDArray share = gy.div(extreme.sum(true, axes));
                    yield Tensors.broadcast("multiply", extreme, share);
                }
            };
            return grads;
        }
    }
}
