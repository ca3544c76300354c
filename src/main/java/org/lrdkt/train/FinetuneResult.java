package org.lrdkt.train;

import com.fasterxml.jackson.annotation.JsonIgnore;
import java.util.List;
import org.lrdkt.onnx.OnnxModel;

/**
 * The fine-tuned student (best epoch's weights) and the run's history.
 *
 * @param metric       "accuracy" (labelled data) or "agreement" (top-1 agreement with the teacher)
 * @param teacherScore the teacher's score on the same held-out split
 * @param initialScore the student's score before any training
 * @param initialLoss  the student's knowledge-transfer loss on the held-out split before any training
 * @param bestEpoch    the epoch with the lowest held-out loss (0 = the untrained student)
 * @param bestScore    that epoch's held-out score
 */
public record FinetuneResult(@JsonIgnore OnnxModel student, String metric, double initialScore, double initialLoss,
                             double teacherScore, int bestEpoch, double bestScore, List<String> hints,
                             List<Epoch> history, int trainSamples, int heldOutSamples, double seconds) {

    /** One epoch: mean weighted training loss terms, held-out score and loss, throughput. */
    public record Epoch(int epoch, double hard, double soft, double hint, double score, double heldOutLoss,
                        double seconds, double imagesPerSecond) {
        public double total() {
            return hard + soft + hint;
        }
    }
}
