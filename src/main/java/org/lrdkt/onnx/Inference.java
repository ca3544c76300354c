package org.lrdkt.onnx;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.lrdkt.LrdktException;
import org.lrdkt.onnx.proto.Onnx.GraphProto;
import org.lrdkt.onnx.proto.Onnx.ModelProto;
import org.lrdkt.onnx.proto.Onnx.StringStringEntryProto;
import org.lrdkt.onnx.proto.Onnx.TensorProto;

/**
 * An ONNX Runtime session over an in-memory model, fed and read as float arrays. Every stage that needs ORT's
 * verdict (shape measuring, factorisation tests, evaluation, benchmarks) goes through this one class.
 */
public final class Inference implements AutoCloseable {

    /** A float tensor: values in row-major order and its shape. */
    public record Tensor(float[] values, long[] shape) {
    }

    /** Session settings. */
    public record Settings(int threads, boolean optimize, boolean cuda) {
        public static Settings defaults() {
            return new Settings(Math.max(1, Runtime.getRuntime().availableProcessors()), true, false);
        }

        public Settings withThreads(int n) {
            return new Settings(n, optimize, cuda);
        }
    }

    private final OrtEnvironment env;
    private final OrtSession session;

    /** Weights handed to ORT from our own buffers ({@link #openLean}); they must outlive the session. */
    private final List<OnnxTensor> sharedWeights;

    private Inference(OrtEnvironment env, OrtSession session, List<OnnxTensor> sharedWeights) {
        this.env = env;
        this.session = session;
        this.sharedWeights = sharedWeights;
    }

    public static Inference open(OnnxModel model, Settings settings) throws LrdktException {
        return open(model, settings, false);
    }

    /**
     * Refuses, naming {@code path}, a model ONNX Runtime cannot load. ONNX Runtime validates what the training mirror
     * takes on trust (attribute ranges, groups, opsets), so a model it cannot load is refused before any training,
     * since the written student could not run either.
     */
    public static void checkLoads(OnnxModel model, Path path) throws LrdktException {
        try {
            // opening is the check; lean, because what ORT allocates for it stays with the process (glibc keeps it)
            open(model, new Settings(1, false, false), true).close();
        } catch (LrdktException e) {
            throw new LrdktException(e.kind(), path + ": " + e.getMessage(), e);
        }
    }

    /**
     * Opens a model that streams many batches while the caller holds other large things (calibration next to the
     * decomposition). Its float weights reach ONNX Runtime as tensors over the loaded model's own bytes (for a
     * memory-mapped model, the file's pages: no copy at all) instead of inside a serialized copy, and ORT neither
     * pre-packs weights into a second copy nor keeps a memory arena between runs.
     */
    public static Inference openLean(OnnxModel model, Settings settings) throws LrdktException {
        return open(model, settings, true);
    }

