package org.lrdkt.reliability;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.lrdkt.TestModels;

/** Test folders: their listing, clearing them, and MNIST subsets written into them. */
final class TestDirs {

    private TestDirs() {
    }

    /** Writes the first {@code count} samples of MNIST's {@code set} ("train" or "t10k") into {@code dir}, unzipped. */
    static void writeMnistSubset(Path dir, String set, int count) throws IOException {
        byte[] images = gunzip(TestModels.MNIST.resolve(set + "-images-idx3-ubyte.gz"));
        byte[] labels = gunzip(TestModels.MNIST.resolve(set + "-labels-idx1-ubyte.gz"));
        ByteBuffer.wrap(images).putInt(4, count);
        ByteBuffer.wrap(labels).putInt(4, count);
        Files.write(dir.resolve(set + "-images-idx3-ubyte"), Arrays.copyOf(images, 16 + count * 28 * 28));
        Files.write(dir.resolve(set + "-labels-idx1-ubyte"), Arrays.copyOf(labels, 8 + count));
    }

    static byte[] gunzip(Path file) throws IOException {
        try (InputStream in = new GZIPInputStream(Files.newInputStream(file))) {
            return in.readAllBytes();
        }
    }

    static List<String> listing(Path dir) throws IOException {
        try (var files = Files.list(dir)) {
            return files.map(f -> f.getFileName().toString()).sorted().toList();
        }
    }

    /** Deletes everything in {@code dir} but {@code keep}; the folder itself too when {@code keep} is null. */
    static void clearExcept(Path dir, Path keep) throws IOException {
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                if (!f.equals(keep)) {
                    Files.delete(f);
                }
            }
        }
        if (keep == null) {
            Files.delete(dir);
        }
    }
}
