package org.lrdkt.train;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.lrdkt.LrdktException;
import org.lrdkt.onnx.Attrs;
import org.lrdkt.onnx.Graph;
import org.lrdkt.onnx.OnnxModel;
import org.lrdkt.onnx.Shapes;
import org.lrdkt.onnx.TensorData;
import org.lrdkt.onnx.proto.Onnx.AttributeProto;
import org.lrdkt.onnx.proto.Onnx.GraphProto;
import org.lrdkt.onnx.proto.Onnx.ModelProto;
import org.lrdkt.onnx.proto.Onnx.NodeProto;
import org.lrdkt.onnx.proto.Onnx.OperatorSetIdProto;
import org.lrdkt.onnx.proto.Onnx.TensorProto;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * An ONNX graph mirrored as ND4J arrays and ops that can run forward and backward: the student during
 * fine-tuning (its weights train) or the teacher (frozen: no gradients, its arrays never change). Weights are
 * read from initializers and Constant nodes, and written back into a copy of the model in the same places.
 *
 * <p>Trainable: float constants of more than one element in the inputs that the op registry ({@link Ops}) marks as
 * weights: Conv, ConvTranspose and Gemm weight/bias, MatMul operands, Add/Sub/Mul/Div/Sum/Mean operands (biases
 * and scales), PRelu slopes, and the scale/bias of BatchNormalization, LayerNormalization and InstanceNormalization. BatchNormalization running statistics stay frozen; scalars (Clip
 * bounds, constant divisors) and integer tensors never train. Weights of any float type train in the mirror's type
 * and are written back in their own (fp16 stays fp16), also where a Cast feeds them to a float graph.
 */
public final class Mirror {

    /**
     * A weight: where it lives in the ONNX model, its current value (a view into {@link #flatParameters()}) and
     * where that view starts in the flat vector.
     */
    public record Parameter(String name, TensorProto original, INDArray value, long offset) {
    }

    /**
     * Gradients of every trainable parameter: one flat vector laid out like {@link #flatParameters()} and a view
     * of it per parameter name. A parameter that nothing in the loss reaches gets zeros. The mirror reuses the
     * vector: it holds these gradients until its next {@link #backward}.
     */
    public record Gradients(INDArray flat, Map<String, INDArray> byName) {
    }

    private record Step(NodeProto node, MirrorOp op, String[] inputs, String[] outputs) {
    }

    private final ModelProto model;
    private final DataType dataType;
    private final List<Step> steps = new ArrayList<>();
    private final Map<String, INDArray> constants = new HashMap<>();
    private final Map<String, Parameter> parameters = new LinkedHashMap<>();
    private final Set<String> needsGrad = new HashSet<>();
    private final List<String> inputNames = new ArrayList<>();
    private final List<String> outputNames = new ArrayList<>();
    private final Set<String> produced = new HashSet<>();
    /**
     * Activations that their one consumer may overwrite ({@link MirrorOp#forwardInPlace}): no other op reads them,
     * their producer's backward pass does not, and they are not graph outputs.
     */
    private final Set<String> overwritable = new HashSet<>();
    /** Per tensor that some step reads, the index of the last step that reads it. */
    private final Map<String, Integer> lastRead = new HashMap<>();
    private INDArray flatParameters;
    private Gradients gradients;

    private Mirror(ModelProto model, DataType dataType) {
        this.model = model;
        this.dataType = Tensors.checkFloat(dataType);
    }

    /** Mirrors {@code model}; with {@code trainable} false nothing gets a gradient (a frozen teacher). */
    public static Mirror of(OnnxModel model, DataType dataType, boolean trainable) throws LrdktException {
        Mirror m = new Mirror(model.proto(), dataType);
        m.build(Graph.of(model), opset(model.proto()), trainable);
        return m;
    }

    private static int opset(ModelProto model) {
        for (OperatorSetIdProto o : model.getOpsetImportList()) {
            if (o.getDomain().isEmpty() || o.getDomain().equals("ai.onnx")) {
                return (int) o.getVersion();
            }
        }
        return 13;
    }

