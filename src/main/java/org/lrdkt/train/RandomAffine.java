package org.lrdkt.train;

import java.util.Arrays;
import java.util.Random;

/**
 * Training-time augmentation for image inputs: each sample moves by its own random whole-pixel offset (dy, dx)
 * in [−shift, shift] and, when asked, turns by a random angle in [−rotate, rotate] degrees and scales by a random
 * factor in [1 − zoom, 1 + zoom] about its centre (bilinear sampling), and is mirrored left to right with
 * probability ½. The draws ({@link #draw}) are separate from the pixel work ({@link #apply(float[], Moves)}), so
 * that a loader can draw in batch order on one thread and move the pixels on another with the same result. Pixels that come from outside the image repeat the
 * nearest edge pixel, so no knowledge of what a "blank" pixel is after mean/std normalisation is needed. Teacher and
 * student see the same moved batch; with knowledge transfer the teacher labels every new view, which is why richer
 * augmentation helps more here than in training on labels alone.
 */
final class RandomAffine {

    /** Smallest height and width treated as an image; smaller spatial inputs are left alone. */
    private static final int MIN_SIDE = 8;

    private final int shift;
    private final double rotateRadians;
    private final double zoom;
    private final int channels;
    private final int height;
    private final int width;
    private final boolean channelsLast;
    private final boolean flip;

    /** One batch's draws: per sample an offset, an angle, a scale and whether it is mirrored. */
    record Moves(int[] dy, int[] dx, double[] angle, double[] scale, boolean[] mirrored) {
    }

    private RandomAffine(int shift, double rotateDegrees, double zoom, boolean flip, int channels, int height,
                         int width, boolean channelsLast) {
        this.shift = shift;
        this.flip = flip;
        this.rotateRadians = Math.toRadians(rotateDegrees);
        this.zoom = zoom;
        this.channels = channels;
        this.height = height;
        this.width = width;
        this.channelsLast = channelsLast;
    }

    /**
     * The augmentation for samples of {@code sampleShape}, or null when it would do nothing or the samples are not
     * images: [C, H, W] or [H, W, C] with C in 1..4 and H, W ≥ 8.
     */
    static RandomAffine forSamples(long[] sampleShape, int shift, double rotateDegrees, double zoom, boolean flip) {
        if ((shift <= 0 && rotateDegrees <= 0 && zoom <= 0 && !flip) || sampleShape.length != 3) {
            return null;
        }
        if (isChannelCount(sampleShape[0]) && isImageSide(sampleShape[1]) && isImageSide(sampleShape[2])) {
            return new RandomAffine(shift, rotateDegrees, zoom, flip, (int) sampleShape[0], (int) sampleShape[1],
                    (int) sampleShape[2], false);
        }
        if (isChannelCount(sampleShape[2]) && isImageSide(sampleShape[0]) && isImageSide(sampleShape[1])) {
            return new RandomAffine(shift, rotateDegrees, zoom, flip, (int) sampleShape[2], (int) sampleShape[0],
                    (int) sampleShape[1], true);
        }
        return null;
    }

    private static boolean isChannelCount(long c) {
        return c >= 1 && c <= 4;
    }

    private static boolean isImageSide(long side) {
        return side >= MIN_SIDE;
    }

    /** Moves every sample of {@code batch} (samples laid end to end) in place, drawing from {@code random}. */
    void apply(float[] batch, Random random) {
        apply(batch, draw(batch.length / (channels * height * width), random));
    }

    /** The moves of {@code count} samples, drawn in sample order. */
    Moves draw(int count, Random random) {
        Moves m = new Moves(new int[count], new int[count], new double[count], new double[count], new boolean[count]);
        for (int i = 0; i < count; i++) {
            m.dy[i] = shift > 0 ? random.nextInt(2 * shift + 1) - shift : 0;
            m.dx[i] = shift > 0 ? random.nextInt(2 * shift + 1) - shift : 0;
            m.angle[i] = rotateRadians > 0 ? (2 * random.nextDouble() - 1) * rotateRadians : 0;
            m.scale[i] = zoom > 0 ? 1 + (2 * random.nextDouble() - 1) * zoom : 1;
            m.mirrored[i] = flip && random.nextBoolean();
        }
        return m;
    }

