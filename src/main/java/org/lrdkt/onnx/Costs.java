package org.lrdkt.onnx;

import org.lrdkt.onnx.proto.Onnx.NodeProto;
import org.lrdkt.onnx.proto.Onnx.TensorProto;

/**
 * Parameter and multiply-accumulate counts of layers. Both the compressor (to price candidate factorisations) and
 * the validator (to report a model) use it, so it lives with the graph model rather than in either stage.
 */
public final class Costs {

    private Costs() {
    }

    /** Params and MACs of one layer. */
    public record Cost(long params, long macs) {
        public Cost plus(Cost other) {
            return new Cost(params + other.params, macs + other.macs);
        }

        public static final Cost ZERO = new Cost(0, 0);
    }

    /**
     * A conv with weight (N, C/g, kh, kw...) producing {@code outputShape} (batch, N, spatial...): every output
     * element takes C/g·kh·kw MACs.
     */
    public static Cost conv(long[] weightShape, boolean hasBias, long[] outputShape) {
        long perOutput = 1;
        for (int i = 1; i < weightShape.length; i++) {
            perOutput *= weightShape[i];
        }
        long outputs = product(outputShape);
        long params = product(weightShape) + (hasBias ? weightShape[0] : 0);
        return new Cost(params, outputs * perOutput);
    }

    /** A fully-connected layer in → out applied to every row of the output (batch and any leading dims). */
    public static Cost fullyConnected(long in, long out, boolean hasBias, long[] outputShape) {
        long rows = outputShape.length == 0 ? 1 : product(outputShape) / Math.max(1, outputShape[outputShape.length - 1]);
        return new Cost(in * out + (hasBias ? out : 0), rows * in * out);
    }

    /** Cost of a layer given its output shape. */
    public static Cost of(Layer layer, long[] outputShape) {
        boolean bias = layer.biasTensor() != null;
        return layer.isConv() ? conv(layer.weightShape(), bias, outputShape)
                : fullyConnected(layer.inFeatures(), layer.outFeatures(), bias, outputShape);
    }

    public static long product(long[] dims) {
        long p = 1;
        for (long d : dims) {
            p *= d;
        }
        return p;
    }

    /** Every floating-point constant element in the graph (initializers and Constant nodes): the model's params. */
    public static long modelParams(Graph graph) {
        long total = 0;
        for (TensorProto t : graph.proto().getInitializerList()) {
            total += TensorData.isFloatingPoint(t.getDataType()) ? product(TensorData.dims(t)) : 0;
        }
        for (NodeProto n : graph.proto().getNodeList()) {
            if (n.getOpType().equals("Constant")) {
                total += Attrs.find(n, "value").filter(a -> a.hasT() && TensorData.isFloatingPoint(a.getT().getDataType()))
                        .map(a -> product(TensorData.dims(a.getT()))).orElse(0L);
            }
        }
        return total;
    }
}
