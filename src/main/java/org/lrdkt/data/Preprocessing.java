package org.lrdkt.data;

import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;
import org.lrdkt.LrdktException;

/**
 * How raw samples become model input: {@code (raw · scale − mean[c]) / std[c]}, after an optional resize
 * (bilinear, antialiased when shrinking) and channel conversion (grayscale ↔ RGB), written in NCHW or NHWC order.
 * Images are either resized straight to height × width or, with {@code shorterSide}, resized keeping their aspect
 * so that the shorter side has that length and then centre-cropped to height × width (torchvision's
 * {@code Resize(256), CenterCrop(224)}). Unset fields (null scale, zero sizes) are resolved from the data source and
 * the model's input shape; {@link #describe()} prints what was used.
 *
 * @param scale    multiplier for raw values; null = 1/255 for 8-bit sources, 1 for floating-point tensors
 * @param mean     per-channel mean subtracted after scaling (one value applies to every channel)
 * @param std      per-channel divisor (one value applies to every channel)
 * @param height   target height in pixels, 0 = as stored or the model's
 * @param width    target width in pixels, 0 = as stored or the model's
 * @param channels 1 (grayscale) or 3 (RGB), 0 = as stored or the model's
 * @param layout   order of the channel axis in each sample
 * @param shorterSide resize images so that their shorter side is this long, then take the centre height × width
 *                 (0 = resize straight to height × width)
 */
