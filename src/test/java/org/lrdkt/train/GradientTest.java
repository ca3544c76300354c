package org.lrdkt.train;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lrdkt.onnx.Attrs.ofInt;
import static org.lrdkt.onnx.Attrs.ofInts;
import static org.lrdkt.train.GradientChecks.check;
import static org.lrdkt.train.GradientChecks.checkMirror;
import static org.lrdkt.train.GradientChecks.randn;
import static org.lrdkt.GraphBuilder.in;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import org.junit.jupiter.api.Test;
import org.lrdkt.GraphBuilder;
import org.lrdkt.LrdktException;
import org.lrdkt.TestModels;
import org.lrdkt.onnx.OnnxModel;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Hand-written gradients against central finite differences, in double precision. */
class GradientTest {

    @Test
    void eachLossTermMatchesFiniteDifferences() {
        INDArray student = randn(1, 6, 10).muli(3);
        INDArray teacher = randn(2, 6, 10).muli(3);
        INDArray hintS = randn(3, 6, 4, 3, 3);
        INDArray hintT = randn(4, 6, 4, 3, 3);
        int[] labels = {0, 3, 9, 2, 2, 7};
        KtLoss hard = new KtLoss(0, 5, 0);
        KtLoss soft = new KtLoss(0.7, 5, 0);
        KtLoss hint = new KtLoss(0, 5, 0.3);
        for (KtLoss loss : List.of(hard, soft, hint)) {
            int[] y = loss == hard ? labels : null;
            KtLoss.Evaluation e = loss.evaluate("logits", student, teacher, y, Map.of("h", new INDArray[] {hintS, hintT}));
            ToDoubleFunction<INDArray> value = ignored -> loss.evaluate("logits", student, teacher, y,
                    Map.of("h", new INDArray[] {hintS, hintT})).terms().total();
            check(loss + " logits", student, e.gradients().get("logits"), value, 30, 11);
            if (loss == hint) {
                check("hint tensor", hintS, e.gradients().get("h"), value, 30, 12);
            }
        }
    }

    @Test
    void softTermIsZeroGradientWhenStudentEqualsTeacher() {
        INDArray logits = randn(5, 4, 10);
        KtLoss.Evaluation e = new KtLoss(1, 5, 0).evaluate("l", logits, logits.dup(), null, Map.of());
        assertTrue(e.gradients().get("l").amaxNumber().doubleValue() < 1e-12);
    }

    @Test
    void opZooParameterGradients() throws Exception {
        checkMirror(MirrorModels.opZoo(), new long[] {2, 4, 11, 11}, 8);
    }

    @Test
    void linearAndPoolingParameterGradients() throws Exception {
        checkMirror(MirrorModels.linearAndPooling(), new long[] {2, 3, 9, 9}, 8);
    }

    @Test
    void resnetStyleParameterGradients() throws Exception {
        checkMirror(MirrorModels.resnetStyle(), new long[] {2, 3, 16, 16}, 5);
    }

    /** Depthwise and grouped convs in double precision: libnd4j's reference kernels. */
    @Test
    void groupedConvolutionGradients() throws Exception {
        checkMirror(MirrorModels.groupedConvolutions(), new long[] {2, 8, 11, 11}, 8);
    }

    /**
     * In float, depthwise convs with multiplier 1 run through oneDNN's kernels instead, which finite differences
     * cannot check in that precision: their gradients must equal the double-precision ones checked above.
     */
    @Test
    void groupedConvolutionGradientsInFloatEqualDouble() throws Exception {
        OnnxModel model = MirrorModels.groupedConvolutions();
        INDArray x = randn(23, 2, 8, 11, 11);
        Map<String, INDArray> expected = parameterGradients(Mirror.of(model, DataType.DOUBLE, true), x);
        Map<String, INDArray> got = parameterGradients(Mirror.of(model, DataType.FLOAT, true), x);
        for (Map.Entry<String, INDArray> e : expected.entrySet()) {
            INDArray g = got.get(e.getKey()).castTo(DataType.DOUBLE);
            double error = g.sub(e.getValue()).amaxNumber().doubleValue() / e.getValue().amaxNumber().doubleValue();
            assertTrue(error < 1e-4, e.getKey() + ": float gradient off by " + error + " relative");
        }
    }

