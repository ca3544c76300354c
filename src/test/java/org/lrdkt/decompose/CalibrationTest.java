package org.lrdkt.decompose;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.lrdkt.LrdktException;
import org.lrdkt.ModelBuilder;
import org.lrdkt.Npy;
import org.lrdkt.data.Preprocessing;
import org.lrdkt.onnx.Attrs;
import org.lrdkt.onnx.Graph;
import org.lrdkt.onnx.Inference;
import org.lrdkt.onnx.OnnxModel;
import org.lrdkt.onnx.proto.Onnx.TensorProto;

/**
 * The calibrated closed form end to end in ONNX Runtime, for every scheme and layer layout: full rank is still exact;
 * at a low rank the corrected bias leaves no mean output error on the calibration set, and the data-aware factors
 * beat the plain ones on fresh samples of the same distribution.
 */
class CalibrationTest {

    private static final int SAMPLES = 48;

    @TempDir
    Path dir;

    /** One layer and its scheme: the model, its only layer's name, a full rank and a low one. */
    private record Case(Supplier<ModelBuilder> model, CompressOptions.Scheme scheme, int fullRank, int lowRank) {
    }

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of("spatial conv, stride 2x1, asymmetric pads, bias", new Case(() -> new ModelBuilder(1, 4,
                        12, 10).conv("layer", new long[] {6, 4, 3, 5}, true, Attrs.ofInts("strides", 2, 1),
                        Attrs.ofInts("pads", 0, 2, 1, 0)), CompressOptions.Scheme.SPATIAL, 12, 2)),
                Arguments.of("channel conv with a folded BatchNormalization, no bias", new Case(() -> new ModelBuilder(
                        1, 4, 9, 9).conv("layer", new long[] {8, 4, 3, 3}, false, Attrs.ofInts("pads", 1, 1, 1, 1))
                        .batchNorm("bn", 8), CompressOptions.Scheme.CHANNEL, 8, 2)),
                Arguments.of("1-D conv, stride 2, asymmetric pads, bias", new Case(() -> new ModelBuilder(1, 4, 24)
                        .conv("layer", new long[] {8, 4, 5}, true, Attrs.ofInts("strides", 2),
                                Attrs.ofInts("pads", 2, 1)), CompressOptions.Scheme.SPATIAL, 8, 2)),
                Arguments.of("Gemm transB alpha 0.7 beta 1.9", new Case(() -> new ModelBuilder(1, 12).gemm("layer", 12,
                        9, true, true, 0.7f, 1.9f), CompressOptions.Scheme.SPATIAL, 9, 3)),
                Arguments.of("Gemm without bias", new Case(() -> new ModelBuilder(1, 12).gemm("layer", 12, 9, false,
                        false, 1f, 1f), CompressOptions.Scheme.SPATIAL, 9, 3)),
                Arguments.of("MatMul on a sequence, bias Add", new Case(() -> new ModelBuilder(1, 5, 10).matMul("layer",
                        10, 8, true), CompressOptions.Scheme.SPATIAL, 8, 2)));
    }

    /** Inputs with very unequal variance per feature and a common offset, as real activations have. */
    private static float[] samples(long[] inputShape, int count, long seed) {
        int per = (int) (Arrays.stream(inputShape).reduce(1, (a, b) -> a * b) / inputShape[0]);
        int features = (int) inputShape[1];
        int inner = per / features;
        Random r = new Random(seed);
        float[] x = new float[count * per];
        for (int s = 0; s < count; s++) {
            for (int i = 0; i < per; i++) {
                int feature = i / inner;
                x[s * per + i] = (float) (0.8 + r.nextGaussian() * Math.pow(0.4, feature % 4));
            }
        }
        return x;
    }

    private Path calibrationFile(long[] inputShape, String name, long seed) throws IOException {
        long[] shape = inputShape.clone();
        shape[0] = SAMPLES;
        return Npy.writeFloats(dir.resolve(name), shape, samples(inputShape, SAMPLES, seed));
    }

    private static OnnxModel compress(OnnxModel teacher, Case c, int rank, Path calibration, boolean beyondBreakEven)
            throws LrdktException {
        CompressOptions.Builder o = CompressOptions.builder().ranks(Map.of("layer", rank)).scheme(c.scheme());
        if (calibration != null) {
            o.calibration(new Calibration(calibration, Preprocessing.defaults(), SAMPLES, true, 0.01));
        }
        return Compressor.compress(teacher, o.build(), beyondBreakEven).student();
    }

    /** Outputs for every sample, one run each (the models have batch 1). */
    private static float[][] outputs(OnnxModel model, float[] x, long[] inputShape) throws LrdktException {
        int per = x.length / SAMPLES;
        float[][] out = new float[SAMPLES][];
        try (Inference session = Inference.open(model, new Inference.Settings(1, false, false))) {
            for (int s = 0; s < SAMPLES; s++) {
                out[s] = session.run(new Inference.Tensor(Arrays.copyOfRange(x, s * per, (s + 1) * per),
                        inputShape)).values();
            }
        }
        return out;
    }

    /** The output's feature axis: 1 for a conv's [N, C, ...], the last for [N, features] and [N, T, features]. */
    private static double[] meanErrorPerFeature(float[][] student, float[][] teacher, long[] outputShape,
                                                boolean conv) {
        int features = (int) (conv ? outputShape[1] : outputShape[outputShape.length - 1]);
        int per = student[0].length;
        double[] mean = new double[features];
        for (int s = 0; s < student.length; s++) {
            for (int i = 0; i < per; i++) {
                int f = conv ? i / (per / features) : i % features;
                mean[f] += ((double) student[s][i] - teacher[s][i]) / ((double) student.length * per / features);
            }
        }
        return mean;
    }

    private static void assertEveryInitializerIsRead(OnnxModel model) {
        Set<String> read = new HashSet<>();
        model.graph().getNodeList().forEach(n -> read.addAll(n.getInputList()));
        List<String> orphans = model.graph().getInitializerList().stream().map(TensorProto::getName)
                .filter(name -> !read.contains(name)).toList();
        assertEquals(List.of(), orphans, "initializers no node reads");
    }

    private static double squaredError(float[][] a, float[][] b) {
        double e = 0;
        for (int s = 0; s < a.length; s++) {
            for (int i = 0; i < a[s].length; i++) {
                e += ((double) a[s][i] - b[s][i]) * ((double) a[s][i] - b[s][i]);
            }
        }
        return e;
    }

    @Test
    void halfPrecisionActivationsCalibrateToo() throws Exception {
        Case c = new Case(() -> ModelBuilder.typed(TensorProto.DataType.FLOAT16_VALUE, 1, 4,
                9, 9).conv("layer", new long[] {8, 4, 3, 3}, true, Attrs.ofInts("pads", 1, 1, 1, 1)),
                CompressOptions.Scheme.SPATIAL, 12, 2);
        ModelBuilder b = c.model().get();
        OnnxModel teacher = b.build();
        long[] shape = b.inputShape();
        OnnxModel calibrated = compress(teacher, c, c.lowRank(), calibrationFile(shape, "cal.npy", 1), false);
        OnnxModel plain = compress(teacher, c, c.lowRank(), null, false);
        float[] fresh = samples(shape, SAMPLES, 2);
        float[][] freshTeacher = outputs(teacher, fresh, shape);
        double calibratedError = squaredError(outputs(calibrated, fresh, shape), freshTeacher);
        double plainError = squaredError(outputs(plain, fresh, shape), freshTeacher);
        assertTrue(calibratedError < 0.9 * plainError, "calibrated " + calibratedError + " vs plain " + plainError);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void fullRankStaysExact(String label, Case c) throws Exception {
        ModelBuilder b = c.model().get();
        OnnxModel teacher = b.build();
        OnnxModel student = compress(teacher, c, c.fullRank(), calibrationFile(b.inputShape(), "cal.npy", 1), true);
        assertTrue(ModelBuilder.outputError(teacher, student, b.inputShape()) < 1e-4);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void biasCorrectionZeroesTheMeanErrorAndFactorsBeatPlainOnFreshData(String label, Case c) throws Exception {
        ModelBuilder b = c.model().get();
        OnnxModel teacher = b.build();
        long[] shape = b.inputShape();
        Path calibration = calibrationFile(shape, "cal.npy", 1);
        OnnxModel calibrated = compress(teacher, c, c.lowRank(), calibration, false);
        OnnxModel plain = compress(teacher, c, c.lowRank(), null, false);
        assertEveryInitializerIsRead(calibrated);  // the corrected bias replaces the layer's own

        float[] seen = samples(shape, SAMPLES, 1);
        float[][] t = outputs(teacher, seen, shape);
        long[] outputShape;
        try (Inference session = Inference.open(teacher, new Inference.Settings(1, false, false))) {
            outputShape = session.run(new Inference.Tensor(Arrays.copyOf(seen, seen.length / SAMPLES), shape))
                    .shape();
        }
        boolean conv = Graph.of(teacher).layers().get(0).isConv();
        double[] meanError = meanErrorPerFeature(outputs(calibrated, seen, shape), t, outputShape, conv);
        double[] plainMeanError = meanErrorPerFeature(outputs(plain, seen, shape), t, outputShape, conv);
        double worst = Arrays.stream(meanError).map(Math::abs).max().orElseThrow();
        double plainWorst = Arrays.stream(plainMeanError).map(Math::abs).max().orElseThrow();
        assertTrue(plainWorst > 1e-2, "the plain truncation should leave a mean error to correct: " + plainWorst);
        assertEquals(0, worst, 1e-4 * plainWorst + 1e-5, "mean output error after bias correction");

        float[] fresh = samples(shape, SAMPLES, 2);
        float[][] freshTeacher = outputs(teacher, fresh, shape);
        double calibratedError = squaredError(outputs(calibrated, fresh, shape), freshTeacher);
        double plainError = squaredError(outputs(plain, fresh, shape), freshTeacher);
        assertTrue(calibratedError < 0.9 * plainError, "calibrated " + calibratedError + " vs plain " + plainError);
    }
}
