package org.lrdkt.train;

import java.util.ArrayList;
import java.util.List;
import org.lrdkt.LrdktException;
import org.lrdkt.Json;
import org.lrdkt.decompose.Lapack;
import org.lrdkt.onnx.Attrs;
import org.lrdkt.onnx.Graph;
import org.lrdkt.onnx.OnnxModel;
import org.lrdkt.onnx.TensorData;
import org.lrdkt.onnx.proto.Onnx.GraphProto;
import org.lrdkt.onnx.proto.Onnx.NodeProto;
import org.lrdkt.onnx.proto.Onnx.StringStringEntryProto;
import org.lrdkt.onnx.proto.Onnx.TensorProto;

/**
 * A hand-made LRD student for tests (independent of the decompose stage): the LeNet fixture with conv2 split into
 * a vertical/horizontal pair and fc1 into two Gemms by truncated SVD, following DESIGN.md's unfolding, node names
 * and {@code lrdkt.hints} metadata.
 */
final class Decomposed {

    private Decomposed() {
    }

    static OnnxModel lenet(OnnxModel teacher, int convRank, int fcRank) throws LrdktException {
        Graph g = Graph.of(teacher);
        GraphProto.Builder out = teacher.graph().toBuilder().clearNode();
        List<String> hints = new ArrayList<>();
        for (NodeProto n : g.nodes()) {
            if (n.getName().equals("/conv2/Conv")) {
                spatial(g, n, convRank, out);
                hints.add(n.getOutput(0));
            } else if (n.getName().equals("/fc1/Gemm")) {
                fc(g, n, fcRank, out);
                hints.add(n.getOutput(0));
            } else {
                out.addNode(n);
            }
        }
        var proto = teacher.proto().toBuilder().setGraph(out).addMetadataProps(StringStringEntryProto.newBuilder()
                .setKey("lrdkt.hints").setValue(Json.write(hints))).build();
        return OnnxModel.of(proto);
    }

    private static void spatial(Graph g, NodeProto n, int rank, GraphProto.Builder out) throws LrdktException {
        TensorProto wt = g.constant(n.getInput(1)).orElseThrow();
        long[] d = TensorData.dims(wt);
        int oc = (int) d[0];
        int ic = (int) d[1];
        int kh = (int) d[2];
        int kw = (int) d[3];
        float[] w = TensorData.toFloats(wt);
        int rows = ic * kh;
        int cols = oc * kw;
        float[] m = new float[rows * cols];
        for (int o = 0; o < oc; o++) {
            for (int c = 0; c < ic; c++) {
                for (int i = 0; i < kh; i++) {
                    for (int j = 0; j < kw; j++) {
                        m[(c * kh + i) * cols + o * kw + j] = w[((o * ic + c) * kh + i) * kw + j];
                    }
                }
            }
        }
        Lapack.Svd svd = Lapack.svd(m, rows, cols);
        float[] vertical = new float[rank * ic * kh];
        float[] horizontal = new float[oc * rank * kw];
        for (int k = 0; k < rank; k++) {
            float root = (float) Math.sqrt(svd.s()[k]);
            for (int r = 0; r < rows; r++) {
                vertical[k * rows + r] = svd.u()[r * svd.k() + k] * root; // (K, C, kh, 1): index k*(C*kh)+c*kh+i
            }
            for (int o = 0; o < oc; o++) {
                for (int j = 0; j < kw; j++) {
                    horizontal[(o * rank + k) * kw + j] = svd.vt()[k * cols + o * kw + j] * root;
                }
            }
        }
        String name = n.getName();
        long[] pads = Attrs.getInts(n, "pads", new long[] {0, 0, 0, 0});
        long[] strides = Attrs.getInts(n, "strides", new long[] {1, 1});
        out.addInitializer(TensorData.fromFloats(name + "/lrd_v.weight", new long[] {rank, ic, kh, 1}, vertical, 1));
        out.addInitializer(TensorData.fromFloats(name + "/lrd_h.weight", new long[] {oc, rank, 1, kw}, horizontal, 1));
        String mid = name + "/lrd_v_out";
        out.addNode(NodeProto.newBuilder().setOpType("Conv").setName(name + "/lrd_v").addInput(n.getInput(0))
                .addInput(name + "/lrd_v.weight").addOutput(mid).addAttribute(Attrs.ofInts("kernel_shape", kh, 1))
                .addAttribute(Attrs.ofInts("pads", pads[0], 0, pads[2], 0))
                .addAttribute(Attrs.ofInts("strides", strides[0], 1)));
        NodeProto.Builder h = NodeProto.newBuilder().setOpType("Conv").setName(name + "/lrd_h").addInput(mid)
                .addInput(name + "/lrd_h.weight").addOutput(n.getOutput(0))
                .addAttribute(Attrs.ofInts("kernel_shape", 1, kw))
                .addAttribute(Attrs.ofInts("pads", 0, pads[1], 0, pads[3]))
                .addAttribute(Attrs.ofInts("strides", 1, strides[1]));
        if (n.getInputCount() > 2) {
            h.addInput(n.getInput(2));
        }
        out.addNode(h);
    }

    private static void fc(Graph g, NodeProto n, int rank, GraphProto.Builder out) throws LrdktException {
        TensorProto wt = g.constant(n.getInput(1)).orElseThrow(); // [out, in], transB = 1
        int rows = (int) wt.getDims(0);
        int cols = (int) wt.getDims(1);
        Lapack.Svd svd = Lapack.svd(TensorData.toFloats(wt), rows, cols);
        float[] a = new float[rows * rank]; // [out, K]
        float[] b = new float[rank * cols]; // [K, in]
        for (int k = 0; k < rank; k++) {
            float root = (float) Math.sqrt(svd.s()[k]);
            for (int r = 0; r < rows; r++) {
                a[r * rank + k] = svd.u()[r * svd.k() + k] * root;
            }
            for (int c = 0; c < cols; c++) {
                b[k * cols + c] = svd.vt()[k * cols + c] * root;
            }
        }
        String name = n.getName();
        out.addInitializer(TensorData.fromFloats(name + "/lrd_a.weight", new long[] {rank, cols}, b, 1));
        out.addInitializer(TensorData.fromFloats(name + "/lrd_b.weight", new long[] {rows, rank}, a, 1));
        String mid = name + "/lrd_a_out";
        out.addNode(NodeProto.newBuilder().setOpType("Gemm").setName(name + "/lrd_a").addInput(n.getInput(0))
                .addInput(name + "/lrd_a.weight").addOutput(mid).addAttribute(Attrs.ofInt("transB", 1)));
        out.addNode(NodeProto.newBuilder().setOpType("Gemm").setName(name + "/lrd_b").addInput(mid)
                .addInput(name + "/lrd_b.weight").addInput(n.getInput(2)).addOutput(n.getOutput(0))
                .addAttribute(Attrs.ofInt("transB", 1)));
    }
}
