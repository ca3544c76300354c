package org.lrdkt.train;

import java.util.Collections;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.IntPredicate;
import org.lrdkt.LrdktException;
import org.lrdkt.onnx.Attrs;
import org.lrdkt.onnx.proto.Onnx.NodeProto;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The training mirror's op registry: per ONNX op type, how its {@link MirrorOp} (forward and backward) is built
 * from the node and which of its inputs may be trainable weights. Adding an op touches its family's file and one
 * line here. The families: {@link LinearOps}, {@link ConvOp}, {@link ConvTransposeOp}, {@link PoolOp} (1-D ones
 * through {@link OneDimensional}), {@link ResizeOp}, {@link ElementwiseOps}, {@link NormalisationOps},
 * {@link ReductionOps}, {@link ShapeOps}, {@link IndexingOps}.
 */
final class Ops {

    /**
     * Builds the op of one node; {@code opset} is the model's default-domain opset and {@code floatType} the type the
     * mirror computes in (what a Cast to any float type produces).
     */
    @FunctionalInterface
    interface Factory {
        MirrorOp create(NodeProto node, int opset, DataType floatType) throws LrdktException;
    }

    /**
     * One op type.
     *
     * @param weightSlot  inputs (by index) whose float constants of more than one element train
     * @param allOutputs  the op computes every output (else only the first, and a node using another is refused)
     */
    record Entry(Factory factory, IntPredicate weightSlot, boolean allOutputs) {
    }

    private static final IntPredicate NO_WEIGHTS = i -> false;

    private static final Map<String, Entry> REGISTRY = registry();

    private Ops() {
    }

