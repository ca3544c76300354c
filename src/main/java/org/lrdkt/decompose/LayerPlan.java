package org.lrdkt.decompose;

import org.lrdkt.onnx.Layer;

/**
 * One layer on its way through {@link Compressor}: its candidate, chosen unfolding and decomposition, the spectrum
 * rank policies spend, and the decision.
 */
final class LayerPlan {

    final Layer layer;
    Candidate candidate;
    /** Calibration statistics of the layer's inputs and responses; null when compressing from the weights alone. */
    LayerStatistics statistics;
    Unfolding unfolding;
    /** Where the factors come from: the weights' SVD, or the calibrated (data-aware) decomposition. */
    LowRank lowRank;
    /** The σ² spectrum rank policies spend: the decomposition's own, or the weights' when so asked. */
    Spectrum rankSpectrum;
    /** The σ² spectrum of the weights alone, kept for the report when the factors are calibrated; else null. */
    Spectrum weightSpectrum;
    int rank;
    /** A rank that was chosen and then refused (break-even); 0 when none. */
    int refusedRank;
    String skipReason;
    /** Measured ONNX Runtime times of the layer and its pairs (null unless ranks are priced by latency). */
    LatencyTable.Curve latency;

    LayerPlan(Layer layer) {
        this.layer = layer;
    }

    boolean analysed() {
        return lowRank != null;
    }
}
