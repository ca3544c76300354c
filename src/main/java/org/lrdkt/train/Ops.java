package org.lrdkt.train;

import java.util.Arrays;
import java.util.Set;
import org.lrdkt.LrdktException;
import org.lrdkt.onnx.Attrs;
import org.lrdkt.onnx.proto.Onnx.NodeProto;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

/** The ops of the training mirror: which ONNX ops it covers and how each one is built from its node. */
final class Ops {

    /** Every op type the mirror trains through (Constant nodes become constants, not ops). */
    static final Set<String> SUPPORTED = Set.of("Conv", "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Relu",
            "LeakyRelu", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish", "Clip", "MaxPool", "AveragePool",
            "GlobalAveragePool", "BatchNormalization", "Flatten", "Reshape", "Transpose", "Concat", "Softmax",
            "Dropout", "Identity", "Constant");

    private Ops() {
    }

    static MirrorOp create(NodeProto node, int opset) throws LrdktException {
        String op = node.getOpType();
        return switch (op) {
            case "Conv" -> new ConvOp(node);
            case "MaxPool", "AveragePool" -> new PoolOp(node);
            case "GlobalAveragePool" -> new GlobalAveragePool();
            case "Gemm" -> new Gemm(node);
            case "MatMul" -> new MatMul();
            case "Add", "Sub", "Mul", "Div" -> new Binary(op);
            case "Relu", "LeakyRelu", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish", "Clip" ->
                    Activation.of(node, opset);
            case "BatchNormalization" -> new BatchNorm(node);
            case "Flatten" -> new Flatten(Attrs.getInt(node, "axis", 1));
            case "Reshape" -> new Reshape(Attrs.getInt(node, "allowzero", 0) != 0);
            case "Transpose" -> new Transpose(Attrs.getInts(node, "perm", null));
            case "Concat" -> new Concat(Attrs.getInt(node, "axis", 0));
            case "Softmax" -> new Softmax(Attrs.getInt(node, "axis", opset >= 13 ? -1 : 1), opset >= 13);
            case "Dropout", "Identity" -> new PassThrough();
            default -> throw LrdktException.unsupported("op " + op + " (node '" + node.getName()
                    + "') is not supported by the training mirror; supported: " + String.join(", ",
                    new java.util.TreeSet<>(SUPPORTED)));
        };
    }

    /** Product of the dimensions before {@code axis}: the rows of ONNX's 2-D coercion (Flatten, old Softmax). */
    static long leading(INDArray x, int axis) {
        long outer = 1;
        for (int i = 0; i < axis; i++) {
            outer *= x.size(i);
        }
        return outer;
    }

    static int axis(long axis, int rank) {
        return (int) (axis < 0 ? axis + rank : axis);
    }

