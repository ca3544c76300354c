package org.lrdkt.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.lrdkt.GraphBuilder;
import org.lrdkt.LrdktException;
import org.lrdkt.TestModels;
import org.lrdkt.data.Dataset;
import org.lrdkt.data.Datasets;
import org.lrdkt.data.Preprocessing;
import org.lrdkt.onnx.Attrs;
import org.lrdkt.onnx.Inference;
import org.lrdkt.onnx.OnnxModel;
import org.lrdkt.validate.Evaluator;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Environment;
import org.nd4j.linalg.factory.Nd4j;

class FinetunerTest {

    static OnnxModel teacher;
    static OnnxModel student;
    static TrainData train;

    @BeforeAll
    static void load() throws Exception {
        teacher = OnnxModel.load(TestModels.LENET);
        student = Decomposed.lenet(teacher, 2, 8);
        train = TrainData.load(TestModels.MNIST, Preprocessing.defaults());
    }

    /** The defaults, shortened to {@code epochs} on {@code limit} samples, a quarter of them held out. */
    static FinetuneOptions quick(int epochs, int limit) {
        FinetuneOptions d = FinetuneOptions.defaults();
        return d.withSchedule(d.schedule().withEpochs(epochs)).withSampling(new FinetuneOptions.Sampling(3, limit,
                0.25));
    }

    @Test
    void readsTheMnistFixture() {
        assertEquals(8000, train.size());
        assertArrayEquals(new long[] {1, 28, 28}, train.sampleShape());
        assertTrue(train.labelled());
    }

    @Test
    void trainingRaisesHeldOutAccuracyAndLeavesTheTeacherBitIdentical() throws Exception {
        byte[] teacherBytes = teacher.proto().toByteArray();
        Finetuner f = Finetuner.prepare(teacher, student, train, quick(2, 1600));
        Mirror frozen = f.teacherMirror();
        assertTrue(frozen.parameters().isEmpty(), "the teacher has no trainable weights");
        INDArray x = train.batch(new int[] {0, 1, 2, 3}, new long[] {1, 28, 28}, DataType.FLOAT);
        Map<String, INDArray> before = new HashMap<>();
        frozen.forward(Map.of("input", x)).forEach((k, v) -> before.put(k, v.dup()));
        FinetuneResult r = f.run(new Finetuner.Progress() { });
        assertTrue(r.bestScore() > r.initialScore() + 0.05, "held-out accuracy " + r.initialScore() + " -> "
                + r.bestScore());
        assertEquals(2, r.history().size());
        assertTrue(r.history().get(0).hint() > 0 && r.history().get(0).soft() > 0, "all three terms are active");
        assertEquals(List.of("/conv2/Conv_output_0", "/fc1/Gemm_output_0"), r.hints());
        Map<String, INDArray> after = frozen.forward(Map.of("input", x));
        for (Map.Entry<String, INDArray> e : before.entrySet()) {
            assertArrayEquals(e.getValue().data().asFloat(), after.get(e.getKey()).data().asFloat(), e.getKey());
        }
        assertArrayEquals(teacherBytes, teacher.proto().toByteArray(), "teacher model untouched");
    }

    /** Options for a one-epoch run that scores every sample it trains on (no held-out split), so ORT can too. */
    private static FinetuneOptions scoringEverySample(boolean ignoreLabels) {
        FinetuneOptions d = FinetuneOptions.defaults();
        return d.withSchedule(d.schedule().withEpochs(1)).withTransfer(new FinetuneOptions.Transfer(5, 0.4, 1, null,
                ignoreLabels)).withSampling(new FinetuneOptions.Sampling(3, 0, 0));
    }

    /** The first {@code n} training digits, unaugmented, as a data set ONNX Runtime can score. */
    private static Dataset firstDigits(int n) throws LrdktException {
        return Datasets.open(TestModels.MNIST.resolve("train-images-idx3-ubyte.gz"), null, Preprocessing.defaults())
                .limit(n);
    }

