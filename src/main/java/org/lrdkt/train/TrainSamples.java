package org.lrdkt.train;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.lrdkt.LrdktException;
import org.lrdkt.data.Dataset;
import org.lrdkt.data.Datasets;
import org.lrdkt.data.ImageFolderDataset;
import org.lrdkt.data.Preprocessing;
import org.lrdkt.data.RandomResizedCrop;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Where fine-tuning draws its batches from: samples held in memory ({@link TrainData}, for small sets such as
 * MNIST, where copying is faster than decoding) or images decoded from files on background threads as they are
 * needed ({@link StreamedImages}, for photo folders of any size). Both give the same batches for the same seed.
 */
public interface TrainSamples {

    int size();

    /** Shape of one sample without the batch axis. */
    long[] sampleShape();

    /** Every sample's label, or null for unlabelled data. */
    int[] labels();

    default boolean labelled() {
        return labels() != null;
    }

    /** Labels of the given samples, or null for unlabelled data. */
    default int[] labels(int[] indices) {
        int[] all = labels();
        if (all == null) {
            return null;
        }
        int[] out = new int[indices.length];
        for (int i = 0; i < indices.length; i++) {
            out[i] = all[indices[i]];
        }
        return out;
    }

    /** One line: what the samples are and where they come from. */
    String source();

    /** Whether samples are decoded from image files, so that random-resized crops of the originals can be drawn. */
    boolean decodesImages();

    /** The given samples, unaugmented, laid end to end. */
    float[] values(int[] indices) throws LrdktException;

    /**
     * The batches {@code batches} in that order, each augmented by {@code views} (null = as stored). Take them with
     * {@link Loader#next} one after the other, and close the loader when done.
     */
    Loader loader(List<int[]> batches, Views views) throws LrdktException;

    /**
     * One epoch's random views of the training samples.
     *
     * @param affine   shifts, turns, zooms and flips of the preprocessed samples (null = none)
     * @param random   draws the affine moves, batch after batch in order
     * @param cropping random-resized crops of the decoded images (null = the fixed resize)
     * @param cropSeed seed of the crops: sample {@code k} of the epoch draws its crop from a generator seeded by
     *                 this and {@code k} alone, so that crops do not depend on which thread decodes what
     */
    record Views(RandomAffine affine, Random random, RandomResizedCrop cropping, long cropSeed) {
    }

    /** Batches in order; {@link #next} blocks until the next one is ready. */
    interface Loader extends AutoCloseable {
        float[] next() throws LrdktException;

        @Override
        void close();
    }

    default int sampleSize() {
        return Math.toIntExact(Arrays.stream(sampleShape()).reduce(1, (a, b) -> a * b));
    }

    /** The given samples as one array of shape [indices.length, inputShape...] (a reshape of each sample). */
    default INDArray batch(int[] indices, long[] inputShape, DataType type) throws LrdktException {
        return tensor(values(indices), indices.length, inputShape, type);
    }

    /** {@code count} samples laid end to end as an array of shape [count, inputShape...]. */
    static INDArray tensor(float[] values, int count, long[] inputShape, DataType type) {
        long[] shape = new long[inputShape.length + 1];
        shape[0] = count;
        System.arraycopy(inputShape, 0, shape, 1, inputShape.length);
        return Nd4j.createFromArray(values).reshape('c', shape).castTo(type);
    }

    /**
     * Training data at {@code path} as {@link Datasets#openTraining} opens it: an image folder is streamed from disk
     * by {@code loaderThreads} decoding threads (0 = decode on the training thread when a batch is needed); every
     * other source is loaded into memory.
     */
    static TrainSamples open(Path path, Preprocessing preprocessing, int loaderThreads) throws LrdktException {
        Dataset data = Datasets.openTraining(path, preprocessing);
        return data instanceof ImageFolderDataset images ? new StreamedImages(images, loaderThreads)
                : TrainData.of(data);
    }
}
