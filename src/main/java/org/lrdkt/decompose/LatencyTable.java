package org.lrdkt.decompose;

import com.google.protobuf.TextFormat;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;
import org.lrdkt.Json;
import org.lrdkt.LrdktException;
import org.lrdkt.Percentiles;
import org.lrdkt.TextTable;
import org.lrdkt.onnx.AtomicFiles;
import org.lrdkt.onnx.Inference;
import org.lrdkt.onnx.OnnxModel;
import org.lrdkt.onnx.TensorData;
import org.lrdkt.onnx.proto.Onnx.AttributeProto;
import org.lrdkt.onnx.proto.Onnx.GraphProto;
import org.lrdkt.onnx.proto.Onnx.ModelProto;
import org.lrdkt.onnx.proto.Onnx.NodeProto;
import org.lrdkt.onnx.proto.Onnx.TensorProto;
import org.lrdkt.onnx.proto.Onnx.TypeProto;
import org.lrdkt.onnx.proto.Onnx.ValueInfoProto;

/**
 * ONNX Runtime latency of single layers, as they are and as factor pairs at a grid of ranks, measured on the layer's
 * own input shape and cached on disk (one JSON file per layer shape, scheme, threads and provider). Weights are
 * random: a dense kernel's time does not depend on its values.
 */
final class LatencyTable {

    /** Where tables are cached unless --latency-cache says otherwise. */
    static final Path DEFAULT_DIR = Path.of(System.getProperty("user.home"), ".cache", "lrdkt", "latency");
    /** Ranks measured per layer; latency between them is interpolated. */
    static final int GRID_POINTS = 8;
    /** Layers whose break-even rank reaches this get grid ranks rounded to multiples of {@link #ROUND}. */
    static final int ROUND_FROM = 64;
    static final int ROUND = 8;
    private static final int WARMUP = 3;
    private static final int RUNS = 7;
    private static final String PROVIDER = "cpu";

    /**
     * One layer's measurements in milliseconds: {@code millis} maps rank to the pair's median time, rank 0 to the
     * original layer's.
     */
    record Curve(String layer, String key, TreeMap<Integer, Double> millis) {

        double original() {
            return millis.get(0);
        }

        /** The pair's time at rank k: linear between measured ranks, extended along the last segment beyond them. */
        double at(int k) {
            Map.Entry<Integer, Double> lo = millis.floorEntry(k);
            Map.Entry<Integer, Double> hi = millis.ceilingEntry(k);
            if (lo == null || lo.getKey() == 0) {
                return millis.higherEntry(0).getValue(); // below the grid: the smallest measured rank's time
            }
            if (hi == null) {
                hi = lo;
                lo = millis.lowerEntry(lo.getKey());
                if (lo == null || lo.getKey() == 0) {
                    return hi.getValue();
                }
            }
            if (hi.getKey().equals(lo.getKey())) {
                return lo.getValue();
            }
            double t = (double) (k - lo.getKey()) / (hi.getKey() - lo.getKey());
            return Math.max(0, lo.getValue() + t * (hi.getValue() - lo.getValue()));
        }
    }

    private final Path dir;
    private final int threads;
    private int measurements;

    LatencyTable(Path dir, int threads) {
        this.dir = dir;
        this.threads = threads;
    }

    /** Single-layer timings taken so far by this table (cache hits take none). */
    int measurements() {
        return measurements;
    }

    /** The layer's curve under an unfolding, measuring only ranks the cache lacks. */
    Curve curve(Candidate c, Unfolding u, int step, ModelProto teacher) throws LrdktException {
        String key = key(c, u);
        Path file = dir.resolve(sha256(key) + ".json");
        TreeMap<Integer, Double> millis = read(file, key);
        boolean changed = false;
        for (int k : grid(c, u, step)) {
            if (!millis.containsKey(k)) {
                millis.put(k, time(k == 0 ? original(c, teacher) : pair(c, u, k, teacher), c.inputShape()));
                changed = true;
            }
        }
        if (changed) {
            write(file, key, millis);
        }
        return new Curve(c.name(), key, millis);
    }

    /** Rank 0 (the original) and up to {@link #GRID_POINTS} ranks from the smallest step to break-even. */
    static List<Integer> grid(Candidate c, Unfolding u, int step) {
        int full = u.fullRank(c.shape());
        int lo = Math.min(step, full);
        int hi = Math.max(lo, Math.min(full, (int) Math.floor(u.breakEven(c.shape()))));
        boolean round = hi >= ROUND_FROM;
        TreeSet<Integer> ranks = new TreeSet<>();
        ranks.add(0);
        for (int i = 0; i < GRID_POINTS; i++) {
            int k = (int) Math.round(lo + (double) (hi - lo) * i / (GRID_POINTS - 1));
            ranks.add(round ? Math.max(ROUND, Math.min(full, Math.round(k / (float) ROUND) * ROUND)) : k);
        }
        return new ArrayList<>(ranks);
    }

    private String key(Candidate c, Unfolding u) {
        NodeProto node = c.layer().node();
        StringBuilder attrs = new StringBuilder();
        for (AttributeProto a : node.getAttributeList()) {
            attrs.append(TextFormat.printer().emittingSingleLine(true).printToString(a)).append(';');
        }
        return node.getOpType() + " weight " + TextTable.dims(c.layer().weightShape()) + " input "
                + TextTable.dims(c.inputShape()) + " bias " + c.hasBias() + " attrs {" + attrs + "} scheme "
                + u.name().toLowerCase() + " threads " + threads + " provider " + PROVIDER;
    }