    private void build(Graph graph, int opset, boolean trainable) throws LrdktException {
        for (NodeProto n : graph.nodes()) {
            if (!n.getDomain().isEmpty() && !n.getDomain().equals("ai.onnx")) {
                throw LrdktException.unsupported("op " + n.getDomain() + "." + n.getOpType() + " (node '"
                        + n.getName() + "') is not supported by the training mirror");
            }
            if (!n.getOpType().equals("Constant")) {
                Ops.entry(n); // refuses an unsupported op in one line naming it and the node, before any work
            }
        }
        for (TensorProto t : graph.proto().getInitializerList()) {
            constants.put(t.getName(), toArray(t));
        }
        for (var v : graph.realInputs()) {
            inputNames.add(v.getName());
        }
        graph.proto().getOutputList().forEach(v -> outputNames.add(v.getName()));
        for (NodeProto n : graph.nodes()) {
            if (n.getOpType().equals("Constant")) {
                constants.put(n.getOutput(0), toArray(constantValue(n)));
                continue;
            }
            checkOutputs(graph, n);
            try {
                steps.add(new Step(n, Ops.create(n, opset, dataType), n.getInputList().toArray(String[]::new),
                        n.getOutputList().toArray(String[]::new)));
            } catch (MirrorShapeException e) {
                throw unsupported(n, e);
            }
            produced.addAll(n.getOutputList());
        }
        analyseReads(graph);
        if (trainable) {
            findParameters(graph);
            flattenParameters();
        }
        for (Step s : steps) {
            for (String in : s.inputs()) {
                if (needsGrad.contains(in)) {
                    needsGrad.addAll(List.of(s.outputs()));
                    break;
                }
            }
        }
    }

    private void analyseReads(Graph graph) {
        Map<String, Step> producers = new HashMap<>();
        Map<String, Integer> reads = new HashMap<>();
        for (int si = 0; si < steps.size(); si++) {
            Step s = steps.get(si);
            for (String out : s.outputs()) {
                producers.put(out, s);
            }
            for (String in : s.inputs()) {
                reads.merge(in, 1, Integer::sum);
                lastRead.put(in, si);
            }
        }
        for (Step s : steps) {
            if (s.op().overwritesInput() && s.inputs().length > 0) {
                String x = s.inputs()[0];
                Step producer = producers.get(x);
                if (producer != null && !producer.op().backwardReadsOutputs() && reads.get(x) == 1
                        && !graph.isGraphOutput(x)) {
                    overwritable.add(x);
                }
            }
        }
    }

    /** The one-line refusal of a node the mirror cannot train through; it names the op and the node. */
    private static LrdktException unsupported(NodeProto node, MirrorShapeException e) {
        String where = node.getOpType() + " '" + node.getName() + "'";
        return LrdktException.unsupported(e.getMessage().contains(where) ? e.getMessage()
                : where + ": " + e.getMessage() + " is not supported by the training mirror");
    }

    /** Extra outputs (Dropout mask, MaxPool indices, BatchNormalization training statistics) cannot be mirrored. */
    private static void checkOutputs(Graph graph, NodeProto n) throws LrdktException {
        if (Ops.entry(n).allOutputs()) {
            return;
        }
        for (int i = 1; i < n.getOutputCount(); i++) {
            String out = n.getOutput(i);
            if (!out.isEmpty() && (!graph.consumers(out).isEmpty() || graph.isGraphOutput(out))) {
                throw LrdktException.unsupported(n.getOpType() + " node '" + n.getName() + "' uses output " + i
                        + " ('" + out + "'); the mirror computes only the first output (training-mode "
                        + "BatchNormalization, Dropout masks and MaxPool indices are not supported)");
            }
        }
    }

    private static TensorProto constantValue(NodeProto n) throws LrdktException {
        for (AttributeProto a : n.getAttributeList()) {
            switch (a.getName()) {
                case "value":
                    return a.getT();
                case "value_float":
                    return TensorData.fromFloats(n.getOutput(0), new long[0], new float[] {a.getF()},
                            TensorProto.DataType.FLOAT_VALUE);
                case "value_floats": {
                    float[] v = new float[a.getFloatsCount()];
                    for (int i = 0; i < v.length; i++) {
                        v[i] = a.getFloats(i);
                    }
                    return TensorData.fromFloats(n.getOutput(0), new long[] {v.length}, v,
                            TensorProto.DataType.FLOAT_VALUE);
                }
                case "value_int":
                    return TensorData.fromLongs(n.getOutput(0), new long[0], new long[] {a.getI()});
                case "value_ints":
                    return TensorData.fromLongs(n.getOutput(0), new long[] {a.getIntsCount()},
                            a.getIntsList().stream().mapToLong(Long::longValue).toArray());
                default:
                    break;
            }
        }
        throw LrdktException.unsupported("Constant node '" + n.getName() + "' has no value attribute the mirror "
                + "reads (value, value_float(s), value_int(s))");
    }