    @Test
    void theReturnedStudentScoresInOnnxRuntimeWhatTheMirrorMeasured() throws Exception {
        Dataset digits = firstDigits(800);
        FinetuneResult r = Finetuner.finetune(teacher, student, TrainData.of(digits), scoringEverySample(false),
                new Finetuner.Progress() { });
        assertTrue(r.bestScore() > r.initialScore() + 0.05, "trained weights score apart from the initial ones: "
                + r.initialScore() + " -> " + r.bestScore());
        // ONNX Runtime and the mirror round differently, which may flip the odd near-tie
        double tolerance = 2.0 / digits.size();
        assertEquals(r.initialScore(), top1(student, digits), tolerance);
        assertEquals(r.bestScore(), top1(r.student(), digits), tolerance);
    }

    @Test
    void resumingFromACheckpointContinuesTheSameRun(@TempDir Path dir) throws Exception {
        Path ckpt = dir.resolve("out.onnx.ckpt");
        FinetuneResult straight = Finetuner.finetune(teacher, student, train, quick(2, 600), new Finetuner.Progress() { });
        Finetuner.Progress interrupt = new Finetuner.Progress() {
            @Override
            public void epochEnd(FinetuneResult.Epoch epoch, boolean best) {
                throw new IllegalStateException("interrupted after epoch " + epoch.epoch());
            }
        };
        assertThrows(IllegalStateException.class, () -> Finetuner.finetune(teacher, student, train,
                quick(2, 600).withCheckpoint(ckpt, false), interrupt));
        assertTrue(Files.exists(ckpt));
        FinetuneResult resumed = Finetuner.finetune(teacher, student, train, quick(2, 600).withCheckpoint(ckpt, true),
                new Finetuner.Progress() { });
        assertEquals(2, resumed.history().size());
        assertEquals(straight.history(), withSecondsOf(straight.history(), resumed.history()),
                "the same losses and held-out scores, epoch by epoch");
        assertEquals(straight.bestEpoch(), resumed.bestEpoch());
        assertEquals(straight.bestScore(), resumed.bestScore());
        assertSameWeights(straight.student(), resumed.student());
        LrdktException other = assertThrows(LrdktException.class, () -> Finetuner.finetune(teacher, student, train,
                quick(2, 700).withCheckpoint(ckpt, true), new Finetuner.Progress() { }));
        assertTrue(other.getMessage().contains("other options"), other.getMessage());
    }

    /**
     * Issue 7: a fixed seed gives the same weights, bit for bit, run after run, on one thread and on the two that
     * {@code ./lrdkt} uses on a 2-core machine (libnd4j splits its loops statically, so the sums do not depend on
     * which thread finishes first).
     */
    @ParameterizedTest(name = "{0} thread(s)")
    @ValueSource(ints = {1, 2})
    void aFixedSeedRepeatsBitForBit(int threadCount) throws Exception {
        Environment env = Nd4j.getEnvironment();
        int threads = env.maxThreads();
        int masters = env.maxMasterThreads();
        int blas = Nd4j.factory().blas().getMaxThreads();
        try {
            env.setMaxThreads(threadCount);
            env.setMaxMasterThreads(threadCount);
            Nd4j.factory().blas().setMaxThreads(threadCount);
            Finetuner.Progress silent = new Finetuner.Progress() { };
            FinetuneResult first = Finetuner.finetune(teacher, student, train, quick(2, 400), silent);
            FinetuneResult second = Finetuner.finetune(teacher, student, train, quick(2, 400), silent);
            assertSameWeights(first.student(), second.student());
            assertEquals(first.history(), withSecondsOf(first.history(), second.history()));
        } finally {
            env.setMaxThreads(threads);
            env.setMaxMasterThreads(masters);
            Nd4j.factory().blas().setMaxThreads(blas);
        }
    }

    static void assertSameWeights(OnnxModel a, OnnxModel b) {
        assertEquals(a.graph().getInitializerCount(), b.graph().getInitializerCount());
        for (int i = 0; i < a.graph().getInitializerCount(); i++) {
            assertEquals(a.graph().getInitializer(i), b.graph().getInitializer(i),
                    a.graph().getInitializer(i).getName());
        }
    }

