package org.lrdkt.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.lrdkt.LrdktException;
import org.lrdkt.onnx.proto.Onnx.AttributeProto;
import org.lrdkt.onnx.proto.Onnx.GraphProto;
import org.lrdkt.onnx.proto.Onnx.NodeProto;
import org.lrdkt.onnx.proto.Onnx.TensorProto;
import org.lrdkt.onnx.proto.Onnx.ValueInfoProto;

class GraphTest {

    private static NodeProto node(String op, String name, List<String> inputs, List<String> outputs,
                                  AttributeProto... attrs) {
        NodeProto.Builder b = NodeProto.newBuilder().setOpType(op).setName(name).addAllInput(inputs)
                .addAllOutput(outputs);
        for (AttributeProto a : attrs) {
            b.addAttribute(a);
        }
        return b.build();
    }

    private static TensorProto weights(String name, long... dims) {
        int n = (int) Costs.product(dims);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) Math.sin(i + 1);
        }
        return TensorData.fromFloats(name, dims, v, TensorProto.DataType.FLOAT_VALUE);
    }

    private static GraphProto.Builder graph(NodeProto... nodes) {
        GraphProto.Builder g = GraphProto.newBuilder().setName("g")
                .addInput(ValueInfoProto.newBuilder().setName("x"))
                .addOutput(ValueInfoProto.newBuilder().setName("y"));
        for (NodeProto n : nodes) {
            g.addNode(n);
        }
        return g;
    }

    @Test
    void findsWeightsBehindIdentityAndConstantNodes() throws Exception {
        AttributeProto value = AttributeProto.newBuilder().setName("value").setType(AttributeProto.AttributeType.TENSOR)
                .setT(weights("", 4, 3)).build();
        GraphProto g = graph(
                node("Constant", "", List.of(), List.of("w_const"), value),
                node("Identity", "", List.of("w_const"), List.of("w_alias")),
                node("MatMul", "", List.of("x", "w_alias"), List.of("h")),
                node("Identity", "", List.of("b_shared"), List.of("b_alias")),
                node("Add", "", List.of("h", "b_alias"), List.of("y")))
                .addInitializer(weights("b_shared", 3)).build();
        Graph graph = new Graph(g);
        List<Layer> layers = graph.layers();
        assertEquals(1, layers.size());
        Layer fc = layers.get(0);
        assertEquals("w_alias", fc.name(), "an unnamed node is named by its weight tensor");
        assertEquals(Layer.Kind.MATMUL, fc.kind());
        assertEquals(4, fc.inFeatures());
        assertEquals(3, fc.outFeatures());
        assertEquals("b_alias", fc.biasTensor());
        assertEquals("y", fc.outputTensor());
        assertTrue(graph.constant("b_alias").isPresent());
    }

    @Test
    void groupedConvsCountInputChannelsOverAllGroups() throws Exception {
        GraphProto g = graph(
                node("Conv", "dw", List.of("x", "w1"), List.of("h"), Attrs.ofInt("group", 8)),
                node("Conv", "grouped", List.of("h", "w2"), List.of("y"), Attrs.ofInt("group", 2)))
                .addInitializer(weights("w1", 8, 1, 3, 3)).addInitializer(weights("w2", 16, 4, 3, 3)).build();
        List<Layer> layers = new Graph(g).layers();
        assertEquals(8, layers.get(0).inFeatures());
        assertEquals(8, layers.get(1).inFeatures());
    }

    @Test
    void ordersNodesTopologically() throws Exception {
        GraphProto g = graph(
                node("Relu", "b", List.of("a_out"), List.of("y")),
                node("Relu", "a", List.of("x"), List.of("a_out"))).build();
        Graph graph = new Graph(g);
        assertEquals("a", graph.nodes().get(0).getName());
        assertNotNull(graph.producer("y"));
        assertEquals(1, graph.consumers("a_out").size());
    }

    @Test
    void rejectsBrokenStructure() {
        LrdktException cycle = assertThrows(LrdktException.class, () -> new Graph(graph(
                node("Add", "a", List.of("x", "b_out"), List.of("a_out")),
                node("Relu", "b", List.of("a_out"), List.of("b_out")),
                node("Relu", "c", List.of("a_out"), List.of("y"))).build()));
        assertTrue(cycle.getMessage().contains("cycle"), cycle.getMessage());
        LrdktException dangling = assertThrows(LrdktException.class, () -> new Graph(graph(
                node("Relu", "a", List.of("nowhere"), List.of("y"))).build()));
        assertTrue(dangling.getMessage().contains("'nowhere'"), dangling.getMessage());
        LrdktException twice = assertThrows(LrdktException.class, () -> new Graph(graph(
                node("Relu", "a", List.of("x"), List.of("y")),
                node("Relu", "b", List.of("x"), List.of("y"))).build()));
        assertTrue(twice.getMessage().contains("produced twice"), twice.getMessage());
        LrdktException output = assertThrows(LrdktException.class, () -> new Graph(graph(
                node("Relu", "a", List.of("x"), List.of("z"))).build()));
        assertTrue(output.getMessage().contains("graph output 'y'"), output.getMessage());
    }
}