    /** Parameter gradients for a fixed random linear readout of the first output. */
    private static Map<String, INDArray> parameterGradients(Mirror mirror, INDArray x) throws LrdktException {
        Map<String, INDArray> values = mirror.forward(Map.of(mirror.inputNames().get(0), x));
        String output = mirror.outputNames().get(0);
        INDArray readout = randn(24, values.get(output).shape()).castTo(mirror.dataType());
        return mirror.backward(values, Map.of(output, readout)).byName();
    }

    /**
     * Convolutions on the graph input take the weight-gradient-only path (no input gradient): symmetric pads
     * inline, asymmetric pads with dilation and a bias, several input channels.
     */
    @Test
    void firstLayerConvolutionGradients() throws Exception {
        GraphBuilder b = new GraphBuilder(11).input("input", -1, 2, 9, 9);
        String sym = b.node("Conv", in("input", b.weight("sym.w", 0.4, 3, 2, 3, 3), b.weight("sym.b", 0.2, 3)),
                ofInts("kernel_shape", 3, 3), ofInts("pads", 1, 1, 1, 1));
        String asym = b.node("Conv", in("input", b.weight("asym.w", 0.4, 2, 2, 3, 2), b.weight("asym.b", 0.2, 2)),
                ofInts("kernel_shape", 3, 2), ofInts("pads", 1, 0, 2, 1), ofInts("dilations", 2, 3));
        b.node("Concat", "out", in(b.node("Flatten", in(sym)), b.node("Flatten", in(asym))), ofInt("axis", 1));
        checkMirror(b.build("out", 14), new long[] {2, 2, 9, 9}, 8);
    }

    @Test
    void decomposedLenetParameterGradientsForEachKtTerm() throws Exception {
        OnnxModel teacherModel = OnnxModel.load(TestModels.LENET);
        OnnxModel studentModel = Decomposed.lenet(teacherModel, 3, 20);
        Mirror teacher = Mirror.of(teacherModel, DataType.DOUBLE, false);
        Mirror student = Mirror.of(studentModel, DataType.DOUBLE, true);
        INDArray x = Nd4j.rand(DataType.DOUBLE, 3, 1, 28, 28);
        Map<String, INDArray> t = teacher.forward(Map.of("input", x));
        int[] labels = {1, 7, 4};
        List<String> hints = List.of("/conv2/Conv_output_0", "/fc1/Gemm_output_0");
        for (KtLoss loss : List.of(new KtLoss(0, 5, 0), new KtLoss(0.5, 5, 0), new KtLoss(0, 5, 0.01))) {
            int[] y = loss.softWeight() == 0 && loss.hintWeight() == 0 ? labels : null;
            ToDoubleFunction<INDArray> value = ignored -> {
                try {
                    Map<String, INDArray> s = student.forward(Map.of("input", x));
                    return loss.evaluate("logits", s.get("logits"), t.get("logits"), y, pairs(hints, s, t))
                            .terms().total();
                } catch (LrdktException e) {
                    throw new IllegalStateException(e);
                }
            };
            Map<String, INDArray> s = student.forward(Map.of("input", x));
            KtLoss.Evaluation e = loss.evaluate("logits", s.get("logits"), t.get("logits"), y, pairs(hints, s, t));
            Map<String, INDArray> grads = student.backward(s, e.gradients()).byName();
            for (String p : List.of("/conv2/Conv/lrd_v.weight", "/fc1/Gemm/lrd_a.weight", "conv1.weight")) {
                check(loss + " " + p, student.parameters().get(p).value(), grads.get(p), value, 6, p.hashCode());
            }
        }
    }

    static Map<String, INDArray[]> pairs(List<String> hints, Map<String, INDArray> s, Map<String, INDArray> t) {
        Map<String, INDArray[]> out = new HashMap<>();
        for (String h : hints) {
            out.put(h, new INDArray[] {s.get(h), t.get(h)});
        }
        return out;
    }
}
