package org.lrdkt.train;

import java.util.Arrays;
import org.lrdkt.onnx.Attrs;
import org.lrdkt.onnx.proto.Onnx.NodeProto;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * 2-D Conv on NCHW with ONNX's OIHW weights. Group 1 runs through libnd4j's conv2d/conv2d_bp (weight format 1 =
 * OIHW); depthwise convs (group = input channels, any channel multiplier) through one depthwise_conv2d/_bp call;
 * other group counts as one conv2d per channel slice. For those, the single-call forms libnd4j allows measured
 * slower at group 2 and 4: a block-diagonal dense kernel (group× the work; it only won with 32 groups of one or
 * two channels) and a channel-expanded depthwise conv (copies the input per output channel, and libnd4j runs a
 * multiplier above 1 outside oneDNN). Asymmetric pads become an explicit zero pad in front.
 */
final class ConvOp implements MirrorOp {

    private final Window window;
    private final long group;
    private final String name;

    ConvOp(NodeProto node) {
        window = Window.of(node);
        group = Attrs.getInt(node, "group", 1);
        name = node.getName();
    }

    private Window.Pads pads(INDArray x, INDArray w) {
        if (x.rank() != 4 || w.rank() != 4) {
            throw new MirrorShapeException("Conv '" + name + "' with a " + (w.rank() - 2)
                    + "-D kernel (the mirror trains 2-D convolutions)");
        }
        if (x.size(1) != w.size(1) * group || w.size(0) % group != 0) {
            throw new MirrorShapeException("Conv '" + name + "' with group " + group + ": a weight of shape "
                    + Arrays.toString(w.shape()) + " does not fit an input of " + x.size(1) + " channels");
        }
        return window.resolve(x.size(2), x.size(3), w.size(2), w.size(3));
    }

    /** One kernel per input channel (ONNX weight [C·m, 1, kh, kw]): libnd4j's depthwise op covers it in one call. */
    private boolean depthwise(INDArray w) {
        return group > 1 && w.size(1) == 1;
    }

    /**
     * conv2d/depthwise_conv2d arguments for an (already dilated, see {@link Window#dilate}) kernel: dilation is always 1
     * here. {@code weightFormat}: 1 = [O, I, kh, kw] for conv2d, 0 = [kh, kw, C, m] for depthwise_conv2d.
     */
    private int[] args(INDArray w, Window.Pads p, int weightFormat) {
        boolean inline = p.symmetric();
        return new int[] {(int) w.size(2), (int) w.size(3), (int) window.strideH(), (int) window.strideW(),
            inline ? (int) p.top() : 0, inline ? (int) p.left() : 0, 1, 1, 0, 0, weightFormat};
    }

    /**
     * ONNX's depthwise weight [C·m, 1, kh, kw] (output channel c·m + j) as libnd4j's [kh, kw, C, m], which has the
     * same channel order. Format 0 rather than the OIHW-like format 1: libnd4j hands a depthwise conv to oneDNN
     * only when dimension 3 of the weight is 1, which in format 0 is the multiplier — in format 1 it is kw, and
     * the fallback im2col kernel measured 13× slower on a 144-channel 56×56 layer.
     */
    private INDArray depthwiseWeight(INDArray w) {
        return w.reshape('c', group, w.size(0) / group, w.size(2), w.size(3)).permute(2, 3, 0, 1).dup('c');
    }

    /** The inverse of {@link #depthwiseWeight} for its gradient: [kh, kw, C, m] back to [C·m, 1, kh, kw]. */
    private static INDArray onnxDepthwiseWeight(INDArray g) {
        return g.permute(2, 3, 0, 1).dup('c').reshape('c', g.size(2) * g.size(3), 1, g.size(0), g.size(1));
    }

    private static INDArray padded(INDArray x, Window.Pads p) {
        return p.symmetric() ? x : Tensors.padSpatial(x, p.top(), p.left(), p.bottom(), p.right(), 0);
    }

    private static INDArray[] operands(INDArray x, INDArray w, INDArray b) {
        return b == null ? new INDArray[] {x, w} : new INDArray[] {x, w, b};
    }

    private static INDArray[] withGrad(INDArray[] operands, INDArray gradOut) {
        INDArray[] all = Arrays.copyOf(operands, operands.length + 1);
        all[operands.length] = gradOut;
        return all;
    }

    @Override
    public INDArray[] forward(INDArray[] in) {
        Window.Pads p = pads(in[0], in[1]);
        INDArray w = window.dilate(in[1]);
        INDArray b = in.length > 2 ? in[2] : null;
        INDArray x = padded(in[0], p);
        if (depthwise(w)) {
            return new INDArray[] {Tensors.exec("depthwise_conv2d", operands(x, depthwiseWeight(w), b), args(w, p, 0))[0]};
        }
        int[] args = args(w, p, 1);
        if (group == 1) {
            return new INDArray[] {Tensors.exec("conv2d", operands(x, w, b), args)[0]};
        }
        INDArray kernel = sliceable(w);
        INDArray bias = sliceable(b);
        INDArray[] parts = new INDArray[(int) group];
        for (int g = 0; g < group; g++) {
            parts[g] = Tensors.exec("conv2d", operands(channels(x, g), channels(kernel, g, 0), slice(bias, g)), args)[0];
        }
        return new INDArray[] {Nd4j.concat(1, parts)};
    }

