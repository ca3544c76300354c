package org.lrdkt.train;

import java.util.Arrays;
import org.lrdkt.onnx.Attrs;
import org.lrdkt.onnx.proto.Onnx.NodeProto;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * 2-D ConvTranspose on NCHW with ONNX's [C_in, C_out/group, kh, kw] weights, through libnd4j's
 * deconv2d/deconv2d_bp with weight format 1 (the same layout) and no pads: that gives the full output,
 * (in − 1)·stride + kernel extent per axis, which is then cropped by the pads; output_padding (or an output_shape past the full size) extends it with
 * zeros where only the bias lands. Dilation is spread into the kernel as in {@link ConvOp}; other groups than 1 run
 * one deconv2d per channel slice.
 */
final class ConvTransposeOp implements MirrorOp {

    private final Window window;
    private final long group;
    private final long[] outputPadding;
    private final long[] outputShape;
    private final String name;

    ConvTransposeOp(NodeProto node) {
        window = Window.of(node);
        group = Attrs.getInt(node, "group", 1);
        outputPadding = Attrs.getInts(node, "output_padding", new long[] {0, 0});
        outputShape = Attrs.getInts(node, "output_shape", null);
        name = node.getName();
        if (outputPadding.length != 2) {
            throw new MirrorShapeException("ConvTranspose '" + name + "' with output_padding "
                    + Arrays.toString(outputPadding) + " (the mirror trains 2-D ones)");
        }
    }

    /** Where the output lies on the full deconvolution of one axis: from {@code head}, {@code length} long. */
    private record Span(long head, long length) {
    }

    /** The output's span on one axis, by ONNX Runtime's rules for output_shape and auto_pad. */
    private Span span(int axis, long in, long kernel) {
        long stride = axis == 0 ? window.strideH() : window.strideW();
        long dilation = axis == 0 ? window.dilationH() : window.dilationW();
        long adjusted = (in - 1) * stride + (kernel - 1) * dilation + 1 + outputPadding[axis];
        boolean same = window.autoPad().startsWith("SAME");
        if (outputShape != null || same) {
            long length = outputShape != null ? outputShape[outputShape.length - 2 + axis] : in * stride;
            long total = Math.max(0, adjusted - length);
            // measured on ONNX Runtime: the odd unit of padding goes to the end for SAME_UPPER, else to the start
            long head = window.autoPad().equals("SAME_UPPER") ? total / 2 : total - total / 2;
            return new Span(head, length);
        }
        if (window.autoPad().equals("VALID")) {
            return new Span(0, adjusted);
        }
        long begin = window.pads()[axis];
        return new Span(begin, adjusted - begin - window.pads()[axis + 2]);
    }

    private Span[] spans(INDArray x, INDArray w) {
        if (x.rank() != 4 || w.rank() != 4) {
            throw new MirrorShapeException("ConvTranspose '" + name + "' with a " + (w.rank() - 2)
                    + "-D kernel (the mirror trains 2-D transposed convolutions)");
        }
        if (x.size(1) != w.size(0) || w.size(0) % group != 0) {
            throw new MirrorShapeException("ConvTranspose '" + name + "' with group " + group + ": a weight of shape "
                    + Arrays.toString(w.shape()) + " does not fit an input of " + x.size(1) + " channels");
        }
        return new Span[] {span(0, x.size(2), w.size(2)), span(1, x.size(3), w.size(3))};
    }

    /** Pads (positive) or crops (negative) the spatial axes of an NCHW tensor by the given amounts. */
    private static INDArray reframe(INDArray t, long top, long left, long bottom, long right) {
        INDArray padded = top > 0 || left > 0 || bottom > 0 || right > 0
                ? Tensors.padSpatial(t, Math.max(top, 0), Math.max(left, 0), Math.max(bottom, 0), Math.max(right, 0), 0)
                : t;
        return top < 0 || left < 0 || bottom < 0 || right < 0 ? Tensors.cropSpatial(padded, Math.max(-top, 0),
                Math.max(-left, 0), Math.max(-bottom, 0), Math.max(-right, 0)) : padded;
    }

