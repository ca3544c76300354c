package org.lrdkt.train;

import java.util.Arrays;
import java.util.function.BinaryOperator;
import java.util.function.UnaryOperator;
import org.lrdkt.onnx.Attrs;
import org.lrdkt.onnx.proto.Onnx.NodeProto;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Erf;
import org.nd4j.linalg.factory.Nd4j;
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
            return new INDArray[] {Tensors.broadcast(op, in[0], in[1])};
        }

        @Override
        public boolean backwardReadsOutputs() {
            return op.equals("divide");
        }

        @Override
        public INDArray[] backward(INDArray[] in, INDArray[] out, INDArray[] g, boolean[] need) {
            INDArray a = in[0];
            INDArray b = in[1];
            INDArray gy = g[0];
            INDArray[] grads = new INDArray[2];
            switch (op) {
                case "add" -> {
                    grads[0] = need[0] ? Tensors.reduceTo(gy, a.shape()) : null;
                    grads[1] = need[1] ? Tensors.reduceTo(gy, b.shape()) : null;
                }
                case "subtract" -> {
                    grads[0] = need[0] ? Tensors.reduceTo(gy, a.shape()) : null;
                    grads[1] = need[1] ? Tensors.reduceTo(gy.neg(), b.shape()) : null;
                }
                case "multiply" -> {
                    grads[0] = need[0] ? Tensors.reduceTo(Tensors.broadcast("multiply", gy, b), a.shape()) : null;
                    grads[1] = need[1] ? Tensors.reduceTo(Tensors.broadcast("multiply", gy, a), b.shape()) : null;
                }
                default -> {
                    grads[0] = need[0] ? Tensors.reduceTo(Tensors.broadcast("divide", gy, b), a.shape()) : null;
                    grads[1] = need[1]
                            ? Tensors.reduceTo(Tensors.broadcast("divide", gy.mul(out[0]), b).negi(), b.shape()) : null;
                }
            }
            return grads;
        }
    }

    /** Unary functions (activations and math); their derivatives are written from the forward input or output. */
    abstract static class Activation implements MirrorOp {

        static Activation of(NodeProto node, int opset) {
            return switch (node.getOpType()) {
                // y > 0 exactly where x > 0: one pass, where compare-and-cast took two; libnd4j's relu_bp calls a
                // std::function per element and took twice as long as step and multiply
                case "Relu" -> of(x -> Transforms.relu(x, true), x -> Transforms.relu(x, false),
                        (x, y) -> Transforms.step(y));
                case "LeakyRelu" -> {
                    double alpha = Attrs.getFloat(node, "alpha", 0.01f);
                    yield of(x -> Transforms.leakyRelu(x, alpha, true),
                            (x, y) -> x.gt(0).castTo(x.dataType()).muli(1 - alpha).addi(alpha));
                }
                case "Elu" -> {
                    double alpha = Attrs.getFloat(node, "alpha", 1f);
                    // α(eˣ − 1) below 0, x above; the slope below 0 is y + α
                    yield of(x -> Transforms.exp(Transforms.min(x, 0.0, true), false).subi(1).muli(alpha)
                                    .addi(Transforms.max(x, 0.0, true)),
                            (x, y) -> {
                                INDArray positive = x.gt(0).castTo(x.dataType());
                                return y.add(alpha).muli(positive.rsub(1)).addi(positive);
                            });
                }
                case "Sigmoid" -> of(x -> Transforms.sigmoid(x, true), (x, y) -> y.rsub(1).muli(y));
                case "Tanh" -> of(x -> Transforms.tanh(x, true), (x, y) -> y.mul(y).rsubi(1));
                case "Softplus" -> of(x -> Transforms.softPlus(x, true), (x, y) -> Transforms.sigmoid(x, true));
                case "Exp" -> of(x -> Transforms.exp(x, true), (x, y) -> y);
                case "Log" -> of(x -> Transforms.log(x, true), (x, y) -> x.rdiv(1));
                case "Sqrt" -> of(x -> Transforms.sqrt(x, true), (x, y) -> y.rdiv(0.5));
                case "Reciprocal" -> of(x -> x.rdiv(1), (x, y) -> y.mul(y).negi());
                case "Neg" -> of(INDArray::neg, (x, y) -> Nd4j.valueArrayOf(x.shape(), -1.0, x.dataType()));
                case "Abs" -> of(x -> Transforms.abs(x, true), (x, y) -> Transforms.sign(x, true));
                case "HardSigmoid" -> hardSigmoid(Attrs.getFloat(node, "alpha", 0.2f),
                        Attrs.getFloat(node, "beta", 0.5f), false);
                case "HardSwish" -> hardSigmoid(1.0 / 6, 0.5, true);
                case "Erf" -> of(ElementwiseOps::erf, (x, y) -> gaussian(x).muli(2 / Math.sqrt(Math.PI)));
                case "Gelu" -> gelu(Attrs.getString(node, "approximate", "none"));
                default -> clip(node, opset);
            };
        }

        /** An activation from its function and its derivative, which is written from the input x or output y. */
        private static Activation of(UnaryOperator<INDArray> function, BinaryOperator<INDArray> derivative) {
            return of(function, null, derivative);
        }

        /**
         * An activation that can also overwrite its input ({@code inPlace}, null if it cannot): only where the
         * derivative reads nothing of x that y does not hold.
         */
        private static Activation of(UnaryOperator<INDArray> function, UnaryOperator<INDArray> inPlace,
                                     BinaryOperator<INDArray> derivative) {
            return new Activation() {
                INDArray apply(INDArray x) {
                    return function.apply(x);
                }

                @Override
                public boolean overwritesInput() {
                    return inPlace != null;
                }

                @Override
                public INDArray[] forwardInPlace(INDArray[] in) {
                    return new INDArray[] {inPlace.apply(in[0])};
                }

                INDArray derivative(INDArray x, INDArray y) {
                    return derivative.apply(x, y);
                }
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
                    INDArray inside = Tensors.between(x, lower, upper);
                    if (!swish) {
                        return inside.muli(alpha);
                    }
                    // d/dx x·(αx+β) = 2αx+β inside the ramp, 1 above it, 0 below it
                    return x.mul(2 * alpha).addi(beta).muli(inside).addi(x.gte(upper).castTo(x.dataType()));
                }
            };
        }

        /**
         * Gelu (opset 20): x·Φ(x), exactly through erf or by its tanh approximation
         * ½x(1 + tanh(√(2/π)(x + 0.044715x³))). Older exports spell the exact form out as Div, Erf, Add, Mul, Mul.
         */
        private static Activation gelu(String approximate) {
            if (approximate.equals("tanh")) {
                double c = Math.sqrt(2 / Math.PI);
                return of(x -> Transforms.tanh(inner(x, c), false).addi(1).muli(x).muli(0.5), (x, y) -> {
                    INDArray t = Transforms.tanh(inner(x, c), false);
                    // ½(1 + t) + ½x(1 − t²)·c(1 + 3·0.044715x²)
                    INDArray slope = x.mul(x).muli(3 * 0.044715).addi(1).muli(c).muli(t.mul(t).rsubi(1)).muli(x);
                    return slope.addi(t).addi(1).muli(0.5);
                });
            }
            if (!approximate.equals("none")) {
                throw new MirrorShapeException("approximate " + approximate);
            }
            double halfRoot = Math.sqrt(0.5);
            // Φ(x) = ½(1 + erf(x/√2)); d/dx x·Φ(x) = Φ(x) + x·φ(x)
            return of(x -> erf(x.mul(halfRoot)).addi(1).muli(x).muli(0.5),
                    (x, y) -> erf(x.mul(halfRoot)).addi(1).muli(0.5)
                            .addi(gaussian(x.mul(halfRoot)).muli(x).muli(1 / Math.sqrt(2 * Math.PI))));
        }

        /** √(2/π)(x + 0.044715x³), the argument of tanh in Gelu's approximation. */
        private static INDArray inner(INDArray x, double c) {
            return x.mul(x).muli(0.044715).addi(1).muli(x).muli(c);
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
                    return new INDArray[] {clipInPlace(in[0].dup(), bounds(in))};
                }

                // the backward pass's mask (strictly inside the bounds) is the same on the clipped values
                @Override
                public boolean overwritesInput() {
                    return true;
                }

                @Override
                public INDArray[] forwardInPlace(INDArray[] in) {
                    return new INDArray[] {clipInPlace(in[0], bounds(in))};
                }

                private INDArray clipInPlace(INDArray y, double[] b) {
                    if (!Double.isInfinite(b[0])) {
                        y = Transforms.max(y, b[0], false);
                    }
                    if (!Double.isInfinite(b[1])) {
                        y = Transforms.min(y, b[1], false);
                    }
                    return y;
                }

                @Override
                public INDArray[] backward(INDArray[] in, INDArray[] out, INDArray[] g, boolean[] need) {
                    double[] b = bounds(in);
                    INDArray[] grads = new INDArray[in.length];
                    grads[0] = need[0] ? Tensors.between(in[0], b[0], b[1]).muli(g[0]) : null;
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

    /** erf of every element, as a new array. */
    private static INDArray erf(INDArray x) {
        INDArray y = Nd4j.createUninitialized(x.dataType(), x.shape());
        Nd4j.exec(new Erf(x, y));
        return y;
    }

    /** exp(−x²) of every element, as a new array. */
    private static INDArray gaussian(INDArray x) {
        return Transforms.exp(x.mul(x).negi(), false);
    }

    /**
     * Max, Min, Sum and Mean of any number of inputs with numpy broadcasting. Max and Min send each element's
     * gradient to the first input holding the extreme value (ties are measure zero in training).
     */
    static final class Variadic implements MirrorOp {
        private final String op;

        Variadic(String onnxOp) {
            op = onnxOp;
        }

        @Override
        public INDArray[] forward(INDArray[] in) {
            INDArray y = in[0];
            for (int i = 1; i < in.length; i++) {
                y = Tensors.broadcast(switch (op) {
                    case "Max" -> "maximum";
                    case "Min" -> "minimum";
                    default -> "add";
                }, y, in[i]);
            }
            if (op.equals("Mean")) {
                y = y.div(in.length);
            } else if (in.length == 1) {
                y = y.dup(); // an output is never the input itself: in-place ops downstream would change both
            }
            return new INDArray[] {y};
        }

        @Override
        public INDArray[] backward(INDArray[] in, INDArray[] out, INDArray[] g, boolean[] need) {
            INDArray[] grads = new INDArray[in.length];
            if (op.equals("Sum") || op.equals("Mean")) {
                INDArray gy = op.equals("Mean") ? g[0].div(in.length) : g[0];
                for (int i = 0; i < in.length; i++) {
                    grads[i] = need[i] ? Tensors.reduceTo(gy, in[i].shape()) : null;
                }
                return grads;
            }
            INDArray unclaimed = Nd4j.onesLike(out[0]);
            for (int i = 0; i < in.length; i++) {
                INDArray holds = Tensors.broadcast("add", Nd4j.zerosLike(out[0]), in[i]).eq(out[0])
                        .castTo(out[0].dataType()).muli(unclaimed);
                unclaimed.subi(holds);
                grads[i] = need[i] ? Tensors.reduceTo(holds.muli(g[0]), in[i].shape()) : null;
            }
            return grads;
        }
    }

    /** PRelu: x above 0, slope·x below, with the slope broadcast (one per channel as [C,1,1]); the slope trains. */
    static final class PRelu implements MirrorOp {
        @Override
        public INDArray[] forward(INDArray[] in) {
            INDArray negative = Transforms.min(in[0], 0.0, true);
            INDArray positive = Transforms.max(in[0], 0.0, true);
            return new INDArray[] {Tensors.broadcast("multiply", negative, in[1]).addi(positive)};
        }

        @Override
        public INDArray[] backward(INDArray[] in, INDArray[] out, INDArray[] g, boolean[] need) {
            INDArray positive = in[0].gt(0).castTo(in[0].dataType());
            INDArray[] grads = new INDArray[2];
            if (need[0]) {
                INDArray slope = Tensors.broadcast("multiply", positive.rsub(1), in[1]).addi(positive);
                grads[0] = slope.muli(g[0]);
            }
            if (need[1]) {
                grads[1] = Tensors.reduceTo(Transforms.min(in[0], 0.0, true).muli(g[0]), in[1].shape());
            }
            return grads;
        }
    }

    /** Pow with a constant scalar exponent (x², √-free norms); a tensor or trained exponent is refused. */
    static final class Pow implements MirrorOp {
        private static double exponent(INDArray[] in) {
            if (in[1].length() != 1) {
                throw new MirrorShapeException("an exponent of shape " + Arrays.toString(
                        in[1].shape()) + " (the mirror supports a scalar exponent)");
            }
            return in[1].getDouble(0);
        }

        @Override
        public INDArray[] forward(INDArray[] in) {
            return new INDArray[] {Transforms.pow(in[0], exponent(in), true)};
        }

        @Override
        public INDArray[] backward(INDArray[] in, INDArray[] out, INDArray[] g, boolean[] need) {
            if (need[1]) {
                throw new MirrorShapeException("an exponent that depends on trained weights (the mirror "
                        + "differentiates the base only)");
            }
            double e = exponent(in);
            return new INDArray[] {Transforms.pow(in[0], e - 1, true).muli(e).muli(g[0]), null};
        }
    }
}
