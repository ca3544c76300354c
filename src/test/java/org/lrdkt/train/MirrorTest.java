package org.lrdkt.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lrdkt.onnx.Attrs.ofInt;
import static org.lrdkt.onnx.Attrs.ofInts;
import static org.lrdkt.GraphBuilder.in;
import static org.lrdkt.train.MirrorModels.groupedConvolutions;
import static org.lrdkt.train.MirrorModels.linearAndPooling;
import static org.lrdkt.train.MirrorModels.opZoo;
import static org.lrdkt.train.MirrorModels.relativeError;
import static org.lrdkt.train.MirrorModels.resnetStyle;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.lrdkt.GraphBuilder;
import org.lrdkt.LrdktException;
import org.lrdkt.TestModels;
import org.lrdkt.onnx.OnnxModel;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The mirror's forward pass equals ONNX Runtime's on the same model and inputs. */
class MirrorTest {

    @Test
    void lenetMatchesOrt() throws Exception {
        OnnxModel lenet = OnnxModel.load(TestModels.LENET);
        assertTrue(relativeError(lenet, new long[] {5, 1, 28, 28}, 0, 1) < 1e-4);
    }

    @Test
    void decomposedLenetMatchesOrt() throws Exception {
        OnnxModel student = Decomposed.lenet(OnnxModel.load(TestModels.LENET), 3, 20);
        assertTrue(relativeError(student, new long[] {4, 1, 28, 28}, 0, 1) < 1e-4);
    }

    @Test
    void resnetStyleMatchesOrt() throws Exception {
        assertTrue(relativeError(resnetStyle(), new long[] {2, 3, 16, 16}, -1, 1) < 1e-4);
    }

    @Test
    void activationsOverwriteOnlyWhatNothingElseReads() throws Exception {
        OnnxModel model = resnetStyle();
        Mirror mirror = Mirror.of(model, DataType.FLOAT, true);
        Map<String, INDArray> feeds = Map.of("input", Nd4j.rand(DataType.FLOAT, 2, 3, 16, 16).subi(0.5));
        List<String> reluInputs = model.proto().getGraph().getNodeList().stream()
                .filter(n -> n.getOpType().equals("Relu")).map(n -> n.getInput(0)).toList();
        String read = reluInputs.get(1);
        Map<String, INDArray> everything = mirror.forward(feeds);
        Map<String, INDArray> training = mirror.forward(feeds, Set.of(read));
        assertEquals(everything.get("logits"), training.get("logits"));
        // every ReLU here reads a BatchNormalization or Add output that nothing else reads, nor their backward passes
        for (String t : reluInputs) {
            assertTrue(everything.get(t).minNumber().doubleValue() < 0, t + " keeps its negative values");
            assertEquals(t.equals(read), training.get(t).minNumber().doubleValue() < 0,
                    t + " is overwritten by its ReLU unless the caller reads it");
        }
    }

    @Test
    void linearAndPoolingMatchOrt() throws Exception {
        assertTrue(relativeError(linearAndPooling(), new long[] {2, 3, 9, 9}, -1, 1) < 1e-4);
    }

    @Test
    void dilatedStridedPaddedMaxPoolMatchesOrtAndFiniteDifferences() throws Exception {
        GraphBuilder b = new GraphBuilder(3).input("input", -1, 2, 9, 9);
        String x = b.node("Conv", in("input", b.weight("w", 0.5, 3, 2, 3, 3)), ofInts("kernel_shape", 3, 3),
                ofInts("pads", 1, 1, 1, 1));
        b.node("MaxPool", "out", in(x), ofInts("kernel_shape", 2, 3), ofInts("dilations", 2, 2),
                ofInts("strides", 2, 1), ofInts("pads", 1, 0, 0, 2));
        OnnxModel model = b.build("out", 14);
        assertTrue(relativeError(model, new long[] {2, 2, 9, 9}, -1, 1) < 1e-4);
        GradientChecks.checkMirror(model, new long[] {2, 2, 9, 9}, 8);
    }

    @Test
    void parametersAreViewsOfOneFlatVector() throws Exception {
        Mirror mirror = Mirror.of(linearAndPooling(), DataType.FLOAT, true);
        INDArray x = Nd4j.rand(DataType.FLOAT, 2, 3, 9, 9);
        INDArray before = mirror.forward(Map.of("input", x)).get("out").dup();
        long total = 0;
        for (Mirror.Parameter p : mirror.parameters().values()) {
            assertEquals(total, p.offset(), p.name());
            assertEquals(p.value(), Mirror.segment(mirror.flatParameters(), p), p.name());
            total += p.value().length();
        }
        assertEquals(total, mirror.flatParameters().length());
        INDArray weight = mirror.parameters().get("mm.w").value();
        double first = weight.getDouble(0);
        mirror.flatParameters().muli(2);
        assertEquals(2 * first, weight.getDouble(0), 0, "a parameter's value follows the flat vector");
        INDArray after = mirror.forward(Map.of("input", x)).get("out");
        assertTrue(after.sub(before).amaxNumber().doubleValue() > 1e-3, "forward reads the updated weights");
    }

    @Test
    void depthwiseAndGroupedConvolutionsMatchOrt() throws Exception {
        assertTrue(relativeError(groupedConvolutions(), new long[] {3, 8, 11, 11}, -1, 1) < 1e-4);
    }

    @Test
    void convolutionWithMismatchedGroupIsNamed() throws Exception {
        GraphBuilder b = new GraphBuilder(4).input("input", -1, 6, 5, 5);
        b.node("Conv", "out", in("input", b.weight("w", 0.3, 4, 2, 3, 3)), ofInts("kernel_shape", 3, 3),
                ofInt("group", 2));
        Mirror mirror = Mirror.of(b.build("out", 14), DataType.FLOAT, true);
        LrdktException e = assertThrows(LrdktException.class,
                () -> mirror.forward(Map.of("input", Nd4j.rand(DataType.FLOAT, 1, 6, 5, 5))));
        assertTrue(e.getMessage().contains("Conv '/out/Conv' with group 2"), e.getMessage());
    }

    @Test
    void opZooMatchesOrt() throws Exception {
        assertTrue(relativeError(opZoo(), new long[] {3, 4, 11, 11}, -1, 1) < 1e-4);
    }

    @Test
    void unsupportedOpIsNamedBeforeTraining() {
        GraphBuilder b = new GraphBuilder(1).input("input", -1, 4);
        b.node("LpNormalization", "out", in("input"));
        LrdktException e = assertThrows(LrdktException.class, () -> Mirror.of(b.build("out", 13), DataType.FLOAT, true));
        assertTrue(e.getMessage().startsWith("op LpNormalization (node '/out/LpNormalization') is not supported"),
                e.getMessage());
    }

    @Test
    void writeBackChangesOnlyTheValues() throws Exception {
        OnnxModel model = opZoo();
        Mirror mirror = Mirror.of(model, DataType.FLOAT, true);
        assertTrue(mirror.parameters().containsKey("group.w"), "Constant-node weight is trainable");
        for (Mirror.Parameter p : mirror.parameters().values()) {
            p.value().addi(0.25);
        }
        OnnxModel written = mirror.writeBack(model);
        assertEquals(model.graph().getNodeCount(), written.graph().getNodeCount());
        Mirror reread = Mirror.of(written, DataType.FLOAT, true);
        for (Mirror.Parameter p : mirror.parameters().values()) {
            assertEquals(p.value(), reread.parameters().get(p.name()).value(), p.name());
        }
        assertTrue(relativeError(written, new long[] {2, 4, 11, 11}, -1, 1) < 1e-4);
    }
}
