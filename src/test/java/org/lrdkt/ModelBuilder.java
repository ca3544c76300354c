package org.lrdkt;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.lrdkt.onnx.Attrs;
import org.lrdkt.onnx.Inference;
import org.lrdkt.onnx.OnnxModel;
import org.lrdkt.onnx.TensorData;
import org.lrdkt.onnx.proto.Onnx.AttributeProto;
import org.lrdkt.onnx.proto.Onnx.GraphProto;
import org.lrdkt.onnx.proto.Onnx.ModelProto;
import org.lrdkt.onnx.proto.Onnx.NodeProto;
import org.lrdkt.onnx.proto.Onnx.OperatorSetIdProto;
import org.lrdkt.onnx.proto.Onnx.StringStringEntryProto;
import org.lrdkt.onnx.proto.Onnx.TensorProto;
import org.lrdkt.onnx.proto.Onnx.TypeProto;
import org.lrdkt.onnx.proto.Onnx.ValueInfoProto;

/**
 * Builds small ONNX models for tests (IR 7, opset 13, one float input named "input"), the way exporters lay them
 * out: weights as initializers, or as Constant nodes (PaddleOCR), optionally in FLOAT16 with Casts at the edges or
 * each behind a Cast to float.
 * Layer by layer; {@link GraphBuilder} is the node-by-node builder for graphs that need any op.
 */
public final class ModelBuilder {

    private final GraphProto.Builder graph = GraphProto.newBuilder().setName("test");
    private final long[] inputShape;
    private final int dataType;
    private final int computeType;
    private boolean constantNodes;
    private int counter;
    private String current;

    /** A float32 model with the given input shape. */
    public ModelBuilder(long... inputShape) {
        this(inputShape, TensorProto.DataType.FLOAT_VALUE, TensorProto.DataType.FLOAT_VALUE);
    }

    /** A model whose weights and computation use {@code dataType}; input and output stay float (Casts added). */
    public static ModelBuilder typed(int dataType, long... inputShape) {
        return new ModelBuilder(inputShape, dataType, dataType);
    }

    /**
     * A float model whose weights are stored in {@code dataType}, each read through a Cast to float: PyTorch's export
     * of a model whose parameters are half but whose computation is not.
     */
    public static ModelBuilder castWeights(int dataType, long... inputShape) {
        return new ModelBuilder(inputShape, dataType, TensorProto.DataType.FLOAT_VALUE);
    }

    private ModelBuilder(long[] inputShape, int dataType, int computeType) {
        this.inputShape = inputShape;
        this.dataType = dataType;
        this.computeType = computeType;
        graph.addInput(GraphBuilder.floatValue("input", inputShape));
        current = "input";
        if (computeType != TensorProto.DataType.FLOAT_VALUE) {
            current = node("Cast", "cast_in", List.of("input"), Attrs.ofInt("to", dataType));
        }
    }

    /** Following weights are written as Constant nodes rather than initializers. */
    public ModelBuilder constantNodes() {
        constantNodes = true;
        return this;
    }

    public long[] inputShape() {
        return inputShape.clone();
    }

    /** Conv with weight (N, C, kh, kw) of seeded random values, optional bias, extra attributes. */
    public ModelBuilder conv(String name, long[] weightShape, boolean bias, AttributeProto... attrs) {
        List<String> in = new ArrayList<>(List.of(current, weight(name + ".weight", weightShape, 0.3f)));
        if (bias) {
            in.add(weight(name + ".bias", new long[] {weightShape[0]}, 0.1f));
        }
        current = node("Conv", name, in, attrs);
        return this;
    }

    /** Gemm with weight stored (out, in) when transB=1, else (in, out). */
    public ModelBuilder gemm(String name, long in, long out, boolean transB, boolean bias, float alpha, float beta) {
        long[] shape = transB ? new long[] {out, in} : new long[] {in, out};
        List<String> inputs = new ArrayList<>(List.of(current, weight(name + ".weight", shape, 0.2f)));
        if (bias) {
            inputs.add(weight(name + ".bias", new long[] {out}, 0.1f));
        }
        current = node("Gemm", name, inputs, Attrs.ofInt("transB", transB ? 1 : 0), Attrs.ofFloat("alpha", alpha),
                Attrs.ofFloat("beta", beta));
        return this;
    }

    /** MatMul with a constant (in, out) weight, followed by a bias Add when {@code bias}. */
    public ModelBuilder matMul(String name, long in, long out, boolean bias) {
        current = node("MatMul", name, List.of(current, weight(name + ".weight", new long[] {in, out}, 0.2f)));
        if (bias) {
            current = node("Add", name + "_add", List.of(current, weight(name + ".bias", new long[] {out}, 0.1f)));
        }
        return this;
    }

