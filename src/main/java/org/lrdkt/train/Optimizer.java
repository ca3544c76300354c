package org.lrdkt.train;

import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.Axpy;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * SGD with momentum (PyTorch's form: v ← μv + g + λw, w ← w − η·v) or Adam with L2 weight decay added to the
 * gradient. Works on the student's flat parameter vector ({@link Mirror#flatParameters()}) with state vectors of
 * the same layout, so one step is a few whole-vector operations however many weights there are. Updates the
 * parameters in place; its state can be saved and restored per parameter name for --resume.
 */
public final class Optimizer {

    /** Which update rule. */
    public enum Kind {
        SGD, ADAM
    }

    private static final double BETA1 = 0.9;
    private static final double BETA2 = 0.999;
    private static final double EPSILON = 1e-8;

    private final Kind kind;
    private double learningRate;
    private final double momentum;
    private final double weightDecay;
    private final double clipNorm;
    private final Map<String, Mirror.Parameter> parameters;
    private final INDArray weights;
    private final INDArray first;
    private final INDArray second;
    private long steps;

    /**
     * An optimizer of {@code student}'s parameters (a trainable mirror with at least one); {@code clipNorm} > 0
     * scales each loss gradient down to that L2 norm when it is longer (before weight decay, as PyTorch's
     * clip_grad_norm_ before an optimizer step).
     */
    @SuppressWarnings("try") // the workspace scope is the point; its handle is never read
    public Optimizer(Kind kind, double learningRate, double momentum, double weightDecay, double clipNorm,
                     Mirror student) {
        this.kind = kind;
        this.learningRate = learningRate;
        this.momentum = momentum;
        this.weightDecay = weightDecay;
        this.clipNorm = clipNorm;
        this.parameters = student.parameters();
        this.weights = student.flatParameters();
        if (weights == null) {
            throw new IllegalArgumentException("the mirror has no trainable parameters");
        }
        // state lives as long as the optimizer, never in a step's scratch memory
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            first = Nd4j.zeros(weights.dataType(), weights.length());
            second = kind == Kind.ADAM ? Nd4j.zeros(weights.dataType(), weights.length()) : null;
        }
    }

    /** Sets the learning rate of the next steps (schedules). */
    public void learningRate(double rate) {
        learningRate = rate;
    }

    /** One update of every parameter; uses the gradient vector as scratch (its values are gone afterwards). */
    public void step(Mirror.Gradients gradients) {
        steps++;
        INDArray g = gradients.flat();
        if (clipNorm > 0) {
            double norm = g.norm2Number().doubleValue();
            if (norm > clipNorm) {
                g.muli(clipNorm / norm);
            }
        }
        if (weightDecay != 0) {
            axpy(weightDecay, weights, g);
        }
        if (kind == Kind.SGD) {
            first.muli(momentum).addi(g);
            axpy(-learningRate, first, weights);
            return;
        }
        axpy(1 - BETA1, g, first.muli(BETA1));
        axpy(1 - BETA2, g.muli(g), second.muli(BETA2));
        double correction1 = 1 - Math.pow(BETA1, steps);
        double correction2 = 1 - Math.pow(BETA2, steps);
        INDArray denominator = Transforms.sqrt(second.div(correction2), false).addi(EPSILON);
        weights.subi(first.div(correction1).divi(denominator).muli(learningRate));
    }

    /** y ← a·x + y in one pass: libnd4j's pairwise op, not BLAS axpy, which wakes OpenBLAS's spinning threads. */
    private static void axpy(double a, INDArray x, INDArray y) {
        Nd4j.exec(new Axpy(x, y, y, a));
    }

    /** State by "first/NAME", "second/NAME" (views, per parameter) and the step count, for checkpoints. */
    public Map<String, INDArray> state() {
        Map<String, INDArray> out = new LinkedHashMap<>();
        parameters.values().forEach(p -> out.put("first/" + p.name(), Mirror.segment(first, p)));
        if (second != null) {
            parameters.values().forEach(p -> out.put("second/" + p.name(), Mirror.segment(second, p)));
        }
        return out;
    }

    public long steps() {
        return steps;
    }

    /** Restores {@link #state()}; parameters absent from {@code state} start from zero state. */
    public void restore(Map<String, INDArray> state, long stepCount) {
        first.assign(0);
        if (second != null) {
            second.assign(0);
        }
        state.forEach((k, v) -> {
            INDArray target = k.startsWith("first/") ? first : k.startsWith("second/") ? second : null;
            Mirror.Parameter p = parameters.get(k.substring(k.indexOf('/') + 1));
            if (target != null && p != null) {
                Mirror.segment(target, p).assign(v.reshape('c', p.value().shape()));
            }
        });
        steps = stepCount;
    }
}
