package org.lrdkt.train;

import org.lrdkt.onnx.Attrs;
import org.lrdkt.onnx.proto.Onnx.NodeProto;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Resize (opset 10 on) and Upsample, nearest and linear, with scales or sizes. Both modes are separable, so each
 * resized axis is one product with an interpolation matrix M (output × input positions: a single 1 per row for
 * nearest, two weights for linear): forward y = M·x along the axis, backward g_x = Mᵀ·g_y.
 */
final class ResizeOp implements MirrorOp {

    private final boolean linear;
    private final String coordinates;
    private final String nearestMode;
    /** Upsample before opset 9 keeps its scales in an attribute; null otherwise. */
    private final float[] attrScales;
    /** Index of the scales input: 1 for Resize-10 and Upsample-9, 2 from Resize-11 (after roi). */
    private final int scalesInput;

    ResizeOp(NodeProto node, int opset) {
        boolean upsample = node.getOpType().equals("Upsample");
        String mode = Attrs.getString(node, "mode", "nearest");
        if (!mode.equals("nearest") && !mode.equals("linear") && !mode.equals("bilinear")) {
            throw new MirrorShapeException("mode " + mode + " (the mirror resizes nearest and linear)");
        }
        if (Attrs.getInt(node, "antialias", 0) != 0) {
            throw new MirrorShapeException("antialiasing");
        }
        linear = !mode.equals("nearest");
        // Upsample and Resize-10 sample asymmetrically (x_in = x_out / scale) and round nearest down
        boolean legacy = upsample || opset < 11;
        coordinates = legacy ? "asymmetric" : Attrs.getString(node, "coordinate_transformation_mode", "half_pixel");
        nearestMode = legacy ? "floor" : Attrs.getString(node, "nearest_mode", "round_prefer_floor");
        if (coordinates.equals("tf_crop_and_resize")) {
            throw new MirrorShapeException("coordinate_transformation_mode tf_crop_and_resize");
        }
        float[] scales = null;
        if (upsample && opset < 9) {
            var attr = Attrs.find(node, "scales").orElseThrow(() -> new MirrorShapeException("no scales"));
            scales = new float[attr.getFloatsCount()];
            for (int i = 0; i < scales.length; i++) {
                scales[i] = attr.getFloats(i);
            }
        }
        attrScales = scales;
        scalesInput = upsample || opset < 11 ? 1 : 2;
    }

    /** How one axis is resampled: the scale that maps coordinates and the output length. */
    private record Sampling(double scale, long length) {
    }

    private Sampling[] sampling(INDArray[] in) {
        INDArray x = in[0];
        int rank = x.rank();
        double[] scales = new double[rank];
        long[] sizes = new long[rank];
        INDArray scaleInput = in.length > scalesInput ? in[scalesInput] : null;
        INDArray sizeInput = in.length > 3 ? in[3] : null;
        for (int a = 0; a < rank; a++) {
            if (attrScales != null) {
                scales[a] = attrScales[a];
            } else if (scaleInput != null && scaleInput.length() > 0) {
                scales[a] = scaleInput.getDouble(a);
            } else if (sizeInput != null && sizeInput.length() > 0) {
                sizes[a] = sizeInput.getLong(a);
                scales[a] = (double) sizes[a] / x.size(a);
                continue;
            } else {
                throw new MirrorShapeException("neither scales nor sizes");
            }
            sizes[a] = (long) Math.floor(x.size(a) * scales[a]);
        }
        Sampling[] out = new Sampling[rank];
        for (int a = 0; a < rank; a++) {
            out[a] = new Sampling(scales[a], sizes[a]);
        }
        return out;
    }

    /** The input coordinate that output position {@code o} samples, before clamping. */
    private double source(long o, double scale, long inLength, long outLength) {
        return switch (coordinates) {
            case "asymmetric" -> o / scale;
            case "align_corners" -> outLength == 1 ? 0 : o * (inLength - 1.0) / (outLength - 1.0);
            case "pytorch_half_pixel" -> outLength > 1 ? (o + 0.5) / scale - 0.5 : 0;
            case "tf_half_pixel_for_nearest" -> (o + 0.5) / scale;
            default -> (o + 0.5) / scale - 0.5; // half_pixel
        };
    }

    private long nearest(double x) {
        return switch (nearestMode) {
            case "floor" -> (long) Math.floor(x);
            case "ceil" -> (long) Math.ceil(x);
            case "round_prefer_ceil" -> (long) Math.floor(x + 0.5);
            default -> (long) Math.ceil(x - 0.5); // round_prefer_floor: halves go down
        };
    }

    /** An axis kept at its length and scale 1 is the identity: no product. */
    private static boolean resamples(Sampling s, long inLength) {
        return s.length() != inLength || s.scale() != 1;
    }

    /** The interpolation matrix (output × input) of one axis, in {@code like}'s data type. */
    private INDArray matrix(long inLength, Sampling sampling, INDArray like) {
        long outLength = sampling.length();
        double scale = sampling.scale();
        double[] m = new double[(int) (outLength * inLength)];
        for (long o = 0; o < outLength; o++) {
            double x = source(o, scale, inLength, outLength);
            int row = (int) (o * inLength);
            if (!linear) {
                m[row + (int) Math.min(Math.max(nearest(x), 0), inLength - 1)] = 1;
                continue;
            }
            double clamped = Math.min(Math.max(x, 0), inLength - 1);
            long lower = (long) Math.floor(clamped);
            long upper = Math.min(lower + 1, inLength - 1);
            double w = clamped - lower;
            m[row + (int) lower] += 1 - w;
            m[row + (int) upper] += w;
        }
        return Tensors.fromDoubles(m, new long[] {outLength, inLength}, like.dataType());
    }

    /** Applies {@code m} (rows × columns) along {@code axis} of x, whose length there is m's column count. */
    private static INDArray alongAxis(INDArray x, int axis, INDArray m) {
        int rank = x.rank();
        int[] toLast = new int[rank];
        for (int i = 0, k = 0; i < rank; i++) {
            if (i != axis) {
                toLast[k++] = i;
            }
        }
        toLast[rank - 1] = axis;
        INDArray moved = x.permute(toLast).dup('c');
        long[] movedShape = moved.shape();
        INDArray product = Tensors.matmul(moved.reshape('c', -1, movedShape[rank - 1]), m, false, true);
        movedShape[rank - 1] = m.size(0);
        int[] back = new int[rank];
        for (int i = 0; i < rank; i++) {
            back[toLast[i]] = i;
        }
        return product.reshape('c', movedShape).permute(back).dup('c');
    }

    @Override
    public INDArray[] forward(INDArray[] in) {
        Sampling[] sampling = sampling(in);
        INDArray y = in[0];
        for (int a = 0; a < y.rank(); a++) {
            if (resamples(sampling[a], in[0].size(a))) {
                y = alongAxis(y, a, matrix(in[0].size(a), sampling[a], y));
            }
        }
        return new INDArray[] {y == in[0] ? y.dup() : y};
    }

    @Override
    public INDArray[] backward(INDArray[] in, INDArray[] out, INDArray[] g, boolean[] need) {
        Sampling[] sampling = sampling(in);
        INDArray gx = g[0];
        for (int a = gx.rank() - 1; a >= 0; a--) {
            if (resamples(sampling[a], in[0].size(a))) {
                gx = alongAxis(gx, a, matrix(in[0].size(a), sampling[a], gx).transpose().dup('c'));
            }
        }
        INDArray[] grads = new INDArray[in.length];
        grads[0] = gx;
        return grads;
    }
}
