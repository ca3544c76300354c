import java.util.Arrays;
import java.util.Map;
import org.lrdkt.onnx.Attrs;
import org.lrdkt.onnx.OnnxModel;
import org.lrdkt.onnx.TensorData;
import org.lrdkt.onnx.proto.Onnx;
import org.lrdkt.train.Mirror;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One training step (forward + backward, float) of a single depthwise 3×3 Conv in the training mirror, as in
 * MobileNet-v2: a trainable per-channel scale in front, so that the conv computes its input gradient as it does
 * inside a network. Prints the median and the range of REPS timed steps after WARMUP untimed ones. Run by
 * tools/bench_depthwise_conv.sh against one or two checkouts; usage:
 *   java -cp "$CHECKOUT/target/lrdkt.jar:$(cat $CHECKOUT/target/classpath.txt)" tools/BenchDepthwiseConv.java \
 *     BATCH CHANNELS SIZE STRIDE WARMUP REPS
 */
public final class BenchDepthwiseConv {

    public static void main(String[] args) throws Exception {
        int batch = Integer.parseInt(args[0]);
        int channels = Integer.parseInt(args[1]);
        int size = Integer.parseInt(args[2]);
        int stride = Integer.parseInt(args[3]);
        int warmup = Integer.parseInt(args[4]);
        int reps = Integer.parseInt(args[5]);
        Mirror mirror = Mirror.of(depthwiseLayer(channels, stride), DataType.FLOAT, true);
        Nd4j.getRandom().setSeed(1);
        INDArray x = Nd4j.randn(DataType.FLOAT, batch, channels, size, size);
        double[] ms = new double[reps];
        for (int i = -warmup; i < reps; i++) {
            long start = System.nanoTime();
            Map<String, INDArray> values = mirror.forward(Map.of("input", x));
            INDArray y = values.get("out");
            mirror.backward(values, Map.of("out", y.like().assign(1)));
            if (i >= 0) {
                ms[i] = (System.nanoTime() - start) / 1e6;
            }
        }
        Arrays.sort(ms);
        System.out.printf("depthwise 3x3, %d channels, %dx%d, stride %d, batch %d: median %.1f ms (%.1f-%.1f) over %d"
                + " steps%n", channels, size, size, stride, batch, ms[reps / 2], ms[0], ms[reps - 1], reps);
    }

    private static OnnxModel depthwiseLayer(int channels, int stride) {
        Onnx.GraphProto.Builder g = Onnx.GraphProto.newBuilder().setName("depthwise")
                .addInput(value("input")).addOutput(value("out"))
                .addInitializer(random("scale", new long[] {1, channels, 1, 1}))
                .addInitializer(random("w", new long[] {channels, 1, 3, 3}))
                .addInitializer(random("b", new long[] {channels}));
        g.addNode(Onnx.NodeProto.newBuilder().setOpType("Mul").setName("scale").addInput("input").addInput("scale")
                .addOutput("scaled"));
        g.addNode(Onnx.NodeProto.newBuilder().setOpType("Conv").setName("depthwise").addInput("scaled")
                .addInput("w").addInput("b").addOutput("out").addAttribute(Attrs.ofInts("kernel_shape", 3, 3))
                .addAttribute(Attrs.ofInt("group", channels)).addAttribute(Attrs.ofInts("strides", stride, stride))
                .addAttribute(Attrs.ofInts("pads", 1, 1, 1, 1)));
        return OnnxModel.of(Onnx.ModelProto.newBuilder().setIrVersion(7).setProducerName("bench")
                .addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setVersion(13)).setGraph(g).build());
    }

    private static Onnx.ValueInfoProto value(String name) {
        return Onnx.ValueInfoProto.newBuilder().setName(name).setType(Onnx.TypeProto.newBuilder().setTensorType(
                Onnx.TypeProto.Tensor.newBuilder().setElemType(Onnx.TensorProto.DataType.FLOAT_VALUE))).build();
    }

    private static Onnx.TensorProto random(String name, long[] dims) {
        java.util.Random r = new java.util.Random(name.hashCode());
        float[] v = new float[(int) Arrays.stream(dims).reduce(1, (a, b) -> a * b)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextGaussian() * 0.3f;
        }
        return TensorData.fromFloats(name, dims, v, Onnx.TensorProto.DataType.FLOAT_VALUE);
    }
}