    /** {@code epochs} with the timings of {@code timed}: everything but wall time must repeat. */
    static List<FinetuneResult.Epoch> withSecondsOf(List<FinetuneResult.Epoch> timed,
                                                     List<FinetuneResult.Epoch> epochs) {
        List<FinetuneResult.Epoch> out = new ArrayList<>();
        for (int i = 0; i < epochs.size(); i++) {
            FinetuneResult.Epoch e = epochs.get(i);
            FinetuneResult.Epoch t = timed.get(i);
            out.add(new FinetuneResult.Epoch(e.epoch(), e.hard(), e.soft(), e.hint(), e.score(), e.heldOutLoss(), t.seconds(),
                    t.imagesPerSecond(), t.stepMillis(), t.loaderMillis()));
        }
        return out;
    }

    @Test
    void pureTransferWithoutLabelsScoresAgreementWithTheTeacher() throws Exception {
        Dataset digits = firstDigits(400);
        // every label wrong: a run that used them, in its loss or its score, could not score near the teacher
        Dataset.Batch all = digits.batch(0, digits.size());
        int[] wrong = Arrays.stream(all.labels()).map(label -> (label + 1) % 10).toArray();
        TrainData mislabelled = new TrainData(all.values(), digits.sampleShape(), wrong, "mislabelled digits");
        FinetuneResult r = Finetuner.finetune(teacher, student, mislabelled, scoringEverySample(true),
                new Finetuner.Progress() { });
        assertEquals("agreement", r.metric());
        assertEquals(0, r.history().get(0).hard());
        // the score is top-1 agreement with the teacher, as ONNX Runtime measures it on the same digits
        Evaluator.EvalOptions eval = new Evaluator.EvalOptions(100, Inference.Settings.defaults(), false);
        Evaluator.EvalResult ort = Evaluator.evaluate(r.student(), teacher, digits, eval);
        assertEquals(ort.agreement(), r.bestScore(), 2.0 / digits.size());
        assertTrue(r.bestScore() > 0.5, "agreement " + r.bestScore());
    }

    /**
     * A non-classifier output loss forced on LeNet's logits: labels do not fit it, so the run is label-free (no hard
     * term, the fidelity figure of the loss's kind as metric) and the transfer term alone lowers the held-out loss.
     */
    @ParameterizedTest
    @ValueSource(strings = {"MSE", "COSINE", "SIGMOID"})
    void otherOutputLossesTrainLabelFree(String name) throws Exception {
        FinetuneOptions q = quick(1, 400);
        FinetuneOptions.Transfer t = q.transfer();
        FinetuneOptions o = q.withTransfer(new FinetuneOptions.Transfer(t.temperature(), t.softWeight(),
                t.hintWeight(), List.of(), false, OutputLosses.of(KtLoss.OutputLoss.valueOf(name))));
        FinetuneResult r = Finetuner.finetune(teacher, student, train, o, new Finetuner.Progress() { });
        assertEquals(name.equals("SIGMOID") ? "mask IoU" : "cosine", r.metric());
        assertTrue(r.table().contains(KtLoss.OutputLoss.valueOf(name).term()), "the table names the loss");
        assertEquals(0, r.history().get(0).hard());
        assertTrue(r.history().get(0).soft() > 0, "the output term is active");
        assertTrue(r.history().get(0).heldOutLoss() < r.initialLoss(), name + " held-out loss " + r.initialLoss()
                + " -> " + r.history().get(0).heldOutLoss());
        assertTrue(r.bestScore() >= 0 && r.bestScore() <= 1, "score " + r.bestScore());
    }

