package org.lrdkt.train;

import static org.lrdkt.train.Ops.axis;
import static org.lrdkt.train.Ops.leading;

import java.util.Set;
import java.util.stream.IntStream;
import java.util.stream.LongStream;
import org.lrdkt.onnx.Attrs;
import org.lrdkt.onnx.TensorData;
import org.lrdkt.onnx.proto.Onnx.NodeProto;
import org.lrdkt.onnx.proto.Onnx.TensorProto;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Mirror ops that move, regroup or convert elements: pass-through, casts, reshapes and squeezes, transposes,
 * concatenation and splits, slices and pads.
 */
final class ShapeOps {

    private ShapeOps() {
    }

    static final class PassThrough implements MirrorOp {
        @Override
        public INDArray[] forward(INDArray[] in) {
            return new INDArray[] {in[0]};
        }

        @Override
        public INDArray[] backward(INDArray[] in, INDArray[] out, INDArray[] g, boolean[] need) {
            INDArray[] grads = new INDArray[in.length];
            grads[0] = g[0];
            return grads;
        }
    }

    /** Base of the ops that only change the shape: the gradient is reshaped back to the input's shape. */
    abstract static class Reshaping implements MirrorOp {
        abstract long[] target(INDArray[] in);

        @Override
        public INDArray[] forward(INDArray[] in) {
            return new INDArray[] {in[0].reshape('c', target(in))};
        }

        @Override
        public INDArray[] backward(INDArray[] in, INDArray[] out, INDArray[] g, boolean[] need) {
            INDArray[] grads = new INDArray[in.length];
            grads[0] = g[0].reshape('c', in[0].shape());
            return grads;
        }
    }

    static final class Flatten extends Reshaping {
        private final long axis;

        Flatten(long axis) {
            this.axis = axis;
        }

        @Override
        long[] target(INDArray[] in) {
            long outer = leading(in[0], axis(axis, in[0].rank()));
            return new long[] {outer, in[0].length() / outer};
        }
    }

    /** Reshape with ONNX's 0 (copy the input's dimension unless allowzero) and −1 (infer). */
    static final class Reshape extends Reshaping {
        private final boolean allowZero;

        Reshape(boolean allowZero) {
            this.allowZero = allowZero;
        }

        @Override
        long[] target(INDArray[] in) {
            long[] shape = in[1].toLongVector();
            long known = 1;
            int infer = -1;
            for (int i = 0; i < shape.length; i++) {
                if (shape[i] == 0 && !allowZero) {
                    shape[i] = in[0].size(i);
                }
                if (shape[i] == -1) {
                    infer = i;
                } else {
                    known *= shape[i];
                }
            }
            if (infer >= 0) {
                shape[infer] = in[0].length() / known;
            }
            return shape;
        }
    }

    static final class Transpose implements MirrorOp {
        private final long[] perm;

        Transpose(long[] perm) {
            this.perm = perm;
        }

        private int[] permutation(int rank) {
            int[] p = new int[rank];
            for (int i = 0; i < rank; i++) {
                p[i] = perm == null ? rank - 1 - i : (int) perm[i];
            }
            return p;
        }

        @Override
        public INDArray[] forward(INDArray[] in) {
            return new INDArray[] {in[0].permute(permutation(in[0].rank())).dup('c')};
        }