    /** BatchNormalization with seeded statistics (variance positive). */
    public ModelBuilder batchNorm(String name, long channels) {
        long[] c = {channels};
        String scale = weight(name + ".scale", c, 0.5f);
        String b = weight(name + ".bias", c, 0.2f);
        String mean = weight(name + ".mean", c, 0.2f);
        float[] var = random(name.hashCode() + 7L, (int) channels, 0.5f);
        for (int i = 0; i < var.length; i++) {
            var[i] = Math.abs(var[i]) + 0.5f;
        }
        String v = tensor(name + ".var", c, var);
        current = node("BatchNormalization", name, List.of(current, scale, b, mean, v), Attrs.ofFloat("epsilon", 1e-3f));
        return this;
    }

    public ModelBuilder relu() {
        current = node("Relu", "relu" + counter, List.of(current));
        return this;
    }

    public ModelBuilder flatten() {
        current = node("Flatten", "flatten" + counter, List.of(current), Attrs.ofInt("axis", 1));
        return this;
    }

    /** Finishes the graph with output "output". */
    public OnnxModel build() {
        String out = current;
        if (computeType != TensorProto.DataType.FLOAT_VALUE) {
            out = node("Cast", "cast_out", List.of(current), Attrs.ofInt("to", TensorProto.DataType.FLOAT_VALUE));
        }
        graph.addNode(NodeProto.newBuilder().setOpType("Identity").setName("output_identity").addInput(out)
                .addOutput("output"));
        graph.addOutput(ValueInfoProto.newBuilder().setName("output").setType(TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE))));
        return OnnxModel.of(ModelProto.newBuilder().setIrVersion(7).setProducerName("lrdkt-test")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(13))
                .addMetadataProps(StringStringEntryProto.newBuilder().setKey("origin")
                        .setValue("ModelBuilder"))
                .setGraph(graph).build());
    }

    private String weight(String name, long[] shape, float scale) {
        int n = 1;
        for (long d : shape) {
            n *= (int) d;
        }
        return tensor(name, shape, random(name.hashCode(), n, scale));
    }

    private String tensor(String name, long[] shape, float[] values) {
        TensorProto t = TensorData.fromFloats(name, shape, values, dataType);
        String out = name;
        if (!constantNodes) {
            graph.addInitializer(t);
        } else { // unnamed Constant node, as PaddleOCR exports them
            out = name + ".const";
            graph.addNode(NodeProto.newBuilder().setOpType("Constant").addOutput(out)
                    .addAttribute(AttributeProto.newBuilder().setName("value")
                            .setType(AttributeProto.AttributeType.TENSOR).setT(t.toBuilder().clearName())));
        }
        return dataType == computeType ? out : node("Cast", name + ".cast", List.of(out),
                Attrs.ofInt("to", computeType));
    }

    private String node(String op, String name, List<String> inputs, AttributeProto... attrs) {
        String out = name + "_out" + (counter++);
        NodeProto.Builder n = NodeProto.newBuilder().setOpType(op).setName(name).addAllInput(inputs).addOutput(out);
        for (AttributeProto a : attrs) {
            n.addAttribute(a);
        }
        graph.addNode(n);
        return out;
    }

    /** Seeded uniform values in [-scale, scale]. */
    public static float[] random(long seed, int n, float scale) {
        Random r = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (r.nextFloat() * 2 - 1) * scale;
        }
        return v;
    }

    /** Seeded uniform values in [lo, hi) (drawn in double, unlike the float draws above). */
    public static float[] random(long seed, int n, double lo, double hi) {
        Random r = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (lo + (hi - lo) * r.nextDouble());
        }
        return v;
    }

    /** Runs a model in ONNX Runtime (no graph optimisation) on one input and returns its first output. */
    public static float[] run(OnnxModel model, float[] input, long[] shape) throws LrdktException {
        try (Inference session = Inference.open(model, new Inference.Settings(1, false, false))) {
            return session.run(new Inference.Tensor(input, shape)).values();
        }
    }

    /** ‖a − b‖ / ‖b‖ in double. */
    public static double relativeError(float[] a, float[] b) {
        if (a.length != b.length) {
            throw new AssertionError("lengths differ: " + a.length + " vs " + b.length);
        }
        double num = 0;
        double den = 0;
        for (int i = 0; i < a.length; i++) {
            num += ((double) a[i] - b[i]) * ((double) a[i] - b[i]);
            den += (double) b[i] * b[i];
        }
        return Math.sqrt(num / den);
    }

    /** Relative difference of the student's output from the teacher's on a seeded random input. */
    public static double outputError(OnnxModel teacher, OnnxModel student, long[] inputShape) throws LrdktException {
        int n = 1;
        for (long d : inputShape) {
            n *= (int) d;
        }
        float[] x = random(42, n, 1f);
        return relativeError(run(student, x, inputShape), run(teacher, x, inputShape));
    }
}
