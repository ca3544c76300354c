package org.lrdkt.decompose;

import java.util.SplittableRandom;
import org.lrdkt.LrdktException;

/**
 * The leading K singular directions of a matrix by a randomized range finder with power iterations (Halko,
 * Martinsson &amp; Tropp 2011, algorithms 4.4 and 5.1), checked against the exact spectrum: the Gram eigenvalues
 * say how much σ² energy the best rank-K approximation keeps, and the iteration stops once the subspace found keeps
 * that much up to {@link #TOLERANCE} of the smaller of the optimal residual and σ_K². Projected singular values never
 * exceed the true ones, so that bounds every σ_i (i ≤ K) and the residual to {@link #TOLERANCE}/2 relative. Each step costs two products with M of width
 * K + oversampling, so for K well below min(rows, cols) this is far cheaper than a full SVD or a full set of Gram
 * eigenvectors.
 */
final class RandomizedRange {

    /** Allowed shortfall of the captured σ² energy, relative to min(optimal residual, σ_K²). */
    static final double TOLERANCE = 1e-3;
    /** Power iterations tried before giving up (the caller then computes exact eigenvectors). */
    static final int MAX_POWER_ITERATIONS = 6;

    /** Unbalanced factors: {@code left} rows×k with orthonormal columns, {@code right} = leftᵀ·M (k×cols). */
    record Result(float[] left, float[] right) {
    }

    private RandomizedRange() {
    }

    /** Extra basis vectors beyond K: more make each step converge faster at a linear cost. */
    static int oversampling(int k) {
        return 16 + k / 10;
    }

    /**
     * The rank-k factors of the row-major rows×cols matrix, or null when {@link #MAX_POWER_ITERATIONS} did not reach
     * the optimum within {@link #TOLERANCE} (flat spectra converge slowly).
     */
    static Result factors(Matrix m, int k, Spectrum spectrum) throws LrdktException {
        int rows = m.rows();
        int cols = m.cols();
        int n = Math.min(rows, cols);
        int width = Math.min(n, k + oversampling(k));
        double total = spectrum.total();
        double optimalResidual = total * (1 - spectrum.kept(k));
        // float round-off in the products bounds how closely a captured energy can be compared
        double sigmaK2 = spectrum.energies()[k - 1];
        double allowedExcess = TOLERANCE * Math.min(optimalResidual, sigmaK2) + 1e-7 * total;
        float[] q = timesMatrix(m, uniformTestMatrix(cols, width, rows * 31L + cols * 7L + k), width);
        Lapack.orthonormalizeColumns(q, rows, width);
        for (int iteration = 0; ; iteration++) {
            float[] b; // qᵀM, width×cols
            try (Matrix qm = Matrix.of(q, rows, width)) {
                b = Lapack.multiply(qm, true, m, false);
            }
            float[] vectors = new float[width * width];
            float[] eig;
            try (Matrix bbt = Matrix.of(Lapack.multiply(b, width, cols, false, b, width, cols, true), width, width)) {
                eig = Lapack.symmetricEigenVectors(bbt, vectors);
            }
            double captured = 0;
            for (int j = 0; j < k; j++) {
                captured += Math.max(0, eig[width - 1 - j]);
            }
            double optimal = total - optimalResidual;
            if (optimal - captured <= allowedExcess) {
                float[] top = new float[width * k]; // the top-k eigenvectors of B·Bᵀ, largest first
                for (int r = 0; r < width; r++) {
                    for (int j = 0; j < k; j++) {
                        top[r * k + j] = vectors[r * width + (width - 1 - j)];
                    }
                }
                float[] left = Lapack.multiply(q, rows, width, false, top, width, k, false);
                float[] right = Lapack.multiply(top, width, k, true, b, width, cols, false);
                return new Result(left, right);
            }
            if (iteration == MAX_POWER_ITERATIONS) {
                return null;
            }
            // one power iteration, re-orthonormalised on both sides to keep small directions from being lost
            float[] p = LayerWeights.transpose(b, width, cols); // Mᵀq, cols×width
            Lapack.orthonormalizeColumns(p, cols, width);
            q = timesMatrix(m, p, width);
            Lapack.orthonormalizeColumns(q, rows, width);
        }
    }

    /** M·B for a row-major (cols of M)×width array B. */
    private static float[] timesMatrix(Matrix m, float[] b, int width) throws LrdktException {
        try (Matrix mb = Matrix.of(b, m.cols(), width)) {
            return Lapack.multiply(m, false, mb, false);
        }
    }

    /**
     * Whether the range finder is expected to converge within {@link #MAX_POWER_ITERATIONS} and to cost less than
     * the exact route (Gram product, top-k eigenvectors, one projection). Subspace iteration shrinks the unwanted
     * directions by (σ_{w+1}/σ_K)² per power iteration, w = K + oversampling: with a flat spectrum, such as random
     * untrained weights, that ratio is near 1 and the exact route is the cheaper one.
     */
    static boolean worthTrying(Spectrum spectrum, int rows, int cols, int k) {
        int n = Math.min(rows, cols);
        int width = Math.min(n, k + oversampling(k));
        double[] e = spectrum.energies();
        if (width == n) {
            return false; // the test matrix would span everything: no saving over the exact route
        }
        if (e[width] <= 0) {
            return true; // rank below the width: one pass is exact
        }
        double ratio = e[width] / e[k - 1]; // (σ_{w+1}/σ_K)²
        if (ratio >= 1) {
            return false;
        }
        // captured-energy shortfall ~ ratio^(2q+1); aim for TOLERANCE with one iteration to spare
        int iterations = (int) Math.ceil((Math.log(TOLERANCE) / Math.log(ratio) - 1) / 2) + 1;
        if (iterations > MAX_POWER_ITERATIONS) {
            return false;
        }
        double m = rows;
        double c = cols;
        double randomized = (2.0 * iterations + 3) * m * c * width + 2.0 * (iterations + 1) * (m + c) * width * width;
        double exact = m * c * n / 2 + 4.0 * n * n * n / 3 + 2.0 * n * n * k + m * c * k;
        return randomized < exact;
    }

    /** A uniform test matrix in [-1, 1): as good as Gaussian for a range finder and cheaper to draw. */
    private static float[] uniformTestMatrix(int rows, int cols, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] omega = new float[rows * cols];
        for (int i = 0; i < omega.length; i++) {
            omega[i] = (float) (random.nextDouble() * 2 - 1);
        }
        return omega;
    }
}
