package org.lrdkt.data;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.lrdkt.LrdktException;

/** Opens a data set by what the path is: a folder of class folders, a {@code .npy} file, or IDX images. */
public final class Datasets {

    private Datasets() {
    }

    /**
     * Opens {@code path}. For IDX images the labels come from {@code labelsOrNull}, else from the MNIST naming
     * convention next to the images, else the set is unlabelled.
     */
    public static Dataset open(Path path, Path labelsOrNull, Preprocessing preprocessing) throws LrdktException {
        preprocessing.validated();
        if (Files.isDirectory(path)) {
            if (labelsOrNull != null) {
                throw LrdktException.usage("--labels applies to IDX images; an image folder takes its labels from "
                        + "its sub-folder names");
            }
            return ImageFolderDataset.load(path, preprocessing);
        }
        if (!Files.exists(path)) {
            throw LrdktException.badInput("data " + path + " does not exist");
        }
        String name = path.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".npy") || name.endsWith(".npy.gz")) {
            if (labelsOrNull != null) {
                throw LrdktException.usage("--labels applies to IDX images; .npy tensors are unlabelled");
            }
            return NpyDataset.load(path, preprocessing);
        }
        return IdxDataset.load(path, labelsOrNull != null ? labelsOrNull : IdxDataset.conventionalLabels(path),
                preprocessing);
    }

    /**
     * Opens training data like {@link #open}, except that a folder holding MNIST-style
     * {@code train-images-idx3-ubyte[.gz]} means those images (and their labels file, if present).
     */
    public static Dataset openTraining(Path path, Preprocessing preprocessing) throws LrdktException {
        Path mnist = IdxDataset.mnistImages(path, "train");
        return open(mnist != null ? mnist : path, null, preprocessing);
    }
}
