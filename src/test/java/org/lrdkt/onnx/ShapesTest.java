package org.lrdkt.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.lrdkt.LrdktException;
import org.lrdkt.ModelBuilder;

/** Shapes measured by ONNX Runtime, with large weights replaced by zeros of their shape in the probe. */
class ShapesTest {

    @Test
    void measuresShapesThroughLargeWeightsReplacedByZeros() throws LrdktException {
        // conv weight 64·128·3·3 and FC weight 96·1024 both exceed the probe's threshold; the biases do not
        assertTrue(64 * 1024 * 96 / 64 >= Shapes.PROBE_CONSTANT_MIN_ELEMENTS);
        OnnxModel model = new ModelBuilder(1, 128, 6, 6).conv("conv", new long[] {64, 128, 3, 3}, true).relu()
                .flatten().gemm("fc", 64 * 4 * 4, 96, true, true, 1f, 1f).build();
        Graph graph = Graph.of(model);
        Map<String, long[]> shapes = Shapes.infer(model, Shapes.resolveInputShapes(graph, null));
        Layer conv = graph.layersByName().get("conv");
        Layer fc = graph.layersByName().get("fc");
        assertArrayEquals(new long[] {1, 64, 4, 4}, shapes.get(conv.node().getOutput(0)));
        assertArrayEquals(new long[] {1, 96}, shapes.get(fc.node().getOutput(0)));
        assertArrayEquals(new long[] {64, 128, 3, 3}, shapes.get(conv.weightTensor()), "initializers keep their dims");
    }
}
