package org.lrdkt.train;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import org.lrdkt.LrdktException;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Training inputs (pixels scaled to [0, 1], as the LeNet fixture was trained) with optional labels. Reads IDX files
 * (MNIST layout, gzipped or not). A minimal reader kept inside {@code train} so the stage depends on no other.
 */
public final class TrainData {

    private static final int IMAGES_MAGIC = 0x803;
    private static final int LABELS_MAGIC = 0x801;

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

    /**
     * Loads {@code path}: a folder holding {@code train-images-idx3-ubyte[.gz]} (and, if present,
     * {@code train-labels-idx1-ubyte[.gz]}), or an images file whose labels file is found by replacing
     * "images-idx3" with "labels-idx1" in its name. Without a labels file the data is unlabelled.
     */
    public static TrainData load(Path path) throws LrdktException {
        Path images = path;
        if (Files.isDirectory(path)) {
            images = firstExisting(path, "train-images-idx3-ubyte.gz", "train-images-idx3-ubyte");
            if (images == null) {
                throw LrdktException.badInput("no train-images-idx3-ubyte[.gz] in folder " + path);
            }
        } else if (!Files.exists(path)) {
            throw LrdktException.badInput("data not found: " + path);
        }
        String name = images.getFileName().toString();
        Path labels = name.contains("images-idx3") ? images.resolveSibling(name.replace("images-idx3", "labels-idx1"))
                : null;
        return idx(images, labels != null && Files.exists(labels) ? labels : null);
    }

    private static Path firstExisting(Path dir, String... names) {
        for (String n : names) {
            if (Files.exists(dir.resolve(n))) {
                return dir.resolve(n);
            }
        }
        return null;
    }

    /** An IDX images file (uint8, any rank ≥ 2) and an optional IDX labels file. */
    public static TrainData idx(Path images, Path labelsFile) throws LrdktException {
        try (DataInputStream in = open(images)) {
            int magic = in.readInt();
            if (magic >>> 8 != 0x08 || (magic & 0xff) < 2) {
                throw LrdktException.badInput("not an IDX file of unsigned bytes with rank ≥ 2 (magic 0x"
                        + Integer.toHexString(magic) + ", expected 0x" + Integer.toHexString(IMAGES_MAGIC) + "): "
                        + images);
            }
            int rank = magic & 0xff;
            long[] dims = new long[rank];
            long total = 1;
            for (int i = 0; i < rank; i++) {
                dims[i] = in.readInt() & 0xffffffffL;
                total *= dims[i];
            }
            if (total > Integer.MAX_VALUE - 8) {
                throw LrdktException.unsupported("IDX file " + images + " holds " + total + " values; at most 2^31");
            }
            byte[] raw = new byte[(int) total];
            in.readFully(raw);
            float[] pixels = new float[raw.length];
            for (int i = 0; i < raw.length; i++) {
                pixels[i] = (raw[i] & 0xff) / 255f;
            }
            int[] labels = labelsFile == null ? null : readLabels(labelsFile, (int) dims[0]);
            return new TrainData(pixels, Arrays.copyOfRange(dims, 1, rank), labels, images.toString());
        } catch (EOFException e) {
            throw LrdktException.badInput("truncated IDX file: " + images);
        } catch (IOException e) {
            throw new LrdktException(LrdktException.Kind.IO, "cannot read " + images + ": " + e.getMessage(), e);
        }
    }

    private static int[] readLabels(Path file, int count) throws LrdktException, IOException {
        try (DataInputStream in = open(file)) {
            int magic = in.readInt();
            if (magic != LABELS_MAGIC) {
                throw LrdktException.badInput("not an IDX labels file (magic 0x" + Integer.toHexString(magic)
                        + ", expected 0x801): " + file);
            }
            int n = in.readInt();
            if (n != count) {
                throw LrdktException.badInput(file + " has " + n + " labels for " + count + " images");
            }
            int[] labels = new int[n];
            for (int i = 0; i < n; i++) {
                labels[i] = in.readUnsignedByte();
            }
            return labels;
        } catch (EOFException e) {
            throw LrdktException.badInput("truncated IDX file: " + file);
        }
    }

    private static DataInputStream open(Path file) throws IOException {
        InputStream in = new java.io.BufferedInputStream(Files.newInputStream(file), 1 << 16);
        in.mark(2);
        int b1 = in.read();
        int b2 = in.read();
        in.reset();
        return new DataInputStream(b1 == 0x1f && b2 == 0x8b ? new GZIPInputStream(in, 1 << 16) : in);
    }

    public int size() {
        return (int) (pixels.length / Math.max(1, Arrays.stream(sampleShape).reduce(1, (a, b) -> a * b)));
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
        int per = sampleSize();
        float[] out = new float[indices.length * per];
        for (int i = 0; i < indices.length; i++) {
            System.arraycopy(pixels, indices[i] * per, out, i * per, per);
        }
        long[] shape = new long[inputShape.length + 1];
        shape[0] = indices.length;
        System.arraycopy(inputShape, 0, shape, 1, inputShape.length);
        return Nd4j.createFromArray(out).reshape('c', shape).castTo(type);
    }
}
