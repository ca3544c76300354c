package org.lrdkt.decompose;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.lrdkt.LrdktException;
import org.lrdkt.ModelBuilder;
import org.lrdkt.onnx.OnnxModel;
import org.lrdkt.onnx.Shapes;

/**
 * Generated torchvision exports and real PaddleOCR models (models/, see tools/) compress and run in ONNX Runtime;
 * depthwise and grouped convs are reported as skipped.
 */
@Tag("slow")
class RealModelsTest {

    static Stream<Arguments> models() {
        return Stream.of(
                Arguments.of("models/resnet50.onnx", "1x3x224x224", false),
                Arguments.of("models/mobilenet_v2.onnx", "1x3x224x224", true),
                Arguments.of("models/paddleocr/ch_ppocr_mobile_v2.0_cls_infer.onnx", "1x3x48x192", true),
                Arguments.of("models/paddleocr/ch_PP-OCRv3_rec_infer.onnx", "1x3x48x320", true));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void compressesAndRuns(String file, String shape, boolean hasDepthwise) throws LrdktException {
        Path path = Path.of(file);
        assumeTrue(Files.exists(path), file + " not generated");
        long[] inputShape = Shapes.parse(shape);
        OnnxModel teacher = OnnxModel.load(path);
        Compressor.Compression c = Compressor.compress(teacher, CompressOptions.defaults().withEnergy(0.9)
                .withInputShape(inputShape).withScheme(CompressOptions.Scheme.AUTO));
        CompressReport r = c.report();
        assertTrue(r.totals().decomposed() > 0, "nothing decomposed");
        long depthwise = r.layers().stream().filter(d -> d.status() == CompressReport.Status.SKIPPED
                && d.reason().startsWith("depthwise")).count();
        assertEquals(hasDepthwise, depthwise > 0);
        int n = Math.toIntExact(org.lrdkt.onnx.Costs.product(inputShape));
        float[] out = ModelBuilder.run(c.student(), ModelBuilder.random(3, n, 1f), inputShape);
        assertTrue(out.length > 0);
        for (float v : out) {
            assertTrue(Float.isFinite(v));
        }
    }
}
