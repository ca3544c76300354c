package org.lrdkt.onnx;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.lrdkt.LrdktException;
import org.lrdkt.onnx.proto.Onnx.AttributeProto;
import org.lrdkt.onnx.proto.Onnx.GraphProto;
import org.lrdkt.onnx.proto.Onnx.NodeProto;
import org.lrdkt.onnx.proto.Onnx.TensorProto;
import org.lrdkt.onnx.proto.Onnx.ValueInfoProto;

/**
 * A read-only view of an ONNX graph: who produces and consumes each tensor, a topological order, constant values
 * wherever exporters put them (initializers, {@code Constant} nodes, behind {@code Identity}), and the layers
 * (Conv/Gemm/MatMul with constant weights) with their stable names. Construction validates the structure: every
 * tensor a node reads exists, no tensor has two producers, no cycles.
 */
public final class Graph {

    private final GraphProto proto;
    private final Map<String, TensorProto> initializers = new HashMap<>();
    private final Map<String, NodeProto> producers = new HashMap<>();
    private final Map<String, List<NodeProto>> consumers = new HashMap<>();
    private final List<NodeProto> topological;

    public Graph(GraphProto proto) throws LrdktException {
        this.proto = proto;
        for (TensorProto t : proto.getInitializerList()) {
            initializers.put(t.getName(), t);
        }
        Set<String> available = new HashSet<>(initializers.keySet());
        for (ValueInfoProto v : proto.getInputList()) {
            available.add(v.getName());
        }
        for (NodeProto n : proto.getNodeList()) {
            for (String out : n.getOutputList()) {
                if (out.isEmpty()) {
                    continue;
                }
                if (producers.put(out, n) != null || initializers.containsKey(out)) {
                    throw LrdktException.badInput("tensor '" + out + "' is produced twice (node '" + n.getName()
                            + "', op " + n.getOpType() + ")");
                }
                available.add(out);
            }
        }
        for (NodeProto n : proto.getNodeList()) {
            for (String in : n.getInputList()) {
                if (in.isEmpty()) {
                    continue; // an omitted optional input
                }
                if (!available.contains(in)) {
                    throw LrdktException.badInput("node '" + n.getName() + "' (" + n.getOpType()
                            + ") reads tensor '" + in + "' that no node, input or initializer provides");
                }
                consumers.computeIfAbsent(in, k -> new ArrayList<>()).add(n);
            }
        }
        for (ValueInfoProto v : proto.getOutputList()) {
            if (!available.contains(v.getName())) {
                throw LrdktException.badInput("graph output '" + v.getName() + "' is not produced by any node");
            }
        }
        this.topological = sort();
    }

    public static Graph of(OnnxModel model) throws LrdktException {
        return new Graph(model.graph());
    }

    public GraphProto proto() {
        return proto;
    }

    /** Nodes in an order where every node comes after the producers of its inputs. */
    public List<NodeProto> nodes() {
        return topological;
    }

    /** The node producing {@code tensor}, or null for graph inputs and initializers. */
    public NodeProto producer(String tensor) {
        return producers.get(tensor);
    }

    public List<NodeProto> consumers(String tensor) {
        return consumers.getOrDefault(tensor, List.of());
    }

    public boolean isGraphOutput(String tensor) {
        return proto.getOutputList().stream().anyMatch(v -> v.getName().equals(tensor));
    }

    /** Graph inputs that are not initializers: what a user feeds. */
    public List<ValueInfoProto> realInputs() {
        List<ValueInfoProto> out = new ArrayList<>();
        for (ValueInfoProto v : proto.getInputList()) {
            if (!initializers.containsKey(v.getName())) {
                out.add(v);
            }
        }
        return out;
    }

    public TensorProto initializer(String name) {
        return initializers.get(name);
    }

