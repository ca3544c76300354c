package org.lrdkt.decompose;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.lrdkt.Json;
import org.lrdkt.LrdktException;
import org.lrdkt.onnx.Costs;
import org.lrdkt.onnx.Graph;
import org.lrdkt.onnx.Layer;
import org.lrdkt.onnx.OnnxModel;
import org.lrdkt.onnx.Shapes;
import org.lrdkt.onnx.proto.Onnx.GraphProto;
import org.lrdkt.onnx.proto.Onnx.ModelProto;
import org.lrdkt.onnx.proto.Onnx.NodeProto;
import org.lrdkt.onnx.proto.Onnx.StringStringEntryProto;
import org.lrdkt.onnx.proto.Onnx.TensorProto;
import org.lrdkt.onnx.proto.Onnx.ValueInfoProto;

/**
 * {@code lrdkt compress}: chooses a rank per layer, computes each closed-form factor pair and rewrites the graph.
 * The student keeps the teacher's IR version, opsets, inputs, outputs and metadata, and records the ranks used
 * ({@value #RANKS_KEY}) and the output tensors of the rewritten layers ({@value #HINTS_KEY}, the default
 * knowledge-transfer hint points) in its {@code metadata_props}.
 */
public final class Compressor {

    /** Student metadata: JSON object {layer name: K}. */
    public static final String RANKS_KEY = "lrdkt.ranks";
    /** Student metadata: JSON array of the decomposed layers' output tensor names. */
    public static final String HINTS_KEY = "lrdkt.hints";

    /** The result: the student model and what was decided for every layer. */
    public record Compression(OnnxModel student, CompressReport report) {
    }

    /** One layer on its way through: its candidate, chosen unfolding and decomposition, and the decision. */
    private static final class Plan {
        final Layer layer;
        Candidate candidate;
        Unfolding unfolding;
        LowRank lowRank;
        int rank;
        /** A rank that was chosen and then refused (break-even); 0 when none. */
        int refusedRank;
        String skipReason;
        /** Measured ONNX Runtime times of the layer and its pairs (null unless ranks are priced by latency). */
        LatencyTable.Curve latency;

        Plan(Layer layer) {
            this.layer = layer;
        }

        boolean analysed() {
            return lowRank != null;
        }
    }

    private Compressor() {
    }

    public static Compression compress(OnnxModel teacher, CompressOptions options) throws LrdktException {
        return compress(teacher, options, false);
    }

    /**
     * As {@link #compress(OnnxModel, CompressOptions)}; {@code beyondBreakEven} keeps ranks at or above break-even
     * (a pair that saves nothing), which only tests want: at full rank the pair must reproduce the layer exactly.
     */
    static Compression compress(OnnxModel teacher, CompressOptions options, boolean beyondBreakEven)
            throws LrdktException {
        Graph graph = Graph.of(teacher);
        Map<String, Layer> byName = graph.layersByName();
        checkRankFileNames(options, byName);
        Map<String, long[]> inputs = Shapes.resolveInputShapes(graph, options.inputShape());
        Map<String, long[]> shapes = Shapes.infer(teacher, inputs);

        List<Plan> plans = new ArrayList<>();
        List<Plan> todo = new ArrayList<>();
        for (Layer layer : byName.values()) {
            Plan p = new Plan(layer);
            plans.add(p);
            p.skipReason = eligibility(layer, options);
            if (p.skipReason == null) {
                p.candidate = Candidate.of(graph, layer, shapes);
                todo.add(p);
            }
        }
        forEachLayer(todo, options.threads(), p -> analyse(p, options));
        chooseRanks(todo, options, beyondBreakEven, teacher.proto());

        UniqueNames names = new UniqueNames(teacher.graph());
        Map<NodeProto, Factoriser.Replacement> replacements = new IdentityHashMap<>();
        Map<String, List<String>> replacementNodes = new HashMap<>();
        Map<Plan, LowRank.Factors> factors = new java.util.concurrent.ConcurrentHashMap<>();
        List<Plan> chosen = todo.stream().filter(p -> p.rank > 0).toList();
        forEachLayer(chosen, options.threads(), p -> factors.put(p, factors(p)));
        for (Plan p : chosen) { // in graph order, so that generated names do not depend on thread timing
            Candidate c = p.candidate;
            ConvGeometry geometry = c.layer().isConv() ? ConvGeometry.of(c.layer().node(), c.shape()[2],
                    c.shape()[3], c.inputShape(), c.name()) : null;
            Factoriser.Replacement r = Factoriser.build(c, p.unfolding, factors.remove(p), geometry, names);
            replacements.put(c.layer().node(), r);
            replacementNodes.put(c.name(), r.nodes().stream().map(NodeProto::getName).toList());
        }
        ModelProto studentProto = rewrite(teacher.proto(), todo, replacements);
        OnnxModel student = teacher.withProto(studentProto);
        Graph studentGraph = Graph.of(student); // validates the rewrite: every tensor produced once, no cycles
        CompressReport report = report(teacher, options, inputs, shapes, plans, replacementNodes,
                Costs.modelParams(graph),
                Costs.modelParams(studentGraph));
        return new Compression(student, report);
    }

