package org.lrdkt.data;

import java.awt.image.BufferedImage;
import java.awt.image.ComponentSampleModel;
import java.awt.image.DataBufferByte;
import java.awt.image.Raster;
import java.io.IOException;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.lrdkt.LrdktException;

/**
 * Pixel operations on raw interleaved images (height × width × channels floats, 0..255 for 8-bit sources). Written
 * out rather than drawn with Graphics2D because Java2D converts grayscale images through a linear colour space and
 * would change pixel values.
 */
final class ImageOps {

    /** A decoded image: raw values, interleaved, channels 1 (gray) or 3 (RGB). */
    record Pixels(float[] hwc, int height, int width, int channels) {
    }

    private ImageOps() {
    }

    /** Decodes a PNG, JPEG, BMP or GIF file with javax.imageio; anything unreadable is one line. */
    static Pixels decode(Path file) throws LrdktException {
        BufferedImage image;
        try {
            image = ImageIO.read(file.toFile());
        } catch (IOException | RuntimeException e) {
            throw LrdktException.badInput("cannot decode image " + file + ": " + e.getMessage());
        }
        if (image == null) {
            throw LrdktException.badInput("cannot decode image " + file + ": not a format javax.imageio reads");
        }
        return pixels(image);
    }

    static Pixels pixels(BufferedImage image) {
        int h = image.getHeight();
        int w = image.getWidth();
        Raster raster = image.getRaster();
        if ((image.getType() == BufferedImage.TYPE_3BYTE_BGR || image.getType() == BufferedImage.TYPE_BYTE_GRAY)
                && raster.getSampleModel() instanceof ComponentSampleModel model
                && raster.getDataBuffer() instanceof DataBufferByte buffer && raster.getParent() == null
                && model.getScanlineStride() == w * model.getPixelStride()) {
            return packedBytes(buffer.getData(), h, w, image.getType() == BufferedImage.TYPE_3BYTE_BGR);
        }
        boolean gray = raster.getNumBands() == 1 && image.getColorModel().getNumComponents() == 1;
        float[] hwc = new float[h * w * (gray ? 1 : 3)];
        if (gray) {
            // read samples directly: getRGB would pass them through Java2D's linear-gray colour conversion
            int[] row = new int[w];
            int shift = Math.max(0, raster.getSampleModel().getSampleSize(0) - 8);
            for (int y = 0; y < h; y++) {
                raster.getSamples(0, y, w, 1, 0, row);
                for (int x = 0; x < w; x++) {
                    hwc[y * w + x] = row[x] >> shift;
                }
            }
        } else {
            int[] rgb = image.getRGB(0, 0, w, h, null, 0, w);
            for (int i = 0; i < rgb.length; i++) {
                hwc[i * 3] = (rgb[i] >> 16) & 0xff;
                hwc[i * 3 + 1] = (rgb[i] >> 8) & 0xff;
                hwc[i * 3 + 2] = rgb[i] & 0xff;
            }
        }
        return new Pixels(hwc, h, w, gray ? 1 : 3);
    }

    /** The decoder's own byte layout (what JPEGs decode to), read without Java2D's per-pixel colour model calls. */
    private static Pixels packedBytes(byte[] data, int h, int w, boolean bgr) {
        float[] hwc = new float[bgr ? h * w * 3 : h * w];
        if (bgr) {
            for (int i = 0; i < hwc.length; i += 3) {
                hwc[i] = data[i + 2] & 0xff;
                hwc[i + 1] = data[i + 1] & 0xff;
                hwc[i + 2] = data[i] & 0xff;
            }
        } else {
            for (int i = 0; i < hwc.length; i++) {
                hwc[i] = data[i] & 0xff;
            }
        }
        return new Pixels(hwc, h, w, bgr ? 3 : 1);
    }

