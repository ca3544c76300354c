package org.lrdkt.decompose;

import java.nio.FloatBuffer;
import java.util.Arrays;
import org.lrdkt.LrdktException;

/**
 * The singular directions of one unfolded weight matrix, computed once, from which the closed-form factor pair of
 * any rank K is cut: {@code M ≈ left · right} with left = U_K Σ_K^½ (rows×K) and right = Σ_K^½ Q_Kᵀ (K×cols), the
 * Eckart–Young optimum in the Frobenius norm.
 *
 * <p>Two solvers give the same factors. {@link Solver#SVD} is LAPACK's divide-and-conquer SVD (sgesdd) of the whole
 * matrix. {@link Solver#GRAM} eigen-decomposes the Gram matrix of the smaller side (MᵀM or MMᵀ, one syrk) and
 * obtains the other side by one product with M: for VGG-16's fc6 (4096×25088) that replaces an SVD costing
 * O(4096²·25088) with an extra bidiagonalisation by a syrk at half that and an n=4096 eigenproblem. Squaring the
 * matrix loses relative accuracy only on singular values below ~1e-3.5 of the largest, which are the ones a
 * truncation drops; and because the second side is a projection of M onto the first side's orthonormal basis, the
 * reconstruction error is that of an orthogonal projection whatever those tiny values are.
 *
 * <p>{@link Solver#RANDOMIZED} keeps only the spectrum (Gram eigenvalues, no vectors) and computes the factors of the
 * chosen rank on demand with {@link RandomizedRange}, falling back to the exact Gram eigenvectors when the range
 * finder has not converged to the optimum.
 */
public final class LowRank {

    /** How the decomposition is computed. */
    public enum Solver {
        /** Full thin SVD by LAPACK sgesdd. */
        SVD,
        /** Eigenvectors of the smaller Gram matrix (ssyrk + ssyevr), other side by projection. */
        GRAM,
        /** Spectrum from Gram eigenvalues; factors of the chosen rank by a randomized range finder. */
        RANDOMIZED,
        /** RANDOMIZED for matrices whose smaller side exceeds {@link #AUTO_RANDOMIZED_ABOVE_SIDE}, SVD for the rest. */
        AUTO
    }

    /**
     * {@link Solver#AUTO} picks RANDOMIZED for a smaller side above this, SVD at or below it: there a full SVD costs
     * milliseconds and is the most accurate; above it the randomized solver wins.
     */
    public static final int AUTO_RANDOMIZED_ABOVE_SIDE = 256;

    private final Solver solver;
    private final int rows;
    private final int cols;
    private final Spectrum spectrum;
    // SVD: U (rows×n), singular values, Vᵀ (n×cols)
    // what factors() cuts from; released by releaseFactorSource() once the chosen rank's factors exist
    private float[] u;
    private final float[] s;
    private float[] vt;
    // GRAM: eigenvectors of the smaller side's Gram, n×n row-major, columns in ascending eigenvalue order
    private float[] basis;
    private final boolean basisOnCols;
    // calibrated: the regularised response covariance (full symmetric, on the basisOnCols side) and the weights'
    // own spectrum; null otherwise
    private float[] responseCovariance;
    private final Spectrum weightSpectrum;

    private LowRank(Solver solver, int rows, int cols, Spectrum spectrum, float[] u, float[] s, float[] vt,
                    float[] basis, boolean basisOnCols) {
        this(solver, rows, cols, spectrum, u, s, vt, basis, basisOnCols, null, null);
    }

    private LowRank(Solver solver, int rows, int cols, Spectrum spectrum, float[] u, float[] s, float[] vt,
                    float[] basis, boolean basisOnCols, float[] responseCovariance, Spectrum weightSpectrum) {
        this.solver = solver;
        this.rows = rows;
        this.cols = cols;
        this.spectrum = spectrum;
        this.u = u;
        this.s = s;
        this.vt = vt;
        this.basis = basis;
        this.basisOnCols = basisOnCols;
        this.responseCovariance = responseCovariance;
        this.weightSpectrum = weightSpectrum;
    }

