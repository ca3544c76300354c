package org.lrdkt.decompose;

import java.nio.file.Path;
import org.lrdkt.data.Preprocessing;

/**
 * A small unlabelled sample of the data the model will see, from which the closed form learns which directions of
 * each layer's input matter ({@link LayerStatistics}).
 *
 * @param data          the samples: anything {@code finetune --data} reads; a folder with MNIST-style splits means
 *                      its training images
 * @param preprocessing how samples become model input; unset sizes are taken from the model's input
 * @param samples   how many of them to use, spread evenly over the set (all when it holds fewer)
 * @param dataRanks whether rank policies spend the data-aware spectra (true) or the weights' own (false); the
 *                  factors are data-aware either way
 * @param shrinkage the ridge toward the weights' own spectrum, as a share of each layer's response energy
 *                  ({@link LowRank#calibrated})
 */
public record Calibration(Path data, Preprocessing preprocessing, int samples, boolean dataRanks,
                          double shrinkage) {

    /** Enough for stable statistics on LeNet-sized layers; ~100 s of VGG-16 forward passes on two cores. */
    public static final int DEFAULT_SAMPLES = 512;
    /** Chosen on held-out training digits of the LeNet-5 fixture (BENCHMARKS.md, "Calibrated closed form"). */
    public static final double DEFAULT_SHRINKAGE = 0.3;

    public static Calibration of(Path data, Preprocessing preprocessing) {
        return new Calibration(data, preprocessing, DEFAULT_SAMPLES, true, DEFAULT_SHRINKAGE);
    }

    public Calibration withSamples(int n) {
        return new Calibration(data, preprocessing, n, dataRanks, shrinkage);
    }

    public Calibration withDataRanks(boolean b) {
        return new Calibration(data, preprocessing, samples, b, shrinkage);
    }

    public Calibration withShrinkage(double s) {
        return new Calibration(data, preprocessing, samples, dataRanks, s);
    }

    /** One line for reports. */
    public String describe() {
        return "calibrated on up to " + samples + " samples of " + data
                + (dataRanks ? "" : ", ranks from the weights' spectra");
    }
}
