package org.lrdkt.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lrdkt.Cli;
import org.lrdkt.onnx.Attrs;
import org.lrdkt.onnx.Inference;
import org.lrdkt.onnx.OnnxModel;
import org.lrdkt.onnx.TensorData;
import org.lrdkt.onnx.proto.Onnx.GraphProto;
import org.lrdkt.onnx.proto.Onnx.ModelProto;
import org.lrdkt.onnx.proto.Onnx.NodeProto;
import org.lrdkt.onnx.proto.Onnx.OperatorSetIdProto;
import org.lrdkt.onnx.proto.Onnx.TensorProto;
import org.lrdkt.onnx.proto.Onnx.TensorShapeProto;
import org.lrdkt.onnx.proto.Onnx.TypeProto;
import org.lrdkt.onnx.proto.Onnx.ValueInfoProto;

/**
 * A model over protobuf's 2 GiB limit: five 8192×16384 Gemm weights (2.5 GiB). It must save with external data,
 * load back, run in ONNX Runtime, and go through {@code compress} (load, decompose a layer, save with external
 * data), with heap use bounded by a small multiple of the model. Opt-in: -Phuge.
 */
@Tag("huge")
class HugeModelTest {

    static final int WIDE = 16384;
    static final int NARROW = 8192;
    static final int LAYERS = 5;

    @TempDir
    Path dir;

    static final int HEAD = 64;

    static ModelProto hugeModel() {
        return hugeModel(false);
    }

    /** With {@code head}, a last small Gemm (WIDE → {@value #HEAD}) that compresses in seconds. */
    static ModelProto hugeModel(boolean head) {
        GraphProto.Builder g = GraphProto.newBuilder().setName("huge");
        SplittableRandom random = new SplittableRandom(42);
        String x = "x";
        for (int l = 0; l < LAYERS; l++) {
            int in = l % 2 == 0 ? NARROW : WIDE;
            int out = l % 2 == 0 ? WIDE : NARROW;
            float[] w = new float[in * out];
            float scale = (float) (1 / Math.sqrt(in));
            for (int i = 0; i < w.length; i++) {
                w[i] = (float) (random.nextDouble() * 2 - 1) * scale;
            }
            String name = "fc" + l;
            g.addInitializer(TensorData.fromFloats(name + ".weight", new long[] {out, in}, w,
                    TensorProto.DataType.FLOAT_VALUE));
            String y = l == LAYERS - 1 && !head ? "y" : name + "_out";
            g.addNode(gemm(name, x, y));
            x = y;
        }
        if (head) {
            float[] w = new float[HEAD * WIDE];
            for (int i = 0; i < w.length; i++) {
                w[i] = (float) (random.nextDouble() * 2 - 1) / (float) Math.sqrt(WIDE);
            }
            g.addInitializer(TensorData.fromFloats("head.weight", new long[] {HEAD, WIDE}, w,
                    TensorProto.DataType.FLOAT_VALUE));
            g.addNode(gemm("head", x, "y"));
        }
        g.addInput(floatInput("x", NARROW)).addOutput(floatInput("y", head ? HEAD : WIDE));
        return ModelProto.newBuilder().setIrVersion(8).setProducerName("lrdkt-test")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(13)).setGraph(g).build();
    }

    private static NodeProto gemm(String name, String x, String y) {
        return NodeProto.newBuilder().setOpType("Gemm").setName(name).addInput(x).addInput(name + ".weight")
                .addOutput(y).addAttribute(Attrs.ofInt("transB", 1)).build();
    }

    private static ValueInfoProto floatInput(String name, int width) {
        TensorShapeProto shape = TensorShapeProto.newBuilder()
                .addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(1))
                .addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(width)).build();
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE).setShape(shape))).build();
    }

    private static long peakHeap() {
        long sum = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                sum += pool.getPeakUsage().getUsed();
            }
        }
        return sum;
    }

    private static void resetPeaks() {
        System.gc();
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            pool.resetPeakUsage();
        }
    }

    @Test
    void compressesWithExternalDataInBoundedMemory() throws Exception {
        Path file = dir.resolve("huge.onnx");
        OnnxModel.of(hugeModel(true)).save(file, OnnxModel.ExternalData.AUTO);
        long modelBytes = Files.size(dir.resolve("huge.onnx.data"));
        resetPeaks();
        Path out = dir.resolve("huge-lrd.onnx");
        Path ranks = dir.resolve("ranks.json");
        Files.writeString(ranks, "{\"head\": 8}");
        Cli.Result r = Cli.run("compress", file.toString(), "-o", out.toString(), "--ranks", ranks.toString());
        long peak = peakHeap();
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(Files.size(dir.resolve("huge-lrd.onnx.data")) > (2L << 30), "student saved with external data");
        assertTrue(Files.size(out) < 1 << 20);
        System.out.printf("huge model compress: %.2f GiB of weights, peak heap over load + compress + save %.2f GiB%n",
                modelBytes / (double) (1L << 30), peak / (double) (1L << 30));
        assertTrue(peak < 2 * modelBytes, "compress holds the model about once, not several copies");
        OnnxModel student = OnnxModel.load(out);
        assertTrue(student.metadata("lrdkt.ranks").contains("\"head\":8"));
        float[] input = new float[NARROW];
        Arrays.fill(input, 0.01f);
        try (Inference session = Inference.open(student, Inference.Settings.defaults())) {
            float[] y = session.run(new Inference.Tensor(input, new long[] {1, NARROW})).values();
            assertEquals(HEAD, y.length);
            for (float v : y) {
                assertTrue(Float.isFinite(v));
            }
        }
    }

    @Test
    void savesLoadsAndRunsWithExternalData() throws Exception {
        Path file = dir.resolve("huge.onnx");
        OnnxModel model = OnnxModel.of(hugeModel());
        assertFalse(model.fitsInline());
        model.save(file, OnnxModel.ExternalData.AUTO);
        long modelBytes = Files.size(dir.resolve("huge.onnx.data"));
        assertTrue(modelBytes > (2L << 30), "data file holds the 2.5 GiB of weights");
        assertTrue(Files.size(file) < 1 << 20, "model file holds only the graph");
        float[] input = new float[NARROW];
        Arrays.fill(input, 0.01f);
        float[] before;
        try (Inference session = Inference.open(model, Inference.Settings.defaults())) {
            before = session.run(new Inference.Tensor(input, new long[] {1, NARROW})).values();
        }
        model = null;
        resetPeaks();
        OnnxModel loaded = OnnxModel.load(file);
        long peakLoad = peakHeap();
        float[] after;
        try (Inference session = Inference.open(loaded, Inference.Settings.defaults())) {
            after = session.run(new Inference.Tensor(input, new long[] {1, NARROW})).values();
        }
        assertEquals(WIDE, after.length);
        for (int i = 0; i < after.length; i++) {
            assertEquals(before[i], after[i], 0f);
        }
        System.out.printf("huge model: %.2f GiB of weights, peak heap while loading %.2f GiB%n",
                modelBytes / (double) (1L << 30), peakLoad / (double) (1L << 30));
        assertTrue(peakLoad < 2 * modelBytes, "loading holds the model about once, not several copies");
    }
}
