package org.lrdkt.onnx;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.lrdkt.LrdktException;
import org.lrdkt.TextTable;
import org.lrdkt.onnx.proto.Onnx.AttributeProto;
import org.lrdkt.onnx.proto.Onnx.GraphProto;
import org.lrdkt.onnx.proto.Onnx.ModelProto;
import org.lrdkt.onnx.proto.Onnx.NodeProto;
import org.lrdkt.onnx.proto.Onnx.TensorProto;
import org.lrdkt.onnx.proto.Onnx.TensorShapeProto;
import org.lrdkt.onnx.proto.Onnx.ValueInfoProto;

/**
 * Static shapes of every tensor for given input shapes, measured rather than inferred: ONNX Runtime runs the model
 * once on zeros with every intermediate tensor exposed as an output. That covers every op ORT supports, including
 * the ones a hand-written inference would miss in third-party models.
 */
public final class Shapes {

    private Shapes() {
    }

    /** Marks a dimension the model leaves open: symbolic, missing or not positive. */
    public static final long DYNAMIC = -1;

    /**
     * Input shapes to use: the given ones, else the model's own with a dynamic first (batch) dimension set to 1.
     * Any other dynamic dimension must be given.
     */
    public static Map<String, long[]> resolveInputShapes(Graph graph, long[] requested) throws LrdktException {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        List<ValueInfoProto> inputs = graph.realInputs();
        if (requested != null && inputs.size() != 1) {
            throw LrdktException.usage("--input-shape gives one shape but the model has " + inputs.size() + " inputs");
        }
        for (ValueInfoProto v : inputs) {
            long[] dims = declaredDims(v);
            if (requested != null) {
                if (dims.length != 0 && dims.length != requested.length) {
                    throw LrdktException.usage("--input-shape " + TextTable.dims(requested) + " has rank "
                            + requested.length + " but input '" + v.getName() + "' has rank " + dims.length);
                }
                shapes.put(v.getName(), requested);
                continue;
            }
            for (int i = 0; i < dims.length; i++) {
                if (dims[i] != DYNAMIC) {
                    continue;
                }
                if (i > 0) {
                    throw LrdktException.usage("input '" + v.getName() + "' has dynamic dimension " + i + " ("
                            + dimText(shapeOf(v).getDim(i)) + "); give the shape with --input-shape, e.g. "
                            + "1x3x224x224");
                }
                dims[i] = 1;
            }
            shapes.put(v.getName(), dims);
        }
        return shapes;
    }

    /** The declared dims of an input, {@link #DYNAMIC} where open; empty when it declares no shape. */
    public static long[] declaredDims(ValueInfoProto input) {
        TensorShapeProto shape = shapeOf(input);
        long[] dims = new long[shape.getDimCount()];
        for (int i = 0; i < dims.length; i++) {
            TensorShapeProto.Dimension d = shape.getDim(i);
            dims[i] = d.hasDimValue() && d.getDimValue() > 0 ? d.getDimValue() : DYNAMIC;
        }
        return dims;
    }

    /** The declared dims of the model's first real input ({@link #DYNAMIC} where open), or null when it has none. */
    public static long[] declaredInputDims(OnnxModel model) throws LrdktException {
        List<ValueInfoProto> inputs = Graph.of(model).realInputs();
        return inputs.isEmpty() ? null : declaredDims(inputs.get(0));
    }

    /** The fixed first (batch) dimension of an input, or 0 when it is dynamic or undeclared. */
    public static long declaredBatch(ValueInfoProto input) {
        long[] dims = declaredDims(input);
        return dims.length > 0 && dims[0] != DYNAMIC ? dims[0] : 0;
    }

    /** An input's declared shape for messages, symbolic dims by name: "Nx3x224x224". */
    public static String describeDeclared(ValueInfoProto input) {
        StringBuilder sb = new StringBuilder();
        for (TensorShapeProto.Dimension d : shapeOf(input).getDimList()) {
            sb.append(sb.length() == 0 ? "" : "x").append(dimText(d));
        }
        return sb.toString();
    }

    private static TensorShapeProto shapeOf(ValueInfoProto input) {
        return input.getType().getTensorType().getShape();
    }

    private static String dimText(TensorShapeProto.Dimension d) {
        return d.hasDimValue() ? Long.toString(d.getDimValue()) : d.hasDimParam() ? d.getDimParam() : "?";
    }

    /** Parses "1x3x224x224". */
    public static long[] parse(String text) throws LrdktException {
        String[] parts = text.trim().toLowerCase().split("[x,]");
        long[] dims = new long[parts.length];
        try {
            for (int i = 0; i < parts.length; i++) {
                dims[i] = Long.parseLong(parts[i].trim());
                if (dims[i] <= 0) {
                    throw LrdktException.usage("input shape '" + text + "' has a non-positive dimension");
                }
            }
        } catch (NumberFormatException e) {
            throw LrdktException.usage("input shape '" + text + "' is not of the form 1x3x224x224");
        }
        return dims;
    }

