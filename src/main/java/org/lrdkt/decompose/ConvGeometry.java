package org.lrdkt.decompose;

import org.lrdkt.LrdktException;
import org.lrdkt.onnx.Attrs;
import org.lrdkt.onnx.UnitHeight;
import org.lrdkt.onnx.proto.Onnx.NodeProto;

/**
 * A 2-D Conv's strides, dilations and explicit pads (top, left, bottom, right in ONNX order), with {@code auto_pad}
 * resolved against the measured input size, so that each axis can be handed to its own factor. A 1-D Conv is seen
 * as the 2-D one of unit height ({@link UnitHeight}).
 */
record ConvGeometry(long[] strides, long[] dilations, long[] pads) {

    static ConvGeometry of(NodeProto oneOrTwoD, long kh, long kw, long[] measuredInput, String layer)
            throws LrdktException {
        NodeProto conv = UnitHeight.lift(oneOrTwoD);
        long[] inputShape = measuredInput == null ? null : UnitHeight.shape(measuredInput);
        long[] strides = Attrs.getInts(conv, "strides", new long[] {1, 1});
        long[] dilations = Attrs.getInts(conv, "dilations", new long[] {1, 1});
        String autoPad = Attrs.getString(conv, "auto_pad", "NOTSET");
        long[] kernel = {kh, kw};
        long[] pads;
        switch (autoPad) {
            case "NOTSET" -> pads = Attrs.getInts(conv, "pads", new long[] {0, 0, 0, 0});
            case "VALID" -> pads = new long[] {0, 0, 0, 0};
            case "SAME_UPPER", "SAME_LOWER" -> {
                if (inputShape == null || inputShape.length != 4) {
                    throw LrdktException.unsupported("layer '" + layer + "': auto_pad " + autoPad
                            + " needs the measured input shape");
                }
                pads = new long[4];
                for (int axis = 0; axis < 2; axis++) {
                    long in = inputShape[2 + axis];
                    long out = (in + strides[axis] - 1) / strides[axis];
                    long total = Math.max(0, (out - 1) * strides[axis] + (kernel[axis] - 1) * dilations[axis] + 1 - in);
                    long begin = autoPad.equals("SAME_UPPER") ? total / 2 : total - total / 2;
                    pads[axis] = begin;
                    pads[axis + 2] = total - begin;
                }
            }
            default -> throw LrdktException.unsupported("layer '" + layer + "': unknown auto_pad '" + autoPad + "'");
        }
        if (strides.length != 2 || dilations.length != 2 || pads.length != 4) {
            throw LrdktException.unsupported("layer '" + layer + "': strides/dilations/pads do not describe a 2-D conv");
        }
        return new ConvGeometry(strides, dilations, pads);
    }
}
