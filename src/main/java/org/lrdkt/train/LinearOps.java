package org.lrdkt.train;

import java.util.Arrays;
import org.lrdkt.onnx.Attrs;
import org.lrdkt.onnx.proto.Onnx.NodeProto;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Mirror ops of the fully-connected layers: Gemm and MatMul (Conv is {@link ConvOp}). */
final class LinearOps {

    private LinearOps() {
    }

    /** Y = alpha·op(A)·op(B) + beta·C. */
    static final class Gemm implements MirrorOp {
        private final double alpha;
        private final double beta;
        private final boolean transA;
        private final boolean transB;

        Gemm(NodeProto node) {
            alpha = Attrs.getFloat(node, "alpha", 1f);
            beta = Attrs.getFloat(node, "beta", 1f);
            transA = Attrs.getInt(node, "transA", 0) != 0;
            transB = Attrs.transB(node);
        }

        @Override
        public INDArray[] forward(INDArray[] in) {
            INDArray y = Tensors.matmul(in[0], in[1], transA, transB);
            if (alpha != 1) {
                y.muli(alpha);
            }
            if (in.length > 2 && in[2] != null) {
                INDArray c = beta == 1 ? in[2] : in[2].mul(beta);
                y = c.rank() == 1 && c.length() == y.size(1) ? y.addiRowVector(c) : Tensors.broadcast("add", y, c);
            }
            return new INDArray[] {y};
        }

        @Override
        public boolean backwardReadsOutputs() {
            return false;
        }

        @Override
        public INDArray[] backward(INDArray[] in, INDArray[] out, INDArray[] g, boolean[] need) {
            INDArray[] grads = new INDArray[in.length];
            INDArray a = in[0];
            INDArray b = in[1];
            INDArray gy = alpha == 1 ? g[0] : g[0].mul(alpha);
            if (need[0]) {
                // d op(A) = gy·op(B)ᵀ; with transA, A's gradient is its transpose op(B)·gyᵀ
                grads[0] = transA ? Tensors.matmul(b, gy, transB, true) : Tensors.matmul(gy, b, false, !transB);
            }
            if (need[1]) {
                // d op(B) = op(A)ᵀ·gy; with transB (PyTorch's Linear), B's gradient is gyᵀ·op(A)
                grads[1] = transB ? Tensors.matmul(gy, a, true, transA) : Tensors.matmul(a, gy, !transA, false);
            }
            if (in.length > 2 && in[2] != null && need[2]) {
                INDArray gc = Tensors.reduceTo(g[0], in[2].shape());
                grads[2] = beta == 1 ? gc : gc.mul(beta);
            }
            return grads;
        }
    }

    /** Matrix product with a 2-D right operand (the weight case), or two operands of equal batch dimensions. */
    static final class MatMul implements MirrorOp {
        @Override
        public INDArray[] forward(INDArray[] in) {
            INDArray a = in[0];
            INDArray b = in[1];
            if (b.rank() == 2 && a.rank() >= 2) {
                long[] outShape = a.shape().clone();
                outShape[outShape.length - 1] = b.size(1);
                INDArray rows = Tensors.matmul(a.reshape('c', -1, a.size(-1)), b, false, false);
                return new INDArray[] {rows.reshape('c', outShape)};
            }
            requireSameBatch(a, b);
            return new INDArray[] {Tensors.exec("matmul", new INDArray[] {a, b}, new int[] {0, 0, 0})[0]};
        }

        private static void requireSameBatch(INDArray a, INDArray b) {
            if (a.rank() != b.rank() || a.rank() < 2
                    || !Arrays.equals(Arrays.copyOf(a.shape(), a.rank() - 2), Arrays.copyOf(b.shape(), b.rank() - 2))) {
                throw new MirrorShapeException("operands of shapes " + Arrays.toString(a.shape()) + " and "
                        + Arrays.toString(b.shape()) + " (the mirror multiplies by a 2-D right operand or with equal "
                        + "batch dims)");
            }
        }

        @Override
        public boolean backwardReadsOutputs() {
            return false;
        }

        @Override
        public INDArray[] backward(INDArray[] in, INDArray[] out, INDArray[] g, boolean[] need) {
            INDArray a = in[0];
            INDArray b = in[1];
            INDArray[] grads = new INDArray[2];
            if (b.rank() == 2) {
                INDArray a2 = a.reshape('c', -1, a.size(-1));
                INDArray g2 = g[0].reshape('c', -1, b.size(1));
                if (need[0]) {
                    grads[0] = Tensors.matmul(g2, b, false, true).reshape('c', a.shape());
                }
                if (need[1]) {
                    grads[1] = Tensors.matmul(a2, g2, true, false);
                }
                return grads;
            }
            if (need[0]) {
                grads[0] = Tensors.exec("matmul", new INDArray[] {g[0], b}, new int[] {0, 1, 0})[0];
            }
            if (need[1]) {
                grads[1] = Tensors.exec("matmul", new INDArray[] {a, g[0]}, new int[] {1, 0, 0})[0];
            }
            return grads;
        }
    }
}