    /**
     * The constant value of {@code tensor}: an initializer, the {@code value} of a Constant node, or either of those
     * seen through Identity nodes and Casts between float types ({@link #constantSource}). The value is as stored:
     * behind a Cast its data type is the source's (FLOAT16 weights Cast to float), see {@link #constantType}.
     */
    public Optional<TensorProto> constant(String tensor) {
        return constantSource(tensor).map(this::storedConstant);
    }

    private TensorProto storedConstant(String source) {
        TensorProto init = initializers.get(source);
        return init != null ? init : Attrs.find(producers.get(source), "value").filter(AttributeProto::hasT)
                .map(AttributeProto::getT).orElse(null);
    }

    /**
     * The initializer or Constant-node output that {@code tensor}'s value comes from, through any chain of Identity
     * nodes and Casts from a float type to a float type (how fp16 exports feed their weights to a float graph);
     * empty when the value is computed.
     */
    public Optional<String> constantSource(String tensor) {
        String name = tensor;
        boolean cast = false;
        for (int hops = 0; hops < 64 && !name.isEmpty(); hops++) {
            if (initializers.containsKey(name)) {
                return floatUnlessCast(name, cast);
            }
            NodeProto p = producers.get(name);
            if (p == null) {
                return Optional.empty();
            }
            if (p.getOpType().equals("Constant")) {
                return floatUnlessCast(name, cast);
            }
            boolean floatCast = p.getOpType().equals("Cast")
                    && TensorData.isFloatingPoint((int) Attrs.getInt(p, "to", 0));
            if (!(p.getOpType().equals("Identity") || floatCast) || p.getInputCount() == 0) {
                return Optional.empty();
            }
            cast |= floatCast;
            name = p.getInput(0);
        }
        return Optional.empty();
    }

    /** A source seen through a Cast counts only when it is itself float: a Cast from integers computes a value. */
    private Optional<String> floatUnlessCast(String source, boolean cast) {
        TensorProto t = cast ? storedConstant(source) : null;
        return !cast || (t != null && TensorData.isFloatingPoint(t.getDataType())) ? Optional.of(source)
                : Optional.empty();
    }

    /**
     * The data type a constant {@code tensor} has where it is read: the target of the Cast nearest to it, else the
     * stored type. For an fp16 weight Cast to float, FLOAT while {@link #constant} holds FLOAT16.
     */
    public Optional<Integer> constantType(String tensor) {
        Optional<TensorProto> stored = constant(tensor);
        if (stored.isEmpty()) {
            return Optional.empty();
        }
        NodeProto p;
        for (String name = tensor; (p = producers.get(name)) != null && !p.getOpType().equals("Constant");
                name = p.getInput(0)) {
            if (p.getOpType().equals("Cast")) {
                return Optional.of((int) Attrs.getInt(p, "to", 0));
            }
        }
        return Optional.of(stored.get().getDataType());
    }

    /** The stable name of a layer: its node name, or its weight tensor's name when the node has none. */
    public static String layerName(NodeProto node, String weightTensor) {
        return node.getName().isEmpty() ? weightTensor : node.getName();
    }

    /** Every Conv, Gemm and MatMul with a constant weight, in topological order. */
    public List<Layer> layers() {
        List<Layer> layers = new ArrayList<>();
        for (NodeProto n : topological) {
            Layer layer = switch (n.getOpType()) {
                case "Conv" -> convLayer(n);
                case "Gemm" -> gemmLayer(n);
                case "MatMul" -> matMulLayer(n);
                default -> null;
            };
            if (layer != null) {
                layers.add(layer);
            }
        }
        return Collections.unmodifiableList(layers);
    }

    /** Layers by name, keeping order; names are unique because node names or weight names are. */
    public Map<String, Layer> layersByName() {
        Map<String, Layer> byName = new LinkedHashMap<>();
        for (Layer l : layers()) {
            byName.putIfAbsent(l.name(), l);
        }
        return byName;
    }