    private INDArray toArray(TensorProto t) throws LrdktException {
        long[] dims = TensorData.dims(t);
        if (TensorData.isFloatingPoint(t.getDataType())) {
            return Nd4j.createFromArray(TensorData.toFloats(t)).castTo(dataType).reshape('c', dims);
        }
        if (t.getDataType() == TensorProto.DataType.INT64_VALUE || t.getDataType() == TensorProto.DataType.INT32_VALUE) {
            return Nd4j.createFromArray(TensorData.toLongs(t)).reshape('c', dims);
        }
        return null; // other types (bool, strings) are read by no supported op
    }

    private void findParameters(Graph graph) throws LrdktException {
        for (Step s : steps) {
            for (int i = 0; i < s.inputs().length; i++) {
                if (!Ops.weightSlot(s.node().getOpType(), i)) {
                    continue;
                }
                String source = graph.constantSource(s.inputs()[i]).orElse(null);
                if (source == null || parameters.containsKey(source)) {
                    continue;
                }
                INDArray value = constants.get(source);
                if (value == null || !value.dataType().isFPType() || value.length() < 2) {
                    continue;
                }
                if (graph.initializer(source) == null && Attrs.find(graph.producer(source), "value").isEmpty()) {
                    continue; // value_floats constants: no tensor to write back into
                }
                TensorProto original = graph.initializer(source) != null ? graph.initializer(source)
                        : constantValue(graph.producer(source));
                parameters.put(source, new Parameter(source, original, value, 0));
                needsGrad.add(source);
            }
        }
    }

