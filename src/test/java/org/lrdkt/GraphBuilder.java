package org.lrdkt;

import java.util.Random;
import org.lrdkt.onnx.OnnxModel;
import org.lrdkt.onnx.TensorData;
import org.lrdkt.onnx.proto.Onnx.AttributeProto;
import org.lrdkt.onnx.proto.Onnx.GraphProto;
import org.lrdkt.onnx.proto.Onnx.ModelProto;
import org.lrdkt.onnx.proto.Onnx.NodeProto;
import org.lrdkt.onnx.proto.Onnx.OperatorSetIdProto;
import org.lrdkt.onnx.proto.Onnx.TensorProto;
import org.lrdkt.onnx.proto.Onnx.TensorShapeProto;
import org.lrdkt.onnx.proto.Onnx.TypeProto;
import org.lrdkt.onnx.proto.Onnx.ValueInfoProto;

/**
 * The low-level ONNX graph builder for tests: float inputs, seeded random weights, any op node by node, nodes named
 * after their first output. {@link ModelBuilder} builds whole layers (Conv, Gemm, activations) in exporter layouts.
 */
public final class GraphBuilder {

    private final GraphProto.Builder graph = GraphProto.newBuilder().setName("test");
    private final Random random;
    private int counter;

    public GraphBuilder(long seed) {
        random = new Random(seed);
    }

    public static ValueInfoProto floatValue(String name, long... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (long d : dims) {
            shape.addDim(d < 0 ? TensorShapeProto.Dimension.newBuilder().setDimParam("batch")
                    : TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE).setShape(shape))).build();
    }

    /** A graph input; a negative dim is dynamic. */
    public GraphBuilder input(String name, long... dims) {
        graph.addInput(floatValue(name, dims));
        return this;
    }

    /** A random initializer with values in ±scale. */
    public String weight(String name, double scale, long... dims) {
        int n = 1;
        for (long d : dims) {
            n *= (int) d;
        }
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) ((random.nextDouble() * 2 - 1) * scale);
        }
        return initializer(name, dims, v);
    }

    public String initializer(String name, long[] dims, float[] values) {
        return initializer(name, dims, values, TensorProto.DataType.FLOAT_VALUE);
    }

    /** An initializer of a float type ({@code TensorProto.DataType} value: FLOAT, FLOAT16, ...). */
    public String initializer(String name, long[] dims, float[] values, int dataType) {
        graph.addInitializer(TensorData.fromFloats(name, dims, values, dataType));
        return name;
    }

    /** A rank-0 INT64 initializer (a scalar index). */
    public String scalarInt(String name, long value) {
        graph.addInitializer(TensorData.fromLongs(name, new long[0], new long[] {value}));
        return name;
    }

    public String ints(String name, long... values) {
        graph.addInitializer(TensorData.fromLongs(name, new long[] {values.length}, values));
        return name;
    }

    /** A Constant node holding a random float tensor. */
    public String constantNode(String name, double scale, long... dims) {
        String tmp = weight("tmp_" + name, scale, dims);
        TensorProto t = graph.getInitializer(graph.getInitializerCount() - 1);
        graph.removeInitializer(graph.getInitializerCount() - 1);
        graph.addNode(NodeProto.newBuilder().setOpType("Constant").setName(name + "_const").addOutput(name)
                .addAttribute(AttributeProto.newBuilder().setName("value").setType(AttributeProto.AttributeType.TENSOR)
                        .setT(t.toBuilder().setName(tmp))));
        return name;
    }

    /** Adds a node with one output (named {@code out}, or generated) and returns the output name. */
    public String node(String op, String out, String[] inputs, AttributeProto... attrs) {
        return nodeWithOutputs(op, 1, out, inputs, attrs)[0];
    }

    /** Adds a node with {@code count} outputs, named {@code out} (or generated) with suffixes _0, _1, ... */
    public String[] nodeWithOutputs(String op, int count, String out, String[] inputs, AttributeProto... attrs) {
        String output = out != null ? out : op.toLowerCase() + "_" + (counter++);
        NodeProto.Builder n = NodeProto.newBuilder().setOpType(op).setName("/" + output + "/" + op);
        String[] outputs = new String[count];
        for (int i = 0; i < count; i++) {
            outputs[i] = count == 1 ? output : output + "_" + i;
            n.addOutput(outputs[i]);
        }
        for (String in : inputs) {
            n.addInput(in);
        }
        for (AttributeProto a : attrs) {
            n.addAttribute(a);
        }
        graph.addNode(n);
        return outputs;
    }

    public String node(String op, String[] inputs, AttributeProto... attrs) {
        return node(op, null, inputs, attrs);
    }

    public static String[] in(String... names) {
        return names;
    }

    public OnnxModel build(String output, int opset) {
        return build(opset, output);
    }

    /** The model with these graph outputs, in this order. */
    public OnnxModel build(int opset, String... outputs) {
        for (String output : outputs) {
            graph.addOutput(floatValue(output));
        }
        return OnnxModel.of(ModelProto.newBuilder().setIrVersion(7).setProducerName("lrdkt-test")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(opset)).setGraph(graph).build());
    }
}