    /** Input 1 of a Conv/Gemm node when it is a constant (the weight), else empty. */
    private Optional<TensorProto> constantWeight(NodeProto n) {
        return n.getInputCount() < 2 ? Optional.empty() : constant(n.getInput(1));
    }

    /** Input 2 of a Conv/Gemm node (the optional bias), or null when absent. */
    private static String biasInput(NodeProto n) {
        return n.getInputCount() > 2 && !n.getInput(2).isEmpty() ? n.getInput(2) : null;
    }

    private Layer convLayer(NodeProto n) {
        Optional<TensorProto> w = constantWeight(n);
        if (w.isEmpty()) {
            return null;
        }
        return new Layer(layerName(n, n.getInput(1)), n, Layer.Kind.CONV, n.getInput(1), TensorData.dims(w.get()),
                biasInput(n), null, Attrs.getInt(n, "group", 1));
    }

    private Layer gemmLayer(NodeProto n) {
        Optional<TensorProto> w = constantWeight(n);
        if (w.isEmpty()) {
            return null;
        }
        return new Layer(layerName(n, n.getInput(1)), n, Layer.Kind.GEMM, n.getInput(1), TensorData.dims(w.get()),
                biasInput(n), null, 1);
    }

    private Layer matMulLayer(NodeProto n) {
        if (n.getInputCount() < 2) {
            return null;
        }
        Optional<TensorProto> w = constant(n.getInput(1));
        if (w.isEmpty() || constant(n.getInput(0)).isPresent()) {
            return null;
        }
        long[] shape = TensorData.dims(w.get());
        NodeProto biasAdd = null;
        String bias = null;
        List<NodeProto> next = consumers(n.getOutput(0));
        // a bias is only read from a float (in, out) weight's layer: the one layout a MatMul is decomposed in
        boolean fullyConnected = shape.length == 2 && TensorData.isFloatingPoint(w.get().getDataType());
        if (fullyConnected && next.size() == 1 && next.get(0).getOpType().equals("Add")
                && !isGraphOutput(n.getOutput(0))) {
            NodeProto add = next.get(0);
            String other = add.getInput(0).equals(n.getOutput(0)) ? add.getInput(1) : add.getInput(0);
            Optional<TensorProto> b = constant(other);
            if (b.isPresent() && TensorData.dims(b.get()).length == 1 && TensorData.dims(b.get())[0] == shape[1]) {
                biasAdd = add;
                bias = other;
            }
        }
        return new Layer(layerName(n, n.getInput(1)), n, Layer.Kind.MATMUL, n.getInput(1), shape, bias, biasAdd, 1);
    }

    private List<NodeProto> sort() throws LrdktException {
        Map<NodeProto, Integer> pending = new IdentityHashMap<>();
        Deque<NodeProto> ready = new ArrayDeque<>();
        for (NodeProto n : proto.getNodeList()) {
            int waiting = 0;
            for (String in : n.getInputList()) {
                if (!in.isEmpty() && producers.containsKey(in)) {
                    waiting++;
                }
            }
            pending.put(n, waiting);
            if (waiting == 0) {
                ready.add(n);
            }
        }
        List<NodeProto> order = new ArrayList<>(proto.getNodeCount());
        while (!ready.isEmpty()) {
            NodeProto n = ready.poll();
            order.add(n);
            for (String out : n.getOutputList()) {
                for (NodeProto c : consumers.getOrDefault(out, List.of())) {
                    // a node reading the same tensor twice is listed twice in consumers, matching its count
                    int left = pending.merge(c, -1, Integer::sum);
                    if (left == 0) {
                        ready.add(c);
                    }
                }
            }
        }
        if (order.size() != proto.getNodeCount()) {
            throw LrdktException.badInput("the graph has a cycle: " + (proto.getNodeCount() - order.size())
                    + " nodes depend on their own outputs");
        }
        return Collections.unmodifiableList(order);
    }
}
