package org.lrdkt.train;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Operations on the mirror's tensors (ND4J arrays) that its ops share: libnd4j custom ops by name, matmul, numpy
 * broadcasting and its gradient's reduction, masks, spatial pad/crop, conversions.
 */
final class Tensors {

    private Tensors() {
    }

    /** Runs a libnd4j custom op; outputs are allocated by the op's own shape function. */
    static INDArray[] exec(String op, INDArray[] inputs, int[] intArgs, double... floatArgs) {
        DynamicCustomOp.DynamicCustomOpsBuilder b = DynamicCustomOp.builder(op).addInputs(inputs)
                .addIntegerArguments(intArgs);
        if (floatArgs.length > 0) {
            b.addFloatingPointArguments(box(floatArgs));
        }
        return Nd4j.exec(b.build());
    }

    /**
     * op(a)·op(b) for 2-D operands through libnd4j's matmul op (oneDNN): unlike {@code INDArray.mmul} it takes
     * the transposes as flags instead of strided views and never goes through OpenBLAS, whose worker threads
     * spin on sched_yield between calls and take CPU time from the OpenMP threads every other op uses.
     */
    static INDArray matmul(INDArray a, INDArray b, boolean transA, boolean transB) {
        return exec("matmul", new INDArray[] {a, b}, new int[] {transA ? 1 : 0, transB ? 1 : 0, 0})[0];
    }

    /** The elements of {@code x} in C order as doubles, for loops that run in Java over small tensors. */
    static double[] doubles(INDArray x) {
        INDArray c = x.isView() || x.ordering() != 'c' ? x.dup('c') : x;
        return c.data().asDouble();
    }

    /** An array of {@code type} and {@code shape} holding {@code values} (C order). */
    static INDArray fromDoubles(double[] values, long[] shape, DataType type) {
        return Nd4j.create(values, shape, type);
    }

    private static Double[] box(double[] values) {
        Double[] out = new Double[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = values[i];
        }
        return out;
    }

    /**
     * Elementwise binary op with numpy broadcasting, by libnd4j name: "add", "subtract", "multiply", "divide",
     * "maximum", "minimum".
     */
    static INDArray broadcast(String op, INDArray a, INDArray b) {
        if (a.equalShapes(b)) {
            switch (op) {
                case "add":
                    return a.add(b);
                case "subtract":
                    return a.sub(b);
                case "multiply":
                    return a.mul(b);
                case "divide":
                    return a.div(b);
                default:
                    break; // no INDArray shortcut: the custom op below
            }
        }
        return exec(op, new INDArray[] {a, b}, new int[0])[0];
    }

    /** Sums a broadcast gradient back to the shape of the operand that was broadcast. */
    static INDArray reduceTo(INDArray grad, long[] shape) {
        long[] g = grad.shape();
        if (Arrays.equals(g, shape)) {
            return grad;
        }
        int lead = g.length - shape.length;
        List<Integer> axes = new ArrayList<>();
        for (int i = 0; i < g.length; i++) {
            long target = i < lead ? 1 : shape[i - lead];
            if (target == 1 && g[i] != 1) {
                axes.add(i);
            }
        }
        INDArray summed = axes.isEmpty() ? grad : grad.sum(true, axes.stream().mapToInt(Integer::intValue).toArray());
        return summed.reshape('c', shape.length == 0 ? new long[0] : shape);
    }

    /** 1 where {@code lower < x < upper} (bounds may be infinite), else 0, in x's data type. */
    static INDArray between(INDArray x, double lower, double upper) {
        INDArray mask = Double.isInfinite(lower) ? Nd4j.onesLike(x) : x.gt(lower).castTo(x.dataType());
        if (!Double.isInfinite(upper)) {
            mask.muli(x.lt(upper).castTo(x.dataType()));
        }
        return mask;
    }

    /** Pads the last two (spatial) axes of an NCHW tensor with a constant. */
    static INDArray padSpatial(INDArray x, long top, long left, long bottom, long right, double value) {
        int rank = x.rank();
        int[] paddings = new int[rank * 2];
        paddings[2 * (rank - 2)] = (int) top;
        paddings[2 * (rank - 2) + 1] = (int) bottom;
        paddings[2 * (rank - 1)] = (int) left;
        paddings[2 * (rank - 1) + 1] = (int) right;
        INDArray p = Nd4j.createFromArray(paddings).reshape(rank, 2);
        return exec("pad", new INDArray[] {x, p}, new int[] {0}, value)[0];
    }

    /** The inverse of {@link #padSpatial} for gradients: crops the padded border off. */
    static INDArray cropSpatial(INDArray g, long top, long left, long bottom, long right) {
        int rank = g.rank();
        INDArrayIndex[] idx = new INDArrayIndex[rank];
        for (int i = 0; i < rank - 2; i++) {
            idx[i] = NDArrayIndex.all();
        }
        idx[rank - 2] = NDArrayIndex.interval(top, g.size(rank - 2) - bottom);
        idx[rank - 1] = NDArrayIndex.interval(left, g.size(rank - 1) - right);
        return g.get(idx).dup('c');
    }

    static INDArray scalarLike(INDArray x, double value) {
        return Nd4j.scalar(x.dataType(), value);
    }

    static DataType checkFloat(DataType t) {
        if (t != DataType.FLOAT && t != DataType.DOUBLE) {
            throw new IllegalArgumentException("the mirror computes in FLOAT or DOUBLE, not " + t);
        }
        return t;
    }
}
