package org.lrdkt.train;

import static org.lrdkt.train.Ops.axis;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.LongStream;
import org.lrdkt.onnx.Attrs;
import org.lrdkt.onnx.proto.Onnx.NodeProto;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Mirror ops that copy parts of tensors: Concat and Split, Slice and Gather, Pad, Expand. Their backward passes put
 * each output gradient back where its elements came from, adding where one input element fed several outputs.
 */
final class IndexingOps {

    private IndexingOps() {
    }

    /** The index selecting [from, to) along {@code axis} and everything along the other axes. */
    private static INDArrayIndex[] along(INDArray x, int axis, long from, long to) {
        INDArrayIndex[] idx = NDArrayIndex.allFor(x);
        idx[axis] = NDArrayIndex.interval(from, to);
        return idx;
    }

    static final class Concat implements MirrorOp {
        private final long axis;

        Concat(long axis) {
            this.axis = axis;
        }

        @Override
        public INDArray[] forward(INDArray[] in) {
            return new INDArray[] {Nd4j.concat(axis(axis, in[0].rank()), in)};
        }

        @Override
        public INDArray[] backward(INDArray[] in, INDArray[] out, INDArray[] g, boolean[] need) {
            int a = axis(axis, in[0].rank());
            INDArray[] grads = new INDArray[in.length];
            long start = 0;
            for (int i = 0; i < in.length; i++) {
                long size = in[i].size(a);
                if (need[i]) {
                    grads[i] = g[0].get(along(g[0], a, start, start + size)).dup('c');
                }
                start += size;
            }
            return grads;
        }
    }

    /** Split along an axis into parts of the given sizes (attribute before opset 13, input 1 from 13) or equal ones. */
    static final class Split implements MirrorOp {
        private final long axis;
        private final long[] attrSizes;
        private final int parts;

        Split(NodeProto node) {
            axis = Attrs.getInt(node, "axis", 0);
            attrSizes = Attrs.getInts(node, "split", null);
            parts = node.getOutputCount();
        }

        private long[] sizes(INDArray[] in, int a) {
            if (attrSizes != null) {
                return attrSizes;
            }
            if (in.length > 1 && in[1] != null) {
                return in[1].toLongVector();
            }
            long total = in[0].size(a);
            long part = (total + parts - 1) / parts;
            long[] sizes = new long[parts];
            for (int i = 0; i < parts; i++) {
                sizes[i] = Math.min(part, total - i * part);
            }
            return sizes;
        }

        @Override
        public INDArray[] forward(INDArray[] in) {
            int a = axis(axis, in[0].rank());
            long[] sizes = sizes(in, a);
            INDArray[] out = new INDArray[sizes.length];
            long start = 0;
            for (int i = 0; i < sizes.length; i++) {
                out[i] = in[0].get(along(in[0], a, start, start + sizes[i])).dup('c');
                start += sizes[i];
            }
            return out;
        }

        @Override
        public INDArray[] backward(INDArray[] in, INDArray[] out, INDArray[] g, boolean[] need) {
            INDArray[] parts = new INDArray[out.length];
            for (int i = 0; i < out.length; i++) {
                parts[i] = g[i] != null ? g[i] : Nd4j.zerosLike(out[i]); // an unused part passes no gradient
            }
            INDArray[] grads = new INDArray[in.length];
            grads[0] = Nd4j.concat(axis(axis, in[0].rank()), parts);
            return grads;
        }
    }

    /**
     * Slice: starts/ends/axes/steps as attributes (opset < 10) or inputs 1–4. A negative step (PyTorch reverses pad
     * amounts with one) takes the same elements as the ascending slice that ends at the start, in reverse order.
     */
    static final class Slice implements MirrorOp {
        private final long[] attrStarts;
        private final long[] attrEnds;
        private final long[] attrAxes;

        Slice(NodeProto node, int opset) {
            boolean fromAttributes = opset < 10;
            attrStarts = fromAttributes ? Attrs.getInts(node, "starts", null) : null;
            attrEnds = fromAttributes ? Attrs.getInts(node, "ends", null) : null;
            attrAxes = fromAttributes ? Attrs.getInts(node, "axes", null) : null;
        }

        /** The ascending index of the sliced elements and the axes whose order the slice reverses. */
        private record Selection(INDArrayIndex[] index, int[] reversed) {
        }