    private static void checkRankFileNames(CompressOptions options, Map<String, Layer> byName) throws LrdktException {
        if (options.policy() != CompressOptions.Policy.RANKS) {
            return;
        }
        for (Map.Entry<String, Integer> e : options.ranks().entrySet()) {
            if (!byName.containsKey(e.getKey())) {
                throw LrdktException.usage("ranks file names '" + e.getKey() + "', which is not a Conv/Gemm/MatMul "
                        + "layer of this model (lrdkt inspect lists them)");
            }
            if (e.getValue() == null || e.getValue() <= 0) {
                throw LrdktException.usage("rank " + e.getValue() + " for layer '" + e.getKey()
                        + "' must be a positive integer");
            }
        }
    }

    /** Null when the layer goes on to analysis, else why it is left untouched. */
    private static String eligibility(Layer layer, CompressOptions options) throws LrdktException {
        if (layer.unsupported() != null) {
            if (options.policy() == CompressOptions.Policy.RANKS && options.ranks().containsKey(layer.name())) {
                throw LrdktException.usage("ranks file asks rank " + options.ranks().get(layer.name()) + " for layer '"
                        + layer.name() + "', which cannot be decomposed: " + layer.unsupported());
            }
            return layer.unsupported();
        }
        if (options.include() != null && !options.include().matcher(layer.name()).find()) {
            return "excluded (not matched by --include)";
        }
        if (options.exclude() != null && options.exclude().matcher(layer.name()).find()) {
            return "excluded by --exclude";
        }
        if (options.policy() == CompressOptions.Policy.RANKS && !options.ranks().containsKey(layer.name())) {
            return "not in the ranks file";
        }
        return null;
    }

    private static LowRank.Factors factors(Plan p) throws LrdktException {
        Candidate c = p.candidate;
        try (Matrix m = c.matrix(p.unfolding)) {
            return p.lowRank.factors(m, p.rank);
        } catch (LrdktException e) {
            throw new LrdktException(e.kind(), "layer '" + c.name() + "': " + e.getMessage(), e);
        }
    }

    /** Work on one layer; may throw. */
    private interface LayerTask {
        void run(Plan p) throws LrdktException;
    }

