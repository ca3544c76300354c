package org.lrdkt.decompose;

import java.util.Arrays;
import org.lrdkt.LrdktException;

/**
 * The singular-value energy spectrum of a matrix: σᵢ² in descending order, accumulated in double. It decides
 * ranks (the smallest K keeping a fraction e of Σσ²) and reports what a truncation keeps.
 */
public final class Spectrum {

    private final double[] energy;
    private final double[] cumulative;

    private Spectrum(double[] energyDescending) {
        this.energy = energyDescending;
        this.cumulative = new double[energy.length];
        double sum = 0;
        for (int i = 0; i < energy.length; i++) {
            sum += energy[i];
            cumulative[i] = sum;
        }
    }

    /** From singular values (any order, any sign convention). */
    public static Spectrum ofSingularValues(float[] singularValues) {
        double[] e = new double[singularValues.length];
        for (int i = 0; i < e.length; i++) {
            e[i] = (double) singularValues[i] * singularValues[i];
        }
        return ofEnergies(e);
    }

    /** From σ² values (e.g. eigenvalues of a Gram matrix); tiny negative round-off is clamped to 0. */
    public static Spectrum ofEnergies(double[] energies) {
        double[] e = new double[energies.length];
        for (int i = 0; i < e.length; i++) {
            e[i] = Math.max(0, energies[i]);
        }
        Arrays.sort(e);
        for (int i = 0; i < e.length / 2; i++) {
            double t = e[i];
            e[i] = e[e.length - 1 - i];
            e[e.length - 1 - i] = t;
        }
        return new Spectrum(e);
    }

    /**
     * Spectrum of a row-major matrix through the eigenvalues of its smaller Gram matrix: O(m·n·min) flops for the
     * product and O(min³) for the eigenproblem, much cheaper than an SVD when only σ² are needed.
     */
    public static Spectrum of(Matrix matrix) throws LrdktException {
        checkFinite(matrix);
        float[] eig;
        try (Matrix gram = Lapack.gram(matrix)) {
            eig = Lapack.eigenvalues(gram);
        }
        double[] e = new double[eig.length];
        for (int i = 0; i < e.length; i++) {
            e[i] = eig[i];
        }
        return ofEnergies(e);
    }

    static void checkFinite(Matrix matrix) throws LrdktException {
        if (Matrix.firstNonFinite(matrix.buffer()) >= 0) {
            throw LrdktException.badInput("weights contain NaN or Inf");
        }
    }

    /** Number of singular values (the full rank of the unfolding). */
    public int size() {
        return energy.length;
    }

    public double total() {
        return energy.length == 0 ? 0 : cumulative[energy.length - 1];
    }

    /** σ² values, descending. */
    public double[] energies() {
        return energy.clone();
    }

    /** Fraction of total energy the top {@code k} singular values keep (1 for an all-zero matrix). */
    public double kept(int k) {
        double total = total();
        if (total <= 0) {
            return 1;
        }
        return k <= 0 ? 0 : cumulative[Math.min(k, energy.length) - 1] / total;
    }

    /** Smallest K ≥ 1 whose cumulative σ² reaches {@code fraction} of the total (the paper's rule). */
    public int rankFor(double fraction) {
        double total = total();
        if (total <= 0) {
            return 1;
        }
        double goal = fraction * total;
        for (int k = 0; k < energy.length; k++) {
            // a relative tolerance keeps fraction=1.0 from failing on round-off in the last digits
            if (cumulative[k] >= goal * (1 - 1e-12)) {
                return k + 1;
            }
        }
        return energy.length;
    }
}
