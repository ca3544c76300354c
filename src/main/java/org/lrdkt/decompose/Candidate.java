package org.lrdkt.decompose;

import java.nio.FloatBuffer;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.lrdkt.LrdktException;
import org.lrdkt.onnx.Attrs;
import org.lrdkt.onnx.Costs;
import org.lrdkt.onnx.Graph;
import org.lrdkt.onnx.Layer;
import org.lrdkt.onnx.TensorData;
import org.lrdkt.onnx.proto.Onnx.NodeProto;
import org.lrdkt.onnx.proto.Onnx.TensorProto;

/**
 * A decomposable layer with everything the factorisers need: the effective weight (with a following
 * BatchNormalization folded in), its bias, the tensor its result ends in, and the measured shapes. The weight is
 * decoded on demand ({@link #matrix}) rather than held, so that compressing a model never keeps a float copy of
 * every layer at once.
 *
 * @param graph        the graph the weight is read from
 * @param layer        the layer as the graph view sees it
 * @param bnScale      per-output-channel scale of a folded BatchNormalization, or null
 * @param shape        the shape the unfoldings see ({@link LayerWeights#unfoldShape})
 * @param foldedBias   the bias after folding a BN, or null when the original bias tensor is reused as is
 * @param batchNorm    the folded BatchNormalization node, or null
 * @param outputTensor the tensor holding the layer's result (the BN's output when one is folded)
 * @param dataType     the weight's ONNX data type as stored; factors are stored in it
 * @param computeType  the type the layer reads its weight in: dataType, or a Cast's target (fp16 weights Cast to
 *                     float); factors stored otherwise are read through a Cast to it
 * @param inputShape   measured shape of the layer's input
 * @param outputShape  measured shape of the conv/Gemm/MatMul node's output
 */
