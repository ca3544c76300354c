package org.lrdkt.validate;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.lrdkt.LrdktException;
import org.lrdkt.Percentiles;
import org.lrdkt.TerminalProgress;
import org.lrdkt.TextTable;
import org.lrdkt.onnx.Costs;
import org.lrdkt.onnx.Graph;
import org.lrdkt.onnx.Inference;
import org.lrdkt.onnx.Layer;
import org.lrdkt.onnx.OnnxModel;
import org.lrdkt.onnx.Shapes;
import org.lrdkt.onnx.proto.Onnx.ValueInfoProto;

/**
 * Latency, throughput, memory and static costs of one or more models in ONNX Runtime. With several models all
 * sessions stay open and timed runs alternate in blocks ({@link BlockSchedule}); ratios compare medians against the
 * first model measured in the same run.
 */
public final class Benchmark {

    /** What the benchmark reports as memory, stated with every result. */
    public static final String MEMORY_METHOD = "peak RSS growth: /proc/self/status VmHWM after session creation and "
            + "warm-up minus VmRSS before (peak reset via /proc/self/clear_refs); includes the JVM's transient copy of "
            + "the serialized model";

    /** A model and the name it is reported under. */
    public record NamedModel(String name, OnnxModel model) {
    }

    /**
     * @param inputShape shape for a single-input model (null: the model's own); its first dim is replaced by batch
     * @param block      consecutive runs of one model before switching to the next
     */
    public record BenchOptions(int batch, int threads, int warmup, int runs, int block, boolean cuda,
                               long[] inputShape, boolean progress) {
        public static BenchOptions defaults() {
            return new BenchOptions(1, Inference.Settings.defaults().threads(), 10, 100, 10, false, null, true);
        }

        /** The same options measuring at {@code shape}. */
        public BenchOptions withInputShape(long[] shape) {
            return new BenchOptions(batch, threads, warmup, runs, block, cuda, shape, progress);
        }
    }

    /**
     * One model's numbers.
     *
     * @param macsPerSample     MACs of Conv/Gemm/MatMul layers for one sample
     * @param modelBytes        serialized size with every weight inline (the .onnx file size when weights are inline)
     * @param latencyMs         per-call latency of a whole batch, milliseconds
     * @param samplesPerSecond  batch / median latency
     * @param peakMemoryBytes   see {@link #MEMORY_METHOD}; null where /proc does not allow measuring it
     */
    public record ModelBench(String name, Map<String, long[]> inputShapes, long params, long macsPerSample,
                             long modelBytes, LatencyStats latencyMs, double samplesPerSecond, Long peakMemoryBytes) {
    }

    /**
     * A model against the baseline (the first model). Ratios are baseline ÷ model, so > 1 means smaller/faster.
     *
     * @param speedup         baseline median latency ÷ model median latency over all timed runs
     * @param speedupRoundMin smallest per-round ratio of block medians (the spread shows the noise)
     * @param speedupRoundMax largest per-round ratio of block medians
     */
    public record Ratio(String name, String baseline, double speedup, double speedupRoundMin, double speedupRoundMax,
                        double params, double macs, double bytes) {
    }

    /** Everything measured in one run. */
    public record BenchResult(String machine, String provider, int batch, int threads, int warmup, int runs,
                              int block, String memoryMethod, List<ModelBench> models, List<Ratio> ratios) {
    }

    /** Static costs of one model: the part of {@link ModelBench} that needs no timing. */
    record StaticCosts(Map<String, long[]> inputShapes, long params, long macsPerSample, long modelBytes) {
    }

    private Benchmark() {
    }

