package org.lrdkt.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.lrdkt.GraphBuilder.in;

import org.junit.jupiter.api.Test;
import org.lrdkt.GraphBuilder;
import org.lrdkt.ModelBuilder;

/** The lean session (weights shared from the model's own bytes) computes what the plain one does. */
class InferenceTest {

    /** A Resize's scales are read by ONNX Runtime's shape inference at load: they cannot be a shared tensor. */
    @Test
    void leanSessionKeepsTheSmallConstantsShapeInferenceReads() throws Exception {
        GraphBuilder b = new GraphBuilder(3).input("input", -1, 4, 6, 6);
        String conv = b.node("Conv", in("input", b.weight("w", 0.5, 32, 4, 3, 3)));
        b.node("Resize", "out", in(conv, "", b.initializer("scales", new long[] {4}, new float[] {1, 1, 2, 2})),
                Attrs.ofString("mode", "linear"));
        OnnxModel model = b.build("out", 13);
        long[] shape = {2, 4, 6, 6};
        Inference.Tensor x = new Inference.Tensor(ModelBuilder.random(1, 2 * 4 * 6 * 6, 1f), shape);
        Inference.Settings settings = new Inference.Settings(1, false, false);
        try (Inference plain = Inference.open(model, settings); Inference lean = Inference.openLean(model, settings)) {
            assertArrayEquals(plain.run(x).values(), lean.run(x).values());
        }
    }
}