    /**
     * The data-aware decomposition: the rank-K minimiser of the response error ‖(M − M′)ᵀX‖ (response side cols) or
     * ‖(M − M′)X‖ (response side rows) over calibration inputs X, in its output-space form M′ = M U_K U_Kᵀ (or
     * U_K U_Kᵀ M), U_K the top-K eigenvectors of the response covariance C (Zhang et al., TPAMI 2016). It never
     * forms the input-side covariance, which for VGG-16's fc6 would be 25,088². The spectrum rank policies spend is
     * C's: the fraction of response energy a rank keeps.
     *
     * <p>A calibration set excites only some directions (fewer samples than inputs leave C singular); the ridge
     * C + λ·G, with G the weights' Gram on the response side (what C would be for white inputs) and λ =
     * {@code shrinkage}·tr C / tr G, ranks the directions the data never reached by the weights alone instead of
     * arbitrarily. It is the closed form for inputs whose covariance is Σ + λI.
     *
     * @param covariance     the response covariance, full symmetric, d×d with d = cols (responseOnCols) or rows;
     *                       overwritten by the regularised one, which the decomposition keeps
     * @param shrinkage      the ridge's share of the response energy (0 = the data alone)
     */
    public static LowRank calibrated(Matrix matrix, float[] covariance, boolean responseOnCols, double shrinkage)
            throws LrdktException {
        Spectrum.checkFinite(matrix);
        int rows = matrix.rows();
        int cols = matrix.cols();
        int d = responseOnCols ? cols : rows;
        if (covariance.length != (long) d * d) {
            throw new IllegalArgumentException(covariance.length + " covariance values for response side " + d);
        }
        double[] weightEnergies;
        try (Matrix gram = Lapack.gram(matrix, responseOnCols)) { // upper triangle
            FloatBuffer g = gram.buffer();
            double traceC = 0;
            double traceG = 0;
            for (int i = 0; i < d; i++) {
                traceC += covariance[i * d + i];
                traceG += g.get(i * d + i);
            }
            if (!Double.isFinite(traceC)) {
                throw LrdktException.badInput("the calibration data's activations hold NaN or Inf");
            }
            // no measured response energy (a layer whose inputs never vary): the weights alone decide
            double lambda = traceC > 0 && traceG > 0 ? shrinkage * traceC / traceG : 1;
            double dataWeight = traceC > 0 ? 1 : 0;
            for (int i = 0; i < d; i++) { // in place: for a wide layer every d×d copy is tens of MB
                for (int j = i; j < d; j++) {
                    float v = (float) (dataWeight * covariance[i * d + j] + lambda * g.get(i * d + j));
                    covariance[i * d + j] = v;
                    covariance[j * d + i] = v;
                }
            }
            weightEnergies = widen(Lapack.eigenvalues(gram));
        }
        float[] regularised = covariance;
        int n = Math.min(rows, cols);
        Spectrum weights = topOf(Spectrum.ofEnergies(weightEnergies), n);
        Spectrum data = topOf(Spectrum.ofEnergies(eigenvalues(regularised, d)), n);
        return new LowRank(Solver.GRAM, rows, cols, data, null, null, null, null, responseOnCols, regularised,
                weights);
    }

    private static double[] eigenvalues(float[] symmetric, int d) throws LrdktException {
        try (Matrix m = Matrix.of(symmetric, d, d)) { // the solver destroys its input: a copy
            return widen(Lapack.eigenvalues(m));
        }
    }

    private static double[] widen(float[] values) {
        double[] e = new double[values.length];
        for (int i = 0; i < e.length; i++) {
            e[i] = values[i];
        }
        return e;
    }

    /** The largest {@code n} energies: a response side wider than the full rank adds only zero eigenvalues. */
    private static Spectrum topOf(Spectrum s, int n) {
        return s.size() <= n ? s : Spectrum.ofEnergies(Arrays.copyOf(s.energies(), n));
    }