    private static Inference open(OnnxModel model, Settings settings, boolean lean) throws LrdktException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
            if (lean) {
                opts.setCPUArenaAllocator(false);
                opts.addConfigEntry("session.disable_prepacking", "1");
            }
            opts.setIntraOpNumThreads(settings.threads());
            opts.setInterOpNumThreads(1);
            opts.setOptimizationLevel(settings.optimize() ? OrtSession.SessionOptions.OptLevel.ALL_OPT
                    : OrtSession.SessionOptions.OptLevel.NO_OPT);
            if (settings.cuda()) {
                try {
                    opts.addCUDA(0);
                } catch (OrtException | RuntimeException e) {
                    throw LrdktException.unsupported("CUDA execution provider is not available ("
                            + LrdktException.firstLine(e.getMessage())
                            + "); build with -Pgpu on a machine with a CUDA 12 GPU");
                }
            }
            if (!model.fitsInline()) {
                return new Inference(env, openFromExternalData(env, model, opts), List.of());
            }
            if (!lean) {
                return new Inference(env, env.createSession(model.toBytes(), opts), List.of());
            }
            Map<String, OnnxTensor> shared = new LinkedHashMap<>();
            try {
                ModelProto rest = shareFloatWeights(env, model.proto(), shared);
                opts.addExternalInitializers(new LinkedHashMap<>(shared));
                return new Inference(env, env.createSession(rest.toByteArray(), opts), List.copyOf(shared.values()));
            } catch (OrtException | RuntimeException e) {
                shared.values().forEach(OnnxTensor::close);
                throw e;
            }
        } catch (OrtException e) {
            throw new LrdktException(LrdktException.Kind.RUNTIME, "ONNX Runtime cannot load the model: "
                    + LrdktException.firstLine(e.getMessage()), e);
        }
    }

    /**
     * Float initializers smaller than this stay in the model: sharing saves nothing on them, and ONNX Runtime's shape
     * inference reads some of them at load (a Resize's scales), which it cannot from a shared tensor.
     */
    static final long SHARED_WEIGHT_MIN_ELEMENTS = 1 << 10;

    /**
     * The model without its float weights (initializers stored as raw bytes, not small and not also graph inputs),
     * each of which becomes an ORT tensor over its bytes, put into {@code shared} by name.
     */
    private static ModelProto shareFloatWeights(OrtEnvironment env, ModelProto model, Map<String, OnnxTensor> shared)
            throws OrtException {
        GraphProto graph = model.getGraph();
        Set<String> inputs = new HashSet<>();
        graph.getInputList().forEach(v -> inputs.add(v.getName()));
        GraphProto.Builder rest = graph.toBuilder().clearInitializer();
        for (TensorProto t : graph.getInitializerList()) {
            boolean shareable = t.getDataType() == TensorProto.DataType.FLOAT_VALUE && t.hasRawData()
                    && Costs.product(TensorData.dims(t)) >= SHARED_WEIGHT_MIN_ELEMENTS
                    && t.getDataLocation() != TensorProto.DataLocation.EXTERNAL && !inputs.contains(t.getName());
            if (!shareable) {
                rest.addInitializer(t);
                continue;
            }
            ByteBuffer bytes = t.getRawData().asReadOnlyByteBuffer();
            if (!bytes.isDirect()) { // a model built in memory: one direct copy, as ORT would make anyway
                bytes = ByteBuffer.allocateDirect(t.getRawData().size()).put(bytes).flip();
            }
            shared.put(t.getName(), OnnxTensor.createTensor(env,
                    bytes.order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer(), TensorData.dims(t)));
            // the graph still declares it, as external data that ORT replaces by the tensor instead of reading
            rest.addInitializer(t.toBuilder().clearRawData().setDataLocation(TensorProto.DataLocation.EXTERNAL)
                    .addExternalData(StringStringEntryProto.newBuilder()
                            .setKey("location").setValue("lrdkt-shared-weights")));
        }
        return model.toBuilder().setGraph(rest).build();
    }

    /** Models over 2 GiB reach ORT as a file with external data; the temporary copy is gone once loaded. */
    private static OrtSession openFromExternalData(OrtEnvironment env, OnnxModel model, OrtSession.SessionOptions opts)
            throws OrtException, LrdktException {
        Path dir = null;
        try {
            dir = Files.createTempDirectory("lrdkt-session");
            Path file = dir.resolve("model.onnx");
            OnnxModel.of(model.proto()).save(file, OnnxModel.ExternalData.ALWAYS);
            return env.createSession(file.toString(), opts);
        } catch (IOException e) {
            throw new LrdktException(LrdktException.Kind.IO, "cannot stage a large model for ONNX Runtime: "
                    + e.getMessage(), e);
        } finally {
            if (dir != null) {
                try (var files = Files.list(dir)) {
                    for (Path f : files.toList()) {
                        Files.deleteIfExists(f);
                    }
                    Files.deleteIfExists(dir);
                } catch (IOException ignored) {
                    // a temp folder left behind is harmless
                }
            }
        }
    }

    public List<String> inputNames() {
        return new ArrayList<>(session.getInputNames());
    }

    public List<String> outputNames() {
        return new ArrayList<>(session.getOutputNames());
    }

    /** Runs with one input and returns the first output. */
    public Tensor run(Tensor input) throws LrdktException {
        Map<String, Tensor> out = run(Map.of(inputNames().get(0), input), List.of(outputNames().get(0)));
        return out.values().iterator().next();
    }

    /** Runs with the given feeds and returns the requested outputs (all outputs when the list is empty). */
    public Map<String, Tensor> run(Map<String, Tensor> feeds, List<String> outputs) throws LrdktException {
        try (NativeFeeds inputs = nativeFeeds(feeds);
             OrtSession.Result r = outputs.isEmpty() ? session.run(inputs.tensors)
                     : session.run(inputs.tensors, new LinkedHashSet<>(outputs))) {
            Map<String, Tensor> result = new LinkedHashMap<>();
            for (Map.Entry<String, OnnxValue> e : r) {
                OnnxTensor t = (OnnxTensor) e.getValue();
                FloatBuffer fb = t.getFloatBuffer();
                if (fb == null) {
                    throw LrdktException.unsupported("output '" + e.getKey() + "' is of type "
                            + t.getInfo().type + "; only float outputs can be read");
                }
                float[] values = new float[fb.remaining()];
                fb.get(values);
                result.put(e.getKey(), new Tensor(values, t.getInfo().getShape()));
            }
            return result;
        } catch (OrtException | ClassCastException e) {
            throw runFailed(e);
        }
    }

    /** A float tensor read in place: a view of a buffer that the next run overwrites. */
    public record View(FloatBuffer values, long[] shape) {
        public static View of(Tensor t) {
            return new View(FloatBuffer.wrap(t.values()), t.shape());
        }
    }

    /**
     * Output buffers allocated once and written by every run with {@link #runPinned}: streaming many batches through
     * a large model then allocates nothing per batch, where copying each output out (as {@link #run} does) churns
     * the heap with every activation. Close to free them.
     */
    public final class Pinned implements AutoCloseable {
        private final Map<String, OnnxTensor> tensors = new LinkedHashMap<>();
        private final Map<String, View> views = new LinkedHashMap<>();

        private Pinned() {
        }

        @Override
        public void close() {
            tensors.values().forEach(OnnxTensor::close);
        }
    }

    /**
     * Buffers for the given float outputs at the given shapes, or null when one of them is not a float output of
     * this session (half-precision activations, say): such outputs can only be read through {@link #run}.
     */
    public Pinned pin(Map<String, long[]> shapes) throws LrdktException {
        Pinned pinned = new Pinned();
        try {
            Map<String, NodeInfo> info = session.getOutputInfo();
            for (Map.Entry<String, long[]> e : shapes.entrySet()) {
                NodeInfo node = info.get(e.getKey());
                if (node == null || !(node.getInfo() instanceof TensorInfo t)
                        || t.type != OnnxJavaType.FLOAT) {
                    pinned.close();
                    return null;
                }
                long count = TensorData.elementCount(e.getKey(), e.getValue());
                FloatBuffer buffer = ByteBuffer.allocateDirect(Math.toIntExact(4 * count))
                        .order(ByteOrder.nativeOrder()).asFloatBuffer();
                pinned.tensors.put(e.getKey(), OnnxTensor.createTensor(env, buffer, e.getValue()));
                pinned.views.put(e.getKey(), new View(buffer, e.getValue().clone()));
            }
            return pinned;
        } catch (OrtException | ArithmeticException e) {
            pinned.close();
            throw new LrdktException(LrdktException.Kind.RUNTIME, "cannot allocate output buffers: "
                    + LrdktException.firstLine(e.getMessage()), e);
        }
    }

    /** Runs with the given feeds, writing the pinned outputs in place; the views are valid until the next run. */
    public Map<String, View> runPinned(Map<String, Tensor> feeds, Pinned outputs) throws LrdktException {
        try (NativeFeeds inputs = nativeFeeds(feeds)) {
            session.run(inputs.tensors, outputs.tensors).close(); // the results are the pinned buffers themselves
            return outputs.views;
        } catch (OrtException e) {
            throw new LrdktException(LrdktException.Kind.RUNTIME, "ONNX Runtime failed to run the model: "
                    + LrdktException.firstLine(e.getMessage()), e);
        }
    }

    /** Runs and returns the shape of every output, whatever its element type. */
    public Map<String, long[]> outputShapes(Map<String, Tensor> feeds) throws LrdktException {
        try (NativeFeeds inputs = nativeFeeds(feeds); OrtSession.Result r = session.run(inputs.tensors)) {
            Map<String, long[]> shapes = new LinkedHashMap<>();
            for (Map.Entry<String, OnnxValue> e : r) {
                if (e.getValue() instanceof OnnxTensor t) {
                    shapes.put(e.getKey(), t.getInfo().getShape());
                }
            }
            return shapes;
        } catch (OrtException e) {
            throw runFailed(e);
        }
    }

    /** Runs without copying outputs back; for latency measurements. */
    public void runDiscarding(NativeFeeds feeds) throws LrdktException {
        try {
            session.run(feeds.tensors).close(); // results are dropped on purpose: only the time matters
        } catch (OrtException e) {
            throw runFailed(e);
        }
    }

    private static LrdktException runFailed(Exception e) {
        return new LrdktException(LrdktException.Kind.RUNTIME, "ONNX Runtime failed to run the model: "
                + LrdktException.firstLine(e.getMessage()), e);
    }

    /** Inputs by name, copied once into ONNX Runtime's memory; they can feed many runs. The caller closes them. */
    public NativeFeeds nativeFeeds(Map<String, Tensor> feeds) throws LrdktException {
        NativeFeeds prepared = new NativeFeeds();
        try {
            for (Map.Entry<String, Tensor> e : feeds.entrySet()) {
                prepared.tensors.put(e.getKey(), OnnxTensor.createTensor(env,
                        FloatBuffer.wrap(e.getValue().values()), e.getValue().shape()));
            }
            return prepared;
        } catch (OrtException e) {
            prepared.close();
            throw new LrdktException(LrdktException.Kind.RUNTIME, "cannot create input tensor: " + e.getMessage(), e);
        }
    }

    /** Inputs held in ONNX Runtime's memory (see {@link #nativeFeeds}); closing frees them. */
    public static final class NativeFeeds implements AutoCloseable {
        private final Map<String, OnnxTensor> tensors = new HashMap<>();

        private NativeFeeds() {
        }

        @Override
        public void close() {
            tensors.values().forEach(OnnxTensor::close);
        }
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            // closing a session only frees memory; nothing to report to the user
        }
        sharedWeights.forEach(OnnxTensor::close);
    }
}
