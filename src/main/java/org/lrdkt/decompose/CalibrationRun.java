package org.lrdkt.decompose;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.lrdkt.LrdktException;
import org.lrdkt.TextTable;
import org.lrdkt.data.Dataset;
import org.lrdkt.data.Datasets;
import org.lrdkt.onnx.Costs;
import org.lrdkt.onnx.Graph;
import org.lrdkt.onnx.Inference;
import org.lrdkt.onnx.OnnxModel;
import org.lrdkt.onnx.Shapes;
import org.lrdkt.onnx.proto.Onnx.GraphProto;
import org.lrdkt.onnx.proto.Onnx.ModelProto;
import org.lrdkt.onnx.proto.Onnx.ValueInfoProto;

/**
 * Streams a calibration set through the teacher in ONNX Runtime, with every candidate layer's input (and, where a
 * scheme needs it, its output) exposed as an extra graph output, and folds each batch into the layers'
 * {@link LayerStatistics}. Only one batch of activations is alive at a time.
 */
final class CalibrationRun {

    /** Exposed activations per batch are kept under this many floats (64 MiB). */
    private static final long BATCH_FLOATS = 16L << 20;
    private static final int MAX_BATCH = 32;

    private CalibrationRun() {
    }

    static void collect(OnnxModel teacher, List<LayerPlan> plans, Map<String, long[]> shapes,
                        CompressOptions options) throws LrdktException {
        Calibration calibration = options.calibration();
        Dataset data;
        try {
            data = Datasets.openTraining(calibration.data(),
                    calibration.preprocessing().withModelInput(Shapes.declaredInputDims(teacher)));
        } catch (LrdktException e) {
            throw new LrdktException(e.kind(), "calibration: " + e.getMessage(), e);
        }
        Graph graph = Graph.of(teacher);
        List<ValueInfoProto> inputs = graph.realInputs();
        if (inputs.size() != 1) {
            throw LrdktException.unsupported("calibration feeds one input, but the model has " + inputs.size());
        }
        String input = inputs.get(0).getName();
        long[] declared = Shapes.declaredInputDims(teacher);
        checkFits(data, input, declared);
        int count = Math.min(calibration.samples(), data.size());
        for (int i = 0; i < plans.size(); i++) {
            plans.get(i).statistics = LayerStatistics.of(plans.get(i).candidate, options.scheme(), count, i + 1);
        }
        Set<String> tensors = new LinkedHashSet<>();
        plans.forEach(p -> tensors.addAll(p.statistics.tensors()));
        int batch = declared[0] > 0 ? (int) declared[0] : batchSize(tensors, shapes);
        Set<String> requested = new LinkedHashSet<>(tensors);
        requested.remove(input); // the feed itself, not an output
        try (Inference session = Inference.openLean(OnnxModel.of(exposing(teacher.proto(), requested)),
                Inference.Settings.defaults())) {
            stream(session, input, data, count, declared[0] > 0, batch, requested, plans);
        } catch (LrdktException e) {
            throw new LrdktException(e.kind(), "calibration on " + data.description() + ": " + e.getMessage(), e);
        }
        // the run's transient heap (the first batch's copies, samples) goes back before the decomposition's peak
        System.gc();
    }

    /**
     * Feeds {@code count} samples spread evenly over the data, {@code batch} at a time, and hands every batch's
     * activations to the layers. The first batch is read by copying; its shapes then size output buffers that
     * every further batch of the same size is written into in place.
     */
    private static void stream(Inference session, String input, Dataset data, int count, boolean fixedBatch,
                               int batch, Set<String> requested, List<LayerPlan> plans) throws LrdktException {
        long[] sample = data.sampleShape();
        int length = data.sampleLength();
        Inference.Pinned pinned = null;
        float[] full = new float[batch * length];
        try {
            for (int start = 0; start < count; start += batch) {
                int n = Math.min(batch, count - start);
                if (fixedBatch && n != batch) {
                    break; // a model with a fixed batch size takes only whole batches
                }
                float[] values = n == batch ? full : new float[n * length]; // whole batches reuse one array
                for (int i = 0; i < n; i++) {
                    data.fill((int) ((long) (start + i) * data.size() / count), values, i * length);
                }
                long[] shape = new long[sample.length + 1];
                shape[0] = n;
                System.arraycopy(sample, 0, shape, 1, sample.length);
                Inference.Tensor feed = new Inference.Tensor(values, shape);
                Map<String, Inference.View> activations = new HashMap<>();
                if (pinned != null && n == batch) {
                    activations.putAll(session.runPinned(Map.of(input, feed), pinned));
                } else {
                    Map<String, long[]> shapes = new HashMap<>();
                    for (Map.Entry<String, Inference.Tensor> e : session.run(Map.of(input, feed),
                            new ArrayList<>(requested)).entrySet()) {
                        activations.put(e.getKey(), Inference.View.of(e.getValue()));
                        shapes.put(e.getKey(), e.getValue().shape());
                    }
                    if (start == 0 && n == batch) {
                        pinned = session.pin(shapes); // null when an output is not float: copy every batch
                    }
                }
                activations.put(input, Inference.View.of(feed));
                for (LayerPlan p : plans) {
                    p.statistics.add(activations);
                }
            }
        } finally {
            if (pinned != null) {
                pinned.close();
            }
        }
    }

    /** One clear line when the data cannot feed the model: empty, or samples of another shape. */
    private static void checkFits(Dataset data, String input, long[] declared) throws LrdktException {
        if (data.size() == 0) {
            throw LrdktException.badInput("calibration data " + data.description() + " is empty");
        }
        long[] sample = data.sampleShape();
        boolean fits = declared.length == sample.length + 1;
        for (int i = 0; fits && i < sample.length; i++) {
            fits = declared[i + 1] <= 0 || declared[i + 1] == sample[i];
        }
        if (!fits) {
            throw LrdktException.badInput("calibration data " + data.description() + " gives samples of shape "
                    + TextTable.dims(sample) + ", but the model's input '" + input + "' is "
                    + TextTable.dims(declared) + " (see --resize, --channels, --layout)");
        }
    }

    /** A batch whose exposed activations stay within {@link #BATCH_FLOATS}. */
    private static int batchSize(Set<String> tensors, Map<String, long[]> shapes) {
        long perSample = 1;
        for (String t : tensors) {
            long[] s = shapes.get(t);
            if (s != null && s.length > 0) {
                perSample += Costs.product(s) / Math.max(1, s[0]);
            }
        }
        return (int) Math.max(1, Math.min(MAX_BATCH, BATCH_FLOATS / perSample));
    }

    /** The model with the given tensors added as graph outputs (those already outputs are left as they are). */
    private static ModelProto exposing(ModelProto model, Set<String> tensors) {
        GraphProto graph = model.getGraph();
        GraphProto.Builder exposed = graph.toBuilder();
        Set<String> outputs = new HashSet<>();
        graph.getOutputList().forEach(v -> outputs.add(v.getName()));
        for (String t : tensors) {
            if (outputs.add(t)) {
                exposed.addOutput(ValueInfoProto.newBuilder().setName(t));
            }
        }
        return model.toBuilder().setGraph(exposed).build();
    }
}
