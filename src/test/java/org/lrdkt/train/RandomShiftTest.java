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

class RandomShiftTest {

    @Test
    void onlyImagesAreMoved() {
        assertNull(RandomShift.forSamples(new long[] {1, 28, 28}, 0), "0 pixels = off");
        assertNull(RandomShift.forSamples(new long[] {784}, 2), "flat vectors are not images");
        assertNull(RandomShift.forSamples(new long[] {16, 28, 28}, 2), "16 channels is a feature map, not an image");
        assertNull(RandomShift.forSamples(new long[] {3, 4, 4}, 2), "too small to be an image");
        assertNotNull(RandomShift.forSamples(new long[] {3, 32, 32}, 2));
        assertNotNull(RandomShift.forSamples(new long[] {32, 32, 3}, 2));
    }

    /** One bright pixel away from the border lands at (y+dy, x+dx) for some |dy|, |dx| ≤ 2, in every channel. */
    @Test
    void movesEachSampleByItsOwnBoundedOffset() {
        RandomShift shift = RandomShift.forSamples(new long[] {2, 10, 10}, 2);
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
        RandomShift shift = RandomShift.forSamples(new long[] {8, 8, 1}, 1);
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
}
