package org.lrdkt.data;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.lrdkt.LrdktException;

/**
 * MNIST-layout IDX files: an images file (magic 0x00000803: unsigned bytes, dims N×H×W) and a labels file (magic
 * 0x00000801: N unsigned bytes), each gzipped or not. Everything about the header is checked against the data.
 */
public final class IdxDataset extends LoadedDataset {

    private static final int UNSIGNED_BYTE = 0x08;

    private final byte[] pixels;
    private final int height;
    private final int width;

    private IdxDataset(byte[] pixels, int count, int height, int width, int[] labels, Preprocessing preprocessing,
                       String description) {
        super(count, preprocessing.imageSampleShape(), labels, preprocessing, description);
        this.pixels = pixels;
        this.height = height;
        this.width = width;
    }

    /**
     * Loads images and, when {@code labelsOrNull} is given, their labels. Scale defaults to 1/255, size to 28×28 as
     * stored, channels to 1.
     */
    public static IdxDataset load(Path images, Path labelsOrNull, Preprocessing preprocessing) throws LrdktException {
        byte[] data = DataFiles.readMaybeGzip(images);
        int[] dims = header(images, data, 3, "images");
        int offset = 4 + 4 * dims.length;
        int n = dims[0];
        int[] labels = null;
        if (labelsOrNull != null) {
            byte[] labelData = DataFiles.readMaybeGzip(labelsOrNull);
            int[] labelDims = header(labelsOrNull, labelData, 1, "labels");
            if (labelDims[0] != n) {
                throw LrdktException.badInput("IDX counts disagree: " + images + " has " + n + " images but "
                        + labelsOrNull + " has " + labelDims[0] + " labels");
            }
            labels = new int[n];
            for (int i = 0; i < n; i++) {
                labels[i] = labelData[8 + i] & 0xff;
            }
        }
        Preprocessing p = preprocessing.resolve(1.0 / 255, dims[1], dims[2], 1);
        p.checkChannels(p.channels());
        byte[] pixels = Arrays.copyOfRange(data, offset, data.length);
        String what = "IDX " + images.getFileName() + (labels != null ? " + " + labelsOrNull.getFileName() : "")
                + ": " + n + " images " + dims[1] + "x" + dims[2] + (labels != null ? ", labelled" : ", unlabelled");
        return new IdxDataset(pixels, n, dims[1], dims[2], labels, p, what);
    }

    /**
     * The labels file that goes with an images file by the MNIST naming convention
     * ({@code *-images-idx3-ubyte[.gz]} → {@code *-labels-idx1-ubyte[.gz]}), or null when there is none.
     */
    public static Path conventionalLabels(Path images) {
        String name = images.getFileName().toString();
        if (!name.contains("images-idx3")) {
            return null;
        }
        Path labels = images.resolveSibling(name.replace("images-idx3", "labels-idx1"));
        return Files.exists(labels) ? labels : null;
    }

    /**
     * The MNIST-style images file of {@code split} ("train" or "t10k") in folder {@code dir}, gzipped or not, or null
     * when {@code dir} is not a folder holding one.
     */
    public static Path mnistImages(Path dir, String split) {
        if (dir == null || !Files.isDirectory(dir)) {
            return null;
        }
        for (String suffix : new String[] {".gz", ""}) {
            Path images = dir.resolve(split + "-images-idx3-ubyte" + suffix);
            if (Files.exists(images)) {
                return images;
            }
        }
        return null;
    }

    /**
     * The data a test-data path means. A folder holding MNIST-style files means its test split
     * ({@code t10k-images-idx3-ubyte[.gz]}, or {@code test-images-idx3-ubyte[.gz]}); one holding only the training
     * split is refused, since scores on the data trained on would be reported as test accuracy. Any other path means
     * itself.
     */
    public static Path testImages(Path path) throws LrdktException {
        for (String split : new String[] {"t10k", "test"}) {
            Path images = mnistImages(path, split);
            if (images != null) {
                return images;
            }
        }
        if (mnistImages(path, "train") != null) {
            throw LrdktException.usage("test data folder " + path + " holds the MNIST training split but no test "
                    + "split (t10k-images-idx3-ubyte[.gz]); pass the test images or a folder holding them");
        }
        return path;
    }

    /** Parses and checks an IDX header; returns its dims. */
    private static int[] header(Path file, byte[] data, int expectedDims, String what) throws LrdktException {
        if (data.length < 4 || data[0] != 0 || data[1] != 0) {
            throw LrdktException.badInput(file + " is not an IDX file (bad magic; expected 00 00 08 0"
                    + expectedDims + ")");
        }
        int type = data[2] & 0xff;
        int ndims = data[3] & 0xff;
        if (type != UNSIGNED_BYTE) {
            throw LrdktException.unsupported(file + ": IDX element type 0x" + Integer.toHexString(type)
                    + " is not supported; expected 0x08 (unsigned byte)");
        }
        if (ndims != expectedDims) {
            throw LrdktException.badInput(file + ": IDX " + what + " file must have " + expectedDims
                    + " dimension(s), has " + ndims);
        }
        if (data.length < 4 + 4 * ndims) {
            throw LrdktException.badInput(file + ": IDX header is truncated");
        }
        ByteBuffer buf = ByteBuffer.wrap(data, 4, 4 * ndims);
        int[] dims = new int[ndims];
        long expected = 1;
        for (int i = 0; i < ndims; i++) {
            dims[i] = buf.getInt();
            if (i == 0 && dims[i] == 0) {
                throw LrdktException.badInput(file + ": data set is empty (IDX file holds 0 items)");
            }
            if (dims[i] <= 0) {
                throw LrdktException.badInput(file + ": IDX dimension " + i + " is " + dims[i]);
            }
            expected *= dims[i];
        }
        long actual = data.length - 4L - 4L * ndims;
        if (actual != expected) {
            throw LrdktException.badInput(file + ": IDX header promises " + expected + " bytes of " + what + " but "
                    + (actual < expected ? "the file is truncated (" : "the file has extra data (") + actual
                    + " bytes)");
        }
        return dims;
    }




    @Override
    public void fill(int index, float[] target, int offset) {
        int plane = height * width;
        float[] raw = new float[plane];
        for (int i = 0; i < plane; i++) {
            raw[i] = pixels[index * plane + i] & 0xff;
        }
        preprocessing().writeImage(new ImageOps.Pixels(raw, height, width, 1), target, offset);
    }


}
