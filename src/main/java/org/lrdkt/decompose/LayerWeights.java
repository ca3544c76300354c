package org.lrdkt.decompose;

import org.lrdkt.LrdktException;
import org.lrdkt.onnx.Attrs;
import org.lrdkt.onnx.Graph;
import org.lrdkt.onnx.Layer;
import org.lrdkt.onnx.TensorData;
import org.lrdkt.onnx.proto.Onnx.TensorProto;

/** A layer's weight in the orientation the unfoldings expect. */
public final class LayerWeights {

    private LayerWeights() {
    }

    /** The weight tensor's values as stored. */
    public static float[] stored(Graph graph, Layer layer) throws LrdktException {
        TensorProto t = graph.constant(layer.weightTensor()).orElseThrow(() -> LrdktException.badInput(
                "weight '" + layer.weightTensor() + "' of layer '" + layer.name() + "' is not a constant"));
        return TensorData.toFloats(t);
    }

    /** The weight's ONNX data type (FLOAT, FLOAT16...); factors are written back in the same type. */
    public static int dataType(Graph graph, Layer layer) {
        return graph.constant(layer.weightTensor()).map(TensorProto::getDataType).orElse(TensorProto.DataType.FLOAT_VALUE);
    }

    /** The shape the unfolding sees: the conv weight shape, or (out, in) for a fully-connected layer. */
    public static long[] unfoldShape(Layer layer) {
        return layer.isConv() ? layer.weightShape() : new long[] {layer.outFeatures(), layer.inFeatures()};
    }

    /** Conv weights as stored; fully-connected weights as an (out × in) row-major matrix. */
    public static float[] forUnfolding(Graph graph, Layer layer) throws LrdktException {
        float[] w = stored(graph, layer);
        boolean storedOutIn = layer.kind() == Layer.Kind.GEMM && Attrs.getInt(layer.node(), "transB", 0) != 0;
        if (layer.isConv() || storedOutIn) {
            return w;
        }
        return transpose(w, (int) layer.weightShape()[0], (int) layer.weightShape()[1]);
    }

    /** Transpose of a row-major rows×cols matrix. */
    public static float[] transpose(float[] m, int rows, int cols) {
        float[] t = new float[m.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                t[c * rows + r] = m[r * cols + c];
            }
        }
        return t;
    }

    /** The unfolding the paper uses for this layer: spatial for convs, FC for fully-connected layers. */
    public static Unfolding paperUnfolding(Layer layer) {
        return layer.isConv() ? Unfolding.SPATIAL : Unfolding.FC;
    }
}
