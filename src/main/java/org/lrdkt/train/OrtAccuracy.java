package org.lrdkt.train;

import java.util.Arrays;
import org.lrdkt.LrdktException;
import org.lrdkt.onnx.Inference;
import org.lrdkt.onnx.OnnxModel;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * Top-1 accuracy of an ONNX model as ONNX Runtime computes it on labelled data: the check that the model written
 * after fine-tuning (not the mirror) is the one that scores.
 */
public final class OrtAccuracy {

    private static final int BATCH = 500;

    private OrtAccuracy() {
    }

    public static double of(OnnxModel model, TrainData data, int threads) throws LrdktException {
        if (!data.labelled()) {
            throw LrdktException.badInput("test data " + data.source() + " has no labels");
        }
        if (data.size() == 0) {
            throw LrdktException.badInput("test data " + data.source() + " is empty");
        }
        long correct = 0;
        try (Inference ort = Inference.open(model, new Inference.Settings(threads, true, false))) {
            long[] sample = inputSample(model, data);
            for (int from = 0; from < data.size(); from += BATCH) {
                int[] idx = new int[Math.min(BATCH, data.size() - from)];
                int start = from;
                Arrays.setAll(idx, i -> start + i);
                var x = data.batch(idx, sample, DataType.FLOAT);
                Inference.Tensor out = ort.run(new Inference.Tensor(x.data().asFloat(), x.shape()));
                int classes = (int) out.shape()[1];
                int[] labels = data.labels(idx);
                for (int i = 0; i < idx.length; i++) {
                    int best = 0;
                    for (int c = 1; c < classes; c++) {
                        best = out.values()[i * classes + c] > out.values()[i * classes + best] ? c : best;
                    }
                    correct += best == labels[i] ? 1 : 0;
                }
            }
        }
        return (double) correct / data.size();
    }

    /** The model's per-sample input shape when it is static (e.g. 1×28×28 for 28×28 IDX images), else the data's. */
    private static long[] inputSample(OnnxModel model, TrainData data) {
        var shape = model.graph().getInput(0).getType().getTensorType().getShape();
        long[] dims = new long[Math.max(0, shape.getDimCount() - 1)];
        for (int i = 0; i < dims.length; i++) {
            dims[i] = shape.getDim(i + 1).hasDimValue() ? shape.getDim(i + 1).getDimValue() : -1;
        }
        boolean usable = dims.length > 0 && Arrays.stream(dims).allMatch(d -> d > 0)
                && Arrays.stream(dims).reduce(1, (a, b) -> a * b) == data.sampleSize();
        return usable ? dims : data.sampleShape();
    }
}
