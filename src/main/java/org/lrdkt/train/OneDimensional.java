package org.lrdkt.train;

import org.lrdkt.onnx.UnitHeight;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The 1-D windows of audio and sequence CNNs (Conv, ConvTranspose, MaxPool, AveragePool over [N, C, L]) run as the
 * 2-D op over [N, C, 1, L] ({@link UnitHeight}): the node's 1-D attributes gain a unit height, and rank-3 inputs
 * and weights a unit axis 2, which the outputs and gradients lose again. Rank-4 inputs go to the 2-D op unchanged.
 */
final class OneDimensional implements MirrorOp {

    private final MirrorOp twoD;

    private OneDimensional(MirrorOp twoD) {
        this.twoD = twoD;
    }

    /** The factory of a 2-D windowed op, taking 1-D nodes too. */
    static Ops.Factory lifting(Ops.Factory twoD) {
        return (node, opset, floatType) -> new OneDimensional(twoD.create(UnitHeight.lift(node), opset, floatType));
    }

    private static boolean line(INDArray[] in) {
        return in[0] != null && in[0].rank() == 3;
    }

    /** A rank-3 tensor (input, weight, output or its gradient) with a unit axis 2; others as they are. */
    private static INDArray[] raised(INDArray[] tensors) {
        INDArray[] out = new INDArray[tensors.length];
        for (int i = 0; i < out.length; i++) {
            INDArray t = tensors[i];
            out[i] = t == null || t.rank() != 3 ? t : t.reshape('c', UnitHeight.shape(t.shape()));
        }
        return out;
    }

    /** Each result in the shape of its 1-D counterpart. */
    private static INDArray[] lowered(INDArray[] results, INDArray[] like) {
        for (int i = 0; i < results.length; i++) {
            if (results[i] != null && like[i] != null && results[i].rank() != like[i].rank()) {
                results[i] = results[i].reshape('c', like[i].shape());
            }
        }
        return results;
    }

    @Override
    public INDArray[] forward(INDArray[] in) {
        if (!line(in)) {
            return twoD.forward(in);
        }
        INDArray[] out = twoD.forward(raised(in));
        for (int i = 0; i < out.length; i++) {
            out[i] = out[i].reshape('c', out[i].size(0), out[i].size(1), out[i].size(3));
        }
        return out;
    }

    @Override
    public INDArray[] backward(INDArray[] in, INDArray[] out, INDArray[] g, boolean[] need) {
        if (!line(in)) {
            return twoD.backward(in, out, g, need);
        }
        return lowered(twoD.backward(raised(in), raised(out), raised(g), need), in);
    }
}
