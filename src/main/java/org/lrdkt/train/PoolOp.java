package org.lrdkt.train;

import org.lrdkt.onnx.Attrs;
import org.lrdkt.onnx.proto.Onnx.NodeProto;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * 2-D MaxPool and AveragePool through libnd4j's maxpool2d/avgpool2d and their _bp ops. Every pad is explicit
 * (−∞ for max, 0 for average) so libnd4j's own padding rules never matter; an average that excludes padding
 * divides by the pooled count of real pixels.
 */
final class PoolOp implements MirrorOp {

    private final boolean max;
    private final long[] kernel;
    private final Window window;
    private final boolean countPadding;

    PoolOp(NodeProto node) {
        max = node.getOpType().equals("MaxPool");
        kernel = Attrs.getInts(node, "kernel_shape", new long[0]);
        window = Window.of(node);
        countPadding = Attrs.getInt(node, "count_include_pad", 0) != 0;
        if (kernel.length != 2) {
            throw new MirrorShapeException(node.getOpType() + " '" + node.getName() + "' with a " + kernel.length
                    + "-D kernel (the mirror pools over 2-D)");
        }
        if (window.dilationH() != 1 || window.dilationW() != 1) {
            // libnd4j's pooling ops ignore them: the result would silently differ from ONNX Runtime's
            throw new MirrorShapeException(node.getOpType() + " '" + node.getName() + "' with dilations "
                    + window.dilationH() + "x" + window.dilationW() + " (the mirror pools undilated windows only)");
        }
    }

    private int[] args() {
        return new int[] {(int) kernel[0], (int) kernel[1], (int) window.strideH(), (int) window.strideW(), 0, 0,
            (int) window.dilationH(), (int) window.dilationW(), 0, 0, 0};
    }

    private Window.Pads pads(INDArray x) {
        if (x.rank() != 4) {
            throw new MirrorShapeException("pooling of a rank-" + x.rank() + " tensor (the mirror pools NCHW)");
        }
        return window.resolve(x.size(2), x.size(3), kernel[0], kernel[1]);
    }

    private String op() {
        return max ? "maxpool2d" : "avgpool2d";
    }

    private INDArray pad(INDArray x, Window.Pads p, double value) {
        return p.none() ? x : Tensors.padSpatial(x, p.top(), p.left(), p.bottom(), p.right(), value);
    }

    private double padValue(INDArray x) {
        return max ? -Double.MAX_VALUE : 0;
    }

    /** Per output pixel, how many real (or, with count_include_pad, real or declared-pad) pixels its window holds. */
    private INDArray counts(INDArray x, Window.Pads p) {
        INDArray ones = Nd4j.ones(x.dataType(), 1, 1, x.size(2), x.size(3));
        // count_include_pad counts declared pads but never the extra ceil-mode border
        Window.Pads counted = countPadding ? new Window.Pads(0, 0, p.ceilBottom(), p.ceilRight(), 0, 0) : p;
        INDArray area = countPadding
                ? Tensors.padSpatial(ones, p.top(), p.left(), p.bottom() - p.ceilBottom(), p.right() - p.ceilRight(), 1)
                : ones;
        INDArray pooled = Tensors.exec("avgpool2d", new INDArray[] {pad(area, counted, 0)}, args())[0];
        return pooled.muli(kernel[0] * kernel[1]);
    }

    private boolean rescale(Window.Pads p) {
        return !max && !p.none();
    }

    @Override
    public INDArray[] forward(INDArray[] in) {
        Window.Pads p = pads(in[0]);
        INDArray y = Tensors.exec(op(), new INDArray[] {pad(in[0], p, padValue(in[0]))}, args())[0];
        if (rescale(p)) {
            // avgpool2d divided by the window area; divide by the real count instead
            y = Tensors.broadcast("divide", y.muli(kernel[0] * kernel[1]), counts(in[0], p));
        }
        return new INDArray[] {y};
    }

    @Override
    public INDArray[] backward(INDArray[] in, INDArray[] out, INDArray[] g, boolean[] need) {
        Window.Pads p = pads(in[0]);
        INDArray gy = g[0];
        if (rescale(p)) {
            gy = Tensors.broadcast("divide", gy.mul(kernel[0] * kernel[1]), counts(in[0], p));
        }
        INDArray x = pad(in[0], p, padValue(in[0]));
        INDArray gx = Tensors.exec(op() + "_bp", new INDArray[] {x, gy}, args())[0];
        return new INDArray[] {p.none() ? gx : Tensors.cropSpatial(gx, p.top(), p.left(), p.bottom(), p.right())};
    }
}
