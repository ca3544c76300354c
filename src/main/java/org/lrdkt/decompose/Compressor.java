package org.lrdkt.decompose;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.lrdkt.LrdktException;
import org.lrdkt.onnx.Costs;
import org.lrdkt.onnx.Graph;
import org.lrdkt.onnx.Layer;
import org.lrdkt.onnx.OnnxModel;
import org.lrdkt.onnx.Shapes;
import org.lrdkt.onnx.proto.Onnx.ModelProto;
import org.lrdkt.onnx.proto.Onnx.NodeProto;

/**
 * {@code lrdkt compress}: chooses a rank per layer, computes each closed-form factor pair and rewrites the graph.
 * The steps have their own homes: {@link CalibrationRun} (statistics from data, when calibrating), {@link LowRank}
 * (the decompositions), {@link RankChooser} (the policies), {@link Factoriser} and {@link GraphRewrite} (the new
 * graph), {@link CompressReport} (what was decided), {@link LayerPool} (layers in parallel).
 * The student keeps the teacher's IR version, opsets, inputs, outputs and metadata, and records the ranks used
 * ({@value OnnxModel#RANKS_METADATA_KEY}) and the output tensors of the rewritten layers
 * ({@value OnnxModel#HINTS_METADATA_KEY}, the default knowledge-transfer hint points) in its {@code metadata_props}.
 */
public final class Compressor {

    /** The result: the student model and what was decided for every layer. */
    public record Compression(OnnxModel student, CompressReport report) {
    }

    /** A layer's factor pair and, when calibrated, the bias change that keeps its mean output. */
    private record Factored(LowRank.Factors factors, double[] biasShift) {
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

        List<LayerPlan> plans = new ArrayList<>();
        List<LayerPlan> todo = new ArrayList<>();
        for (Layer layer : byName.values()) {
            LayerPlan p = new LayerPlan(layer);
            plans.add(p);
            p.skipReason = eligibility(graph, layer, options);
            if (p.skipReason == null) {
                p.candidate = Candidate.of(graph, layer, shapes);
                todo.add(p);
            }
        }
        try {
            if (options.calibration() != null && !todo.isEmpty()) {
                CalibrationRun.collect(teacher, todo, shapes, options);
            }
            LayerPool.forEach(todo, options.threads(), p -> analyse(p, options));
        } finally {
            // the covariances are spent once every layer is decomposed; only the mean inputs stay
            todo.stream().filter(p -> p.statistics != null).forEach(p -> p.statistics.close());
        }
        if (options.calibration() != null) {
            // calibrated analysis leaves d×d covariances and eigen-problems behind on the heap (VGG-16's fc6: three
            // of 64 MB); return them before the factors and the student are built
            System.gc();
        }
        RankChooser.choose(todo, options, beyondBreakEven, teacher.proto());

        UniqueNames names = new UniqueNames(teacher.graph());
        Map<NodeProto, Factoriser.Replacement> replacements = new IdentityHashMap<>();
        Map<String, List<String>> replacementNodes = new HashMap<>();
        Map<LayerPlan, Factored> factored = new ConcurrentHashMap<>();
        List<LayerPlan> chosen = todo.stream().filter(p -> p.rank > 0).toList();
        LayerPool.forEach(chosen, options.threads(), p -> factored.put(p, factor(p)));
        for (LayerPlan p : chosen) { // in graph order, so that generated names do not depend on thread timing
            Candidate c = p.candidate;
            ConvGeometry geometry = c.layer().isConv() ? ConvGeometry.of(c.layer().node(), c.shape()[2],
                    c.shape()[3], c.inputShape(), c.name()) : null;
            Factored f = factored.remove(p);
            Factoriser.Replacement r = Factoriser.build(c, p.unfolding, f.factors(), f.biasShift(), geometry, names);
            replacements.put(c.layer().node(), r);
            replacementNodes.put(c.name(), r.nodes().stream().map(NodeProto::getName).toList());
        }
        ModelProto studentProto = GraphRewrite.rewrite(teacher.proto(), todo, replacements);
        OnnxModel student = teacher.withProto(studentProto);
        Graph studentGraph = Graph.of(student); // validates the rewrite: every tensor produced once, no cycles
        CompressReport report = CompressReport.assemble(teacher, options, inputs, shapes, plans, replacementNodes,
                Costs.modelParams(graph), Costs.modelParams(studentGraph));
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
    private static String eligibility(Graph graph, Layer layer, CompressOptions options) throws LrdktException {
        Optional<String> notDecomposable = Decomposability.reasonNotDecomposable(graph, layer);
        if (notDecomposable.isPresent()) {
            if (options.policy() == CompressOptions.Policy.RANKS && options.ranks().containsKey(layer.name())) {
                throw LrdktException.usage("ranks file asks rank " + options.ranks().get(layer.name()) + " for layer '"
                        + layer.name() + "', which cannot be decomposed: " + notDecomposable.get());
            }
            return notDecomposable.get();
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

    private static Factored factor(LayerPlan p) throws LrdktException {
        Candidate c = p.candidate;
        try (Matrix m = c.matrix(p.unfolding)) {
            LowRank.Factors f = p.lowRank.factors(m, p.rank);
            p.lowRank.releaseFactorSource();
            double[] shift = p.statistics != null ? p.statistics.biasShift(p.unfolding, m, f) : null;
            return new Factored(f, shift);
        } catch (LrdktException e) {
            throw new LrdktException(e.kind(), "layer '" + c.name() + "': " + e.getMessage(), e);
        }
    }

    /**
     * Decomposes a candidate under each unfolding its scheme allows (from the weights, or calibrated on data) and
     * keeps the one needing fewer MACs at the same retained energy.
     */
    private static void analyse(LayerPlan p, CompressOptions options) throws LrdktException {
        Candidate c = p.candidate;
        Calibration calibration = options.calibration();
        for (Unfolding u : c.unfoldings(options.scheme())) {
            LowRank lr;
            try (Matrix m = c.matrix(u)) { // its own errors name the layer
                lr = p.statistics != null ? p.statistics.decompose(u, m, calibration.shrinkage())
                        : LowRank.of(m, options.solver());
            } catch (LrdktException e) {
                throw new LrdktException(e.kind(), "layer '" + c.name() + "': " + e.getMessage(), e);
            }
            Spectrum spends = calibration == null || calibration.dataRanks() ? lr.spectrum() : lr.weightSpectrum();
            if (p.lowRank == null || macsAtEnergy(c, u, spends, options) < macsAtEnergy(c, p.unfolding,
                    p.rankSpectrum, options)) {
                p.unfolding = u;
                p.lowRank = lr;
                p.rankSpectrum = spends;
                p.weightSpectrum = lr.calibrated() ? lr.weightSpectrum() : null;
            }
        }
        if (p.statistics != null) {
            p.statistics.close(); // spent: free this layer's covariances before the next layer's analysis
        }
    }

    private static long macsAtEnergy(Candidate c, Unfolding u, Spectrum spectrum, CompressOptions options) {
        double energy = options.energy();
        if (options.policy() == CompressOptions.Policy.RANKS) {
            // the ranks file's K is meant for the paper's (spatial) unfolding: compare at the energy it keeps there
            int k = options.ranks().get(c.name());
            energy = u == Unfolding.SPATIAL ? spectrum.kept(k) : energy;
        }
        return c.costAfter(u, spectrum.rankFor(energy)).macs();
    }
}
