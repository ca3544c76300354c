package org.lrdkt.train;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.lrdkt.Json;
import org.lrdkt.LrdktException;
import org.lrdkt.onnx.OnnxModel;
import org.lrdkt.onnx.TensorData;
import org.lrdkt.onnx.proto.Onnx.GraphProto;
import org.lrdkt.onnx.proto.Onnx.ModelProto;
import org.lrdkt.onnx.proto.Onnx.StringStringEntryProto;
import org.lrdkt.onnx.proto.Onnx.TensorProto;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * An epoch checkpoint for {@code --resume}: the student ONNX model with the current weights (runnable as is), plus
 * the best weights so far and the optimizer state as extra initializers, and the run state as metadata. One file,
 * written atomically.
 */
public final class Checkpoint {

    private static final String STATE_KEY = "lrdkt.checkpoint";
    private static final String BEST = "lrdkt.checkpoint/best/";
    private static final String OPTIMIZER = "lrdkt.checkpoint/optimizer/";

    /** What a resumed run continues from. */
    record State(int epochsDone, int bestEpoch, double bestScore, double bestLoss, List<FinetuneResult.Epoch> history) {
    }

    private record Stored(String fingerprint, long optimizerSteps, State state) {
    }

    private Checkpoint() {
    }

    /** Where a run writing {@code output} keeps its checkpoint: beside it, named {@code OUT.ckpt}. */
    public static Path pathFor(Path output) {
        return output.resolveSibling(output.getFileName() + ".ckpt");
    }

    static void save(Path file, OnnxModel current, String fingerprint, State state, Map<String, INDArray> best,
                     Optimizer optimizer) throws LrdktException {
        GraphProto.Builder graph = current.graph().toBuilder();
        best.forEach((name, value) -> graph.addInitializer(tensor(BEST + name, value)));
        optimizer.state().forEach((name, value) -> graph.addInitializer(tensor(OPTIMIZER + name, value)));
        ModelProto.Builder model = current.proto().toBuilder().setGraph(graph);
        model.addMetadataProps(StringStringEntryProto.newBuilder().setKey(STATE_KEY)
                .setValue(Json.write(new Stored(fingerprint, optimizer.steps(), state))));
        OnnxModel.of(model.build()).save(file, OnnxModel.ExternalData.AUTO);
    }

    private static TensorProto tensor(String name, INDArray value) {
        return TensorData.fromFloats(name, value.shape(), value.castTo(DataType.FLOAT).dup('c').data().asFloat(),
                TensorProto.DataType.FLOAT_VALUE);
    }

    /** Restores parameters, best weights and optimizer state in place; returns the run state. */
    static State load(Path file, String fingerprint, Map<String, Mirror.Parameter> parameters,
                      Map<String, INDArray> best, Optimizer optimizer) throws LrdktException {
        if (!Files.exists(file)) {
            throw LrdktException.usage("--resume: no checkpoint at " + file);
        }
        OnnxModel model = OnnxModel.load(file);
        String json = model.metadata(STATE_KEY);
        if (json == null) {
            throw LrdktException.badInput(file + " is not an lrdkt checkpoint (no " + STATE_KEY + " metadata)");
        }
        Stored stored;
        try {
            stored = Json.MAPPER.readValue(json, Stored.class);
        } catch (java.io.IOException e) {
            throw LrdktException.badInput("corrupt checkpoint state in " + file + ": " + e.getMessage());
        }
        if (!stored.fingerprint().equals(fingerprint)) {
            throw LrdktException.usage("checkpoint " + file + " was made with other options (" + stored.fingerprint()
                    + "); resume with the same flags, or delete it to start over");
        }
        Map<String, INDArray> optimizerState = new LinkedHashMap<>();
        int restored = 0;
        for (TensorProto t : model.graph().getInitializerList()) {
            String name = t.getName();
            if (name.startsWith(BEST)) {
                restore(best, name.substring(BEST.length()), t, file);
            } else if (name.startsWith(OPTIMIZER)) {
                optimizerState.put(name.substring(OPTIMIZER.length()), array(t));
            } else if (parameters.containsKey(name)) {
                assign(parameters.get(name).value(), t, file);
                restored++;
            }
        }
        if (restored != parameters.size()) {
            throw LrdktException.badInput("checkpoint " + file + " holds " + restored + " of the student's "
                    + parameters.size() + " weights; it belongs to another student");
        }
        optimizer.restore(optimizerState, stored.optimizerSteps());
        return stored.state();
    }

    private static void restore(Map<String, INDArray> best, String name, TensorProto t, Path file)
            throws LrdktException {
        INDArray target = best.get(name);
        if (target == null) {
            throw LrdktException.badInput("checkpoint " + file + " has a weight '" + name + "' the student lacks");
        }
        assign(target, t, file);
    }

    private static void assign(INDArray target, TensorProto t, Path file) throws LrdktException {
        if (!Arrays.equals(target.shape(), TensorData.dims(t))) {
            throw LrdktException.badInput("checkpoint " + file + ": weight '" + t.getName() + "' has shape "
                    + Arrays.toString(TensorData.dims(t)) + ", the student's has " + Arrays.toString(target.shape()));
        }
        target.assign(array(t));
    }

    private static INDArray array(TensorProto t) throws LrdktException {
        return Nd4j.createFromArray(TensorData.toFloats(t)).reshape('c', TensorData.dims(t));
    }
}