        private Selection select(INDArray[] in) {
            INDArray x = in[0];
            long[] starts = attrStarts != null ? attrStarts : in[1].toLongVector();
            long[] ends = attrStarts != null ? attrEnds : in[2].toLongVector();
            long[] axes = attrStarts != null ? attrAxes : in.length > 3 && in[3] != null ? in[3].toLongVector() : null;
            long[] steps = attrStarts == null && in.length > 4 && in[4] != null ? in[4].toLongVector() : null;
            INDArrayIndex[] idx = NDArrayIndex.allFor(x);
            List<Integer> reversed = new ArrayList<>();
            for (int i = 0; i < starts.length; i++) {
                int a = axes == null ? i : axis(axes[i], x.rank());
                long step = steps == null ? 1 : steps[i];
                long size = x.size(a);
                long start = starts[i] < 0 ? starts[i] + size : starts[i];
                long end = ends[i] < 0 ? ends[i] + size : ends[i];
                if (step > 0) {
                    start = Math.min(Math.max(start, 0), size);
                    end = Math.min(Math.max(end, 0), size);
                    idx[a] = NDArrayIndex.interval(start, step, Math.max(start, end));
                    continue;
                }
                start = Math.min(Math.max(start, 0), size - 1);
                end = Math.min(Math.max(end, -1), size - 1);
                long count = Math.max(0, (start - end + -step - 1) / -step);
                idx[a] = NDArrayIndex.interval(start - (count - 1) * -step, -step, start + 1);
                reversed.add(a);
            }
            return new Selection(idx, reversed.stream().mapToInt(Integer::intValue).toArray());
        }

        private static INDArray reverse(INDArray x, int[] axes) {
            return axes.length == 0 ? x : Tensors.exec("reverse", new INDArray[] {x}, axes)[0];
        }

        @Override
        public INDArray[] forward(INDArray[] in) {
            Selection s = select(in);
            return new INDArray[] {reverse(in[0].get(s.index()).dup('c'), s.reversed())};
        }

        @Override
        public INDArray[] backward(INDArray[] in, INDArray[] out, INDArray[] g, boolean[] need) {
            Selection s = select(in);
            INDArray[] grads = new INDArray[in.length];
            grads[0] = Nd4j.zeros(in[0].dataType(), in[0].shape());
            grads[0].get(s.index()).assign(reverse(g[0], s.reversed()));
            return grads;
        }
    }

    /**
     * Pad in constant, reflect or edge mode (pads and value as attributes before opset 11, inputs from 11), one axis
     * at a time. The border of reflect and edge copies interior elements, so their gradients add back onto those.
     */
    static final class Pad implements MirrorOp {
        private final String mode;
        private final long[] attrPads;
        private final double attrValue;

        Pad(NodeProto node, int opset) {
            mode = Attrs.getString(node, "mode", "constant");
            if (!mode.equals("constant") && !mode.equals("reflect") && !mode.equals("edge")) {
                throw new MirrorShapeException("mode " + mode);
            }
            attrPads = opset < 11 ? Attrs.getInts(node, "pads", null) : null;
            attrValue = Attrs.getFloat(node, "value", 0f);
        }

        private long[] pads(INDArray[] in) {
            long[] given = attrPads != null ? attrPads : in[1].toLongVector();
            int rank = in[0].rank();
            long[] pads = new long[2 * rank];
            long[] axes = attrPads == null && in.length > 3 && in[3] != null ? in[3].toLongVector() : null;
            int count = given.length / 2;
            for (int i = 0; i < count; i++) {
                int a = axes == null ? i : axis(axes[i], rank);
                pads[a] = given[i];
                pads[rank + a] = given[count + i];
            }
            for (long p : pads) {
                if (p < 0) {
                    throw new MirrorShapeException("negative pads " + Arrays.toString(given));
                }
            }
            return pads;
        }

        private double value(INDArray[] in) {
            return attrPads == null && in.length > 2 && in[2] != null ? in[2].getDouble(0) : attrValue;
        }

        /** The padded positions along an axis: the first {@code before} and the last {@code after}. */
        private static long[] border(long before, long size, long after) {
            long end = before + size;
            return LongStream.concat(LongStream.range(0, before), LongStream.range(end, end + after)).toArray();
        }

        /** The interior index a border position {@code i} (relative to the interior's start) copies. */
        private long source(long i, long size) {
            if (mode.equals("edge")) {
                return Math.min(Math.max(i, 0), size - 1);
            }
            if (size <= Math.max(-i, i - size + 1)) {
                throw new MirrorShapeException("reflecting an axis of size " + size + " by "
                        + Math.max(-i, i - size + 1));
            }
            return i < 0 ? -i : 2 * (size - 1) - i;
        }

        @Override
        public INDArray[] forward(INDArray[] in) {
            long[] pads = pads(in);
            int rank = in[0].rank();
            INDArray x = in[0];
            for (int a = 0; a < rank; a++) {
                long before = pads[a];
                long after = pads[rank + a];
                if (before == 0 && after == 0) {
                    continue;
                }
                long size = x.size(a);
                long[] shape = x.shape().clone();
                shape[a] = size + before + after;
                INDArray y = Nd4j.valueArrayOf(shape, mode.equals("constant") ? value(in) : 0, x.dataType());
                y.get(along(y, a, before, before + size)).assign(x);
                if (!mode.equals("constant")) {
                    for (long j : border(before, size, after)) {
                        long from = source(j - before, size);
                        y.get(along(y, a, j, j + 1)).assign(x.get(along(x, a, from, from + 1)));
                    }
                }
                x = y;
            }
            return new INDArray[] {x == in[0] ? x.dup() : x};
        }

