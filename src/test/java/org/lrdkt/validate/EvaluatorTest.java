package org.lrdkt.validate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.lrdkt.Fidelity;
import org.lrdkt.Json;
import org.lrdkt.Logits;
import org.lrdkt.OutputKind;
import org.lrdkt.data.Dataset;
import org.lrdkt.data.Datasets;
import org.lrdkt.data.Preprocessing;
import org.lrdkt.onnx.Inference;
import org.lrdkt.onnx.OnnxModel;
import org.lrdkt.onnx.TensorData;
import org.lrdkt.onnx.proto.Onnx.ModelProto;
import org.lrdkt.onnx.proto.Onnx.TensorProto;

/** Accuracy and agreement on the LeNet-5 fixture against values computed by PyTorch (testdata/). */
class EvaluatorTest {

    private static final Path IMAGES = Path.of("testdata/mnist/t10k-images-idx3-ubyte.gz");
    private static OnnxModel lenet;
    private static Dataset t10k;
    /** PyTorch logits of the first 100 test images, [image][class], and their labels. */
    private static float[][] torchLogits;
    private static int[] torchLabels;

    @BeforeAll
    static void load() throws Exception {
        lenet = OnnxModel.load(Path.of("testdata/lenet5.onnx"));
        t10k = Datasets.open(IMAGES, null, Preprocessing.defaults());
        List<String> lines = Files.readAllLines(Path.of("testdata/lenet5_t10k_logits.csv"));
        torchLogits = new float[lines.size() - 1][10];
        torchLabels = new int[lines.size() - 1];
        for (int i = 1; i < lines.size(); i++) {
            String[] cells = lines.get(i).split(",");
            torchLabels[i - 1] = Integer.parseInt(cells[1]);
            for (int c = 0; c < 10; c++) {
                torchLogits[i - 1][c] = Float.parseFloat(cells[2 + c]);
            }
        }
    }

    private static Evaluator.EvalOptions options(int batch) {
        return new Evaluator.EvalOptions(batch, Inference.Settings.defaults().withThreads(2), false);
    }

    @Test
    void logitsOfOurLoaderMatchPytorch() throws Exception {
        Dataset.Batch b = t10k.batch(0, torchLogits.length);
        for (int i = 0; i < torchLabels.length; i++) {
            assertEquals(torchLabels[i], b.labels()[i], "label of image " + i);
        }
        try (Inference session = Inference.open(lenet, options(1).settings())) {
            float[] ours = session.run(new Inference.Tensor(b.values(), b.shape())).values();
            for (int i = 0; i < torchLogits.length; i++) {
                for (int c = 0; c < 10; c++) {
                    assertEquals(torchLogits[i][c], ours[i * 10 + c], 1e-3, "logit " + c + " of image " + i);
                }
            }
        }
    }

    @Test
    void accuracyOnFirst100MatchesPytorchArgmax() throws Exception {
        int correct = 0;
        for (int i = 0; i < torchLabels.length; i++) {
            correct += argmax(torchLogits[i]) == torchLabels[i] ? 1 : 0;
        }
        // batch 7 leaves a short last batch: the batching must not lose or repeat samples
        Evaluator.EvalResult r = Evaluator.evaluate(lenet, null, t10k.limit(100), options(7));
        assertEquals(100, r.samples());
        assertEquals(correct / 100.0, r.top1(), 1e-12);
        assertEquals(10, r.outputClasses());
        assertEquals(null, r.agreement());
    }

    @Test
    void accuracyOnAll2000MatchesTeacherRecord() throws Exception {
        JsonNode facts = Json.MAPPER.readTree(Path.of("testdata/lenet5.json").toFile());
        Evaluator.EvalResult r = Evaluator.evaluate(lenet, null, t10k, options(64));
        assertEquals(facts.get("test_size").asInt(), r.samples());
        assertEquals(facts.get("test_accuracy").asDouble(), r.top1(), 1e-12);
        assertEquals(0.985, r.top1(), 1e-12);
        assertTrue(r.top5() >= r.top1() && r.top5() <= 1.0, "top-5 " + r.top5());
    }

