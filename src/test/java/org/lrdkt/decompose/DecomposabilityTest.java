package org.lrdkt.decompose;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.lrdkt.ModelBuilder;
import org.lrdkt.onnx.Attrs;
import org.lrdkt.onnx.Graph;
import org.lrdkt.onnx.Layer;

class DecomposabilityTest {

    @Test
    void groupedAndDepthwiseConvsAreLeftWithTheirReason() throws Exception {
        Graph graph = Graph.of(new ModelBuilder(1, 8, 6, 6)
                .conv("dw", new long[] {8, 1, 3, 3}, false, Attrs.ofInt("group", 8))
                .conv("grouped", new long[] {16, 4, 3, 3}, false, Attrs.ofInt("group", 2))
                .conv("plain", new long[] {4, 16, 1, 1}, true).build());
        List<Layer> layers = graph.layers();
        assertTrue(Decomposability.reasonNotDecomposable(graph, layers.get(0)).orElseThrow().startsWith("depthwise"));
        assertTrue(Decomposability.reasonNotDecomposable(graph, layers.get(1)).orElseThrow().startsWith("grouped"));
        assertEquals(Optional.empty(), Decomposability.reasonNotDecomposable(graph, layers.get(2)));
    }
}
