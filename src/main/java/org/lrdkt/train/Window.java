package org.lrdkt.train;

import org.lrdkt.onnx.Attrs;
import org.lrdkt.onnx.proto.Onnx.NodeProto;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The sliding-window attributes shared by Conv, ConvTranspose, MaxPool and AveragePool (2-D): strides, dilations,
 * explicit or automatic pads, ceil mode. Resolves them into the four pads of a given input, with ceil mode expressed
 * as extra bottom/right padding so that libnd4j's floor-mode kernels produce ONNX's output size.
 */
record Window(long strideH, long strideW, long dilationH, long dilationW, long[] pads, String autoPad,
              boolean ceilMode) {

    /** Pads of one input: top, left, bottom, right, and how many of bottom/right only exist for ceil mode. */
    record Pads(long top, long left, long bottom, long right, long ceilBottom, long ceilRight) {
        boolean symmetric() {
            return top == bottom && left == right;
        }
    }

    static Window of(NodeProto node) {
        long[] strides = Attrs.getInts(node, "strides", new long[] {1, 1});
        long[] dilations = Attrs.getInts(node, "dilations", new long[] {1, 1});
        long[] pads = Attrs.getInts(node, "pads", new long[] {0, 0, 0, 0});
        if (strides.length != 2 || dilations.length != 2 || pads.length != 4) {
            long dims = strides.length != 2 ? strides.length : dilations.length != 2 ? dilations.length : pads.length / 2;
            throw new MirrorShapeException(node.getOpType() + " '" + node.getName() + "' with a " + dims
                    + "-D window (the mirror trains 2-D ones)");
        }
        return new Window(strides[0], strides[1], dilations[0], dilations[1], pads,
                Attrs.getString(node, "auto_pad", "NOTSET"), Attrs.getInt(node, "ceil_mode", 0) != 0);
    }

    Pads resolve(long height, long width, long kernelH, long kernelW) {
        long[] h = axisPads(height, kernelH, strideH, dilationH, pads[0], pads[2]);
        long[] w = axisPads(width, kernelW, strideW, dilationW, pads[1], pads[3]);
        return new Pads(h[0], w[0], h[1] + h[2], w[1] + w[2], h[2], w[2]);
    }

    /** {begin, end, extra end for ceil mode} of one spatial axis. */
    private long[] axisPads(long size, long kernel, long stride, long dilation, long begin, long end) {
        long span = (kernel - 1) * dilation + 1;
        if (autoPad.equals("SAME_UPPER") || autoPad.equals("SAME_LOWER")) {
            long out = (size + stride - 1) / stride;
            long total = Math.max(0, (out - 1) * stride + span - size);
            long small = total / 2;
            long large = total - small;
            return autoPad.equals("SAME_UPPER") ? new long[] {small, large, 0} : new long[] {large, small, 0};
        }
        if (autoPad.equals("VALID")) {
            return new long[] {0, 0, 0};
        }
        long padded = size + begin + end;
        if (!ceilMode) {
            return new long[] {begin, end, 0};
        }
        long out = -Math.floorDiv(-(padded - span), stride) + 1;
        if ((out - 1) * stride >= size + begin) {
            out--; // the last window would start in the end padding (PyTorch and ONNX Runtime drop it)
        }
        long extra = Math.max(0, (out - 1) * stride + span - padded);
        return new long[] {begin, end, extra};
    }

    private boolean dilated() {
        return dilationH != 1 || dilationW != 1;
    }

    /**
     * A [*, *, kh, kw] kernel with zeros between its taps: the same convolution without dilation. libnd4j's oneDNN
     * path refuses some dilated shapes ("could not create a descriptor for a dilated convolution").
     */
    INDArray dilate(INDArray w) {
        if (!dilated()) {
            return w;
        }
        INDArray out = Nd4j.zeros(w.dataType(), w.size(0), w.size(1), (w.size(2) - 1) * dilationH + 1,
                (w.size(3) - 1) * dilationW + 1);
        out.get(tapIndex(out)).assign(w);
        return out;
    }

    /** The inverse of {@link #dilate} for a gradient: the entries at the kernel's taps. */
    INDArray taps(INDArray dilatedGradient) {
        return dilated() ? dilatedGradient.get(tapIndex(dilatedGradient)).dup('c') : dilatedGradient;
    }

    private INDArrayIndex[] tapIndex(INDArray expanded) {
        return new INDArrayIndex[] {NDArrayIndex.all(), NDArrayIndex.all(),
            NDArrayIndex.interval(0, dilationH, expanded.size(2)),
            NDArrayIndex.interval(0, dilationW, expanded.size(3))};
    }
}
