package org.lrdkt.onnx;

import java.util.Map;
import org.lrdkt.onnx.proto.Onnx.AttributeProto;
import org.lrdkt.onnx.proto.Onnx.NodeProto;

/**
 * A 1-D windowed node (Conv, ConvTranspose, MaxPool, AveragePool over [N, C, L], as in audio and sequence CNNs) seen
 * as the 2-D one over [N, C, 1, L]: one place for the training mirror and the decomposition to agree on.
 */
public final class UnitHeight {

    /** Per windowed attribute, the height entry a 1-D value gains. */
    private static final Map<String, Long> HEIGHT = Map.of("kernel_shape", 1L, "strides", 1L, "dilations", 1L,
            "output_padding", 0L, "output_shape", 1L);

    private UnitHeight() {
    }

    /** The node with its 1-D window attributes as 2-D ones of unit height (pads [b, e] as [0, b, 0, e]). */
    public static NodeProto lift(NodeProto node) {
        NodeProto.Builder b = node.toBuilder().clearAttribute();
        for (AttributeProto a : node.getAttributeList()) {
            if (HEIGHT.containsKey(a.getName()) && a.getIntsCount() == 1) {
                b.addAttribute(Attrs.ofInts(a.getName(), HEIGHT.get(a.getName()), a.getInts(0)));
            } else if (a.getName().equals("pads") && a.getIntsCount() == 2) {
                b.addAttribute(Attrs.ofInts("pads", 0, a.getInts(0), 0, a.getInts(1)));
            } else {
                b.addAttribute(a);
            }
        }
        return b.build();
    }

    /** A rank-3 shape ([N, C, L] activation or [O, I, k] kernel) with a unit axis 2; others as they are. */
    public static long[] shape(long[] dims) {
        return dims.length == 3 ? new long[] {dims[0], dims[1], 1, dims[2]} : dims;
    }
}