        @Override
        public INDArray[] backward(INDArray[] in, INDArray[] out, INDArray[] g, boolean[] need) {
            int[] p = permutation(in[0].rank());
            int[] inverse = new int[p.length];
            for (int i = 0; i < p.length; i++) {
                inverse[p[i]] = i;
            }
            return new INDArray[] {g[0].permute(inverse).dup('c')};
        }
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
                    org.nd4j.linalg.indexing.INDArrayIndex[] idx = NDArrayIndex.allFor(g[0]);
                    idx[a] = NDArrayIndex.interval(start, start + size);
                    grads[i] = g[0].get(idx).dup('c');
                }
                start += size;
            }
            return grads;
        }
    }

    /** The index selecting [from, to) along {@code axis} and everything along the other axes. */
    private static INDArrayIndex[] along(INDArray x, int axis, long from, long to) {
        INDArrayIndex[] idx = NDArrayIndex.allFor(x);
        idx[axis] = NDArrayIndex.interval(from, to);
        return idx;
    }

    /** Axes from a node's attribute (older opsets) or its optional input 1 (newer ones); null when absent. */
    private static long[] axes(long[] attribute, INDArray[] in) {
        if (attribute != null) {
            return attribute;
        }
        return in.length > 1 && in[1] != null ? in[1].toLongVector() : null;
    }

    /**
     * Cast. The mirror computes every float type (fp16 included) in its own float type, so a cast between float
     * types passes values and gradients through unchanged; a cast to an integer type truncates towards zero and
     * carries no gradient, and integers cast to a float type become the mirror's float type.
     */
    static final class Cast implements MirrorOp {
        private static final Set<Integer> INTEGER_TYPES = Set.of(TensorProto.DataType.INT8_VALUE,
                TensorProto.DataType.UINT8_VALUE, TensorProto.DataType.INT16_VALUE, TensorProto.DataType.UINT16_VALUE,
                TensorProto.DataType.INT32_VALUE, TensorProto.DataType.UINT32_VALUE, TensorProto.DataType.INT64_VALUE,
                TensorProto.DataType.UINT64_VALUE);

        private final boolean toFloat;
        private final DataType floatType;

        Cast(NodeProto node, DataType floatType) {
            int to = (int) Attrs.getInt(node, "to", 0);
            this.toFloat = TensorData.isFloatingPoint(to);
            this.floatType = floatType;
            if (!toFloat && !INTEGER_TYPES.contains(to)) {
                throw new MirrorShapeException("a cast to ONNX type " + to + " (the mirror casts to float and "
                        + "integer types)");
            }
        }

        @Override
        public INDArray[] forward(INDArray[] in) {
            INDArray x = in[0];
            if (toFloat) {
                return new INDArray[] {x.dataType().isFPType() ? x : x.castTo(floatType)};
            }
            if (!x.dataType().isFPType()) {
                return new INDArray[] {x};
            }
            INDArray truncated = Transforms.floor(Transforms.abs(x, true), false).muli(Transforms.sign(x, true));
            return new INDArray[] {truncated.castTo(DataType.LONG)};
        }

        @Override
        public INDArray[] backward(INDArray[] in, INDArray[] out, INDArray[] g, boolean[] need) {
            INDArray[] grads = new INDArray[in.length];
            grads[0] = toFloat && in[0].dataType().isFPType() ? g[0] : null;
            return grads;
        }
    }

    /** Squeeze: drops the given axes of size 1 (all of them when none are given). */
    static final class Squeeze extends Reshaping {
        private final long[] attributeAxes;

        Squeeze(long[] attributeAxes) {
            this.attributeAxes = attributeAxes;
        }

        @Override
        long[] target(INDArray[] in) {
            long[] shape = in[0].shape();
            long[] given = axes(attributeAxes, in);
            boolean[] drop = new boolean[shape.length];
            for (int i = 0; i < shape.length; i++) {
                drop[i] = given == null && shape[i] == 1;
            }
            if (given != null) {
                for (long a : given) {
                    int axis = axis(a, shape.length);
                    if (shape[axis] != 1) {
                        throw new MirrorShapeException("squeezing axis " + a + " of size " + shape[axis]);
                    }
                    drop[axis] = true;
                }
            }
            return IntStream.range(0, shape.length).filter(i -> !drop[i]).mapToLong(i -> shape[i]).toArray();
        }
    }

    /** Unsqueeze: inserts axes of size 1 at the given positions of the output. */
    static final class Unsqueeze extends Reshaping {
        private final long[] attributeAxes;

        Unsqueeze(long[] attributeAxes) {
            this.attributeAxes = attributeAxes;
        }

        @Override
        long[] target(INDArray[] in) {
            long[] given = axes(attributeAxes, in);
            int rank = in[0].rank() + given.length;
            boolean[] inserted = new boolean[rank];
            for (long a : given) {
                inserted[axis(a, rank)] = true;
            }
            long[] shape = new long[rank];
            for (int i = 0, from = 0; i < rank; i++) {
                shape[i] = inserted[i] ? 1 : in[0].size(from++);
            }
            return shape;
        }
    }

    /** Slice with positive steps: starts/ends/axes/steps as attributes (opset < 10) or inputs 1–4. */
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

        private INDArrayIndex[] index(INDArray[] in) {
            INDArray x = in[0];
            long[] starts = attrStarts != null ? attrStarts : in[1].toLongVector();
            long[] ends = attrStarts != null ? attrEnds : in[2].toLongVector();
            long[] axes = attrStarts != null ? attrAxes : in.length > 3 && in[3] != null ? in[3].toLongVector() : null;
            long[] steps = attrStarts == null && in.length > 4 && in[4] != null ? in[4].toLongVector() : null;
            INDArrayIndex[] idx = NDArrayIndex.allFor(x);
            for (int i = 0; i < starts.length; i++) {
                int a = axes == null ? i : axis(axes[i], x.rank());
                long step = steps == null ? 1 : steps[i];
                if (step < 1) {
                    throw new MirrorShapeException("step " + step + " (the mirror slices with positive steps)");
                }
                long size = x.size(a);
                long start = Math.min(Math.max(starts[i] < 0 ? starts[i] + size : starts[i], 0), size);
                long end = Math.min(Math.max(ends[i] < 0 ? ends[i] + size : ends[i], 0), size);
                idx[a] = NDArrayIndex.interval(start, step, Math.max(start, end));
            }
            return idx;
        }

        @Override
        public INDArray[] forward(INDArray[] in) {
            return new INDArray[] {in[0].get(index(in)).dup('c')};
        }

        @Override
        public INDArray[] backward(INDArray[] in, INDArray[] out, INDArray[] g, boolean[] need) {
            INDArray[] grads = new INDArray[in.length];
            grads[0] = Nd4j.zeros(in[0].dataType(), in[0].shape());
            grads[0].get(index(in)).assign(g[0]);
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
                    throw new MirrorShapeException("negative pads " + java.util.Arrays.toString(given));
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

    /**
     * Shape (with opset 15's start/end): the input's dimensions as an INT64 vector. It runs on every forward pass
     * instead of being folded to a constant at load, so the Shape→Gather→Concat→Reshape chains of exports stay right
     * for every batch size (training batches, the last short one, evaluation batches).
     */
    static final class Shape implements MirrorOp {
        private final long start;
        private final long end;

        Shape(NodeProto node) {
            start = Attrs.getInt(node, "start", 0);
            end = Attrs.getInt(node, "end", Long.MAX_VALUE);
        }

        @Override
        public INDArray[] forward(INDArray[] in) {
            long[] shape = in[0].shape();
            int from = (int) Math.min(Math.max(start < 0 ? start + shape.length : start, 0), shape.length);
            int to = (int) Math.min(Math.max(end < 0 ? end + shape.length : end, 0), shape.length);
            return new INDArray[] {Nd4j.createFromArray(java.util.Arrays.copyOfRange(shape, from, Math.max(from, to)))};
        }

        @Override
        public INDArray[] backward(INDArray[] in, INDArray[] out, INDArray[] g, boolean[] need) {
            return new INDArray[in.length]; // a shape carries no gradient
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
            return java.util.Arrays.stream(in[1].reshape(in[1].length()).toLongVector())
                    .map(i -> i < 0 ? i + size : i).toArray();
        }

        /** x's shape with the gathered axis replaced by the indices' shape. */
        private static long[] outputShape(INDArray x, INDArray indices, int a) {
            return LongStream.concat(LongStream.concat(java.util.Arrays.stream(x.shape(), 0, a),
                    java.util.Arrays.stream(indices.shape())), java.util.Arrays.stream(x.shape(), a + 1, x.rank()))
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
}