    /**
     * Moves every parameter into one contiguous vector and makes its value a view of it, so that an optimizer
     * updates all weights with a handful of whole-vector operations instead of several per weight.
     */
    @SuppressWarnings("try") // the workspace scope is the point; its handle is never read
    private void flattenParameters() {
        if (parameters.isEmpty()) {
            return;
        }
        long length = parameters.values().stream().mapToLong(p -> p.value().length()).sum();
        INDArray flatGradients;
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            flatParameters = Nd4j.create(dataType, length);
            flatGradients = Nd4j.create(dataType, length);
        }
        Map<String, INDArray> gradientViews = new LinkedHashMap<>();
        long offset = 0;
        for (Map.Entry<String, Parameter> e : parameters.entrySet()) {
            Parameter p = e.getValue();
            INDArray view = segment(flatParameters, offset, p.value().shape());
            view.assign(p.value());
            e.setValue(new Parameter(p.name(), p.original(), view, offset));
            constants.put(p.name(), view);
            gradientViews.put(p.name(), segment(flatGradients, offset, p.value().shape()));
            offset += view.length();
        }
        // the views are made once: creating ~2 views per parameter cost more per step than copying the gradients
        gradients = new Gradients(flatGradients, Collections.unmodifiableMap(gradientViews));
    }

    /** The view of {@code flat} (a vector laid out like {@link #flatParameters()}) that holds parameter {@code p}. */
    static INDArray segment(INDArray flat, Parameter p) {
        return segment(flat, p.offset(), p.value().shape());
    }

    private static INDArray segment(INDArray flat, long offset, long[] shape) {
        long length = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
        return flat.get(NDArrayIndex.interval(offset, offset + length)).reshape('c', shape);
    }

    public DataType dataType() {
        return dataType;
    }

    public List<String> inputNames() {
        return Collections.unmodifiableList(inputNames);
    }

    public List<String> outputNames() {
        return Collections.unmodifiableList(outputNames);
    }

    /** Tensors computed by some node (hint candidates), graph inputs and constants excluded. */
    public boolean computes(String tensor) {
        return produced.contains(tensor);
    }

    /** Trainable weights by name (initializer or Constant output), in graph order; values update in place. */
    public Map<String, Parameter> parameters() {
        return Collections.unmodifiableMap(parameters);
    }

    /** Every trainable weight in one vector, in {@link #parameters()} order; null when nothing trains. */
    public INDArray flatParameters() {
        return flatParameters;
    }

    /** Runs the graph; returns every tensor's value (inputs, constants, activations) by name. */
    public Map<String, INDArray> forward(Map<String, INDArray> feeds) throws LrdktException {
        return forward(feeds, null);
    }

    /**
     * Runs the graph for a caller that reads only the graph outputs and the {@code read} tensors of the result
     * (every tensor when null), besides passing it to {@link #backward}: an activation that only one ReLU or Clip
     * consumes may then hold that op's output instead of its own value, one activation-sized array fewer (the
     * in-place activations of PyTorch).
     */
    public Map<String, INDArray> forward(Map<String, INDArray> feeds, Set<String> read) throws LrdktException {
        return run(feeds, read, null);
    }

    /**
     * A forward pass that no backward pass follows (a frozen teacher's, an evaluation's): returns the graph outputs
     * and the {@code kept} tensors (with inputs and constants); every other activation is dropped after its last
     * reader, and {@code release} may let go of the memory of those dropped.
     */
    Map<String, INDArray> infer(Map<String, INDArray> feeds, Set<String> kept, Release release)
            throws LrdktException {
        return run(feeds, kept, release);
    }

    private Map<String, INDArray> run(Map<String, INDArray> feeds, Set<String> read, Release release)
            throws LrdktException {
        Map<String, INDArray> values = new HashMap<>(constants);
        for (Map.Entry<String, INDArray> f : feeds.entrySet()) {
            values.put(f.getKey(), f.getValue().castTo(dataType));
        }
        Map<String, INDArray> live = new HashMap<>(); // activations held, when releasing
        for (int si = 0; si < steps.size(); si++) {
            Step s = steps.get(si);
            INDArray[] in = new INDArray[s.inputs().length];
            for (int i = 0; i < in.length; i++) {
                if (!s.inputs()[i].isEmpty()) {
                    in[i] = values.get(s.inputs()[i]);
                }
            }
            INDArray[] out;
            try {
                String x = in.length > 0 ? s.inputs()[0] : "";
                out = read != null && overwritable.contains(x) && !read.contains(x)
                        ? s.op().forwardInPlace(in) : s.op().forward(in);
            } catch (MirrorShapeException e) {
                throw unsupported(s.node(), e);
            } catch (RuntimeException e) {
                throw new LrdktException(LrdktException.Kind.RUNTIME, s.node().getOpType() + " node '"
                        + s.node().getName() + "' failed in the training mirror: " + LrdktException.firstLine(String.valueOf(e.getMessage())), e);
            }
            for (int i = 0; i < out.length && i < s.outputs().length; i++) {
                values.put(s.outputs()[i], out[i]);
            }
            if (release != null) {
                live = released(s, si, out, read, live, values, release);
            }
        }
        return values;
    }

    /** After step {@code si} of an inference pass: its outputs join the live activations, dead ones leave. */
    private Map<String, INDArray> released(Step s, int si, INDArray[] out, Set<String> kept,
                                           Map<String, INDArray> live, Map<String, INDArray> values, Release release) {
        for (int i = 0; i < out.length && i < s.outputs().length; i++) {
            live.put(s.outputs()[i], out[i]);
        }
        for (String x : s.inputs()) {
            if (lastRead.get(x) == si && !kept.contains(x) && !outputNames.contains(x) && live.remove(x) != null) {
                values.remove(x);
            }
        }
        Map<String, INDArray> moved = release.between(live);
        if (moved != live) {
            values.putAll(moved);
        }
        return moved;
    }

    /**
     * Back-propagates from the given tensor gradients (e.g. of the logits and hint tensors) through a forward
     * pass's values; returns the gradients of the trainable parameters.
     */
    public Gradients backward(Map<String, INDArray> values, Map<String, INDArray> seeds)
            throws LrdktException {
        return backward(values, seeds, live -> live);
    }

    /**
     * Where a backward pass may let go of its scratch memory between two ops (the training step's, so that used-up
     * gradients and op temporaries do not pile up over the whole pass).
     */
    @FunctionalInterface
    interface Release {
        /**
         * Called after each op with the gradients still to be used; returns them, or copies of them that outlive a
         * release of everything else the pass has allocated so far.
         */
        Map<String, INDArray> between(Map<String, INDArray> live);
    }

    /** {@link #backward(Map, Map)}, letting go of memory through {@code release}. */
    Gradients backward(Map<String, INDArray> values, Map<String, INDArray> seeds, Release release)
            throws LrdktException {
        Map<String, INDArray> grads = new HashMap<>();
        for (Map.Entry<String, INDArray> seed : seeds.entrySet()) {
            accumulate(grads, seed.getKey(), seed.getValue());
        }
        for (int si = steps.size() - 1; si >= 0; si--) {
            Step s = steps.get(si);
            INDArray[] gradOut = new INDArray[s.outputs().length];
            boolean any = false;
            for (int i = 0; i < gradOut.length; i++) {
                gradOut[i] = grads.remove(s.outputs()[i]);
                any |= gradOut[i] != null;
            }
            boolean[] need = new boolean[s.inputs().length];
            boolean anyNeed = false;
            for (int i = 0; i < need.length; i++) {
                need[i] = !s.inputs()[i].isEmpty() && needsGrad.contains(s.inputs()[i]);
                anyNeed |= need[i];
            }
            if (!any || !anyNeed) {
                continue;
            }
            INDArray[] in = new INDArray[s.inputs().length];
            for (int i = 0; i < in.length; i++) {
                in[i] = s.inputs()[i].isEmpty() ? null : values.get(s.inputs()[i]);
            }
            INDArray[] out = new INDArray[s.outputs().length];
            for (int i = 0; i < out.length; i++) {
                out[i] = values.get(s.outputs()[i]);
            }
            INDArray[] gin;
            try {
                gin = s.op().backward(in, out, gradOut, need);
            } catch (MirrorShapeException e) {
                throw unsupported(s.node(), e);
            } catch (RuntimeException e) {
                throw new LrdktException(LrdktException.Kind.RUNTIME, s.node().getOpType() + " node '"
                        + s.node().getName() + "' failed in the backward pass: " + LrdktException.firstLine(String.valueOf(e.getMessage())), e);
            }
            for (int i = 0; i < need.length; i++) {
                if (need[i] && gin[i] != null) {
                    accumulate(grads, s.inputs()[i], gin[i]);
                }
            }
            grads = release.between(grads);
        }
        if (flatParameters == null) {
            return new Gradients(null, Map.of());
        }
        for (Map.Entry<String, INDArray> e : gradients.byName().entrySet()) {
            INDArray view = e.getValue();
            INDArray g = grads.get(e.getKey());
            if (g == null) {
                view.assign(0);
            } else {
                view.assign(Arrays.equals(g.shape(), view.shape()) ? g : g.reshape('c', view.shape()));
            }
        }
        return gradients;
    }

    private static void accumulate(Map<String, INDArray> grads, String tensor, INDArray g) {
        // never add in place: a gradient array may be shared (pass-through ops hand the same array on)
        grads.merge(tensor, g, INDArray::add);
    }

    /** A copy of the mirrored model with the current parameter values in its initializers and Constant nodes. */
    public OnnxModel writeBack(OnnxModel original) {
        GraphProto.Builder graph = original.graph().toBuilder();
        for (int i = 0; i < graph.getInitializerCount(); i++) {
            Parameter p = parameters.get(graph.getInitializer(i).getName());
            if (p != null) {
                graph.setInitializer(i, updated(p));
            }
        }
        for (int i = 0; i < graph.getNodeCount(); i++) {
            NodeProto n = graph.getNode(i);
            if (!n.getOpType().equals("Constant") || !parameters.containsKey(n.getOutput(0))) {
                continue;
            }
            Parameter p = parameters.get(n.getOutput(0));
            NodeProto.Builder nb = n.toBuilder();
            for (int a = 0; a < nb.getAttributeCount(); a++) {
                if (nb.getAttribute(a).getName().equals("value")) {
                    nb.setAttribute(a, Attrs.find(n, "value").orElseThrow().toBuilder().setT(updated(p)));
                }
            }
            graph.setNode(i, nb);
        }
        return original.withProto(original.proto().toBuilder().setGraph(graph).build());
    }

    private static TensorProto updated(Parameter p) {
        float[] values = p.value().castTo(DataType.FLOAT).dup('c').data().asFloat();
        TensorProto fresh = TensorData.fromFloats(p.original().getName(), TensorData.dims(p.original()), values,
                p.original().getDataType());
        // keep doc strings and other fields of the original; only the data changes
        return p.original().toBuilder().clearRawData().clearFloatData().clearDoubleData().clearInt32Data()
                .setRawData(fresh.getRawData()).build();
    }
}
