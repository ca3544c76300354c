package org.lrdkt.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import org.lrdkt.LrdktException;

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

    private Inference(OrtEnvironment env, OrtSession session) {
        this.env = env;
        this.session = session;
    }

    public static Inference open(OnnxModel model, Settings settings) throws LrdktException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
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
            if (model.fitsInline()) {
                return new Inference(env, env.createSession(model.toBytes(), opts));
            }
            return new Inference(env, openFromExternalData(env, model, opts));
        } catch (OrtException e) {
            throw new LrdktException(LrdktException.Kind.RUNTIME, "ONNX Runtime cannot load the model: "
                    + LrdktException.firstLine(e.getMessage()), e);
        }
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
    }
}