    /** Shape of every tensor produced by a node, plus the inputs, for these input shapes. */
    public static Map<String, long[]> infer(OnnxModel model, Map<String, long[]> inputShapes) throws LrdktException {
        GraphProto graph = model.graph();
        GraphProto.Builder exposed = graph.toBuilder();
        Set<String> outputs = new HashSet<>();
        for (ValueInfoProto v : graph.getOutputList()) {
            outputs.add(v.getName());
        }
        for (NodeProto n : graph.getNodeList()) {
            if (n.getOpType().equals("Constant")) {
                continue; // constants are folded by ORT and need no measuring
            }
            for (String out : n.getOutputList()) {
                if (!out.isEmpty() && outputs.add(out)) {
                    exposed.addOutput(ValueInfoProto.newBuilder().setName(out));
                }
            }
        }
        ModelProto probe = model.proto().toBuilder().setGraph(withoutLargeWeights(exposed, model.proto())).build();
        Map<String, long[]> shapes = new HashMap<>(inputShapes);
        Map<String, Inference.Tensor> feeds = new HashMap<>();
        try {
            for (Map.Entry<String, long[]> e : inputShapes.entrySet()) {
                long count = TensorData.elementCount(e.getKey(), e.getValue());
                feeds.put(e.getKey(), new Inference.Tensor(new float[Math.toIntExact(count)], e.getValue()));
            }
        } catch (ArithmeticException | OutOfMemoryError e) {
            throw LrdktException.usage("input shape " + describe(inputShapes) + " is too large");
        }
        int threads = Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
        try (Inference session = Inference.open(OnnxModel.of(probe), new Inference.Settings(threads, false, false))) {
            shapes.putAll(session.outputShapes(feeds));
        } catch (LrdktException e) {
            throw new LrdktException(e.kind(), e.getMessage() + " (input shapes " + describe(inputShapes) + ")", e);
        }
        for (TensorProto t : graph.getInitializerList()) {
            shapes.putIfAbsent(t.getName(), TensorData.dims(t));
        }
        return shapes;
    }

    /** Float initializers at least this large are weights: shapes do not depend on their values. */
    static final long PROBE_CONSTANT_MIN_ELEMENTS = 1 << 16;

    /**
     * The probe's graph with every large float initializer replaced by a ConstantOfShape of zeros (opset 9+), so
     * that measuring shapes neither serializes the weights for ONNX Runtime nor has it hold a second copy of them:
     * ORT materialises each zero tensor only while its consumer runs.
     */
    private static GraphProto withoutLargeWeights(GraphProto.Builder graph, ModelProto model) {
        boolean hasConstantOfShape = model.getOpsetImportList().stream()
                .anyMatch(o -> (o.getDomain().isEmpty() || o.getDomain().equals("ai.onnx")) && o.getVersion() >= 9);
        if (!hasConstantOfShape) {
            return graph.build();
        }
        Set<String> graphInputs = new HashSet<>();
        graph.getInputList().forEach(v -> graphInputs.add(v.getName()));
        Map<String, List<NodeProto>> zeros = new HashMap<>();
        List<TensorProto> kept = new ArrayList<>();
        for (TensorProto t : graph.getInitializerList()) {
            long[] dims = TensorData.dims(t);
            if (t.getDataType() != TensorProto.DataType.FLOAT_VALUE || graphInputs.contains(t.getName())
                    || Costs.product(dims) < PROBE_CONSTANT_MIN_ELEMENTS) {
                kept.add(t);
                continue;
            }
            String shapeName = t.getName() + "::lrdkt_probe_shape";
            zeros.put(t.getName(), List.of(NodeProto.newBuilder().setOpType("Constant").addOutput(shapeName)
                    .addAttribute(AttributeProto.newBuilder().setName("value")
                            .setType(AttributeProto.AttributeType.TENSOR)
                            .setT(TensorData.fromLongs(shapeName, new long[] {dims.length}, dims)))
                    .build(), NodeProto.newBuilder().setOpType("ConstantOfShape").addInput(shapeName)
                    .addOutput(t.getName()).build()));
        }
        if (zeros.isEmpty()) {
            return graph.build();
        }
        // each zero tensor right before its first consumer, so that ORT holds one of them at a time, not all
        List<NodeProto> nodes = new ArrayList<>();
        for (NodeProto n : graph.getNodeList()) {
            for (String input : n.getInputList()) {
                List<NodeProto> z = zeros.remove(input);
                if (z != null) {
                    nodes.addAll(z);
                }
            }
            nodes.add(n);
        }
        zeros.values().forEach(nodes::addAll); // read only by subgraphs or by nothing
        return graph.clearInitializer().addAllInitializer(kept).clearNode().addAllNode(nodes).build();
    }

    public static String describe(Map<String, long[]> shapes) {
        StringBuilder sb = new StringBuilder();
        shapes.forEach((name, dims) -> sb.append(sb.length() == 0 ? "" : ", ").append(name).append('=')
                .append(TextTable.dims(dims)));
        return sb.toString();
    }

}
