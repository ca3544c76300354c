package org.lrdkt.onnx;

import org.lrdkt.onnx.proto.Onnx.NodeProto;

/**
 * A Conv, Gemm or MatMul node whose weight is a constant: the unit lrdkt measures and decomposes.
 *
 * @param name         stable layer name: the node name, or the weight tensor's name when the node has none
 * @param node         the node itself
 * @param kind         which family of layer
 * @param weightTensor name of the weight tensor as the node refers to it (may be an Identity/Constant output)
 * @param weightShape  the weight's dims as stored: Conv (N, C/g, kh, kw); Gemm (out, in) if transB else (in, out);
 *                     MatMul (in, out)
 * @param biasTensor   the bias tensor name, or null: Conv/Gemm input 3, or the constant of a MatMul's following Add
 * @param biasAdd      for MatMul, the Add node that applies the bias; otherwise null
 * @param group        Conv group count (1 for FC layers)
 */
public record Layer(String name, NodeProto node, Kind kind, String weightTensor, long[] weightShape,
                    String biasTensor, NodeProto biasAdd, long group) {

    /** Layer families. */
    public enum Kind { CONV, GEMM, MATMUL }

    public boolean isConv() {
        return kind == Kind.CONV;
    }

    /** Output features: N for a conv, out for a fully-connected layer. */
    public long outFeatures() {
        return switch (kind) {
            case CONV -> weightShape[0];
            case GEMM -> Attrs.transB(node) ? weightShape[0] : weightShape[1];
            case MATMUL -> weightShape[1];
        };
    }

    /** Input features: C (all groups) for a conv, in for a fully-connected layer. */
    public long inFeatures() {
        return switch (kind) {
            case CONV -> weightShape[1] * group;
            case GEMM -> Attrs.transB(node) ? weightShape[1] : weightShape[0];
            case MATMUL -> weightShape[0];
        };
    }

    public long weightCount() {
        long n = 1;
        for (long d : weightShape) {
            n *= d;
        }
        return n;
    }

    /** The tensor holding this layer's final output (the bias Add's output for MatMul+Add). */
    public String outputTensor() {
        return biasAdd != null ? biasAdd.getOutput(0) : node.getOutput(0);
    }
}