    /** deconv2d arguments for an (already dilated) kernel: no pads, NCHW, weight format 1 = [C_in, C_out, kh, kw]. */
    private int[] args(INDArray w) {
        return new int[] {(int) w.size(2), (int) w.size(3), (int) window.strideH(), (int) window.strideW(), 0, 0, 1, 1,
            0, 0, 1};
    }

    /** Group g's channels: along axis 0 (weight rows, input channels) or axis 1 (of an NCHW tensor). */
    private INDArray slice(INDArray t, int axis, int g) {
        long per = t.size(axis) / group;
        return (axis == 0 ? t.get(NDArrayIndex.interval(g * per, (g + 1) * per))
                : t.get(NDArrayIndex.all(), NDArrayIndex.interval(g * per, (g + 1) * per))).dup('c');
    }

    @Override
    public INDArray[] forward(INDArray[] in) {
        Span[] s = spans(in[0], in[1]);
        INDArray w = ConvOp.sliceable(window.dilate(in[1])); // a view of the flat parameters may not slice
        INDArray full;
        if (group == 1) {
            full = Tensors.exec("deconv2d", new INDArray[] {in[0], w}, args(w))[0];
        } else {
            INDArray[] parts = new INDArray[(int) group];
            for (int g = 0; g < group; g++) {
                parts[g] = Tensors.exec("deconv2d", new INDArray[] {slice(in[0], 1, g), slice(w, 0, g)}, args(w))[0];
            }
            full = Nd4j.concat(1, parts);
        }
        INDArray y = reframe(full, -s[0].head(), -s[1].head(), s[0].head() + s[0].length() - full.size(2),
                s[1].head() + s[1].length() - full.size(3));
        if (in.length > 2 && in[2] != null) {
            y = Tensors.broadcast("add", y, in[2].reshape('c', 1, in[2].length(), 1, 1));
        }
        return new INDArray[] {y};
    }

    @Override
    public INDArray[] backward(INDArray[] in, INDArray[] out, INDArray[] gradOut, boolean[] need) {
        Span[] s = spans(in[0], in[1]);
        INDArray w = ConvOp.sliceable(window.dilate(in[1]));
        INDArray g = reframe(gradOut[0], s[0].head(), s[1].head(), fullSize(in[0], w, 2) - s[0].head() - s[0].length(),
                fullSize(in[0], w, 3) - s[1].head() - s[1].length());
        INDArray gx;
        INDArray gw;
        if (group == 1) {
            INDArray[] r = Tensors.exec("deconv2d_bp", new INDArray[] {in[0], w, g}, args(w));
            gx = r[0];
            gw = r[1];
        } else {
            INDArray[] gxs = new INDArray[(int) group];
            INDArray[] gws = new INDArray[(int) group];
            for (int i = 0; i < group; i++) {
                INDArray[] r = Tensors.exec("deconv2d_bp", new INDArray[] {slice(in[0], 1, i), slice(w, 0, i),
                    slice(g, 1, i)}, args(w));
                gxs[i] = r[0];
                gws[i] = r[1];
            }
            gx = Nd4j.concat(1, gxs);
            gw = Nd4j.concat(0, gws);
        }
        INDArray[] grads = new INDArray[in.length];
        grads[0] = need[0] ? gx : null;
        grads[1] = need[1] ? window.taps(gw) : null;
        if (in.length > 2 && in[2] != null && need[2]) {
            grads[2] = gradOut[0].sum(0, 2, 3);
        }
        return grads;
    }

    /** The full deconvolution's size along spatial axis {@code axis} (2 or 3) for an already dilated kernel. */
    private long fullSize(INDArray x, INDArray dilatedKernel, int axis) {
        long stride = axis == 2 ? window.strideH() : window.strideW();
        return (x.size(axis) - 1) * stride + dilatedKernel.size(axis);
    }
}
