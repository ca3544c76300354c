package org.lrdkt.validate;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.lrdkt.Fidelity;

/**
 * What a report shows; serialised as-is to {@code report.json}. Any list may be empty (its chart is left out).
 *
 * @param title    heading of the page
 * @param energies per-layer singular-value energy curves with the chosen rank (from the compress report)
 * @param layerMacs per-layer MACs before and after compression
 * @param models   one point per model: accuracy against measured speedup
 * @param training fine-tuning history, one entry per epoch (epoch 0 = before training)
 * @param sections further results (eval, bench, compress reports...) shown as JSON under their names
 */
public record ReportData(String title, List<LayerEnergy> energies, List<LayerMacs> layerMacs, List<ModelPoint> models,
                         List<TrainingEpoch> training, Map<String, Object> sections) {

    /**
     * @param cumulativeEnergy entry i = fraction of Σσ² kept by the top i+1 singular values (ascending to 1): of the
     *                         responses on the calibration data when calibrated
     * @param weightEnergy     the same curve for the weights alone when calibrated, else null
     * @param chosenRank       the rank kept, or 0 when the layer was left alone
     * @param threshold        the energy threshold that chose it, or null when the rank was given directly
     */
    public record LayerEnergy(String layer, double[] cumulativeEnergy, double[] weightEnergy, int chosenRank,
                              Double threshold) {
    }

    public record LayerMacs(String layer, long before, long after) {
    }

    /**
     * @param accuracy top-1 accuracy as a fraction, or null when the model was not evaluated on labelled data
     * @param speedup  measured median-latency speedup against the baseline (1 for the baseline itself)
     * @param fidelity per output, how closely it follows the teacher's on the test data; null for the teacher or
     *                 without test data
     */
    public record ModelPoint(String name, Double accuracy, double speedup, long params, long macs,
                             List<Fidelity.Figures> fidelity) {
    }

    /**
     * @param heldOutLoss  the knowledge-transfer loss on the held-out split after this epoch
     * @param heldOutScore the held-out accuracy (or agreement with the teacher) as a fraction
     * @param kept         whether this epoch's weights are the ones written
     */
    public record TrainingEpoch(int epoch, double heldOutLoss, double heldOutScore, boolean kept) {
    }

    public ReportData {
        energies = List.copyOf(energies);
        layerMacs = List.copyOf(layerMacs);
        models = List.copyOf(models);
        training = List.copyOf(training);
        sections = sections == null ? Map.of() : new LinkedHashMap<>(sections);
    }
}
