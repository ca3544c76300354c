package org.lrdkt.data;

/** The bookkeeping every loader shares: size, sample shape, labels, preprocessing and description. */
abstract class LoadedDataset implements Dataset {

    private final int size;
    private final long[] sampleShape;
    private final int[] labels;
    private final Preprocessing preprocessing;
    private final String description;

    LoadedDataset(int size, long[] sampleShape, int[] labels, Preprocessing preprocessing, String description) {
        this.size = size;
        this.sampleShape = sampleShape.clone();
        this.labels = labels;
        this.preprocessing = preprocessing;
        this.description = description;
    }

    @Override
    public final int size() {
        return size;
    }

    @Override
    public final long[] sampleShape() {
        return sampleShape.clone();
    }

    @Override
    public final int[] labels() {
        return labels;
    }

    @Override
    public final Preprocessing preprocessing() {
        return preprocessing;
    }

    @Override
    public final String description() {
        return description;
    }
}
