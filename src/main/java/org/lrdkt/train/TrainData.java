package org.lrdkt.train;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.lrdkt.LrdktException;
import org.lrdkt.data.Dataset;
import org.lrdkt.data.Datasets;
import org.lrdkt.data.IdxDataset;
import org.lrdkt.data.Preprocessing;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Training samples held in memory, preprocessed, with optional labels: the shared data-set loaders' output laid
 * out for random-access mini-batches.
 */
public final class TrainData {

    private final float[] pixels;
    private final long[] sampleShape;
    private final int[] labels;
    private final String source;

    public TrainData(float[] pixels, long[] sampleShape, int[] labels, String source) {
        this.pixels = pixels;
        this.sampleShape = sampleShape.clone();
        this.labels = labels;
        this.source = source;
        if (labels != null && labels.length != size()) {
            throw new IllegalArgumentException(labels.length + " labels for " + size() + " samples");
        }
    }

    /** Every sample of {@code data}, preprocessed, in memory. */
    public static TrainData of(Dataset data) throws LrdktException {
        if (data.size() == 0) {
            throw LrdktException.badInput("data set is empty: " + data.description());
        }
        Dataset.Batch all = data.batch(0, data.size());
        return new TrainData(all.values(), data.sampleShape(), all.labels(), data.description());
    }

    /** Loads {@code path} as {@link Datasets#openTraining} opens it. */
    public static TrainData load(Path path, Preprocessing preprocessing) throws LrdktException {
        return of(Datasets.openTraining(path, preprocessing));
    }

    /** Loads {@code path} like {@link Datasets#open}, except that a folder of MNIST-style splits means its test split. */
    public static TrainData loadTest(Path path, Preprocessing preprocessing) throws LrdktException {
        return of(Datasets.open(IdxDataset.testImages(path), null, preprocessing));
    }

    public int size() {
        return pixels.length / Math.max(1, sampleSize());
    }

    public boolean labelled() {
        return labels != null;
    }

    public long[] sampleShape() {
        return sampleShape.clone();
    }

    public String source() {
        return source;
    }

    public int sampleSize() {
        return (int) Arrays.stream(sampleShape).reduce(1, (a, b) -> a * b);
    }

    /** Labels of the given samples, or null for unlabelled data. */
    public int[] labels(int[] indices) {
        if (labels == null) {
            return null;
        }
        int[] out = new int[indices.length];
        for (int i = 0; i < indices.length; i++) {
            out[i] = labels[indices[i]];
        }
        return out;
    }

    /** The given samples as one array of shape [indices.length, inputShape...] (a reshape of each sample). */
    public INDArray batch(int[] indices, long[] inputShape, DataType type) {
        return batch(indices, inputShape, type, null, null);
    }

    /** Like {@link #batch(int[], long[], DataType)}, each sample moved by {@code augmentation} (null = unmoved). */
    INDArray batch(int[] indices, long[] inputShape, DataType type, RandomAffine augmentation, Random random) {
        int per = sampleSize();
        float[] out = new float[indices.length * per];
        for (int i = 0; i < indices.length; i++) {
            System.arraycopy(pixels, indices[i] * per, out, i * per, per);
        }
        if (augmentation != null) {
            augmentation.apply(out, random);
        }
        long[] shape = new long[inputShape.length + 1];
        shape[0] = indices.length;
        System.arraycopy(inputShape, 0, shape, 1, inputShape.length);
        return Nd4j.createFromArray(out).reshape('c', shape).castTo(type);
    }
}
