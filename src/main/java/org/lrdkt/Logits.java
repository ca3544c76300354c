package org.lrdkt;

/** Class scores of a (batch, classes) output, read row by row: where top-1 and top-k accuracy come from. */
public final class Logits {

    private Logits() {
    }

    /** How many classes score strictly higher than {@code target} (ties count in the label's favour). */
    public static int rankOf(float[] logits, int offset, int width, int target) {
        float score = logits[offset + target];
        int higher = 0;
        for (int j = 0; j < width; j++) {
            higher += logits[offset + j] > score ? 1 : 0;
        }
        return higher;
    }

    /** The first class with the highest score in the row starting at {@code offset}. */
    public static int argmax(float[] logits, int offset, int width) {
        int best = 0;
        for (int j = 1; j < width; j++) {
            if (logits[offset + j] > logits[offset + best]) {
                best = j;
            }
        }
        return best;
    }
}
