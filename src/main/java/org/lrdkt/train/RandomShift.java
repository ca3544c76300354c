package org.lrdkt.train;

import java.util.Random;

/**
 * Training-time augmentation for image inputs: each sample moves by its own random (dy, dx) in
 * [−max, max] pixels, the uncovered border repeating the edge pixels (so it needs no knowledge of what a "blank"
 * pixel is after mean/std normalisation). Teacher and student see the same moved batch.
 */
final class RandomShift {

    /** Smallest height and width treated as an image; smaller spatial inputs are left alone. */
    private static final int MIN_SIDE = 8;

    private final int max;
    private final int channels;
    private final int height;
    private final int width;
    private final boolean channelsLast;

    private RandomShift(int max, int channels, int height, int width, boolean channelsLast) {
        this.max = max;
        this.channels = channels;
        this.height = height;
        this.width = width;
        this.channelsLast = channelsLast;
    }

    /**
     * The shift for samples of {@code sampleShape}, or null when {@code max} is 0 or the samples are not images:
     * [C, H, W] or [H, W, C] with C in 1..4 and H, W ≥ 8.
     */
    static RandomShift forSamples(long[] sampleShape, int max) {
        if (max <= 0 || sampleShape.length != 3) {
            return null;
        }
        if (isChannelCount(sampleShape[0]) && isImageSide(sampleShape[1]) && isImageSide(sampleShape[2])) {
            return new RandomShift(max, (int) sampleShape[0], (int) sampleShape[1], (int) sampleShape[2], false);
        }
        if (isChannelCount(sampleShape[2]) && isImageSide(sampleShape[0]) && isImageSide(sampleShape[1])) {
            return new RandomShift(max, (int) sampleShape[2], (int) sampleShape[0], (int) sampleShape[1], true);
        }
        return null;
    }

    private static boolean isChannelCount(long c) {
        return c >= 1 && c <= 4;
    }

    private static boolean isImageSide(long side) {
        return side >= MIN_SIDE;
    }

    /** Moves every sample of {@code batch} (samples laid end to end) in place, drawing offsets from {@code random}. */
    void apply(float[] batch, Random random) {
        int per = channels * height * width;
        float[] sample = new float[per];
        for (int from = 0; from < batch.length; from += per) {
            int dy = random.nextInt(2 * max + 1) - max;
            int dx = random.nextInt(2 * max + 1) - max;
            System.arraycopy(batch, from, sample, 0, per);
            for (int y = 0; y < height; y++) {
                int sy = Math.min(height - 1, Math.max(0, y + dy));
                for (int x = 0; x < width; x++) {
                    int sx = Math.min(width - 1, Math.max(0, x + dx));
                    for (int c = 0; c < channels; c++) {
                        batch[from + index(c, y, x)] = sample[index(c, sy, sx)];
                    }
                }
            }
        }
    }

    private int index(int c, int y, int x) {
        return channelsLast ? (y * width + x) * channels + c : (c * height + y) * width + x;
    }
}
