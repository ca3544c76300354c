package org.lrdkt.train;

import org.lrdkt.onnx.Attrs;
import org.lrdkt.onnx.proto.Onnx.NodeProto;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/** Mirror ops that act element by element: arithmetic with broadcasting and activations. */
final class ElementwiseOps {

    private ElementwiseOps() {
    }

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
}