record Candidate(Graph graph, Layer layer, double[] bnScale, long[] shape, float[] foldedBias, NodeProto batchNorm,
                 String outputTensor, int dataType, int computeType, long[] inputShape,
                 long[] outputShape) {

    static Candidate of(Graph graph, Layer layer, Map<String, long[]> shapes) throws LrdktException {
        long[] shape = LayerWeights.unfoldShape(layer);
        long[] in = shapes.get(layer.node().getInput(0));
        long[] out = shapes.get(layer.node().getOutput(0));
        int dataType = LayerWeights.dataType(graph, layer);
        int computeType = graph.constantType(layer.weightTensor()).orElse(dataType);
        NodeProto bn = layer.isConv() ? foldableBatchNorm(graph, layer) : null;
        if (layer.biasTensor() != null) {
            checkFinite(layer, "bias", FloatBuffer.wrap(floats(graph, layer.biasTensor())));
        }
        if (bn == null) {
            return new Candidate(graph, layer, null, shape, null, null, layer.outputTensor(), dataType, computeType, in,
                    out);
        }
        // y = γ (conv(x) + b − μ) / √(σ² + ε) + β  =  conv'(x) + b'  with W' = W·s, b' = (b − μ)·s + β
        float[] gamma = floats(graph, bn.getInput(1));
        float[] beta = floats(graph, bn.getInput(2));
        float[] mean = floats(graph, bn.getInput(3));
        float[] var = floats(graph, bn.getInput(4));
        double eps = Attrs.getFloat(bn, "epsilon", 1e-5f);
        int n = (int) shape[0];
        float[] bias = layer.biasTensor() == null ? new float[n] : floats(graph, layer.biasTensor());
        float[] folded = new float[n];
        double[] scales = new double[n];
        for (int o = 0; o < n; o++) {
            double scale = gamma[o] / Math.sqrt(var[o] + eps);
            if (!Double.isFinite(scale) || !Float.isFinite(beta[o]) || !Float.isFinite(mean[o])) {
                throw LrdktException.badInput("layer '" + layer.name() + "': its BatchNormalization '" + bn.getName()
                        + "' has NaN/Inf parameters or variance + epsilon ≤ 0 in channel " + o
                        + "; the folded layer would compute NaN");
            }
            scales[o] = scale;
            folded[o] = (float) ((bias[o] - mean[o]) * scale + beta[o]);
        }
        return new Candidate(graph, layer, scales, shape, folded, bn, bn.getOutput(0), dataType, computeType, in, out);
    }

    /**
     * The effective weight (BN folded in) as the unfolding's matrix in native memory; the caller closes it. A
     * fully-connected weight goes from the model to native memory without a Java copy.
     */
    Matrix matrix(Unfolding unfolding) throws LrdktException {
        if (layer.isConv()) {
            return unfolding.matrix(convWeight(), shape);
        }
        Matrix m = LayerWeights.fcMatrix(graph, layer);
        try {
            checkFinite(layer, "weight (as out x in)", m.buffer());
        } catch (LrdktException e) {
            m.close();
            throw e;
        }
        return m;
    }

    /** A fresh copy of a conv's effective weight (N, C, kh, kw), BN folded in. */
    private float[] convWeight() throws LrdktException {
        float[] w = LayerWeights.stored(graph, layer);
        checkFinite(layer, "weight", FloatBuffer.wrap(w));
        if (bnScale != null) {
            int perFilter = w.length / bnScale.length;
            for (int o = 0; o < bnScale.length; o++) {
                for (int i = 0; i < perFilter; i++) {
                    w[o * perFilter + i] = (float) (w[o * perFilter + i] * bnScale[o]);
                }
            }
        }
        return w;
    }

    /** Elements of the weight, for ordering work by size without decoding it. */
    long weightElements() {
        return Costs.product(shape);
    }

    /** The BatchNormalization (inference form, constant parameters) that alone consumes this conv's output. */
    private static NodeProto foldableBatchNorm(Graph graph, Layer layer) {
        String out = layer.node().getOutput(0);
        List<NodeProto> next = graph.consumers(out);
        if (next.size() != 1 || graph.isGraphOutput(out)) {
            return null;
        }
        NodeProto bn = next.get(0);
        if (!bn.getOpType().equals("BatchNormalization") || bn.getInputCount() != 5 || !bn.getInput(0).equals(out)
                || Attrs.getInt(bn, "training_mode", 0) != 0) {
            return null;
        }
        for (int i = 1; i < bn.getOutputCount(); i++) {
            if (!bn.getOutput(i).isEmpty()) {
                return null; // running statistics requested: training form
            }
        }
        long channels = layer.weightShape()[0];
        for (int i = 1; i < 5; i++) {
            Optional<TensorProto> t = graph.constant(bn.getInput(i));
            if (t.isEmpty() || Costs.product(TensorData.dims(t.get())) != channels) {
                return null;
            }
        }
        return bn;
    }

    /** NaN or Inf in a layer's weights would make every factor NaN: refuse, naming the layer and the first value. */
    private static void checkFinite(Layer layer, String what, FloatBuffer values) throws LrdktException {
        int i = Matrix.firstNonFinite(values);
        if (i >= 0) {
            throw LrdktException.badInput("layer '" + layer.name() + "': " + what + " holds "
                    + values.get(values.position() + i) + " at flat index " + i + "; a model with NaN/Inf weights "
                    + "cannot be decomposed (fix or --exclude the layer)");
        }
    }

    private static float[] floats(Graph graph, String tensor) throws LrdktException {
        TensorProto t = graph.constant(tensor).orElseThrow(() -> LrdktException.badInput("tensor '" + tensor
                + "' is not a constant"));
        return TensorData.toFloats(t);
    }

    String name() {
        return layer.name();
    }

    /**
     * The unfoldings this layer can use under a scheme choice; 1×1 convs only channel (spatial is the same there),
     * and so do 1-D convs (the spatial scheme splits two spatial axes).
     */
    List<Unfolding> unfoldings(CompressOptions.Scheme scheme) {
        if (!layer.isConv()) {
            return List.of(Unfolding.FC);
        }
        if (shape[2] == 1 && shape[3] == 1 || oneDimensional()) {
            return List.of(Unfolding.CHANNEL);
        }
        return switch (scheme) {
            case SPATIAL -> List.of(Unfolding.SPATIAL);
            case CHANNEL -> List.of(Unfolding.CHANNEL);
            case AUTO -> List.of(Unfolding.SPATIAL, Unfolding.CHANNEL);
        };
    }

    /** A conv over one spatial axis, its kernel (N, C, k) seen as (N, C, 1, k) in {@link #shape}. */
    boolean oneDimensional() {
        return layer.isConv() && layer.weightShape().length == 3;
    }

    boolean hasBias() {
        return layer.biasTensor() != null || foldedBias != null;
    }

    /** Params and MACs of the layer as it is (its BN, if any, not counted: it is elementwise). */
    Costs.Cost costBefore() {
        return Costs.of(layer, outputShape);
    }

    /** Params and MACs of the factor pair at rank k under an unfolding. */
    Costs.Cost costAfter(Unfolding unfolding, int k) {
        if (unfolding == Unfolding.FC) {
            long in = shape[1];
            long out = shape[0];
            return Costs.fullyConnected(in, k, false, new long[] {rowsOf(outputShape), k})
                    .plus(Costs.fullyConnected(k, out, layer.biasTensor() != null, outputShape));
        }
        long n = shape[0];
        long c = shape[1];
        long kh = shape[2];
        long kw = shape[3];
        boolean bias = hasBias();
        if (unfolding == Unfolding.CHANNEL) {
            long[] middle = outputShape.clone(); // the output's positions, with K channels
            middle[1] = k;
            return Costs.conv(new long[] {k, c, kh, kw}, false, middle)
                    .plus(Costs.conv(new long[] {n, k, 1, 1}, bias, outputShape));
        }
        long batch = outputShape[0];
        long outH = outputShape[2];
        long outW = outputShape[3];
        // the vertical conv strides and pads only the height; its width is the input's
        long midW = inputShape[3];
        return Costs.conv(new long[] {k, c, kh, 1}, false, new long[] {batch, k, outH, midW})
                .plus(Costs.conv(new long[] {n, k, 1, kw}, bias, outputShape));
    }

    private static long rowsOf(long[] outShape) {
        return Costs.product(outShape) / Math.max(1, outShape[outShape.length - 1]);
    }
}
