package org.lrdkt.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RandomAffineTest {

    @Test
    void onlyImagesAreMoved() {
        assertNull(RandomAffine.forSamples(new long[] {1, 28, 28}, 0, 0, 0, false), "nothing to do = off");
        assertNotNull(RandomAffine.forSamples(new long[] {1, 28, 28}, 0, 10, 0, false), "rotation alone");
        assertNull(RandomAffine.forSamples(new long[] {784}, 2, 0, 0, false), "flat vectors are not images");
        assertNull(RandomAffine.forSamples(new long[] {16, 28, 28}, 2, 0, 0, false), "16 channels is a feature map, not an image");
        assertNull(RandomAffine.forSamples(new long[] {3, 4, 4}, 2, 0, 0, false), "too small to be an image");
        assertNotNull(RandomAffine.forSamples(new long[] {3, 32, 32}, 2, 0, 0, false));
        assertNotNull(RandomAffine.forSamples(new long[] {32, 32, 3}, 2, 0, 0, false));
    }

    /** One bright pixel away from the border lands at (y+dy, x+dx) for some |dy|, |dx| ≤ 2, in every channel. */
    @Test
    void movesEachSampleByItsOwnBoundedOffset() {
        RandomAffine shift = RandomAffine.forSamples(new long[] {2, 10, 10}, 2, 0, 0, false);
        int samples = 200;
        float[] batch = new float[samples * 200];
        for (int s = 0; s < samples; s++) {
            batch[s * 200 + 5 * 10 + 5] = 1;
            batch[s * 200 + 100 + 5 * 10 + 5] = 2;
        }
        shift.apply(batch, new Random(7));
        Set<Integer> offsets = new HashSet<>();
        for (int s = 0; s < samples; s++) {
            int at = -1;
            float sum = 0;
            for (int i = 0; i < 100; i++) {
                sum += batch[s * 200 + i];
                if (batch[s * 200 + i] == 1) {
                    at = i;
                }
            }
            assertEquals(1, sum, "the pixel moved, nothing was smeared in");
            int dy = 5 - at / 10;
            int dx = 5 - at % 10;
            assertTrue(Math.abs(dy) <= 2 && Math.abs(dx) <= 2, "offset " + dy + "," + dx);
            assertEquals(2, batch[s * 200 + 100 + at], "the second channel moved with the first");
            offsets.add(dy * 10 + dx);
        }
        assertEquals(25, offsets.size(), "all 5x5 offsets occur over 200 samples");
    }

    @Test
    void bordersRepeatTheEdgeAndChannelsLastWorks() {
        RandomAffine shift = RandomAffine.forSamples(new long[] {8, 8, 1}, 1, 0, 0, false);
        float[] image = new float[64];
        for (int i = 0; i < 64; i++) {
            image[i] = 1 + i % 8; // columns 1..8
        }
        float[] moved = image.clone();
        shift.apply(moved, new Random(3));
        Random replay = new Random(3);
        int dy = replay.nextInt(3) - 1;
        int dx = replay.nextInt(3) - 1;
        assertTrue(dx != 0, "seed 3 moves the image sideways");
        for (int y = 0; y < 8; y++) {
            for (int x = 0; x < 8; x++) {
                assertEquals(1 + Math.min(7, Math.max(0, x + dx)), moved[y * 8 + x], "dy " + dy + " dx " + dx);
            }
        }
        float[] again = image.clone();
        shift.apply(again, new Random(3));
        assertArrayEquals(moved, again, "same seed, same offsets");
    }

    /** Every pixel of every channel against the clamped-index definition, with offsets up to past the image. */
    @Test
    void wholePixelShiftsMatchClampedIndexingEvenPastTheBorder() {
        int c = 3;
        int h = 8;
        int w = 10;
        int shiftBy = 12; // draws offsets beyond both sides, where every pixel repeats an edge
        RandomAffine shift = RandomAffine.forSamples(new long[] {c, h, w}, shiftBy, 0, 0, false);
        int per = c * h * w;
        int samples = 60;
        float[] batch = new float[samples * per];
        Random values = new Random(11);
        for (int i = 0; i < batch.length; i++) {
            batch[i] = values.nextFloat();
        }
        float[] original = batch.clone();
        shift.apply(batch, new Random(5));
        Random replay = new Random(5);
        for (int s = 0; s < samples; s++) {
            int dy = replay.nextInt(2 * shiftBy + 1) - shiftBy;
            int dx = replay.nextInt(2 * shiftBy + 1) - shiftBy;
            for (int ch = 0; ch < c; ch++) {
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        int sy = Math.min(h - 1, Math.max(0, y + dy));
                        int sx = Math.min(w - 1, Math.max(0, x + dx));
                        assertEquals(original[s * per + (ch * h + sy) * w + sx], batch[s * per + (ch * h + y) * w + x],
                                "sample " + s + " (dy " + dy + ", dx " + dx + ") at " + ch + "," + y + "," + x);
                    }
                }
            }
        }
    }

    /** Draws the largest angle and zoom every time; no whole-pixel shift is drawn when shift is 0. */
    private static final class Extremes extends Random {
        private static final long serialVersionUID = 1L;
        @Override
        public double nextDouble() {
            return 1;
        }
    }

    /** A quarter turn is a permutation of the pixels: the reference is the transpose with the columns reversed. */
    @Test
    void aQuarterTurnMovesEveryPixelExactly() {
        int n = 9;
        float[] image = new float[n * n];
        for (int i = 0; i < image.length; i++) {
            image[i] = i;
        }
        float[] turned = image.clone();
        RandomAffine.forSamples(new long[] {1, n, n}, 0, 90, 0, false).apply(turned, new Extremes());
        for (int y = 0; y < n; y++) {
            for (int x = 0; x < n; x++) {
                // output (y, x) reads source (cy − (x − cx), cx + (y − cy)) = (n−1−x, y)
                assertEquals(image[(n - 1 - x) * n + y], turned[y * n + x], 1e-4, "pixel " + y + "," + x);
            }
        }
    }

    /** Bilinear sampling reproduces a linear ramp exactly: zooming by s maps value v to c + (v − c)/s. */
    @Test
    void zoomScalesAboutTheCentreWithBilinearSampling() {
        int n = 17;
        float[] ramp = new float[2 * n * n];
        for (int c = 0; c < 2; c++) {
            for (int y = 0; y < n; y++) {
                for (int x = 0; x < n; x++) {
                    ramp[(c * n + y) * n + x] = c == 0 ? x : 10 * y;
                }
            }
        }
        RandomAffine.forSamples(new long[] {2, n, n}, 0, 0, 0.5, false).apply(ramp, new Extremes());
        double centre = (n - 1) / 2.0;
        for (int y = 0; y < n; y++) {
            for (int x = 0; x < n; x++) {
                assertEquals(centre + (x - centre) / 1.5, ramp[y * n + x], 1e-4, "x ramp at " + y + "," + x);
                assertEquals(10 * (centre + (y - centre) / 1.5), ramp[(n + y) * n + x], 1e-3,
                        "y ramp at " + y + "," + x);
            }
        }
    }
}
