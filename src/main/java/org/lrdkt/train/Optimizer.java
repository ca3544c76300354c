package org.lrdkt.train;

import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * SGD with momentum (PyTorch's form: v ← μv + g + λw, w ← w − η·v) or Adam with L2 weight decay added to the
 * gradient. Updates parameters in place; its state (per parameter) can be saved and restored for --resume.
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
    private final Map<String, INDArray> first = new LinkedHashMap<>();
    private final Map<String, INDArray> second = new LinkedHashMap<>();
    private long steps;

    public Optimizer(Kind kind, double learningRate, double momentum, double weightDecay) {
        this.kind = kind;
        this.learningRate = learningRate;
        this.momentum = momentum;
        this.weightDecay = weightDecay;
    }

    /** Sets the learning rate of the next steps (schedules). */
    public void learningRate(double rate) {
        learningRate = rate;
    }

    /** One update of every parameter that has a gradient. */
    public void step(Map<String, Mirror.Parameter> parameters, Map<String, INDArray> gradients) {
        steps++;
        for (Map.Entry<String, INDArray> e : gradients.entrySet()) {
            INDArray w = parameters.get(e.getKey()).value();
            INDArray g = weightDecay == 0 ? e.getValue() : e.getValue().add(w.mul(weightDecay));
            if (kind == Kind.SGD) {
                INDArray v = first.computeIfAbsent(e.getKey(), k -> w.ulike().assign(0));
                v.muli(momentum).addi(g);
                w.subi(v.mul(learningRate));
            } else {
                INDArray m = first.computeIfAbsent(e.getKey(), k -> w.ulike().assign(0));
                INDArray s = second.computeIfAbsent(e.getKey(), k -> w.ulike().assign(0));
                m.muli(BETA1).addi(g.mul(1 - BETA1));
                s.muli(BETA2).addi(g.mul(g).muli(1 - BETA2));
                double correction1 = 1 - Math.pow(BETA1, steps);
                double correction2 = 1 - Math.pow(BETA2, steps);
                INDArray denominator = Transforms.sqrt(s.div(correction2), false).addi(EPSILON);
                w.subi(m.div(correction1).divi(denominator).muli(learningRate));
            }
        }
    }

    /** State by "first/NAME", "second/NAME" and the step count, for checkpoints. */
    public Map<String, INDArray> state() {
        Map<String, INDArray> out = new LinkedHashMap<>();
        first.forEach((k, v) -> out.put("first/" + k, v));
        second.forEach((k, v) -> out.put("second/" + k, v));
        return out;
    }

    public long steps() {
        return steps;
    }

    public void restore(Map<String, INDArray> state, long stepCount) {
        first.clear();
        second.clear();
        state.forEach((k, v) -> {
            if (k.startsWith("first/")) {
                first.put(k.substring(6), v);
            } else if (k.startsWith("second/")) {
                second.put(k.substring(7), v);
            }
        });
        steps = stepCount;
    }
}
