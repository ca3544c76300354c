package org.lrdkt.decompose;

import java.util.Optional;
import org.lrdkt.onnx.Attrs;
import org.lrdkt.onnx.Graph;
import org.lrdkt.onnx.Layer;
import org.lrdkt.onnx.TensorData;
import org.lrdkt.onnx.proto.Onnx.TensorProto;

/** Which layers the factorisers can rewrite: the layouts {@link Factoriser} handles, and why others are left. */
final class Decomposability {

    private Decomposability() {
    }

    /** Empty when the factorisers handle the layer's layout; else the reason they do not, for the report. */
    static Optional<String> reasonNotDecomposable(Graph graph, Layer layer) {
        TensorProto weight = graph.constant(layer.weightTensor()).orElseThrow();
        long[] shape = layer.weightShape();
        String why = switch (layer.kind()) {
            case CONV -> shape.length != 4 && shape.length != 3
                    ? "Conv with a " + (shape.length - 2) + "-D kernel (only 1-D and 2-D convolutions are decomposed)"
                    : layer.group() > 1 ? groupedConv(layer) : null;
            case GEMM -> shape.length != 2 ? "Gemm weight of rank " + shape.length
                    : Attrs.getInt(layer.node(), "transA", 0) != 0 ? "Gemm with transA=1" : null;
            case MATMUL -> shape.length != 2 ? "MatMul weight of rank " + shape.length : null;
        };
        if (why == null && !TensorData.isFloatingPoint(weight.getDataType())) {
            why = "weight data type " + TensorProto.DataType.forNumber(weight.getDataType());
        }
        if (why == null && layer.kind() != Layer.Kind.MATMUL && layer.biasTensor() != null
                && graph.constant(layer.biasTensor()).isEmpty()) {
            why = "bias is not a constant"; // a MatMul's bias is found only when it is one
        }
        return Optional.ofNullable(why);
    }

    private static String groupedConv(Layer layer) {
        long[] shape = layer.weightShape();
        return shape[1] == 1 && layer.group() == shape[0] ? "depthwise conv (group=" + layer.group() + ")"
                : "grouped conv (group=" + layer.group() + ")";
    }
}