    public static BenchResult compare(List<NamedModel> models, BenchOptions options) throws LrdktException {
        if (models.isEmpty()) {
            throw LrdktException.usage("no model to benchmark");
        }
        if (options.warmup() < 0 || options.runs() < 1 || options.block() < 1 || options.batch() < 1) {
            throw LrdktException.usage("batch, runs and block must be positive and warm-up not negative");
        }
        List<StaticCosts> costs = new ArrayList<>();
        for (NamedModel m : models) {
            costs.add(staticCosts(m, options));
        }
        Inference.Settings settings = new Inference.Settings(options.threads(), true, options.cuda());
        List<Inference> sessions = new ArrayList<>();
        List<Inference.NativeFeeds> feeds = new ArrayList<>();
        List<Long> memory = new ArrayList<>();
        int rounds = BlockSchedule.rounds(options.runs(), options.block());
        double[][][] timings = new double[models.size()][rounds][];
        long total = (long) models.size() * (options.warmup() + options.runs());
        try (TerminalProgress progress = TerminalProgress.start("bench", total, "runs", options.progress())) {
            for (int i = 0; i < models.size(); i++) {
                boolean canReset = ProcessMemory.resetPeak();
                long before = ProcessMemory.residentBytes();
                Inference session = Inference.open(models.get(i).model(), settings);
                sessions.add(session);
                feeds.add(randomFeeds(session, costs.get(i).inputShapes()));
                for (int w = 0; w < options.warmup(); w++) {
                    session.runDiscarding(feeds.get(i));
                }
                progress.step(options.warmup());
                long peak = ProcessMemory.peakBytes();
                memory.add(canReset && before >= 0 && peak >= 0 ? Math.max(0, peak - before) : null);
            }
            for (BlockSchedule.Block b : BlockSchedule.plan(models.size(), options.runs(), options.block())) {
                double[] times = new double[b.count()];
                Inference session = sessions.get(b.model());
                Inference.NativeFeeds feed = feeds.get(b.model());
                for (int r = 0; r < times.length; r++) {
                    long t0 = System.nanoTime();
                    session.runDiscarding(feed);
                    times[r] = (System.nanoTime() - t0) / 1e6;
                }
                timings[b.model()][b.round()] = times;
                progress.step(b.count());
            }
        } finally {
            feeds.forEach(Inference.NativeFeeds::close);
            sessions.forEach(Inference::close);
        }
        List<ModelBench> results = new ArrayList<>();
        for (int i = 0; i < models.size(); i++) {
            StaticCosts c = costs.get(i);
            LatencyStats stats = LatencyStats.of(flatten(timings[i]));
            results.add(new ModelBench(models.get(i).name(), c.inputShapes(), c.params(), c.macsPerSample(),
                    c.modelBytes(), stats, options.batch() * 1000.0 / stats.p50(), memory.get(i)));
        }
        return new BenchResult(ProcessMemory.machine(), options.cuda() ? "cuda" : "cpu", options.batch(),
                options.threads(), options.warmup(), options.runs(), options.block(), MEMORY_METHOD, results,
                ratios(results, timings));
    }

    /** Ratios of every model against the first, from timings indexed [model][round][run]. */
    static List<Ratio> ratios(List<ModelBench> models, double[][][] timings) {
        List<Ratio> ratios = new ArrayList<>();
        ModelBench base = models.get(0);
        for (int i = 1; i < models.size(); i++) {
            ModelBench m = models.get(i);
            double min = Double.POSITIVE_INFINITY;
            double max = 0;
            for (int r = 0; r < timings[i].length; r++) {
                double perRound = Percentiles.median(timings[0][r]) / Percentiles.median(timings[i][r]);
                min = Math.min(min, perRound);
                max = Math.max(max, perRound);
            }
            ratios.add(new Ratio(m.name(), base.name(), base.latencyMs().p50() / m.latencyMs().p50(), min, max,
                    ratio(base.params(), m.params()), ratio(base.macsPerSample(), m.macsPerSample()),
                    ratio(base.modelBytes(), m.modelBytes())));
        }
        return ratios;
    }

    private static double ratio(long a, long b) {
        return b == 0 ? Double.NaN : (double) a / b;
    }

    static double[] flatten(double[][] rounds) {
        int n = 0;
        for (double[] r : rounds) {
            n += r.length;
        }
        double[] all = new double[n];
        int at = 0;
        for (double[] r : rounds) {
            System.arraycopy(r, 0, all, at, r.length);
            at += r.length;
        }
        return all;
    }

