package org.lrdkt.decompose;

import org.lrdkt.LrdktException;
import org.lrdkt.onnx.Attrs;
import org.lrdkt.onnx.Graph;
import org.lrdkt.onnx.Layer;
import org.lrdkt.onnx.TensorData;
import org.lrdkt.onnx.UnitHeight;
import org.lrdkt.onnx.proto.Onnx.TensorProto;

/** A layer's weight in the orientation the unfoldings expect. */
public final class LayerWeights {

    private LayerWeights() {
    }

    /** The weight tensor's values as stored. */
    public static float[] stored(Graph graph, Layer layer) throws LrdktException {
        return TensorData.toFloats(tensor(graph, layer));
    }

    private static TensorProto tensor(Graph graph, Layer layer) throws LrdktException {
        return graph.constant(layer.weightTensor()).orElseThrow(() -> LrdktException.badInput(
                "weight '" + layer.weightTensor() + "' of layer '" + layer.name() + "' is not a constant"));
    }

    /** The weight's ONNX data type (FLOAT, FLOAT16...); factors are written back in the same type. */
    public static int dataType(Graph graph, Layer layer) {
        return graph.constant(layer.weightTensor()).map(TensorProto::getDataType).orElse(TensorProto.DataType.FLOAT_VALUE);
    }

    /**
     * The shape the unfolding sees: the conv weight shape (a 1-D kernel (N, C, k) as (N, C, 1, k)), or (out, in) for
     * a fully-connected layer.
     */
    public static long[] unfoldShape(Layer layer) {
        return layer.isConv() ? UnitHeight.shape(layer.weightShape())
                : new long[] {layer.outFeatures(), layer.inFeatures()};
    }

    /**
     * The weight as the unfolding's matrix in native memory (the caller closes it). A fully-connected weight is
     * decoded from the model straight into native memory, with no Java copy: for VGG-16's fc6 that is 411 MB.
     */
    public static Matrix matrix(Graph graph, Layer layer, Unfolding unfolding) throws LrdktException {
        long[] shape = unfoldShape(layer);
        return layer.isConv() ? unfolding.matrix(stored(graph, layer), shape) : fcMatrix(graph, layer);
    }

    /** A fully-connected weight as an (out × in) row-major matrix. */
    static Matrix fcMatrix(Graph graph, Layer layer) throws LrdktException {
        TensorProto t = tensor(graph, layer);
        int out = Math.toIntExact(layer.outFeatures());
        int in = Math.toIntExact(layer.inFeatures());
        boolean storedOutIn = layer.kind() == Layer.Kind.GEMM && Attrs.transB(layer.node());
        Matrix stored = storedOutIn ? Matrix.zeros(out, in) : Matrix.zeros(in, out);
        try {
            TensorData.toFloats(t, stored.buffer());
        } catch (LrdktException | RuntimeException e) {
            stored.close();
            throw e;
        }
        if (storedOutIn) {
            return stored;
        }
        try (stored) {
            return stored.transpose();
        }
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

    /**
     * The unfolding the paper uses for this layer: spatial for convs, FC for fully-connected layers; channel for 1-D
     * convs, which have one spatial axis only.
     */
    public static Unfolding paperUnfolding(Layer layer) {
        if (!layer.isConv()) {
            return Unfolding.FC;
        }
        return layer.weightShape().length == 3 ? Unfolding.CHANNEL : Unfolding.SPATIAL;
    }
}