    /**
     * The region {@code top, left, regionH × regionW} of {@code src} resized to {@code newH × newW}: bilinear with
     * half-pixel centres, widened into a triangle filter over the scale factor when shrinking (PIL's and
     * torchvision's antialiased bilinear), so that large downscales average every source pixel instead of
     * skipping most of them. Taps outside the region are not read: cropping then resizing.
     */
    static float[] resize(Pixels src, int top, int left, int regionH, int regionW, int newH, int newW) {
        int c = src.channels();
        Taps rows = Taps.of(regionH, newH);
        Taps cols = Taps.of(regionW, newW);
        // horizontal pass over the region's rows, then vertical
        float[] wide = new float[regionH * newW * c];
        float[] in = src.hwc();
        int stride = src.width() * c;
        for (int y = 0; y < regionH; y++) {
            int rowStart = (top + y) * stride + left * c;
            for (int x = 0; x < newW; x++) {
                int first = rowStart + cols.first[x] * c;
                int weights = x * cols.span;
                for (int ch = 0; ch < c; ch++) {
                    float sum = 0;
                    for (int k = 0; k < cols.count[x]; k++) {
                        sum += cols.weight[weights + k] * in[first + k * c + ch];
                    }
                    wide[(y * newW + x) * c + ch] = sum;
                }
            }
        }
        float[] out = new float[newH * newW * c];
        int line = newW * c;
        for (int y = 0; y < newH; y++) {
            int first = rows.first[y] * line;
            int weights = y * rows.span;
            int target = y * line;
            for (int k = 0; k < rows.count[y]; k++) {
                float wk = rows.weight[weights + k];
                int from = first + k * line;
                for (int i = 0; i < line; i++) {
                    out[target + i] += wk * wide[from + i];
                }
            }
        }
        return out;
    }

    /** The whole of {@code src} resized to {@code newH × newW} (see {@link #resize(Pixels, int, int, int, int, int, int)}). */
    static float[] resize(Pixels src, int newH, int newW) {
        return resize(src, 0, 0, src.height(), src.width(), newH, newW);
    }

    /**
     * One axis' filter taps: output i reads {@code count[i]} inputs from {@code first[i]} with the normalised
     * weights at {@code weight[i·span ..]}. The triangle's support is one input pixel when enlarging and the scale
     * factor when shrinking (PIL's precompute_coeffs, bilinear).
     */
    private record Taps(int[] first, int[] count, float[] weight, int span) {

        static Taps of(int in, int out) {
            double scale = (double) in / out;
            double support = Math.max(1, scale);
            int span = (int) Math.ceil(support) * 2 + 1;
            int[] first = new int[out];
            int[] count = new int[out];
            float[] weight = new float[out * span];
            for (int i = 0; i < out; i++) {
                double centre = (i + 0.5) * scale;
                int lo = Math.max((int) (centre - support + 0.5), 0);
                int hi = Math.min((int) (centre + support + 0.5), in);
                double total = 0;
                double[] w = new double[hi - lo];
                for (int j = lo; j < hi; j++) {
                    w[j - lo] = Math.max(0, 1 - Math.abs((j + 0.5 - centre) / support));
                    total += w[j - lo];
                }
                first[i] = lo;
                count[i] = hi - lo;
                for (int j = 0; j < w.length; j++) {
                    weight[i * span + j] = (float) (w[j] / total);
                }
            }
            return new Taps(first, count, weight, span);
        }
    }

    /** 1 → 3 channels by replication; 3 → 1 by ITU-R 601 luma (PIL's "L" conversion). */
    static float[] convertChannels(float[] src, int pixels, int from, int to) {
        if (from == to) {
            return src;
        }
        float[] out = new float[pixels * to];
        for (int p = 0; p < pixels; p++) {
            if (to == 1) {
                out[p] = (float) (0.299 * src[p * 3] + 0.587 * src[p * 3 + 1] + 0.114 * src[p * 3 + 2]);
            } else {
                out[p * 3] = out[p * 3 + 1] = out[p * 3 + 2] = src[p];
            }
        }
        return out;
    }
}
