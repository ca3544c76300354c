package org.lrdkt.train;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One ONNX node in the training mirror: a forward pass and its hand-written backward pass. Inputs are the node's
 * input tensors in ONNX order (null for an omitted optional input); constants such as a Reshape target arrive as
 * INT64 arrays.
 */
interface MirrorOp {

    INDArray[] forward(INDArray[] inputs);

    /**
     * Gradients of the loss with respect to the inputs whose {@code need} flag is set (null elsewhere), given the
     * forward inputs, outputs and the gradients of the outputs (null for an output nothing depends on).
     */
    INDArray[] backward(INDArray[] inputs, INDArray[] outputs, INDArray[] gradOutputs, boolean[] need);

    /**
     * Whether {@link #backward} reads {@code outputs}. An output it does not read, and that one op alone consumes,
     * may be overwritten by that op ({@link #forwardInPlace}).
     */
    default boolean backwardReadsOutputs() {
        return true;
    }

    /** Whether the op has {@link #forwardInPlace}. */
    default boolean overwritesInput() {
        return false;
    }

    /**
     * The forward pass written over {@code inputs[0]}'s buffer: for ops whose backward pass reads nothing of that
     * input that their output does not hold (ReLU, Clip). The mirror calls it only where nothing else reads the input.
     */
    default INDArray[] forwardInPlace(INDArray[] inputs) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " computes into new arrays only");
    }
}