        @Override
        public INDArray[] backward(INDArray[] in, INDArray[] out, INDArray[] g, boolean[] need) {
            long[] pads = pads(in);
            int rank = in[0].rank();
            INDArray gy = g[0];
            for (int a = rank - 1; a >= 0; a--) {
                long before = pads[a];
                long after = pads[rank + a];
                if (before == 0 && after == 0) {
                    continue;
                }
                long size = gy.size(a) - before - after;
                INDArray gx = gy.get(along(gy, a, before, before + size)).dup('c');
                if (!mode.equals("constant")) {
                    for (long j : border(before, size, after)) {
                        long to = source(j - before, size);
                        gx.get(along(gx, a, to, to + 1)).addi(gy.get(along(gy, a, j, j + 1)));
                    }
                }
                gy = gx;
            }
            INDArray[] grads = new INDArray[in.length];
            grads[0] = gy;
            return grads;
        }
    }

    /** Gather along an axis with constant indices (negative ones count from the end); float data gets gradients. */
    static final class Gather implements MirrorOp {
        private final long axis;

        Gather(NodeProto node) {
            axis = Attrs.getInt(node, "axis", 0);
        }

        private static long[] indices(INDArray[] in, int a) {
            long size = in[0].size(a);
            return Arrays.stream(in[1].reshape(in[1].length()).toLongVector())
                    .map(i -> i < 0 ? i + size : i).toArray();
        }

        /** x's shape with the gathered axis replaced by the indices' shape. */
        private static long[] outputShape(INDArray x, INDArray indices, int a) {
            return LongStream.concat(LongStream.concat(Arrays.stream(x.shape(), 0, a),
                    Arrays.stream(indices.shape())), Arrays.stream(x.shape(), a + 1, x.rank()))
                    .toArray();
        }

        @Override
        public INDArray[] forward(INDArray[] in) {
            int a = axis(axis, in[0].rank());
            long[] idx = indices(in, a);
            INDArray[] picked = new INDArray[idx.length];
            for (int i = 0; i < idx.length; i++) {
                picked[i] = in[0].get(along(in[0], a, idx[i], idx[i] + 1));
            }
            INDArray y = idx.length == 1 ? picked[0].dup('c') : Nd4j.concat(a, picked);
            return new INDArray[] {y.reshape('c', outputShape(in[0], in[1], a))};
        }

        @Override
        public INDArray[] backward(INDArray[] in, INDArray[] out, INDArray[] g, boolean[] need) {
            INDArray[] grads = new INDArray[in.length];
            if (!in[0].dataType().isFPType()) {
                return grads;
            }
            int a = axis(axis, in[0].rank());
            long[] idx = indices(in, a);
            long[] picked = in[0].shape().clone();
            picked[a] = idx.length;
            INDArray gy = g[0].reshape('c', picked);
            grads[0] = Nd4j.zeros(in[0].dataType(), in[0].shape());
            for (int i = 0; i < idx.length; i++) {
                grads[0].get(along(grads[0], a, idx[i], idx[i] + 1)).addi(gy.get(along(gy, a, i, i + 1)));
            }
            return grads;
        }
    }

    /**
     * Expand: the input broadcast (numpy rules, both ways) against a shape given as input 1, often computed by a
     * Shape→Gather→Concat chain from the batch; the gradient sums back over the broadcast axes.
     */
    static final class Expand implements MirrorOp {
        private static long[] outputShape(long[] x, long[] target) {
            int rank = Math.max(x.length, target.length);
            long[] out = new long[rank];
            for (int i = 0; i < rank; i++) {
                long a = i < rank - x.length ? 1 : x[i - (rank - x.length)];
                long b = i < rank - target.length ? 1 : target[i - (rank - target.length)];
                if (a != b && a != 1 && b != 1) {
                    throw new MirrorShapeException("expanding a tensor of shape " + Arrays.toString(x) + " to "
                            + Arrays.toString(target));
                }
                out[i] = a == 1 ? b : a;
            }
            return out;
        }

        @Override
        public INDArray[] forward(INDArray[] in) {
            long[] shape = outputShape(in[0].shape(), in[1].toLongVector());
            return new INDArray[] {Tensors.broadcast("add", Nd4j.zeros(in[0].dataType(), shape), in[0])};
        }

        @Override
        public INDArray[] backward(INDArray[] in, INDArray[] out, INDArray[] g, boolean[] need) {
            INDArray[] grads = new INDArray[in.length];
            grads[0] = Tensors.reduceTo(g[0], in[0].shape());
            return grads;
        }
    }
}