    @Test
    void aDivergingRunStopsWithOneClearError() {
        FinetuneOptions o = FinetuneOptions.defaults()
                .withSchedule(new FinetuneOptions.Schedule(1, 32, 1e4, 0.9, 0, Optimizer.Kind.SGD, false, 0, 0))
                .withAugmentation(FinetuneOptions.Augmentation.NONE)
                .withSampling(new FinetuneOptions.Sampling(3, 256, 0.25));
        LrdktException e = assertThrows(LrdktException.class,
                () -> Finetuner.finetune(teacher, student, train, o, new Finetuner.Progress() { }));
        assertTrue(e.getMessage().startsWith("training diverged in epoch 1"), e.getMessage());
    }

    /**
     * Issue 14, the MobileNet-v2 NaN in miniature: biased convolutions whose activations have an rms of about 1e-6
     * (as deep in an untrained torchvision MobileNet-v2), hints on their outputs, SGD at lr 1e-4. Relative to those
     * tensors the hints' curvature along each bias was ~1e12, the first step threw the biases far past the
     * activations, and the run stopped with "training diverged"; with the floored normaliser it trains.
     */
    @Test
    void hintsOnNearSilentTensorsTrainInsteadOfDiverging() throws Exception {
        OnnxModel quietTeacher = nearSilentConvNet(1.0);
        OnnxModel quietStudent = nearSilentConvNet(0.5);
        Random random = new Random(5);
        float[] pixels = new float[32 * 2 * 8 * 8];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (float) random.nextGaussian();
        }
        TrainData noise = new TrainData(pixels, new long[] {2, 8, 8}, null, "gaussian noise");
        FinetuneOptions o = FinetuneOptions.defaults()
                .withSchedule(new FinetuneOptions.Schedule(2, 8, 1e-4, 0.9, 5e-4, Optimizer.Kind.SGD, false, 0, 0))
                .withAugmentation(FinetuneOptions.Augmentation.NONE)
                .withTransfer(new FinetuneOptions.Transfer(5, 0.4, 1, List.of("quiet1", "quiet2"), false))
                .withSampling(new FinetuneOptions.Sampling(3, 0, 0.25));
        FinetuneResult r = Finetuner.finetune(quietTeacher, quietStudent, noise, o, new Finetuner.Progress() { });
        for (FinetuneResult.Epoch e : r.history()) {
            assertTrue(Double.isFinite(e.heldOutLoss()) && e.heldOutLoss() <= r.initialLoss(),
                    "held-out loss " + r.initialLoss() + " -> " + e.heldOutLoss());
        }
    }

    /** Two 3×3 convolutions with biases and ~1e-3 weights (activations ~1e-6 rms), then a linear classifier. */
    private static OnnxModel nearSilentConvNet(double weightScale) {
        GraphBuilder b = new GraphBuilder(9).input("input", -1, 2, 8, 8);
        String quiet1 = b.node("Conv", "quiet1", GraphBuilder.in("input",
                b.weight("c1.w", 2e-3 * weightScale, 8, 2, 3, 3), b.weight("c1.b", 0, 8)),
                Attrs.ofInts("pads", 1, 1, 1, 1));
        String quiet2 = b.node("Conv", "quiet2", GraphBuilder.in(b.node("Relu", GraphBuilder.in(quiet1)),
                b.weight("c2.w", 2e-3 * weightScale, 8, 8, 3, 3), b.weight("c2.b", 0, 8)),
                Attrs.ofInts("pads", 1, 1, 1, 1));
        String pooled = b.node("Flatten", GraphBuilder.in(b.node("GlobalAveragePool", GraphBuilder.in(quiet2))));
        b.node("Gemm", "logits", GraphBuilder.in(pooled, b.weight("fc.w", 1, 5, 8), b.weight("fc.b", 0.1, 5)),
                Attrs.ofInt("transB", 1));
        return b.build("logits", 13);
    }

    /** Top-1 in ONNX Runtime, one thread, every sample. */
    private static double top1(OnnxModel model, Dataset data) throws LrdktException {
        return Evaluator.evaluate(model, null, data, new Evaluator.EvalOptions(500,
                Inference.Settings.defaults().withThreads(1), false)).top1();
    }
}