    /** The layer alone: its node with random weights of the original shapes. */
    private static ModelProto original(Candidate c, ModelProto teacher) throws LrdktException {
        NodeProto node = c.layer().node();
        List<TensorProto> inits = new ArrayList<>();
        for (int i = 1; i < node.getInputCount(); i++) {
            String name = node.getInput(i);
            inits.add(random(name, i == 1 ? c.layer().weightShape() : biasDims(c, name)));
        }
        return model(List.of(node), inits, c, node.getOutput(0), teacher);
    }

    /** The factor pair at rank k with random factors, built as the compressor builds it. */
    private static ModelProto pair(Candidate c, Unfolding u, int k, ModelProto teacher) throws LrdktException {
        int rows = u.rows(c.shape());
        int cols = u.cols(c.shape());
        Random r = new Random(k);
        LowRank.Factors f = new LowRank.Factors(values(r, rows * k), values(r, k * cols), rows, cols, k);
        ConvGeometry geometry = c.layer().isConv() ? ConvGeometry.of(c.layer().node(), c.shape()[2], c.shape()[3],
                c.inputShape(), c.name()) : null;
        Factoriser.Replacement replacement = Factoriser.build(c, u, f, null, geometry,
                new UniqueNames(GraphProto.getDefaultInstance()));
        List<TensorProto> inits = new ArrayList<>(replacement.initializers());
        List<NodeProto> nodes = replacement.nodes();
        NodeProto last = nodes.get(nodes.size() - 1);
        for (String input : last.getInputList()) {
            boolean present = nodes.stream().anyMatch(n -> n.getOutputList().contains(input))
                    || inits.stream().anyMatch(t -> t.getName().equals(input));
            if (!present) { // the original bias, reused by name
                inits.add(random(input, biasDims(c, input)));
            }
        }
        return model(nodes, inits, c, last.getOutput(0), teacher);
    }

    /** A bias as stored, or one value per output channel where it is computed rather than constant. */
    private static long[] biasDims(Candidate c, String name) {
        return c.graph().constant(name).map(TensorData::dims).orElse(new long[] {c.shape()[0]});
    }

    private static ModelProto model(List<NodeProto> nodes, List<TensorProto> inits, Candidate c, String output,
                                    ModelProto teacher) {
        GraphProto graph = GraphProto.newBuilder().setName("latency").addAllNode(nodes).addAllInitializer(inits)
                .addInput(valueInfo(c.layer().node().getInput(0))).addOutput(valueInfo(output)).build();
        return ModelProto.newBuilder().setIrVersion(teacher.getIrVersion())
                .addAllOpsetImport(teacher.getOpsetImportList()).setGraph(graph).build();
    }

    private static ValueInfoProto valueInfo(String name) {
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE))).build();
    }

    private static TensorProto random(String name, long[] dims) {
        long n = 1;
        for (long d : dims) {
            n *= d;
        }
        return TensorData.fromFloats(name, dims, values(new Random(name.hashCode()), (int) n),
                TensorProto.DataType.FLOAT_VALUE);
    }

    private static float[] values(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = r.nextFloat() - 0.5f;
        }
        return v;
    }

    /** Median milliseconds of {@link #RUNS} runs after {@link #WARMUP} warm-up runs. */
    private double time(ModelProto proto, long[] inputShape) throws LrdktException {
        measurements++;
        long n = 1;
        for (long d : inputShape) {
            n *= d;
        }
        Inference.Tensor x = new Inference.Tensor(values(new Random(1), (int) n), inputShape);
        try (Inference session = Inference.open(OnnxModel.of(proto), Inference.Settings.defaults()
                .withThreads(threads));
             Inference.NativeFeeds feeds = session.nativeFeeds(Map.of(session.inputNames().get(0), x))) {
            for (int i = 0; i < WARMUP; i++) {
                session.runDiscarding(feeds);
            }
            double[] ms = new double[RUNS];
            for (int i = 0; i < RUNS; i++) {
                long start = System.nanoTime();
                session.runDiscarding(feeds);
                ms[i] = (System.nanoTime() - start) / 1e6;
            }
            return Percentiles.median(ms);
        }
    }

    private static TreeMap<Integer, Double> read(Path file, String key) throws LrdktException {
        if (!Files.isRegularFile(file)) {
            return new TreeMap<>();
        }
        try {
            Cached cached = Json.MAPPER.readValue(Files.readString(file), Cached.class);
            // a hash collision or a hand-edited file: measure afresh rather than trust another layer's times
            return key.equals(cached.key()) ? new TreeMap<>(cached.millis()) : new TreeMap<>();
        } catch (IOException | RuntimeException e) {
            return new TreeMap<>(); // an unreadable cache entry is measured again and rewritten
        }
    }

    private void write(Path file, String key, TreeMap<Integer, Double> millis) throws LrdktException {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new LrdktException(LrdktException.Kind.IO, "cannot create latency cache " + dir + ": "
                    + e.getMessage(), e);
        }
        AtomicFiles.writeString(file, Json.write(new Cached(key, millis)) + "\n");
    }

    /** The JSON form of one cache file. */
    record Cached(String key, Map<Integer, Double> millis) {
    }

    private static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(
                    StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
