package org.lrdkt.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.lrdkt.LrdktException;
import org.lrdkt.onnx.proto.Onnx.GraphProto;
import org.lrdkt.onnx.proto.Onnx.ModelProto;
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
                            + Shapes.firstLine(e.getMessage()) + "); build with -Pgpu on a machine with a CUDA 12 GPU");
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
                    + Shapes.firstLine(e.getMessage()), e);
        }
    }

    /**
     * The model without its float initializers (those stored as raw bytes and not also graph inputs), each of which
     * becomes an ORT tensor over its bytes, put into {@code shared} by name.
     */
    private static ModelProto shareFloatWeights(OrtEnvironment env, ModelProto model, Map<String, OnnxTensor> shared)
            throws OrtException {
        GraphProto graph = model.getGraph();
        java.util.Set<String> inputs = new java.util.HashSet<>();
        graph.getInputList().forEach(v -> inputs.add(v.getName()));
        GraphProto.Builder rest = graph.toBuilder().clearInitializer();
        for (TensorProto t : graph.getInitializerList()) {
            boolean shareable = t.getDataType() == TensorProto.DataType.FLOAT_VALUE && t.hasRawData()
                    && t.getDataLocation() != TensorProto.DataLocation.EXTERNAL && !inputs.contains(t.getName());
            if (!shareable) {
                rest.addInitializer(t);
                continue;
            }
            java.nio.ByteBuffer bytes = t.getRawData().asReadOnlyByteBuffer();
            if (!bytes.isDirect()) { // a model built in memory: one direct copy, as ORT would make anyway
                bytes = java.nio.ByteBuffer.allocateDirect(t.getRawData().size()).put(bytes).flip();
            }
            shared.put(t.getName(), OnnxTensor.createTensor(env,
                    bytes.order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer(), TensorData.dims(t)));
            // the graph still declares it, as external data that ORT replaces by the tensor instead of reading
            rest.addInitializer(t.toBuilder().clearRawData().setDataLocation(TensorProto.DataLocation.EXTERNAL)
                    .addExternalData(org.lrdkt.onnx.proto.Onnx.StringStringEntryProto.newBuilder()
                            .setKey("location").setValue("lrdkt-shared-weights")));
        }
        return model.toBuilder().setGraph(rest).build();
    }

    /** Models over 2 GiB reach ORT as a file with external data; the temporary copy is gone once loaded. */
    private static OrtSession openFromExternalData(OrtEnvironment env, OnnxModel model, OrtSession.SessionOptions opts)
            throws OrtException, LrdktException {
        java.nio.file.Path dir = null;
        try {
            dir = java.nio.file.Files.createTempDirectory("lrdkt-session");
            java.nio.file.Path file = dir.resolve("model.onnx");
            OnnxModel.of(model.proto()).save(file, OnnxModel.ExternalData.ALWAYS);
            return env.createSession(file.toString(), opts);
        } catch (java.io.IOException e) {
            throw new LrdktException(LrdktException.Kind.IO, "cannot stage a large model for ONNX Runtime: "
                    + e.getMessage(), e);
        } finally {
            if (dir != null) {
                try (var files = java.nio.file.Files.list(dir)) {
                    for (java.nio.file.Path f : files.toList()) {
                        java.nio.file.Files.deleteIfExists(f);
                    }
                    java.nio.file.Files.deleteIfExists(dir);
                } catch (java.io.IOException ignored) {
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
        Map<String, OnnxTensor> inputs = new HashMap<>();
        try {
            for (Map.Entry<String, Tensor> e : feeds.entrySet()) {
                inputs.put(e.getKey(), OnnxTensor.createTensor(env, FloatBuffer.wrap(e.getValue().values()),
                        e.getValue().shape()));
            }
            Map<String, Tensor> result = new LinkedHashMap<>();
            try (OrtSession.Result r = outputs.isEmpty() ? session.run(inputs)
                    : session.run(inputs, new java.util.LinkedHashSet<>(outputs))) {
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
            }
            return result;
        } catch (OrtException | ClassCastException e) {
            throw new LrdktException(LrdktException.Kind.RUNTIME, "ONNX Runtime failed to run the model: "
                    + Shapes.firstLine(e.getMessage()), e);
        } finally {
            inputs.values().forEach(OnnxTensor::close);
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
            Map<String, ai.onnxruntime.NodeInfo> info = session.getOutputInfo();
            for (Map.Entry<String, long[]> e : shapes.entrySet()) {
                ai.onnxruntime.NodeInfo node = info.get(e.getKey());
                if (node == null || !(node.getInfo() instanceof ai.onnxruntime.TensorInfo t)
                        || t.type != ai.onnxruntime.OnnxJavaType.FLOAT) {
                    pinned.close();
                    return null;
                }
                long count = TensorData.elementCount(e.getKey(), e.getValue());
                FloatBuffer buffer = java.nio.ByteBuffer.allocateDirect(Math.toIntExact(4 * count))
                        .order(java.nio.ByteOrder.nativeOrder()).asFloatBuffer();
                pinned.tensors.put(e.getKey(), OnnxTensor.createTensor(env, buffer, e.getValue()));
                pinned.views.put(e.getKey(), new View(buffer, e.getValue().clone()));
            }
            return pinned;
        } catch (OrtException | ArithmeticException e) {
            pinned.close();
            throw new LrdktException(LrdktException.Kind.RUNTIME, "cannot allocate output buffers: "
                    + Shapes.firstLine(e.getMessage()), e);
        }
    }

    /** Runs with the given feeds, writing the pinned outputs in place; the views are valid until the next run. */
    public Map<String, View> runPinned(Map<String, Tensor> feeds, Pinned outputs) throws LrdktException {
        Map<String, OnnxTensor> inputs = new HashMap<>();
        try {
            for (Map.Entry<String, Tensor> e : feeds.entrySet()) {
                inputs.put(e.getKey(), nativeTensor(e.getValue()));
            }
            try (OrtSession.Result ignored = session.run(inputs, outputs.tensors)) {
                return outputs.views;
            }
        } catch (OrtException e) {
            throw new LrdktException(LrdktException.Kind.RUNTIME, "ONNX Runtime failed to run the model: "
                    + Shapes.firstLine(e.getMessage()), e);
        } finally {
            inputs.values().forEach(OnnxTensor::close);
        }
    }

    /** Runs and returns the shape of every output, whatever its element type. */
    public Map<String, long[]> outputShapes(Map<String, Tensor> feeds) throws LrdktException {
        Map<String, OnnxTensor> inputs = new HashMap<>();
        try {
            for (Map.Entry<String, Tensor> e : feeds.entrySet()) {
                inputs.put(e.getKey(), nativeTensor(e.getValue()));
            }
            Map<String, long[]> shapes = new LinkedHashMap<>();
            try (OrtSession.Result r = session.run(inputs)) {
                for (Map.Entry<String, OnnxValue> e : r) {
                    if (e.getValue() instanceof OnnxTensor t) {
                        shapes.put(e.getKey(), t.getInfo().getShape());
                    }
                }
            }
            return shapes;
        } catch (OrtException e) {
            throw new LrdktException(LrdktException.Kind.RUNTIME, "ONNX Runtime failed to run the model: "
                    + Shapes.firstLine(e.getMessage()), e);
        } finally {
            inputs.values().forEach(OnnxTensor::close);
        }
    }

    /** Runs without copying outputs back; for latency measurements. */
    public void runDiscarding(Map<String, OnnxTensor> inputs) throws LrdktException {
        try (OrtSession.Result ignored = session.run(inputs)) {
            // results are dropped on purpose: only the time matters
        } catch (OrtException e) {
            throw new LrdktException(LrdktException.Kind.RUNTIME, "ONNX Runtime failed to run the model: "
                    + Shapes.firstLine(e.getMessage()), e);
        }
    }

    /** A native tensor for repeated feeding (benchmarks); the caller closes it. */
    public OnnxTensor nativeTensor(Tensor t) throws LrdktException {
        try {
            return OnnxTensor.createTensor(env, FloatBuffer.wrap(t.values()), t.shape());
        } catch (OrtException e) {
            throw new LrdktException(LrdktException.Kind.RUNTIME, "cannot create input tensor: " + e.getMessage(), e);
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