    /** Whether the factors minimise the calibration set's response error rather than the weights' error. */
    public boolean calibrated() {
        return weightSpectrum != null;
    }

    /**
     * Frees the singular vectors or covariance the factors are cut from (for VGG-16's fc6, 64 MB), keeping the
     * spectra for reports; {@link #factors} may not be called after this.
     */
    public void releaseFactorSource() {
        u = null;
        vt = null;
        basis = null;
        responseCovariance = null;
    }

    /** The weights' own σ² spectrum (for a calibrated decomposition, next to the data-aware one it spends). */
    public Spectrum weightSpectrum() {
        return calibrated() ? weightSpectrum : spectrum;
    }

    /** Decomposes a matrix with the given solver ({@link Solver#AUTO} picks by size). */
    public static LowRank of(Matrix matrix, Solver solver) throws LrdktException {
        int rows = matrix.rows();
        int cols = matrix.cols();
        int n = Math.min(rows, cols);
        Solver chosen = solver == Solver.AUTO ? (n > AUTO_RANDOMIZED_ABOVE_SIDE ? Solver.RANDOMIZED : Solver.SVD) : solver;
        if (chosen == Solver.RANDOMIZED) {
            // Spectrum.of refuses NaN/Inf itself
            return new LowRank(chosen, rows, cols, Spectrum.of(matrix), null, null, null, null, false);
        }
        Spectrum.checkFinite(matrix);
        if (chosen == Solver.SVD) {
            Lapack.Svd svd = Lapack.svd(matrix.toArray(), rows, cols);
            return new LowRank(chosen, rows, cols, Spectrum.ofSingularValues(svd.s()), svd.u(), svd.s(), svd.vt(),
                    null, false);
        }
        boolean onCols = cols <= rows; // the side Lapack.gram picks
        float[] vectors = new float[n * n];
        float[] eig;
        try (Matrix gram = Lapack.gram(matrix)) {
            eig = Lapack.symmetricEigenVectors(gram, vectors);
        }
        double[] energies = new double[n];
        for (int i = 0; i < n; i++) {
            energies[i] = eig[i];
        }
        return new LowRank(chosen, rows, cols, Spectrum.ofEnergies(energies), null, null, null, vectors, onCols);
    }

    public Solver solver() {
        return solver;
    }

    public Spectrum spectrum() {
        return spectrum;
    }

    /**
     * The rank the matrix numerically has: singular values above the solver's noise floor, which is
     * max(rows, cols)·ε·σ₁ for the SVD and, because the Gram route works with σ² (n = the smaller side), about
     * (√n·ε)^½·σ₁ for it. Below the full rank the weights are rank-deficient.
     */
    public int numericalRank() {
        double[] e = weightSpectrum().energies();
        if (e.length == 0 || e[0] <= 0) {
            return 0;
        }
        double eps = Math.ulp(1f);
        double floor = solver == Solver.SVD ? Math.pow(Math.max(rows, cols) * eps, 2)
                : Math.sqrt(Math.min(rows, cols)) * eps;
        int rank = 0;
        while (rank < e.length && e[rank] > floor * e[0]) {
            rank++;
        }
        return rank;
    }

    /** A factor pair: {@code left} rows×k and {@code right} k×cols, row-major, with Σ^½ on each side. */
    public record Factors(float[] left, float[] right, int rows, int cols, int k) {
    }

    /** The rank-{@code k} factor pair; {@code matrix} must be the matrix this was computed from. */
    public Factors factors(Matrix matrix, int k) throws LrdktException {
        if (k < 1 || k > Math.min(rows, cols)) {
            throw new IllegalArgumentException("rank " + k + " outside 1.." + Math.min(rows, cols));
        }
        if (calibrated()) {
            float[] top;
            try (Matrix c = Matrix.of(responseCovariance, basisOnCols ? cols : rows, basisOnCols ? cols : rows)) {
                top = Lapack.topEigenvectors(c, k);
            }
            return project(matrix, top, k, basisOnCols);
        }
        return switch (solver) {
            case SVD -> svdFactors(k);
            case GRAM -> gramFactors(matrix, k);
            default -> randomizedFactors(matrix, k);
        };
    }