    // ---------------------------------------------------------------- linear layers

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
            transB = Attrs.getInt(node, "transB", 0) != 0;
        }

        @Override
        public INDArray[] forward(INDArray[] in) {
            INDArray y = Nd.matmul(in[0], in[1], transA, transB);
            if (alpha != 1) {
                y.muli(alpha);
            }
            if (in.length > 2 && in[2] != null) {
                INDArray c = beta == 1 ? in[2] : in[2].mul(beta);
                y = c.rank() == 1 && c.length() == y.size(1) ? y.addiRowVector(c) : Nd.broadcast("add", y, c);
            }
            return new INDArray[] {y};
        }

        @Override
        public INDArray[] backward(INDArray[] in, INDArray[] out, INDArray[] g, boolean[] need) {
            INDArray[] grads = new INDArray[in.length];
            INDArray a = in[0];
            INDArray b = in[1];
            INDArray gy = alpha == 1 ? g[0] : g[0].mul(alpha);
            if (need[0]) {
                // d op(A) = gy·op(B)ᵀ; with transA, A's gradient is its transpose op(B)·gyᵀ
                grads[0] = transA ? Nd.matmul(b, gy, transB, true) : Nd.matmul(gy, b, false, !transB);
            }
            if (need[1]) {
                // d op(B) = op(A)ᵀ·gy; with transB (PyTorch's Linear), B's gradient is gyᵀ·op(A)
                grads[1] = transB ? Nd.matmul(gy, a, true, transA) : Nd.matmul(a, gy, !transA, false);
            }
            if (in.length > 2 && in[2] != null && need[2]) {
                INDArray gc = Nd.reduceTo(g[0], in[2].shape());
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
                return new INDArray[] {Nd.matmul(a.reshape('c', -1, a.size(-1)), b, false, false).reshape('c', outShape)};
            }
            requireSameBatch(a, b);
            return new INDArray[] {Nd.exec("matmul", new INDArray[] {a, b}, new int[] {0, 0, 0})[0]};
        }

        private static void requireSameBatch(INDArray a, INDArray b) {
            if (a.rank() != b.rank() || a.rank() < 2
                    || !Arrays.equals(Arrays.copyOf(a.shape(), a.rank() - 2), Arrays.copyOf(b.shape(), b.rank() - 2))) {
                throw new MirrorShapeException("MatMul of shapes " + Arrays.toString(a.shape()) + " and "
                        + Arrays.toString(b.shape()) + " (the mirror supports a 2-D right operand or equal batch dims)");
            }
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
                    grads[0] = Nd.matmul(g2, b, false, true).reshape('c', a.shape());
                }
                if (need[1]) {
                    grads[1] = Nd.matmul(a2, g2, true, false);
                }
                return grads;
            }
            if (need[0]) {
                grads[0] = Nd.exec("matmul", new INDArray[] {g[0], b}, new int[] {0, 1, 0})[0];
            }
            if (need[1]) {
                grads[1] = Nd.exec("matmul", new INDArray[] {a, g[0]}, new int[] {1, 0, 0})[0];
            }
            return grads;
        }
    }

    // ---------------------------------------------------------------- elementwise

    /** Add, Sub, Mul, Div with numpy broadcasting; gradients are summed back over broadcast axes. */
    static final class Binary implements MirrorOp {
        private final String op;

        Binary(String onnxOp) {
            op = switch (onnxOp) {
                case "Add" -> "add";
                case "Sub" -> "subtract";
                case "Mul" -> "multiply";
                default -> "divide";
            };
        }

        @Override
        public INDArray[] forward(INDArray[] in) {
            return new INDArray[] {Nd.broadcast(op, in[0], in[1])};
        }

        @Override
        public INDArray[] backward(INDArray[] in, INDArray[] out, INDArray[] g, boolean[] need) {
            INDArray a = in[0];
            INDArray b = in[1];
            INDArray gy = g[0];
            INDArray[] grads = new INDArray[2];
            switch (op) {
                case "add" -> {
                    grads[0] = need[0] ? Nd.reduceTo(gy, a.shape()) : null;
                    grads[1] = need[1] ? Nd.reduceTo(gy, b.shape()) : null;
                }
                case "subtract" -> {
                    grads[0] = need[0] ? Nd.reduceTo(gy, a.shape()) : null;
                    grads[1] = need[1] ? Nd.reduceTo(gy.neg(), b.shape()) : null;
                }
                case "multiply" -> {
                    grads[0] = need[0] ? Nd.reduceTo(Nd.broadcast("multiply", gy, b), a.shape()) : null;
                    grads[1] = need[1] ? Nd.reduceTo(Nd.broadcast("multiply", gy, a), b.shape()) : null;
                }
                default -> {
                    grads[0] = need[0] ? Nd.reduceTo(Nd.broadcast("divide", gy, b), a.shape()) : null;
                    grads[1] = need[1] ? Nd.reduceTo(Nd.broadcast("divide", gy.mul(out[0]), b).negi(), b.shape())
                            : null;
                }
            }
            return grads;
        }
    }

    /** Unary activations; their derivatives are written from the forward input or output. */
    abstract static class Activation implements MirrorOp {

        static Activation of(NodeProto node, int opset) {
            return switch (node.getOpType()) {
                case "Relu" -> new Activation() {
                    INDArray apply(INDArray x) {
                        return Transforms.relu(x, true);
                    }

                    INDArray derivative(INDArray x, INDArray y) {
                        // y > 0 exactly where x > 0: one pass, where compare-and-cast took two; libnd4j's relu_bp
                        // calls a std::function per element and took twice as long as step and multiply
                        return Transforms.step(y);
                    }
                };
                case "LeakyRelu" -> {
                    double alpha = Attrs.getFloat(node, "alpha", 0.01f);
                    yield new Activation() {
                        INDArray apply(INDArray x) {
                            return Transforms.leakyRelu(x, alpha, true);
                        }

                        INDArray derivative(INDArray x, INDArray y) {
                            INDArray positive = x.gt(0).castTo(x.dataType());
                            return positive.mul(1 - alpha).addi(alpha);
                        }
                    };
                }
                case "Sigmoid" -> new Activation() {
                    INDArray apply(INDArray x) {
                        return Transforms.sigmoid(x, true);
                    }

                    INDArray derivative(INDArray x, INDArray y) {
                        return y.rsub(1).muli(y);
                    }
                };
                case "Tanh" -> new Activation() {
                    INDArray apply(INDArray x) {
                        return Transforms.tanh(x, true);
                    }

                    INDArray derivative(INDArray x, INDArray y) {
                        return y.mul(y).rsubi(1);
                    }
                };
                case "HardSigmoid" -> hardSigmoid(Attrs.getFloat(node, "alpha", 0.2f),
                        Attrs.getFloat(node, "beta", 0.5f), false);
                case "HardSwish" -> hardSigmoid(1.0 / 6, 0.5, true);
                default -> clip(node, opset);
            };
        }

        /** HardSigmoid max(0, min(1, αx+β)); HardSwish is x·HardSigmoid(x) with α=1/6, β=½. */
        private static Activation hardSigmoid(double alpha, double beta, boolean swish) {
            double lower = -beta / alpha;
            double upper = (1 - beta) / alpha;
            return new Activation() {
                INDArray apply(INDArray x) {
                    INDArray h = Transforms.max(Transforms.min(x.mul(alpha).addi(beta), 1.0, false), 0.0, false);
                    return swish ? h.muli(x) : h;
                }

                INDArray derivative(INDArray x, INDArray y) {
                    INDArray inside = Nd.between(x, lower, upper);
                    if (!swish) {
                        return inside.muli(alpha);
                    }
                    // d/dx x·(αx+β) = 2αx+β inside the ramp, 1 above it, 0 below it
                    return x.mul(2 * alpha).addi(beta).muli(inside).addi(x.gte(upper).castTo(x.dataType()));
                }
            };
        }

        /** Clip with bounds from attributes (opset < 11) or constant inputs 1 and 2. */
        private static Activation clip(NodeProto node, int opset) {
            boolean fromInputs = opset >= 11;
            double attrMin = Attrs.getFloat(node, "min", -Float.MAX_VALUE);
            double attrMax = Attrs.getFloat(node, "max", Float.MAX_VALUE);
            return new Activation() {
                private double[] bounds(INDArray[] in) {
                    if (!fromInputs) {
                        return new double[] {attrMin, attrMax};
                    }
                    double min = in.length > 1 && in[1] != null ? in[1].getDouble(0) : Double.NEGATIVE_INFINITY;
                    double max = in.length > 2 && in[2] != null ? in[2].getDouble(0) : Double.POSITIVE_INFINITY;
                    return new double[] {min, max};
                }

                @Override
                public INDArray[] forward(INDArray[] in) {
                    double[] b = bounds(in);
                    INDArray y = in[0].dup();
                    if (!Double.isInfinite(b[0])) {
                        y = Transforms.max(y, b[0], false);
                    }
                    if (!Double.isInfinite(b[1])) {
                        y = Transforms.min(y, b[1], false);
                    }
                    return new INDArray[] {y};
                }

                @Override
                public INDArray[] backward(INDArray[] in, INDArray[] out, INDArray[] g, boolean[] need) {
                    double[] b = bounds(in);
                    INDArray[] grads = new INDArray[in.length];
                    grads[0] = need[0] ? Nd.between(in[0], b[0], b[1]).muli(g[0]) : null;
                    return grads;
                }

                INDArray apply(INDArray x) {
                    throw new UnsupportedOperationException();
                }

                INDArray derivative(INDArray x, INDArray y) {
                    throw new UnsupportedOperationException();
                }
            };
        }

        /** The activation of x as a new array (x itself never changes: backward passes read it). */
        abstract INDArray apply(INDArray x);

        abstract INDArray derivative(INDArray x, INDArray y);

        @Override
        public INDArray[] forward(INDArray[] in) {
            return new INDArray[] {apply(in[0])};
        }

        @Override
        public INDArray[] backward(INDArray[] in, INDArray[] out, INDArray[] g, boolean[] need) {
            INDArray[] grads = new INDArray[in.length];
            grads[0] = need[0] ? derivative(in[0], out[0]).muli(g[0]) : null;
            return grads;
        }
    }

    /** Softmax along one axis (opset 13+), or over the flattened trailing axes from {@code axis} (before 13). */
    static final class Softmax implements MirrorOp {
        private final long axis;
        private final boolean singleAxis;

        Softmax(long axis, boolean singleAxis) {
            this.axis = axis;
            this.singleAxis = singleAxis;
        }

        private INDArray view(INDArray x) {
            int a = axis(axis, x.rank());
            if (singleAxis) {
                return x;
            }
            long outer = leading(x, a);
            return x.reshape('c', outer, x.length() / outer);
        }

        private int dim(INDArray x) {
            return singleAxis ? axis(axis, x.rank()) : 1;
        }

        @Override
        public INDArray[] forward(INDArray[] in) {
            INDArray x = view(in[0]);
            INDArray y = Nd.exec("softmax", new INDArray[] {x}, new int[] {dim(x)})[0];
            return new INDArray[] {y.reshape('c', in[0].shape())};
        }

        @Override
        public INDArray[] backward(INDArray[] in, INDArray[] out, INDArray[] g, boolean[] need) {
            INDArray y = view(out[0]);
            INDArray gy = view(g[0]);
            int d = dim(y);
            INDArray dot = gy.mul(y).sum(true, d);
            INDArray gx = Nd.broadcast("subtract", gy, dot).muli(y);
            return new INDArray[] {gx.reshape('c', in[0].shape())};
        }
    }

    // ---------------------------------------------------------------- normalisation and pooling

    /** BatchNormalization with frozen statistics: y = (x − mean)/√(var+ε)·scale + B; scale and B train. */
    static final class BatchNorm implements MirrorOp {
        private final double epsilon;

        BatchNorm(NodeProto node) {
            epsilon = Attrs.getFloat(node, "epsilon", 1e-5f);
        }

        private static long[] channelShape(INDArray x) {
            long[] s = new long[x.rank()];
            Arrays.fill(s, 1);
            s[1] = x.size(1);
            return s;
        }

        private INDArray invStd(INDArray var) {
            return Transforms.sqrt(var.add(epsilon), false).rdivi(1);
        }

        @Override
        public INDArray[] forward(INDArray[] in) {
            long[] cs = channelShape(in[0]);
            INDArray k = in[1].mul(invStd(in[4]));
            INDArray c = in[2].sub(in[3].mul(k));
            INDArray y = Nd.broadcast("multiply", in[0], k.reshape('c', cs));
            return new INDArray[] {Nd.broadcast("add", y, c.reshape('c', cs))};
        }

        @Override
        public INDArray[] backward(INDArray[] in, INDArray[] out, INDArray[] g, boolean[] need) {
            long[] cs = channelShape(in[0]);
            INDArray inv = invStd(in[4]);
            INDArray[] grads = new INDArray[in.length];
            if (need[0]) {
                grads[0] = Nd.broadcast("multiply", g[0], in[1].mul(inv).reshape('c', cs));
            }
            int[] reduce = java.util.stream.IntStream.range(0, in[0].rank()).filter(i -> i != 1).toArray();
            if (need[1]) {
                INDArray normalised = Nd.broadcast("multiply",
                        Nd.broadcast("subtract", in[0], in[3].reshape('c', cs)), inv.reshape('c', cs));
                grads[1] = normalised.muli(g[0]).sum(reduce);
            }
            if (need[2]) {
                grads[2] = g[0].sum(reduce);
            }
            return grads;
        }
    }

    static final class GlobalAveragePool implements MirrorOp {
        private static int[] spatial(INDArray x) {
            return java.util.stream.IntStream.range(2, x.rank()).toArray();
        }

        @Override
        public INDArray[] forward(INDArray[] in) {
            return new INDArray[] {in[0].mean(true, spatial(in[0]))};
        }

        @Override
        public INDArray[] backward(INDArray[] in, INDArray[] out, INDArray[] g, boolean[] need) {
            long area = in[0].length() / (in[0].size(0) * in[0].size(1));
            INDArray zeros = Nd4j.zeros(in[0].dataType(), in[0].shape());
            return new INDArray[] {Nd.broadcast("add", zeros, g[0].div(area))};
        }
    }

    // ---------------------------------------------------------------- shapes

    static final class PassThrough implements MirrorOp {
        @Override
        public INDArray[] forward(INDArray[] in) {
            return new INDArray[] {in[0]};
        }

        @Override
        public INDArray[] backward(INDArray[] in, INDArray[] out, INDArray[] g, boolean[] need) {
            INDArray[] grads = new INDArray[in.length];
            grads[0] = g[0];
            return grads;
        }
    }

    /** Base of the ops that only change the shape: the gradient is reshaped back to the input's shape. */
    abstract static class Reshaping implements MirrorOp {
        abstract long[] target(INDArray[] in);

        @Override
        public INDArray[] forward(INDArray[] in) {
            return new INDArray[] {in[0].reshape('c', target(in))};
        }

        @Override
        public INDArray[] backward(INDArray[] in, INDArray[] out, INDArray[] g, boolean[] need) {
            INDArray[] grads = new INDArray[in.length];
            grads[0] = g[0].reshape('c', in[0].shape());
            return grads;
        }
    }

    static final class Flatten extends Reshaping {
        private final long axis;

        Flatten(long axis) {
            this.axis = axis;
        }

        @Override
        long[] target(INDArray[] in) {
            long outer = leading(in[0], axis(axis, in[0].rank()));
            return new long[] {outer, in[0].length() / outer};
        }
    }

    /** Reshape with ONNX's 0 (copy the input's dimension unless allowzero) and −1 (infer). */
    static final class Reshape extends Reshaping {
        private final boolean allowZero;

        Reshape(boolean allowZero) {
            this.allowZero = allowZero;
        }

        @Override
        long[] target(INDArray[] in) {
            long[] shape = in[1].toLongVector();
            long known = 1;
            int infer = -1;
            for (int i = 0; i < shape.length; i++) {
                if (shape[i] == 0 && !allowZero) {
                    shape[i] = in[0].size(i);
                }
                if (shape[i] == -1) {
                    infer = i;
                } else {
                    known *= shape[i];
                }
            }
            if (infer >= 0) {
                shape[infer] = in[0].length() / known;
            }
            return shape;
        }
    }

    static final class Transpose implements MirrorOp {
        private final long[] perm;

        Transpose(long[] perm) {
            this.perm = perm;
        }

        private int[] permutation(int rank) {
            int[] p = new int[rank];
            for (int i = 0; i < rank; i++) {
                p[i] = perm == null ? rank - 1 - i : (int) perm[i];
            }
            return p;
        }

        @Override
        public INDArray[] forward(INDArray[] in) {
            return new INDArray[] {in[0].permute(permutation(in[0].rank())).dup('c')};
        }

        @Override
        public INDArray[] backward(INDArray[] in, INDArray[] out, INDArray[] g, boolean[] need) {
            int[] p = permutation(in[0].rank());
            int[] inverse = new int[p.length];
            for (int i = 0; i < p.length; i++) {
                inverse[p[i]] = i;
            }
            return new INDArray[] {g[0].permute(inverse).dup('c')};
        }
    }

    static final class Concat implements MirrorOp {
        private final long axis;

        Concat(long axis) {
            this.axis = axis;
        }

        @Override
        public INDArray[] forward(INDArray[] in) {
            return new INDArray[] {Nd4j.concat(axis(axis, in[0].rank()), in)};
        }

        @Override
        public INDArray[] backward(INDArray[] in, INDArray[] out, INDArray[] g, boolean[] need) {
            int a = axis(axis, in[0].rank());
            INDArray[] grads = new INDArray[in.length];
            long start = 0;
            for (int i = 0; i < in.length; i++) {
                long size = in[i].size(a);
                if (need[i]) {
                    org.nd4j.linalg.indexing.INDArrayIndex[] idx = NDArrayIndex.allFor(g[0]);
                    idx[a] = NDArrayIndex.interval(start, start + size);
                    grads[i] = g[0].get(idx).dup('c');
                }
                start += size;
            }
            return grads;
        }
    }
}
