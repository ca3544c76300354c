package org.lrdkt.data;

/**
 * Pixel operations on raw interleaved images (height × width × channels floats). Written out rather than drawn with
 * Graphics2D because Java2D converts grayscale images through a linear colour space and would change pixel values.
 */
final class ImageOps {

    private ImageOps() {
    }

    /** Bilinear resize with half-pixel centres (the convention of PIL, OpenCV and torchvision without antialias). */
    static float[] resizeBilinear(float[] src, int h, int w, int c, int newH, int newW) {
        float[] out = new float[newH * newW * c];
        double sy = (double) h / newH;
        double sx = (double) w / newW;
        for (int y = 0; y < newH; y++) {
            double fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), h - 1);
            int y0 = (int) fy;
            int y1 = Math.min(y0 + 1, h - 1);
            double wy = fy - y0;
            for (int x = 0; x < newW; x++) {
                double fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), w - 1);
                int x0 = (int) fx;
                int x1 = Math.min(x0 + 1, w - 1);
                double wx = fx - x0;
                for (int ch = 0; ch < c; ch++) {
                    double top = src[(y0 * w + x0) * c + ch] * (1 - wx) + src[(y0 * w + x1) * c + ch] * wx;
                    double bottom = src[(y1 * w + x0) * c + ch] * (1 - wx) + src[(y1 * w + x1) * c + ch] * wx;
                    out[(y * newW + x) * c + ch] = (float) (top * (1 - wy) + bottom * wy);
                }
            }
        }
        return out;
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
