package org.lrdkt.train;

import java.util.Map;
import org.lrdkt.onnx.Attrs;
import org.lrdkt.onnx.proto.Onnx.AttributeProto;
import org.lrdkt.onnx.proto.Onnx.NodeProto;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The 1-D windows of audio and sequence CNNs (Conv, ConvTranspose, MaxPool, AveragePool over [N, C, L]) run as the
 * 2-D op over [N, C, 1, L]: the node's 1-D attributes gain a unit height, and rank-3 inputs and weights a unit
 * axis 2, which the outputs and gradients lose again. Rank-4 inputs pass through to the 2-D op unchanged.
 */
final class OneDimensional implements MirrorOp {

    /** Per windowed attribute, how a 1-D value becomes the 2-D one with a unit height. */
    private static final Map<String, long[]> HEIGHT = Map.of("kernel_shape", new long[] {1}, "strides", new long[] {1},
            "dilations", new long[] {1}, "output_padding", new long[] {0}, "output_shape", new long[] {1});

    private final MirrorOp twoD;

    private OneDimensional(MirrorOp twoD) {
        this.twoD = twoD;
    }

    /** The factory of a 2-D windowed op, taking 1-D nodes too. */
    static Ops.Factory lifting(Ops.Factory twoD) {
        return (node, opset, floatType) -> new OneDimensional(twoD.create(lift(node), opset, floatType));
    }

    /** The node with its 1-D window attributes as 2-D ones of unit height; a 2-D node unchanged. */
    static NodeProto lift(NodeProto node) {
        NodeProto.Builder b = node.toBuilder().clearAttribute();
        for (AttributeProto a : node.getAttributeList()) {
            long[] v = a.getIntsList().stream().mapToLong(Long::longValue).toArray();
            if (HEIGHT.containsKey(a.getName()) && v.length == 1) {
                b.addAttribute(Attrs.ofInts(a.getName(), HEIGHT.get(a.getName())[0], v[0]));
            } else if (a.getName().equals("pads") && v.length == 2) {
                b.addAttribute(Attrs.ofInts("pads", 0, v[0], 0, v[1]));
            } else {
                b.addAttribute(a);
            }
        }
        return b.build();
    }

    private static boolean line(INDArray[] in) {
        return in[0] != null && in[0].rank() == 3;
    }

    /** A rank-3 tensor (input, weight, output or its gradient) with a unit axis 2; others as they are. */
    private static INDArray[] raised(INDArray[] tensors) {
        INDArray[] out = new INDArray[tensors.length];
        for (int i = 0; i < out.length; i++) {
            INDArray t = tensors[i];
            out[i] = t == null || t.rank() != 3 ? t : t.reshape('c', t.size(0), t.size(1), 1, t.size(2));
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
