package org.lrdkt.train;

import org.lrdkt.onnx.Attrs;
import org.lrdkt.onnx.proto.Onnx.NodeProto;
import org.nd4j.linalg.api.ndarray.INDArray;

/** 2-D MaxPool and AveragePool (strides, pads, ceil mode, dilations, count_include_pad) by {@link PlanePooling}. */
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
    }

    private PlanePooling pooling(INDArray x) {
        if (x.rank() != 4) {
            throw new MirrorShapeException("pooling of a rank-" + x.rank() + " tensor (the mirror pools NCHW)");
        }
        Window.Pads p = window.resolve(x.size(2), x.size(3), kernel[0], kernel[1]);
        return PlanePooling.of(max, kernel, window, p, x.size(2), x.size(3), countPadding);
    }

    @Override
    public INDArray[] forward(INDArray[] in) {
        return new INDArray[] {pooling(in[0]).forward(in[0])};
    }

    @Override
    public INDArray[] backward(INDArray[] in, INDArray[] out, INDArray[] g, boolean[] need) {
        return new INDArray[] {pooling(in[0]).backward(in[0], g[0])};
    }
}