public record Preprocessing(Double scale, double[] mean, double[] std, int height, int width, int channels,
                            Layout layout, int shorterSide) {

    /** Where the channel axis goes. */
    public enum Layout { NCHW, NHWC }

    /** Scale left to the source, mean 0, std 1, sizes from the model, NCHW. */
    public static Preprocessing defaults() {
        return new Preprocessing(null, new double[] {0}, new double[] {1}, 0, 0, 0, Layout.NCHW, 0);
    }

    /**
     * torchvision's ImageNet evaluation transform: shorter side 256, centre crop 224 × 224, RGB, /255, mean
     * (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225), NCHW.
     */
    public static Preprocessing imagenet() {
        return new Preprocessing(1.0 / 255, new double[] {0.485, 0.456, 0.406}, new double[] {0.229, 0.224, 0.225},
                224, 224, 3, Layout.NCHW, 256);
    }

    public Preprocessing {
        if (mean.length == 0 || std.length == 0) {
            throw new IllegalArgumentException("mean and std need at least one value");
        }
    }

    /** Checks values a user typed; a bad one is a usage error naming the flag. */
    public Preprocessing validated() throws LrdktException {
        for (double s : std) {
            if (!(s > 0) || !Double.isFinite(s)) {
                throw LrdktException.usage("--std values must be positive, got " + Arrays.toString(std));
            }
        }
        if (channels != 0 && channels != 1 && channels != 3) {
            throw LrdktException.usage("--channels must be 1 or 3, got " + channels);
        }
        if (mean.length > 1 && channels != 0 && mean.length != channels
                || std.length > 1 && channels != 0 && std.length != channels) {
            throw LrdktException.usage("--mean/--std give " + mean.length + "/" + std.length + " values for "
                    + channels + " channels");
        }
        if (height < 0 || width < 0 || shorterSide < 0) {
            throw LrdktException.usage("--resize needs positive sizes");
        }
        if (shorterSide > 0 && (height > shorterSide || width > shorterSide)) {
            throw LrdktException.usage("a centre crop of " + height + "x" + width + " does not fit every image whose "
                    + "shorter side is resized to " + shorterSide + " (--crop must not exceed --resize S)");
        }
        return this;
    }

    /**
     * Fills unset sizes and channels from a model input shape (batch first, dynamic dims ≤ 0): (N, C, H, W) for
     * NCHW, (N, H, W, C) for NHWC. Other ranks leave the fields unset.
     */
    public Preprocessing withModelInput(long[] inputDims) {
        if (inputDims == null || inputDims.length != 4) {
            return this;
        }
        boolean nchw = layout == Layout.NCHW;
        long c = inputDims[nchw ? 1 : 3];
        long h = inputDims[nchw ? 2 : 1];
        long w = inputDims[nchw ? 3 : 2];
        return new Preprocessing(scale, mean, std,
                height == 0 && h > 0 ? (int) h : height,
                width == 0 && w > 0 ? (int) w : width,
                channels == 0 && (c == 1 || c == 3) ? (int) c : channels, layout, shorterSide);
    }

    public Preprocessing withScale(double s) {
        return new Preprocessing(s, mean, std, height, width, channels, layout, shorterSide);
    }

    /** This, with fields still unset taken from a source's own properties. */
    Preprocessing resolve(double sourceScale, int sourceHeight, int sourceWidth, int sourceChannels) {
        return new Preprocessing(scale == null ? sourceScale : scale, mean, std,
                height == 0 ? sourceHeight : height, width == 0 ? sourceWidth : width,
                channels == 0 ? sourceChannels : channels, layout, shorterSide);
    }

    /** Mean of channel {@code c}. */
    double meanOf(int c) {
        return mean.length == 1 ? mean[0] : mean[c];
    }

    double stdOf(int c) {
        return std.length == 1 ? std[0] : std[c];
    }

    /** Checks that per-channel mean/std fit {@code count} channels. */
    void checkChannels(int count) throws LrdktException {
        if (mean.length != 1 && mean.length != count || std.length != 1 && std.length != count) {
            throw LrdktException.usage("--mean/--std give " + mean.length + "/" + std.length + " values but the data has "
                    + count + " channels");
        }
    }

    /** Normalises one value of channel {@code c}. */
    float apply(double raw, int c) {
        return (float) ((raw * scale - meanOf(c)) / stdOf(c));
    }

    /**
     * An image (height × width × channels, raw values) to a sample in this layout: resize (and centre-crop, with a
     * shorter side), convert channels, normalise. {@code target} receives channels·height·width values from
     * {@code offset}.
     */
    void writeImage(ImageOps.Pixels image, float[] target, int offset) {
        int h = image.height();
        int w = image.width();
        if (shorterSide == 0) {
            float[] resized = h == height && w == width ? image.hwc() : ImageOps.resize(image, height, width);
            write(resized, image.channels(), target, offset);
            return;
        }
        // torchvision: the longer side is truncated, the crop's corner rounded half to even
        int newH = h <= w ? shorterSide : (int) ((long) shorterSide * h / w);
        int newW = h <= w ? (int) ((long) shorterSide * w / h) : shorterSide;
        float[] resized = newH == h && newW == w ? image.hwc() : ImageOps.resize(image, newH, newW);
        int top = (int) Math.rint((newH - height) / 2.0);
        int left = (int) Math.rint((newW - width) / 2.0);
        int c = image.channels();
        float[] crop = new float[height * width * c];
        for (int y = 0; y < height; y++) {
            System.arraycopy(resized, ((top + y) * newW + left) * c, crop, y * width * c, width * c);
        }
        write(crop, c, target, offset);
    }

    /** The region {@code top, left, regionH × regionW} of an image resized to a sample (a random-resized crop). */
    void writeRegion(ImageOps.Pixels image, RandomResizedCrop.Box box, float[] target, int offset) {
        write(ImageOps.resize(image, box.top(), box.left(), box.height(), box.width(), height, width),
                image.channels(), target, offset);
    }

    /** Raw height × width pixels of {@code c} channels: convert channels, normalise, lay out. */
    private void write(float[] hwc, int c, float[] target, int offset) {
        float[] converted = ImageOps.convertChannels(hwc, height * width, c, channels);
        int plane = height * width;
        boolean nchw = layout == Layout.NCHW;
        for (int ch = 0; ch < channels; ch++) {
            for (int p = 0; p < plane; p++) {
                target[offset + (nchw ? ch * plane + p : p * channels + ch)] = apply(converted[p * channels + ch], ch);
            }
        }
    }

    long[] imageSampleShape() {
        return layout == Layout.NCHW ? new long[] {channels, height, width} : new long[] {height, width, channels};
    }

    /** e.g. "scale 1/255, mean 0, std 1, resize 28x28, 1 channel, NCHW". */
    public String describe() {
        String s = scale == null ? "auto" : Math.abs(scale * 255 - 1) < 1e-12 ? "1/255" : fmt(scale);
        StringBuilder sb = new StringBuilder("scale ").append(s).append(", mean ").append(list(mean))
                .append(", std ").append(list(std));
        if (shorterSide > 0) {
            sb.append(", shorter side ").append(shorterSide).append(", centre crop ").append(height).append('x')
                    .append(width);
        } else if (height > 0) {
            sb.append(", size ").append(height).append('x').append(width);
        }
        if (channels > 0) {
            sb.append(", ").append(channels == 1 ? "grayscale" : "RGB");
        }
        return sb.append(", ").append(layout).toString();
    }

    private static String list(double[] values) {
        StringBuilder sb = new StringBuilder();
        for (double v : values) {
            sb.append(sb.length() == 0 ? "" : ",").append(fmt(v));
        }
        return sb.toString();
    }

    private static String fmt(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e9 ? Long.toString((long) v)
                : String.format(Locale.ROOT, "%.6g", v).replaceAll("\\.?0+$", "");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Preprocessing p && Objects.equals(scale, p.scale) && Arrays.equals(mean, p.mean)
                && Arrays.equals(std, p.std) && height == p.height && width == p.width && channels == p.channels
                && layout == p.layout && shorterSide == p.shorterSide;
    }

    @Override
    public int hashCode() {
        return Objects.hash(scale, Arrays.hashCode(mean), Arrays.hashCode(std), height, width, channels,
                layout, shorterSide);
    }

    @Override
    public String toString() {
        return describe();
    }
}
