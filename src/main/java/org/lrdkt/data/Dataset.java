package org.lrdkt.data;

import java.util.Arrays;
import org.lrdkt.LrdktException;

/**
 * Samples ready to feed a model: preprocessed float tensors of one shape, optionally with class labels. Independent
 * of ONNX Runtime so that the training stage can draw batches from the same loaders.
 */
public interface Dataset {

    /** A batch: {@code count} samples in row-major order, shape (count, sampleShape...), labels or null. */
    record Batch(float[] values, long[] shape, int[] labels) {
        public int count() {
            return (int) shape[0];
        }
    }

    /** Number of samples. */
    int size();

    /** Shape of one sample without the batch axis, e.g. [1, 28, 28]. */
    long[] sampleShape();

    /** The class label of each sample, or null for an unlabelled set. */
    int[] labels();

    /** Writes sample {@code index}, preprocessed, into {@code target} starting at {@code offset}. */
    void fill(int index, float[] target, int offset) throws LrdktException;

    /** One line: what was loaded from where. */
    String description();

    /** The preprocessing actually applied (every field resolved). */
    Preprocessing preprocessing();

    default boolean labelled() {
        return labels() != null;
    }

    /** Number of classes (largest label + 1), or 0 when unlabelled. */
    default int classCount() {
        int[] labels = labels();
        if (labels == null) {
            return 0;
        }
        int max = -1;
        for (int l : labels) {
            max = Math.max(max, l);
        }
        return max + 1;
    }

    default int sampleLength() {
        long n = 1;
        for (long d : sampleShape()) {
            n *= d;
        }
        return Math.toIntExact(n);
    }

    /** Samples {@code start .. start+count-1} as one batch. */
    default Batch batch(int start, int count) throws LrdktException {
        int length = sampleLength();
        float[] values = new float[Math.multiplyExact(count, length)];
        int[] labels = labelled() ? new int[count] : null;
        for (int i = 0; i < count; i++) {
            fill(start + i, values, i * length);
            if (labels != null) {
                labels[i] = labels()[start + i];
            }
        }
        long[] sample = sampleShape();
        long[] shape = new long[sample.length + 1];
        shape[0] = count;
        System.arraycopy(sample, 0, shape, 1, sample.length);
        return new Batch(values, shape, labels);
    }

    /** The first {@code n} samples (all when n ≥ size or n ≤ 0): {@code --limit}. */
    default Dataset limit(int n) {
        if (n <= 0 || n >= size()) {
            return this;
        }
        Dataset whole = this;
        int[] labels = labelled() ? Arrays.copyOf(labels(), n) : null;
        return new Dataset() {
            @Override
            public int size() {
                return n;
            }

            @Override
            public long[] sampleShape() {
                return whole.sampleShape();
            }

            @Override
            public int[] labels() {
                return labels;
            }

            @Override
            public void fill(int index, float[] target, int offset) throws LrdktException {
                whole.fill(index, target, offset);
            }

            @Override
            public String description() {
                return whole.description() + ", first " + n + " of " + whole.size();
            }

            @Override
            public Preprocessing preprocessing() {
                return whole.preprocessing();
            }
        };
    }
}