    /** Input shapes at the requested batch, params, per-sample MACs (measured shapes) and serialized size. */
    private static StaticCosts staticCosts(NamedModel named, BenchOptions options) throws LrdktException {
        OnnxModel model = named.model();
        Graph graph = Graph.of(model);
        Map<String, long[]> resolved = Shapes.resolveInputShapes(graph, options.inputShape());
        Map<String, long[]> batched = new LinkedHashMap<>();
        for (ValueInfoProto input : graph.realInputs()) {
            long[] shape = resolved.get(input.getName()).clone();
            if (shape.length == 0) {
                throw LrdktException.unsupported(named.name() + ": input '" + input.getName() + "' is a scalar; "
                        + "the benchmark needs a batch axis");
            }
            long fixedBatch = Shapes.declaredBatch(input);
            if (fixedBatch > 0 && fixedBatch != options.batch()) {
                throw LrdktException.usage(named.name() + ": input '" + input.getName() + "' has a fixed batch of "
                        + fixedBatch + "; --batch " + options.batch() + " cannot be fed");
            }
            shape[0] = options.batch();
            batched.put(input.getName(), shape);
        }
        Map<String, long[]> perSample = new HashMap<>();
        batched.forEach((name, shape) -> {
            long[] one = shape.clone();
            one[0] = 1;
            perSample.put(name, one);
        });
        Map<String, long[]> shapes = Shapes.infer(model, perSample);
        long macs = 0;
        for (Layer layer : graph.layers()) {
            long[] out = shapes.get(layer.node().getOutput(0));
            if (out != null) {
                macs += Costs.of(layer, out).macs();
            }
        }
        return new StaticCosts(batched, Costs.modelParams(graph), macs, model.serializedBytes());
    }

    /** Uniform [0, 1) inputs from a fixed seed: latency must not depend on the data, and runs stay repeatable. */
    private static Inference.NativeFeeds randomFeeds(Inference session, Map<String, long[]> shapes)
            throws LrdktException {
        Random random = new Random(42);
        Map<String, Inference.Tensor> feeds = new HashMap<>();
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            float[] values = new float[Math.toIntExact(Costs.product(e.getValue()))];
            for (int i = 0; i < values.length; i++) {
                values[i] = random.nextFloat();
            }
            feeds.put(e.getKey(), new Inference.Tensor(values, e.getValue()));
        }
        return session.nativeFeeds(feeds);
    }

    /** The result as the tables {@code lrdkt bench} prints. */
    public static String table(BenchResult r) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("%s, provider %s, batch %d, %d threads, %d warm-up + %d timed runs per model in "
                        + "blocks of %d%n%n", r.machine(), r.provider(), r.batch(), r.threads(), r.warmup(), r.runs(),
                r.block()));
        TextTable t = new TextTable("model", "params>", "MACs/sample>", "size>", "P50 ms>", "P90 ms>", "P99 ms>",
                "samples/s>", "peak mem>");
        for (ModelBench m : r.models()) {
            LatencyStats l = m.latencyMs();
            t.row(m.name(), TextTable.human(m.params()), TextTable.human(m.macsPerSample()), mebibytes(m.modelBytes()),
                    TextTable.milliseconds(l.p50()), TextTable.milliseconds(l.p90()),
                    TextTable.milliseconds(l.p99()), String.format("%.1f", m.samplesPerSecond()),
                    m.peakMemoryBytes() == null ? "n/a" : mebibytes(m.peakMemoryBytes()));
        }
        sb.append(t.render());
        if (!r.ratios().isEmpty()) {
            TextTable ratios = new TextTable("vs " + r.models().get(0).name(), "params ×>", "MACs ×>", "size ×>",
                    "speedup (P50) ×>", "per-round range>");
            for (Ratio x : r.ratios()) {
                ratios.row(x.name(), times(x.params()), times(x.macs()), times(x.bytes()), times(x.speedup()),
                        String.format("%.2f–%.2f", x.speedupRoundMin(), x.speedupRoundMax()));
            }
            sb.append('\n').append(ratios.render());
        }
        sb.append("\npeak mem = ").append(r.memoryMethod()).append('\n');
        return sb.toString();
    }

    private static String times(double v) {
        return Double.isNaN(v) ? "n/a" : String.format("%.2f", v);
    }

    static String mebibytes(long bytes) {
        return bytes >= 1 << 20 ? String.format("%.1f MiB", bytes / 1048576.0) : String.format("%.0f KiB", bytes / 1024.0);
    }
}
