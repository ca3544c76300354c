package org.lrdkt.train;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import org.lrdkt.LrdktException;
import org.lrdkt.data.Dataset;
import org.lrdkt.data.Datasets;
import org.lrdkt.data.IdxDataset;
import org.lrdkt.data.Preprocessing;

/**
 * Training samples held in memory, preprocessed, with optional labels: the shared data-set loaders' output laid
 * out for random-access mini-batches. Each batch is copied out (and augmented) on the training thread when it is
 * asked for, which for small samples such as digits costs less than handing it between threads.
 */
public final class TrainData implements TrainSamples {

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

    @Override
    public int size() {
        return pixels.length / Math.max(1, sampleSize());
    }


    @Override
    public long[] sampleShape() {
        return sampleShape.clone();
    }

    @Override
    public String source() {
        return source;
    }

    @Override
    public int sampleSize() {
        return (int) Arrays.stream(sampleShape).reduce(1, (a, b) -> a * b);
    }

    @Override
    public int[] labels() {
        return labels;
    }

    @Override
    public boolean decodesImages() {
        return false;
    }

    @Override
    public float[] values(int[] indices) {
        int per = sampleSize();
        float[] out = new float[indices.length * per];
        for (int i = 0; i < indices.length; i++) {
            System.arraycopy(pixels, indices[i] * per, out, i * per, per);
        }
        return out;
    }

    @Override
    public Loader loader(List<int[]> batches, Views views) throws LrdktException {
        if (views != null && views.cropping() != null) {
            throw LrdktException.usage("random-resized crops (--random-crop) are drawn from decoded images: they need "
                    + "an image folder, not " + source());
        }
        Iterator<int[]> next = batches.iterator();
        return new Loader() {
            @Override
            public float[] next() {
                float[] batch = values(next.next());
                if (views != null && views.affine() != null) {
                    views.affine().apply(batch, views.random());
                }
                return batch;
            }

            @Override
            public void close() {
            }
        };
    }
}