    /**
     * The randomized range finder where the spectrum promises quick convergence and it costs less than the exact
     * route; otherwise, or when it does not converge, the top-k Gram eigenvectors.
     */
    private Factors randomizedFactors(Matrix matrix, int k) throws LrdktException {
        RandomizedRange.Result r = RandomizedRange.worthTrying(spectrum, rows, cols, k)
                ? RandomizedRange.factors(matrix, k, spectrum) : null;
        if (r == null) {
            float[] top;
            try (Matrix gram = Lapack.gram(matrix)) {
                top = Lapack.topEigenvectors(gram, k);
            }
            return project(matrix, top, k, cols <= rows);
        }
        balance(r.left(), r.right(), k, false);
        return new Factors(r.left(), r.right(), rows, cols, k);
    }

    private Factors svdFactors(int k) {
        int n = s.length;
        float[] left = new float[rows * k];
        float[] right = new float[k * cols];
        for (int j = 0; j < k; j++) {
            float root = (float) Math.sqrt(Math.max(0, s[j]));
            for (int r = 0; r < rows; r++) {
                left[r * k + j] = u[r * n + j] * root;
            }
            for (int c = 0; c < cols; c++) {
                right[j * cols + c] = vt[j * cols + c] * root;
            }
        }
        return new Factors(left, right, rows, cols, k);
    }

    private Factors gramFactors(Matrix matrix, int k) throws LrdktException {
        int n = Math.min(rows, cols);
        // the top-k eigenvectors, largest first, as an n×k matrix
        float[] top = new float[n * k];
        for (int r = 0; r < n; r++) {
            for (int j = 0; j < k; j++) {
                top[r * k + j] = basis[r * n + (n - 1 - j)];
            }
        }
        return project(matrix, top, k, basisOnCols);
    }

    /** The factor pair from orthonormal top-k singular vectors of one side (n×k), the other side by projection. */
    private Factors project(Matrix matrix, float[] top, int k, boolean basisOnCols) throws LrdktException {
        float[] left;
        float[] right;
        try (Matrix basis = Matrix.of(top, basisOnCols ? cols : rows, k)) {
            if (basisOnCols) {
                // M ≈ (M V_k) V_kᵀ: left = U Σ, right = Vᵀ
                left = Lapack.multiply(matrix, false, basis, false);
                right = LayerWeights.transpose(top, cols, k);
            } else {
                // M ≈ U_k (U_kᵀ M): left = U, right = Σ Vᵀ
                left = top;
                right = Lapack.multiply(basis, true, matrix, false);
            }
        }
        balance(left, right, k, basisOnCols);
        return new Factors(left, right, rows, cols, k);
    }

    /**
     * Moves Σ^½ onto each side. The side that carries Σ has column (or row) norms σ_j; the product is unchanged
     * whatever the computed σ_j are, so the split costs no accuracy.
     */
    private void balance(float[] left, float[] right, int k, boolean sigmaOnLeft) {
        for (int j = 0; j < k; j++) {
            double norm = 0;
            if (sigmaOnLeft) {
                for (int r = 0; r < rows; r++) {
                    norm += (double) left[r * k + j] * left[r * k + j];
                }
            } else {
                for (int c = 0; c < cols; c++) {
                    norm += (double) right[j * cols + c] * right[j * cols + c];
                }
            }
            double sigma = Math.sqrt(norm);
            if (sigma == 0) {
                continue;
            }
            float down = (float) (1 / Math.sqrt(sigma));
            float up = (float) Math.sqrt(sigma);
            float leftScale = sigmaOnLeft ? down : up;
            float rightScale = sigmaOnLeft ? up : down;
            for (int r = 0; r < rows; r++) {
                left[r * k + j] *= leftScale;
            }
            for (int c = 0; c < cols; c++) {
                right[j * cols + c] *= rightScale;
            }
        }
    }
}