    @Override
    public boolean backwardReadsOutputs() {
        return false;
    }

    @Override
    public INDArray[] backward(INDArray[] in, INDArray[] out, INDArray[] gradOut, boolean[] need) {
        Window.Pads p = pads(in[0], in[1]);
        INDArray w = window.dilate(in[1]);
        INDArray b = in.length > 2 ? in[2] : null;
        INDArray x = padded(in[0], p);
        int[] args = args(w, p, 1);
        INDArray gx;
        INDArray gw;
        INDArray gb;
        if (depthwise(w)) {
            INDArray[] r = Tensors.exec("depthwise_conv2d_bp", withGrad(operands(x, depthwiseWeight(w), b), gradOut[0]),
                    args(w, p, 0));
            gx = r[0];
            gw = onnxDepthwiseWeight(r[1]);
            gb = b == null ? null : r[2];
        } else if (group == 1 && !need[0] && window.strideH() == 1 && window.strideW() == 1) {
            gx = null;
            gw = need[1] ? weightGradient(x, gradOut[0], args) : null;
            gb = b != null && need[2] ? gradOut[0].sum(0, 2, 3) : null;
        } else if (group == 1) {
            INDArray[] r = Tensors.exec("conv2d_bp", withGrad(operands(x, w, b), gradOut[0]), args);
            gx = r[0];
            gw = r[1];
            gb = b == null ? null : r[2];
        } else {
            INDArray[] gxs = new INDArray[(int) group];
            INDArray[] gws = new INDArray[(int) group];
            INDArray[] gbs = new INDArray[(int) group];
            INDArray kernel = sliceable(w);
            INDArray bias = sliceable(b);
            for (int g = 0; g < group; g++) {
                INDArray bg = slice(bias, g);
                INDArray go = channels(gradOut[0], g, w.size(0) / group);
                INDArray[] r = Tensors.exec("conv2d_bp", withGrad(operands(channels(x, g), channels(kernel, g, 0), bg), go),
                        args);
                gxs[g] = r[0];
                gws[g] = r[1];
                gbs[g] = bg == null ? null : r[2];
            }
            gx = Nd4j.concat(1, gxs);
            gw = Nd4j.concat(0, gws);
            gb = b == null ? null : Nd4j.concat(0, gbs);
        }
        INDArray[] grads = new INDArray[in.length];
        if (need[0]) {
            grads[0] = p.symmetric() ? gx : Tensors.cropSpatial(gx, p.top(), p.left(), p.bottom(), p.right());
        }
        grads[1] = need[1] ? window.taps(gw) : null;
        if (b != null && need[2]) {
            grads[2] = gb;
        }
        return grads;
    }

    /**
     * dL/dW alone (the first layer needs no input gradient): for stride 1 it is the correlation of the input with
     * the output gradient, i.e. a conv2d with batch and channels swapped — 3–4× faster than conv2d_bp here. Both
     * operands go in as permuted views and symmetric pads inline ({@code args}, as in the forward pass): conv2d
     * reads strided inputs, so no transposed copies and no pad op.
     */
    private static INDArray weightGradient(INDArray x, INDArray gradOut, int[] args) {
        INDArray swapped = x.permute(1, 0, 2, 3); // [C, N, H, W]
        INDArray kernel = gradOut.permute(1, 0, 2, 3); // [O, N, oh, ow]
        int[] swappedArgs = {(int) kernel.size(2), (int) kernel.size(3), 1, 1, args[4], args[5], 1, 1, 0, 0, 1};
        // at stride 1 the output gradient spans (padded input − kernel + 1), so this comes out exactly kh × kw
        INDArray g = Tensors.exec("conv2d", new INDArray[] {swapped, kernel}, swappedArgs)[0]; // [C, O, kh, kw]
        return g.permute(1, 0, 2, 3).dup('c');
    }

    /**
     * The array itself, or a fresh copy where it is a view: ND4J 1.0.0-M2.1 returns an empty array for some slices
     * of views of the flat parameter vector (rows 3..5 of a [6, 4, 3, 3] weight at offset 184, for one).
     */
    static INDArray sliceable(INDArray t) {
        return t == null || !t.isView() ? t : t.dup('c');
    }

    /** Input channels of group g. */
    private INDArray channels(INDArray x, int g) {
        long per = x.size(1) / group;
        return x.get(NDArrayIndex.all(), NDArrayIndex.interval(g * per, (g + 1) * per)).dup('c');
    }

    /** Output channels (axis 0 of the weight, or axis 1 of an output gradient when perOut > 0) of group g. */
    private INDArray channels(INDArray t, int g, long perOut) {
        if (perOut > 0) {
            return t.get(NDArrayIndex.all(), NDArrayIndex.interval(g * perOut, (g + 1) * perOut)).dup('c');
        }
        long per = t.size(0) / group;
        return t.get(NDArrayIndex.interval(g * per, (g + 1) * per)).dup('c');
    }

    private INDArray slice(INDArray bias, int g) {
        if (bias == null) {
            return null;
        }
        long per = bias.length() / group;
        return bias.get(NDArrayIndex.interval(g * per, (g + 1) * per)).dup();
    }
}