    private static Map<String, Entry> registry() {
        Map<String, Entry> r = new TreeMap<>();
        r.put("Conv", new Entry(OneDimensional.lifting((n, o, t) -> new ConvOp(n)), i -> i >= 1, false));
        r.put("ConvTranspose", new Entry(OneDimensional.lifting((n, o, t) -> new ConvTransposeOp(n)), i -> i >= 1,
                false));
        r.put("Gemm", new Entry((n, o, t) -> new LinearOps.Gemm(n), i -> i >= 1, false));
        r.put("MatMul", new Entry((n, o, t) -> new LinearOps.MatMul(), i -> true, false));
        for (String op : new String[] {"Add", "Sub", "Mul", "Div"}) {
            r.put(op, new Entry((n, o, t) -> new ElementwiseOps.Binary(n.getOpType()), i -> true, false));
        }
        for (String op : new String[] {"Relu", "LeakyRelu", "Elu", "Sigmoid", "Tanh", "Softplus", "HardSigmoid",
                "HardSwish", "Erf", "Gelu", "Clip", "Exp", "Log", "Sqrt", "Reciprocal", "Neg", "Abs"}) {
            r.put(op, new Entry((n, o, t) -> ElementwiseOps.Activation.of(n, o), NO_WEIGHTS, false));
        }
        for (String op : new String[] {"Max", "Min"}) {
            r.put(op, new Entry((n, o, t) -> new ElementwiseOps.Variadic(n.getOpType()), NO_WEIGHTS, false));
        }
        for (String op : new String[] {"Sum", "Mean"}) {
            r.put(op, new Entry((n, o, t) -> new ElementwiseOps.Variadic(n.getOpType()), i -> true, false));
        }
        r.put("PRelu", new Entry((n, o, t) -> new ElementwiseOps.PRelu(), i -> i == 1, false));
        r.put("Pow", new Entry((n, o, t) -> new ElementwiseOps.Pow(), NO_WEIGHTS, false));
        r.put("MaxPool", new Entry(OneDimensional.lifting((n, o, t) -> new PoolOp(n)), NO_WEIGHTS, false));
        r.put("AveragePool", new Entry(OneDimensional.lifting((n, o, t) -> new PoolOp(n)), NO_WEIGHTS, false));
        r.put("Resize", new Entry((n, o, t) -> new ResizeOp(n, o), NO_WEIGHTS, false));
        r.put("Upsample", new Entry((n, o, t) -> new ResizeOp(n, o), NO_WEIGHTS, false));
        r.put("GlobalAveragePool", new Entry((n, o, t) -> ReductionOps.Reduce.global(ReductionOps.Kind.MEAN),
                NO_WEIGHTS, false));
        r.put("GlobalMaxPool", new Entry((n, o, t) -> ReductionOps.Reduce.global(ReductionOps.Kind.MAX), NO_WEIGHTS,
                false));
        r.put("BatchNormalization", new Entry((n, o, t) -> new NormalisationOps.BatchNorm(n), i -> i == 1 || i == 2,
                false));
        r.put("Softmax", new Entry((n, o, t) -> new NormalisationOps.Softmax(Attrs.getInt(n, "axis", o >= 13 ? -1 : 1),
                o >= 13), NO_WEIGHTS, false));
        r.put("Flatten", new Entry((n, o, t) -> new ShapeOps.Flatten(Attrs.getInt(n, "axis", 1)), NO_WEIGHTS, false));
        r.put("Reshape", new Entry((n, o, t) -> new ShapeOps.Reshape(Attrs.getInt(n, "allowzero", 0) != 0), NO_WEIGHTS,
                false));
        r.put("Transpose", new Entry((n, o, t) -> new ShapeOps.Transpose(Attrs.getInts(n, "perm", null)), NO_WEIGHTS,
                false));
        r.put("Concat", new Entry((n, o, t) -> new IndexingOps.Concat(Attrs.getInt(n, "axis", 0)), NO_WEIGHTS, false));
        for (String op : new String[] {"ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin"}) {
            r.put(op, new Entry((n, o, t) -> ReductionOps.Reduce.of(n), NO_WEIGHTS, false));
        }
        r.put("LayerNormalization", new Entry((n, o, t) -> new NormalisationOps.LayerNorm(n), i -> i == 1 || i == 2,
                false));
        r.put("InstanceNormalization", new Entry((n, o, t) -> new NormalisationOps.InstanceNorm(n),
                i -> i == 1 || i == 2, false));
        r.put("Cast", new Entry((n, o, t) -> new ShapeOps.Cast(n, t), NO_WEIGHTS, false));
        r.put("Squeeze", new Entry((n, o, t) -> new ShapeOps.Squeeze(Attrs.getInts(n, "axes", null)), NO_WEIGHTS,
                false));
        r.put("Unsqueeze", new Entry((n, o, t) -> new ShapeOps.Unsqueeze(Attrs.getInts(n, "axes", null)), NO_WEIGHTS,
                false));
        r.put("Slice", new Entry((n, o, t) -> new IndexingOps.Slice(n, o), NO_WEIGHTS, false));
        r.put("Split", new Entry((n, o, t) -> new IndexingOps.Split(n), NO_WEIGHTS, true));
        r.put("Pad", new Entry((n, o, t) -> new IndexingOps.Pad(n, o), NO_WEIGHTS, false));
        r.put("Shape", new Entry((n, o, t) -> new ShapeOps.Shape(n), NO_WEIGHTS, false));
        r.put("ConstantOfShape", new Entry((n, o, t) -> new ShapeOps.ConstantOfShape(n, t), NO_WEIGHTS, false));
        r.put("Gather", new Entry((n, o, t) -> new IndexingOps.Gather(n), NO_WEIGHTS, false));
        r.put("Expand", new Entry((n, o, t) -> new IndexingOps.Expand(), NO_WEIGHTS, false));
        r.put("Dropout", new Entry((n, o, t) -> new ShapeOps.PassThrough(), NO_WEIGHTS, false));
        r.put("Identity", new Entry((n, o, t) -> new ShapeOps.PassThrough(), NO_WEIGHTS, false));
        return Collections.unmodifiableMap(r);
    }

    /** Every op type the mirror trains through (Constant nodes become constants, not ops). */
    static Set<String> supported() {
        return REGISTRY.keySet();
    }

    /** The op of {@code node}; an op outside the registry is refused in one line naming the node and the op. */
    static MirrorOp create(NodeProto node, int opset, DataType floatType) throws LrdktException {
        return entry(node).factory().create(node, opset, floatType);
    }

    static Entry entry(NodeProto node) throws LrdktException {
        Entry e = REGISTRY.get(node.getOpType());
        if (e == null) {
            throw LrdktException.unsupported("op " + node.getOpType() + " (node '" + node.getName()
                    + "') is not supported by the training mirror; supported: Constant, "
                    + String.join(", ", REGISTRY.keySet()));
        }
        return e;
    }

    /** Whether input {@code input} of an {@code op} node may be a trainable weight. */
    static boolean weightSlot(String op, int input) {
        Entry e = REGISTRY.get(op);
        return e != null && e.weightSlot().test(input);
    }

    /** Product of the dimensions before {@code axis}: the rows of ONNX's 2-D coercion (Flatten, old Softmax). */
    static long leading(INDArray x, int axis) {
        long outer = 1;
        for (int i = 0; i < axis; i++) {
            outer *= x.size(i);
        }
        return outer;
    }

    /** An ONNX axis (negative counts from the end) as an index into a tensor of {@code rank} dimensions. */
    static int axis(long axis, int rank) {
        return (int) (axis < 0 ? axis + rank : axis);
    }
}