    /** Moves every sample of {@code batch} in place as drawn. */
    void apply(float[] batch, Moves moves) {
        int per = channels * height * width;
        float[] sample = new float[per];
        for (int i = 0, from = 0; from < batch.length; i++, from += per) {
            if (moves.dy[i] != 0 || moves.dx[i] != 0 || moves.angle[i] != 0 || moves.scale[i] != 1) {
                System.arraycopy(batch, from, sample, 0, per);
                if (moves.angle[i] == 0 && moves.scale[i] == 1) {
                    translate(sample, batch, from, moves.dy[i], moves.dx[i]);
                } else {
                    warp(sample, batch, from, moves.dy[i], moves.dx[i], moves.angle[i], moves.scale[i]);
                }
            }
            if (moves.mirrored[i]) {
                mirror(batch, from);
            }
        }
    }

    /** Reverses every row of the sample at {@code from}. */
    private void mirror(float[] batch, int from) {
        int pixelStep = channelsLast ? channels : 1;
        int rowPlanes = channelsLast ? 1 : channels;
        for (int c = 0; c < rowPlanes; c++) {
            for (int y = 0; y < height; y++) {
                int row = from + index(c, y, 0);
                for (int a = 0, b = width - 1; a < b; a++, b--) {
                    for (int k = 0; k < pixelStep; k++) {
                        float t = batch[row + a * pixelStep + k];
                        batch[row + a * pixelStep + k] = batch[row + b * pixelStep + k];
                        batch[row + b * pixelStep + k] = t;
                    }
                }
            }
        }
    }

    /** Whole-pixel moves copy exactly (no interpolation): a clamped shift of each row, the edges repeated. */
    private void translate(float[] sample, float[] batch, int from, int dy, int dx) {
        if (channelsLast) {
            for (int y = 0; y < height; y++) {
                int sy = clamp(y + dy, height);
                for (int x = 0; x < width; x++) {
                    int src = index(0, sy, clamp(x + dx, width));
                    System.arraycopy(sample, src, batch, from + index(0, y, x), channels);
                }
            }
            return;
        }
        // the columns x with 0 ≤ x + dx < width read one contiguous run; the rest repeat an edge pixel
        int inside0 = Math.min(width, Math.max(0, -dx));
        int inside1 = Math.max(inside0, Math.min(width, width - dx));
        for (int c = 0; c < channels; c++) {
            for (int y = 0; y < height; y++) {
                int src = index(c, clamp(y + dy, height), 0);
                int dst = from + index(c, y, 0);
                Arrays.fill(batch, dst, dst + inside0, sample[src]);
                if (inside1 > inside0) {
                    System.arraycopy(sample, src + inside0 + dx, batch, dst + inside0, inside1 - inside0);
                }
                Arrays.fill(batch, dst + inside1, dst + width, sample[src + width - 1]);
            }
        }
    }

    /** Output pixel p reads the source at centre + R(−angle)·(p − centre)/scale + (dy, dx), bilinearly. */
    private void warp(float[] sample, float[] batch, int from, int dy, int dx, double angle, double scale) {
        double cy = (height - 1) / 2.0;
        double cx = (width - 1) / 2.0;
        double cos = Math.cos(angle) / scale;
        double sin = Math.sin(angle) / scale;
        // the column terms of both source coordinates, hoisted out of the row loop (same sums, same rounding)
        double[] sinX = new double[width];
        double[] cosX = new double[width];
        for (int x = 0; x < width; x++) {
            sinX[x] = sin * (x - cx);
            cosX[x] = cos * (x - cx);
        }
        for (int y = 0; y < height; y++) {
            double rowY = cy + cos * (y - cy);
            double rowX = cx + sin * (y - cy);
            for (int x = 0; x < width; x++) {
                double sy = rowY - sinX[x] + dy;
                double sx = rowX + cosX[x] + dx;
                int y0 = (int) Math.floor(sy);
                int x0 = (int) Math.floor(sx);
                float wy = (float) (sy - y0);
                float wx = (float) (sx - x0);
                int ya = clamp(y0, height);
                int yb = clamp(y0 + 1, height);
                int xa = clamp(x0, width);
                int xb = clamp(x0 + 1, width);
                for (int c = 0; c < channels; c++) {
                    float top = sample[index(c, ya, xa)] * (1 - wx) + sample[index(c, ya, xb)] * wx;
                    float bottom = sample[index(c, yb, xa)] * (1 - wx) + sample[index(c, yb, xb)] * wx;
                    batch[from + index(c, y, x)] = top * (1 - wy) + bottom * wy;
                }
            }
        }
    }

    private static int clamp(int i, int size) {
        return Math.min(size - 1, Math.max(0, i));
    }

    private int index(int c, int y, int x) {
        return channelsLast ? (y * width + x) * channels + c : (c * height + y) * width + x;
    }
}
