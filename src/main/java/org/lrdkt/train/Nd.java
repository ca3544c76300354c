package org.lrdkt.train;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The old name of {@link Tensors}, kept only for {@link ConvOp}, which is being edited on another branch: when that
 * lands, its {@code Nd.} calls become {@code Tensors.} and this class goes.
 */
final class Nd {

    private Nd() {
    }

    static INDArray[] exec(String op, INDArray[] inputs, int[] intArgs, double... floatArgs) {
        return Tensors.exec(op, inputs, intArgs, floatArgs);
    }

    static INDArray padSpatial(INDArray x, long top, long left, long bottom, long right, double value) {
        return Tensors.padSpatial(x, top, left, bottom, right, value);
    }

    static INDArray cropSpatial(INDArray g, long top, long left, long bottom, long right) {
        return Tensors.cropSpatial(g, top, left, bottom, right);
    }
}