    /**
     * Runs a task for every plan, {@code threads} layers at a time, largest first so that the long ones do not start
     * last. Each running task reserves about three float copies of its weight (its native matrix, Gram and products,
     * results) from an allowance of a quarter of the maximum heap, so that parallel layers never hold more than that
     * at once; a layer larger than the whole allowance runs alone.
     */
    private static void forEachLayer(List<Plan> plans, int threads, LayerTask task) throws LrdktException {
        int workers = Math.max(1, Math.min(threads, plans.size()));
        if (workers == 1) {
            for (Plan p : plans) {
                task.run(p);
            }
            return;
        }
        long allowanceMiB = Math.max(1, Runtime.getRuntime().maxMemory() / 4 >> 20);
        java.util.concurrent.Semaphore memory = new java.util.concurrent.Semaphore((int) Math.min(Integer.MAX_VALUE,
                allowanceMiB), true);
        ExecutorService pool = Executors.newFixedThreadPool(workers);
        try {
            List<Plan> order = new ArrayList<>(plans);
            order.sort((a, b) -> Long.compare(b.candidate.weightElements(), a.candidate.weightElements()));
            List<Future<?>> futures = new ArrayList<>();
            for (Plan p : order) {
                int needMiB = (int) Math.min(allowanceMiB, Math.max(1, 3 * 4 * p.candidate.weightElements() >> 20));
                futures.add(pool.submit(() -> {
                    memory.acquire(needMiB);
                    try {
                        task.run(p);
                    } finally {
                        memory.release(needMiB);
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
        } catch (ExecutionException e) {
            if (e.getCause() instanceof LrdktException le) {
                throw le;
            }
            throw new LrdktException(LrdktException.Kind.RUNTIME, "decomposition failed: " + e.getCause(),
                    e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LrdktException(LrdktException.Kind.RUNTIME, "interrupted", e);
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * Decomposes a candidate under each unfolding its scheme allows and keeps the one needing fewer MACs at the same
     * retained energy.
     */
    private static void analyse(Plan p, CompressOptions options) throws LrdktException {
        Candidate c = p.candidate;
        for (Unfolding u : c.unfoldings(options.scheme())) {
            LowRank lr;
            try (Matrix m = c.matrix(u)) { // its own errors name the layer
                try {
                    lr = LowRank.of(m, options.solver());
                } catch (LrdktException e) {
                    throw new LrdktException(e.kind(), "layer '" + c.name() + "': " + e.getMessage(), e);
                }
            }
            if (p.lowRank == null || macsAtEnergy(c, u, lr, options) < macsAtEnergy(c, p.unfolding, p.lowRank,
                    options)) {
                p.unfolding = u;
                p.lowRank = lr;
            }
        }
    }

    private static long macsAtEnergy(Candidate c, Unfolding u, LowRank lr, CompressOptions options) {
        double energy = options.energy();
        if (options.policy() == CompressOptions.Policy.RANKS) {
            // the ranks file's K is meant for the paper's (spatial) unfolding: compare at the energy it keeps there
            Spectrum spatial = u == Unfolding.SPATIAL ? lr.spectrum() : null;
            int k = options.ranks().get(c.name());
            energy = spatial != null ? spatial.kept(k) : energy;
        }
        return c.costAfter(u, lr.spectrum().rankFor(energy)).macs();
    }

    private static void chooseRanks(List<Plan> todo, CompressOptions options, boolean beyondBreakEven,
                                    ModelProto teacher) throws LrdktException {
        int step = Math.max(1, options.roundTo());
        switch (options.policy()) {
            case ENERGY -> todo.forEach(p -> p.rank = energyRank(p.lowRank, options.energy()));
            case RANKS -> {
                for (Plan p : todo) {
                    int k = options.ranks().get(p.candidate.name());
                    int full = p.unfolding.fullRank(p.candidate.shape());
                    if (k > full) {
                        throw LrdktException.usage("rank " + k + " for layer '" + p.candidate.name()
                                + "' exceeds its full rank " + full + " (" + p.unfolding.name().toLowerCase()
                                + " unfolding " + p.unfolding.rows(p.candidate.shape()) + "x"
                                + p.unfolding.cols(p.candidate.shape()) + ")");
                    }
                    p.rank = k;
                }
            }
            case TARGET_MACS, TARGET_PARAMS, TARGET_LATENCY -> {
                if (options.latency() != null) {
                    measureLatency(todo, options.latency(), step, teacher);
                }
                List<Budget.Layer> layers = new ArrayList<>();
                for (Plan p : todo) {
                    Budget.Metric cost = budgetMetric(p, options.policy());
                    layers.add(new Budget.Layer(cost, p.latency != null ? latencyMetric(p) : cost,
                            p.lowRank.spectrum(), p.unfolding.fullRank(p.candidate.shape())));
                }
                int[] ranks = Budget.allocate(layers, options.target(), step,
                        options.policy().name().substring("TARGET_".length()).toLowerCase());
                for (int i = 0; i < ranks.length; i++) {
                    Plan p = todo.get(i);
                    p.rank = ranks[i];
                    if (p.rank == 0) {
                        int first = Math.min(step, p.unfolding.fullRank(p.candidate.shape()));
                        p.skipReason = slowerPair(p, first) ? String.format("no measured pair is faster (%.3f ms "
                                + "at rank %d vs %.3f ms)", p.latency.at(first), first, p.latency.original())
                                : "the budget is best spent elsewhere (break-even "
                                + String.format("%.1f", p.unfolding.breakEven(p.candidate.shape())) + ")";
                    }
                }
                return;
            }
            default -> throw new IllegalStateException(options.policy().toString());
        }
        for (Plan p : todo) {
            int full = p.unfolding.fullRank(p.candidate.shape());
            p.rank = Math.min(full, (p.rank + step - 1) / step * step);
            double breakEven = p.unfolding.breakEven(p.candidate.shape());
            if (p.rank >= breakEven && !beyondBreakEven) {
                p.skipReason = "rank " + p.rank + " ≥ break-even " + String.format("%.1f", breakEven);
                p.refusedRank = p.rank;
                p.rank = 0;
            }
        }
    }

    /** Whether even the smallest rank's pair measured no faster than the layer itself. */
    private static boolean slowerPair(Plan p, int rank) {
        return p.latency != null && p.latency.at(rank) >= p.latency.original();
    }

    /** A layer's cost under a budget policy as a function of rank. */
    private static Budget.Metric budgetMetric(Plan p, CompressOptions.Policy policy) {
        Candidate c = p.candidate;
        Unfolding u = p.unfolding;
        return switch (policy) {
            case TARGET_MACS -> new Budget.Metric(k -> c.costAfter(u, k).macs(), c.costBefore().macs());
            case TARGET_PARAMS -> new Budget.Metric(k -> c.costAfter(u, k).params(), c.costBefore().params());
            case TARGET_LATENCY -> latencyMetric(p);
            default -> throw new IllegalStateException(policy.toString());
        };
    }

    private static Budget.Metric latencyMetric(Plan p) {
        LatencyTable.Curve curve = p.latency;
        return new Budget.Metric(curve::at, curve.original());
    }

    /** Times every layer and its pairs (one at a time: parallel timings would disturb each other). */
    private static void measureLatency(List<Plan> todo, CompressOptions.Latency settings, int step,
                                       ModelProto teacher) throws LrdktException {
        LatencyTable table = new LatencyTable(settings.cacheDir(), settings.threads());
        for (Plan p : todo) {
            p.latency = table.curve(p.candidate, p.unfolding, step, teacher);
        }
    }

    /**
     * The paper's rule, except that round-off energy beyond a rank-deficient layer's numerical rank does not count:
     * at e = 1 it would otherwise push the rank to full (and past break-even) for nothing.
     */
    private static int energyRank(LowRank lowRank, double energy) {
        int rank = lowRank.spectrum().rankFor(energy);
        int numerical = Math.max(1, lowRank.numericalRank());
        return lowRank.spectrum().kept(numerical) >= energy * (1 - 1e-6) ? Math.min(rank, numerical) : rank;
    }

    /** The teacher's graph with each decomposed layer's node replaced in place by its pair. */
    private static ModelProto rewrite(ModelProto teacher, List<Plan> plans,
                                      Map<NodeProto, Factoriser.Replacement> replacements) {
        GraphProto graph = teacher.getGraph();
        Set<NodeProto> foldedNorms = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        Set<String> maybeDead = new HashSet<>();
        Map<String, Integer> ranks = new LinkedHashMap<>();
        List<String> hints = new ArrayList<>();
        for (Plan p : plans) {
            if (p.rank == 0) {
                continue;
            }
            Candidate c = p.candidate;
            ranks.put(c.name(), p.rank);
            hints.add(c.outputTensor());
            maybeDead.add(c.layer().weightTensor());
            if (c.batchNorm() != null) {
                foldedNorms.add(c.batchNorm());
                for (int i = 1; i < c.batchNorm().getInputCount(); i++) {
                    maybeDead.add(c.batchNorm().getInput(i));
                }
                if (c.layer().biasTensor() != null) {
                    maybeDead.add(c.layer().biasTensor());
                }
            }
        }
        List<NodeProto> nodes = new ArrayList<>();
        List<TensorProto> initializers = new ArrayList<>(graph.getInitializerList());
        for (NodeProto n : graph.getNodeList()) {
            Factoriser.Replacement r = replacements.get(n);
            if (r != null) {
                nodes.addAll(r.nodes());
                initializers.addAll(r.initializers());
            } else if (!foldedNorms.contains(n)) {
                nodes.add(n);
            }
        }
        GraphProto.Builder out = graph.toBuilder().clearNode().clearInitializer();
        removeDeadConstants(nodes, initializers, maybeDead, graph);
        out.addAllNode(nodes).addAllInitializer(initializers);
        // drop inputs and value_info of tensors that no longer exist (removed weights, pre-BN conv outputs)
        Set<String> present = new HashSet<>();
        nodes.forEach(n -> present.addAll(n.getOutputList()));
        initializers.forEach(t -> present.add(t.getName()));
        out.clearInput();
        for (ValueInfoProto v : graph.getInputList()) {
            if (present.contains(v.getName()) || graph.getInitializerList().stream().noneMatch(t -> t.getName()
                    .equals(v.getName()))) {
                out.addInput(v);
            }
        }
        out.clearValueInfo();
        graph.getValueInfoList().stream().filter(v -> present.contains(v.getName())).forEach(out::addValueInfo);

        ModelProto.Builder model = teacher.toBuilder().setGraph(out).clearMetadataProps();
        for (StringStringEntryProto e : teacher.getMetadataPropsList()) {
            if (!e.getKey().equals(RANKS_KEY) && !e.getKey().equals(HINTS_KEY)) {
                model.addMetadataProps(e);
            }
        }
        model.addMetadataProps(StringStringEntryProto.newBuilder().setKey(RANKS_KEY).setValue(compactJson(ranks)));
        model.addMetadataProps(StringStringEntryProto.newBuilder().setKey(HINTS_KEY).setValue(compactJson(hints)));
        return model.build();
    }

    /** Removes the replaced weights (and BN parameters) when nothing reads them any more, through Identity chains. */
    private static void removeDeadConstants(List<NodeProto> nodes, List<TensorProto> initializers,
                                            Set<String> maybeDead, GraphProto graph) {
        Set<String> outputs = new HashSet<>();
        graph.getOutputList().forEach(v -> outputs.add(v.getName()));
        List<String> work = new ArrayList<>(maybeDead);
        while (!work.isEmpty()) {
            String t = work.remove(work.size() - 1);
            if (outputs.contains(t) || nodes.stream().anyMatch(n -> n.getInputList().contains(t))) {
                continue;
            }
            initializers.removeIf(i -> i.getName().equals(t));
            for (int i = 0; i < nodes.size(); i++) {
                NodeProto n = nodes.get(i);
                boolean constant = n.getOpType().equals("Constant") || n.getOpType().equals("Identity");
                if (constant && n.getOutputCount() == 1 && n.getOutput(0).equals(t)) {
                    nodes.remove(i);
                    if (n.getOpType().equals("Identity")) {
                        work.add(n.getInput(0));
                    }
                    break;
                }
            }
        }
    }

    private static String compactJson(Object value) {
        try {
            return Json.MAPPER.writer().without(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT)
                    .writeValueAsString(value);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static CompressReport report(OnnxModel teacher, CompressOptions options, Map<String, long[]> inputs,
                                         Map<String, long[]> shapes, List<Plan> plans, Map<String, List<String>> nodes, long modelBefore,
                                         long modelAfter) {
        List<CompressReport.LayerDecision> rows = new ArrayList<>();
        List<CompressReport.LayerLatency> latency = new ArrayList<>();
        long pb = 0;
        long pa = 0;
        long mb = 0;
        long ma = 0;
        int decomposed = 0;
        for (Plan p : plans) {
            Layer l = p.layer;
            Candidate c = p.candidate;
            boolean done = p.analysed() && p.rank > 0;
            Costs.Cost before = Costs.of(l, shapes.get(l.node().getOutput(0)));
            String op = l.node().getOpType() + (l.biasAdd() != null ? "+Add" : "")
                    + (c != null && c.batchNorm() != null ? "+BN" : "");
            Costs.Cost after = done ? c.costAfter(p.unfolding, p.rank) : before;
            float[] curve = p.analysed() ? cumulative(p.lowRank.spectrum()) : null;
            Double msBefore = p.latency != null ? p.latency.original() : null;
            Double msAfter = p.latency == null ? null : done ? p.latency.at(p.rank) : msBefore;
            rows.add(new CompressReport.LayerDecision(l.name(), op, l.weightShape(),
                    done ? CompressReport.Status.DECOMPOSED : CompressReport.Status.SKIPPED, done ? null : p.skipReason,
                    p.analysed() ? p.unfolding.name().toLowerCase() : null,
                    done ? Integer.valueOf(p.rank) : p.refusedRank > 0 ? Integer.valueOf(p.refusedRank) : null,
                    p.analysed() ? p.unfolding.fullRank(c.shape()) : 0, p.analysed() ? p.lowRank.numericalRank() : 0,
                    p.analysed() ? p.unfolding.breakEven(c.shape()) : 0,
                    done ? p.lowRank.spectrum().kept(p.rank) : 1, before.params(), after.params(), before.macs(),
                    after.macs(), c != null ? c.outputTensor() : l.outputTensor(), nodes.getOrDefault(l.name(),
                    List.of()), p.analysed() ? p.lowRank.solver().name() : null, curve, msBefore, msAfter));
            if (p.latency != null) {
                latency.add(new CompressReport.LayerLatency(l.name(), p.latency.key(), p.latency.millis()));
            }
            pb += before.params();
            pa += after.params();
            mb += before.macs();
            ma += after.macs();
            decomposed += done ? 1 : 0;
        }
        return new CompressReport(teacher.source() == null ? "" : teacher.source().toString(), options.describe(),
                inputs, rows, new CompressReport.Totals(pb, pa, mb, ma, modelBefore, modelAfter, decomposed,
                plans.size() - decomposed), latency.isEmpty() ? null : latency);
    }

    private static float[] cumulative(Spectrum s) {
        float[] curve = new float[s.size()];
        for (int i = 0; i < curve.length; i++) {
            curve[i] = (float) s.kept(i + 1);
        }
        return curve;
    }
}
