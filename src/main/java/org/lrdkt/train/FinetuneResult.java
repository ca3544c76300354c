package org.lrdkt.train;

import com.fasterxml.jackson.annotation.JsonIgnore;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.lrdkt.TextTable;
import org.lrdkt.onnx.OnnxModel;

/**
 * The fine-tuned student (best epoch's weights) and the run's history.
 *
 * @param metric       "accuracy" (labelled data), else the fidelity to the teacher ({@link org.lrdkt.Fidelity}):
 *                     "agreement", "mask IoU", "cosine", or "mean fidelity" of several outputs
 * @param teacherScore the teacher's score on the same held-out split
 * @param initialScore the student's score before any training
 * @param initialLoss  the student's knowledge-transfer loss on the held-out split before any training
 * @param bestEpoch    the epoch with the lowest held-out loss (0 = the untrained student)
 * @param bestScore    that epoch's held-out score
 * @param outputLosses the transfer loss of each output the models share, by output name
 */
public record FinetuneResult(@JsonIgnore OnnxModel student, String metric, double initialScore, double initialLoss,
                             double teacherScore, int bestEpoch, double bestScore, List<String> hints,
                             Map<String, KtLoss.OutputLoss> outputLosses, List<Epoch> history, int trainSamples, int heldOutSamples, double seconds) {

    /** One row per epoch (0 = the untrained student), the best marked, then the run in one line. */
    public String table() {
        TextTable t = new TextTable("epoch", "loss", "hard CE", transferTerm(), "hint", "held-out loss",
                "held-out " + metric, "images/s", "seconds", "step ms", "loader ms");
        t.row("0" + (bestEpoch == 0 ? " *" : ""), "", "", "", "", String.format("%.4f", initialLoss),
                pct(initialScore), "", "", "", "");
        for (Epoch e : history) {
            t.row(e.epoch() + (e.epoch() == bestEpoch ? " *" : ""), String.format("%.4f", e.total()),
                    String.format("%.4f", e.hard()), String.format("%.5f", e.soft()), String.format("%.5f", e.hint()),
                    String.format("%.4f", e.heldOutLoss()), pct(e.score()), String.format("%.0f", e.imagesPerSecond()),
                    String.format("%.1f", e.seconds()), String.format("%.1f", e.stepMillis()),
                    String.format("%.1f", e.loaderMillis()));
        }
        return t.render() + String.format("teacher held-out %s %s; best epoch %d (lowest held-out loss; %s); %d "
                + "training / %d held-out samples; hints %s; %.1f s%n", metric, pct(teacherScore), bestEpoch,
                pct(bestScore), trainSamples, heldOutSamples, hints.isEmpty() ? "none" : hints, seconds);
    }

    /**
     * The heading of the output transfer term: its loss, as {@link KtLoss.OutputLoss#term} names it ("soft CE" for
     * a classifier), several joined by "+".
     */
    private String transferTerm() {
        return outputLosses.values().stream().distinct().map(KtLoss.OutputLoss::term)
                .collect(Collectors.joining("+"));
    }

    private static String pct(double v) {
        return String.format("%.2f%%", 100 * v);
    }

    /**
     * One epoch: mean weighted training loss terms, held-out score and loss, throughput.
     *
     * @param stepMillis   mean time per training batch spent on the step itself (forward, backward, update)
     * @param loaderMillis mean time per training batch the step waited for its batch (decoding, copying and
     *                     augmenting that the loader had not finished ahead)
     */
    public record Epoch(int epoch, double hard, double soft, double hint, double score, double heldOutLoss,
                        double seconds, double imagesPerSecond, double stepMillis, double loaderMillis) {
        public double total() {
            return hard + soft + hint;
        }
    }
}
