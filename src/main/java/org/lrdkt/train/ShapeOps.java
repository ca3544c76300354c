package org.lrdkt.train;

import static org.lrdkt.train.Ops.axis;
import static org.lrdkt.train.Ops.leading;

import java.util.Arrays;
import java.util.Set;
import java.util.stream.IntStream;
import org.lrdkt.LrdktException;
import org.lrdkt.onnx.Attrs;
import org.lrdkt.onnx.TensorData;
import org.lrdkt.onnx.proto.Onnx.NodeProto;
import org.lrdkt.onnx.proto.Onnx.TensorProto;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Mirror ops that change a tensor's shape or type but not which elements it holds: pass-through, Cast, Shape,
 * Reshape/Flatten/Squeeze/Unsqueeze and Transpose ({@link IndexingOps} copies parts of tensors).
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
            return new INDArray[] {truncated.castTo(DataType.INT64)};
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
            return new INDArray[] {Nd4j.createFromArray(Arrays.copyOfRange(shape, from, Math.max(from, to)))};
        }

        @Override
        public INDArray[] backward(INDArray[] in, INDArray[] out, INDArray[] g, boolean[] need) {
            return new INDArray[in.length]; // a shape carries no gradient
        }
    }

    /**
     * ConstantOfShape: a tensor of the shape its input holds, filled with the {@code value} attribute (float 0 by
     * default). PyTorch builds pad amounts with it; integer values stay INT64, float ones take the mirror's type.
     */
    static final class ConstantOfShape implements MirrorOp {
        private final double value;
        private final DataType type;

        ConstantOfShape(NodeProto node, DataType floatType) throws LrdktException {
            var attr = Attrs.find(node, "value");
            boolean floating = attr.isEmpty() || TensorData.isFloatingPoint(attr.get().getT().getDataType());
            value = attr.isEmpty() ? 0 : floating ? TensorData.toFloats(attr.get().getT())[0]
                    : TensorData.toLongs(attr.get().getT())[0];
            type = floating ? floatType : DataType.INT64;
        }

        @Override
        public INDArray[] forward(INDArray[] in) {
            return new INDArray[] {Nd4j.valueArrayOf(in[0].toLongVector(), value, type)};
        }

        @Override
        public INDArray[] backward(INDArray[] in, INDArray[] out, INDArray[] g, boolean[] need) {
            return new INDArray[in.length]; // its input is a shape
        }
    }
}
