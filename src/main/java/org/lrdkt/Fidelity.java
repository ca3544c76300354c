package org.lrdkt;

import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * How closely one model output follows the reference's (the teacher's), accumulated batch by batch in double (float
 * sums over 1e8 values drift by percents). The figure that fits the output's {@link OutputKind}: top-1 agreement over
 * the class axis, per position for [N,C,H,W] and [N,T,C]; IoU of the masks thresholded at 0.5 (at 0 for logits); and
 * for every output the cosine similarity, relative L2 error and absolute differences. {@code eval} reports these, and
 * the fine-tuner scores its held-out split with them, so both count alike.
 */
public final class Fidelity {

    /**
     * One output's figures over everything added. Null where the kind has no such figure.
     *
     * @param agreement  share of positions (samples for [N,C]) whose top-1 class matches the reference's
     * @param majorityAgreement the agreement of an answer that always names the reference's most frequent top-1
     *                   class: the baseline that agreement means something above (a teacher that names one class
     *                   for most inputs makes a high agreement cheap)
     * @param perPosition whether the agreement counts positions ([N,C,H,W], [N,T,C]) rather than samples
     * @param maskIou    |S ∩ T| / |S ∪ T| of the thresholded masks over the whole data set (1 when both are empty)
     * @param cosine     mean over samples of cos(output, reference), each sample flattened
     * @param relativeL2 ‖output − reference‖ / ‖reference‖ over the whole data set
     */
    public record Figures(String output, OutputKind kind, Double agreement, Double majorityAgreement,
                          boolean perPosition, Double maskIou,
                          double cosine,
                          double relativeL2, double maxAbsDiff, double meanAbsDiff) {

        /** The figure that fits the kind, higher is better: agreement, mask IoU or cosine. */
        public double headline() {
            return switch (kind) {
                case CLASSES -> agreement;
                case MASK -> maskIou;
                case VALUES -> cosine;
            };
        }

        /**
         * The figures that fit the kind in a few words, the number first: "98.95% agreement", "0.8123 mask IoU",
         * "0.9912 cosine, 0.1234 rel. L2" (relative L2 for values, where cosine alone ignores the scale).
         */
        public String summary() {
            return switch (kind) {
                case CLASSES -> String.format("%.2f%% %s", 100 * agreement,
                        perPosition ? "agreement per position" : "agreement");
                case MASK -> String.format("%.4f mask IoU", maskIou);
                case VALUES -> String.format("%.4f cosine, %.4f rel. L2", cosine, relativeL2);
            };
        }

        /** Each output's {@link #summary}, named when there are several, or null when there are none. */
        public static String summary(List<Figures> outputs) {
            if (outputs == null || outputs.isEmpty()) {
                return null;
            }
            return outputs.stream().map(f -> (outputs.size() > 1 ? f.output() + ": " : "") + f.summary())
                    .collect(Collectors.joining("; "));
        }

        /** What {@link #headline} measures, for table headings. */
        public String headlineName() {
            return headlineName(kind);
        }

        public static String headlineName(OutputKind kind) {
            return switch (kind) {
                case CLASSES -> "agreement";
                case MASK -> "mask IoU";
                case VALUES -> "cosine";
            };
        }
    }

    private final String output;
    private final OutputKind kind;
    private final double threshold;
    private long agreed;
    private long positions;
    /** Per class, how many positions the reference names it at (its top-1); allocated by the first batch. */
    private long[] referenceVotes;
    private double intersection;
    private double union;
    private double sumCosine;
    private long samples;
    private double squaredError;
    private double squaredReference;
    private double maxAbs;
    private double sumAbs;
    private long elements;

    /**
     * @param probabilities whether a MASK output holds probabilities (thresholded at 0.5) or logits (at 0)
     */
    public Fidelity(String output, OutputKind kind, boolean probabilities) {
        this.output = output;
        this.kind = kind;
        this.threshold = probabilities ? 0.5 : 0;
    }

    /**
     * Adds the first {@code count} samples of a batch: {@code out} and {@code ref} in C order, both of
     * {@code shape} (batch first; a padded batch may be longer than {@code count}).
     */
    public void add(float[] out, float[] ref, long[] shape, int count) {
        int width = Math.toIntExact(out.length / shape[0]);
        if (kind == OutputKind.CLASSES) {
            addAgreement(out, ref, shape, count);
        }
        for (int i = 0; i < count; i++) {
            double dot = 0;
            double normOut = 0;
            double normRef = 0;
            for (int k = i * width; k < (i + 1) * width; k++) {
                double a = out[k];
                double b = ref[k];
                double diff = Math.abs(a - b);
                squaredError += diff * diff;
                maxAbs = Math.max(maxAbs, diff);
                sumAbs += diff;
                dot += a * b;
                normOut += a * a;
                normRef += b * b;
                if (kind == OutputKind.MASK) {
                    boolean s = a > threshold;
                    boolean t = b > threshold;
                    intersection += s && t ? 1 : 0;
                    union += s || t ? 1 : 0;
                }
            }
            sumCosine += normOut == 0 || normRef == 0 ? (normOut == normRef ? 1 : 0) : dot / Math.sqrt(normOut * normRef);
            squaredReference += normRef;
        }
        elements += (long) count * width;
        samples += count;
    }

    /** Top-1 agreement over the class axis at every position of the first {@code count} samples. */
    private void addAgreement(float[] out, float[] ref, long[] shape, int count) {
        int axis = OutputKind.classAxis(shape.length);
        int classes = (int) shape[axis];
        int inner = 1;
        for (int d = axis + 1; d < shape.length; d++) {
            inner *= (int) shape[d];
        }
        int outer = Math.toIntExact(out.length / ((long) classes * inner) / shape[0]) * count;
        if (referenceVotes == null) {
            referenceVotes = new long[classes];
        }
        for (int o = 0; o < outer; o++) {
            for (int j = 0; j < inner; j++) {
                int first = o * classes * inner + j;
                int referenceClass = argmax(ref, first, classes, inner);
                agreed += argmax(out, first, classes, inner) == referenceClass ? 1 : 0;
                referenceVotes[referenceClass]++;
            }
        }
        positions += (long) outer * inner;
    }

    /** The first class with the highest score among {@code classes} values {@code stride} apart. */
    private static int argmax(float[] a, int first, int classes, int stride) {
        int best = 0;
        for (int c = 1; c < classes; c++) {
            if (a[first + c * stride] > a[first + best * stride]) {
                best = c;
            }
        }
        return best;
    }

    public Figures figures() {
        boolean classes = kind == OutputKind.CLASSES;
        Double agreement = classes ? (positions == 0 ? 0 : (double) agreed / positions) : null;
        Double majority = classes ? (positions == 0 ? 0 : (double) Arrays.stream(referenceVotes).max().orElse(0)
                / positions) : null;
        Double iou = kind == OutputKind.MASK ? (union == 0 ? 1 : intersection / union) : null;
        // an all-zero reference has no scale: the error is then measured against the smallest normal double
        double relative = Math.sqrt(squaredError / Math.max(squaredReference, Double.MIN_NORMAL));
        return new Figures(output, kind, agreement, majority, positions > samples, iou, samples == 0 ? 0 : sumCosine / samples, relative, maxAbs,
                elements == 0 ? 0 : sumAbs / elements);
    }
}
