package org.lrdkt.pipeline;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.lrdkt.LrdktException;

/**
 * The example embedded in the jar for {@code lrdkt run} with no model: the LeNet-5 fixture (98.50% on its test
 * digits) and the MNIST digits it was trained and tested on, unpacked into a temporary folder so that the same
 * file-based loaders read them.
 *
 * @param model     LeNet-5 exported by PyTorch
 * @param trainData the folder holding train-images/labels (8,000 digits)
 * @param testData  the held-out t10k images (2,000 digits; labels beside them)
 */
public record Example(Path model, Path trainData, Path testData) {

    private static final String ROOT = "/org/lrdkt/example/";
    private static final List<String> FILES = List.of("lenet5.onnx", "mnist/train-images-idx3-ubyte.gz",
            "mnist/train-labels-idx1-ubyte.gz", "mnist/t10k-images-idx3-ubyte.gz", "mnist/t10k-labels-idx1-ubyte.gz");

    /** Unpacks the example into a new temporary folder, removed when the JVM exits. */
    public static Example unpack() throws LrdktException {
        try {
            Path dir = Files.createTempDirectory("lrdkt-example");
            dir.toFile().deleteOnExit();
            Files.createDirectories(dir.resolve("mnist")).toFile().deleteOnExit();
            for (String name : FILES) {
                Path target = dir.resolve(name);
                try (InputStream in = Example.class.getResourceAsStream(ROOT + name)) {
                    if (in == null) {
                        throw new LrdktException(LrdktException.Kind.RUNTIME, "the embedded example file " + name
                                + " is missing from the jar; rebuild with mvn package");
                    }
                    Files.copy(in, target);
                }
                target.toFile().deleteOnExit();
            }
            return new Example(dir.resolve("lenet5.onnx"), dir.resolve("mnist"),
                    dir.resolve("mnist/t10k-images-idx3-ubyte.gz"));
        } catch (IOException e) {
            throw new LrdktException(LrdktException.Kind.IO, "cannot unpack the embedded example: " + e.getMessage(), e);
        }
    }
}
