package org.lrdkt.data;

import java.util.SplittableRandom;

/**
 * torchvision's {@code RandomResizedCrop}: a box covering a random share of the image's area, in [minScale, 1],
 * with a random aspect ratio, log-uniform in [3/4, 4/3]; ten draws that fit the image are tried, then the
 * centre crop of the whole image clamped to that ratio range. The box is then resized to the sample size.
 */
public record RandomResizedCrop(double minScale) {

    private static final double MIN_RATIO = 3.0 / 4;
    private static final double MAX_RATIO = 4.0 / 3;
    private static final int ATTEMPTS = 10;

    /** A pixel box of the source image. */
    public record Box(int top, int left, int height, int width) {
    }

    public RandomResizedCrop {
        if (!(minScale > 0 && minScale <= 1)) {
            throw new IllegalArgumentException("crop scale must be in (0, 1], got " + minScale);
        }
    }

    /** A box of an {@code height × width} image, drawn from {@code random}. */
    public Box draw(int height, int width, SplittableRandom random) {
        double area = (double) height * width;
        double logLo = Math.log(MIN_RATIO);
        double logHi = Math.log(MAX_RATIO);
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            double target = area * (minScale + (1 - minScale) * random.nextDouble());
            double ratio = Math.exp(logLo + (logHi - logLo) * random.nextDouble());
            // Python's round (half to even), as torchvision rounds
            int w = (int) Math.rint(Math.sqrt(target * ratio));
            int h = (int) Math.rint(Math.sqrt(target / ratio));
            if (w > 0 && w <= width && h > 0 && h <= height) {
                return new Box(random.nextInt(height - h + 1), random.nextInt(width - w + 1), h, w);
            }
        }
        double ratio = (double) width / height;
        int w = width;
        int h = height;
        if (ratio < MIN_RATIO) {
            h = Math.min(height, (int) Math.rint(w / MIN_RATIO));
        } else if (ratio > MAX_RATIO) {
            w = Math.min(width, (int) Math.rint(h * MAX_RATIO));
        }
        return new Box((height - h) / 2, (width - w) / 2, h, w);
    }
}