    @Test
    void agreementAgainstShiftedReferenceMatchesPytorchLogits() throws Exception {
        // reference = LeNet with fc3.bias[0] raised by 6: only logit 0 moves, by exactly 6
        float shift = 6f;
        OnnxModel reference = withBiasShift(lenet, "fc3.bias", 0, shift);
        int agree = 0;
        int referenceCorrect = 0;
        double cosine = 0;
        int image = 0;
        int[] referenceVotes = new int[10];
        for (float[] logits : torchLogits) {
            float[] shifted = logits.clone();
            shifted[0] += shift;
            agree += argmax(logits) == argmax(shifted) ? 1 : 0;
            referenceVotes[argmax(shifted)]++;
            referenceCorrect += argmax(shifted) == torchLabels[image++] ? 1 : 0;
            cosine += cos(logits, shifted);
        }
        Evaluator.EvalResult r = Evaluator.evaluate(lenet, reference, t10k.limit(100), options(32));
        assertEquals(agree / 100.0, r.agreement(), 1e-12);
        Fidelity.Figures f = r.fidelity().get(0);
        assertEquals(1, r.fidelity().size());
        assertEquals(OutputKind.CLASSES, f.kind());
        assertEquals(agree / 100.0, f.agreement(), 1e-12);
        assertEquals(Arrays.stream(referenceVotes).max().orElseThrow() / 100.0, f.majorityAgreement(), 1e-12);
        assertEquals(shift, f.maxAbsDiff(), 1e-4);
        assertEquals(shift / 10, f.meanAbsDiff(), 1e-5);
        assertEquals(cosine / 100, f.cosine(), 1e-5);
        assertEquals(referenceCorrect / 100.0, r.referenceTop1(), 1e-12);
        if (agree == 100) {
            throw new AssertionError("the shift should flip some predictions, or the test checks nothing");
        }
    }

    @Test
    void referenceAgainstItselfAgreesExactly() throws Exception {
        Evaluator.EvalResult r = Evaluator.evaluate(lenet, lenet, t10k.limit(50), options(16));
        assertEquals(1.0, r.agreement());
        assertEquals(0.0, r.fidelity().get(0).maxAbsDiff());
        assertEquals(0.0, r.fidelity().get(0).relativeL2());
        assertEquals(1.0, r.fidelity().get(0).cosine(), 1e-12);
        assertEquals(r.top1(), r.referenceTop1());
    }

    @Test
    void topFiveCountsTiesForTheLabel() {
        float[] logits = {5, 5, 1, 2, 3, 4, 0};
        assertEquals(0, Logits.rankOf(logits, 0, 7, 1));
        assertEquals(5, Logits.rankOf(logits, 0, 7, 2));
        assertEquals(6, Logits.rankOf(logits, 0, 7, 6));
    }

    private static OnnxModel withBiasShift(OnnxModel model, String tensor, int index, float shift) throws Exception {
        ModelProto.Builder b = model.proto().toBuilder();
        for (int i = 0; i < b.getGraph().getInitializerCount(); i++) {
            TensorProto t = b.getGraph().getInitializer(i);
            if (t.getName().equals(tensor)) {
                float[] v = TensorData.toFloats(t);
                v[index] += shift;
                b.getGraphBuilder().setInitializer(i, TensorData.fromFloats(tensor, TensorData.dims(t), v,
                        t.getDataType()));
                return OnnxModel.of(b.build());
            }
        }
        throw new IOException("no initializer " + tensor);
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            best = v[i] > v[best] ? i : best;
        }
        return best;
    }

    private static double cos(float[] a, float[] b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return dot / Math.sqrt(na * nb);
    }
}
