package org.lrdkt.decompose;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.lrdkt.LrdktException;
import org.lrdkt.ModelBuilder;
import org.lrdkt.onnx.Graph;
import org.lrdkt.onnx.OnnxModel;
import org.lrdkt.onnx.TensorData;

/** The solvers against LAPACK's full SVD, and truncation error against the dropped singular-value energy. */
class LowRankTest {

    /** A matrix with a decaying spectrum, like trained weights: Σ_i σ_i u_i v_iᵀ with σ_i = 0.97^i. */
    private static float[] decaying(int rows, int cols, long seed) {
        Random r = new Random(seed);
        float[] m = new float[rows * cols];
        int n = Math.min(rows, cols);
        for (int i = 0; i < n; i++) {
            double sigma = Math.pow(0.97, i);
            double[] u = new double[rows];
            double[] v = new double[cols];
            for (int a = 0; a < rows; a++) {
                u[a] = r.nextGaussian() / Math.sqrt(rows);
            }
            for (int b = 0; b < cols; b++) {
                v[b] = r.nextGaussian() / Math.sqrt(cols);
            }
            for (int a = 0; a < rows; a++) {
                for (int b = 0; b < cols; b++) {
                    m[a * cols + b] += (float) (sigma * u[a] * v[b]);
                }
            }
        }
        return m;
    }

    private static double frobeniusError2(float[] m, LowRank.Factors f) throws LrdktException {
        float[] product = Lapack.multiply(f.left(), f.rows(), f.k(), false, f.right(), f.k(), f.cols(), false);
        double e = 0;
        for (int i = 0; i < m.length; i++) {
            e += ((double) m[i] - product[i]) * ((double) m[i] - product[i]);
        }
        return e;
    }

    @Test
    void gramRouteMatchesFullSvdOnBothSides() throws LrdktException {
        for (int[] dims : new int[][] {{300, 700}, {700, 300}}) {
            int rows = dims[0];
            int cols = dims[1];
            float[] m = decaying(rows, cols, rows);
            Lapack.Svd svd = Lapack.svd(m, rows, cols);
            try (Matrix matrix = Matrix.of(m, rows, cols)) {
                LowRank gram = LowRank.of(matrix, LowRank.Solver.GRAM);
                LowRank exact = LowRank.of(matrix, LowRank.Solver.SVD);
                double[] e = gram.spectrum().energies();
                int k = 60;
                for (int i = 0; i < k; i++) {
                    double sigma = Math.sqrt(e[i]);
                    assertEquals(svd.s()[i], sigma, 1e-3 * svd.s()[i], "σ_" + i + " of " + rows + "x" + cols);
                }
                double errGram = frobeniusError2(m, gram.factors(matrix, k));
                double errSvd = frobeniusError2(m, exact.factors(matrix, k));
                assertEquals(errSvd, errGram, 1e-3 * errSvd, rows + "x" + cols);
            }
        }
    }

    /** Singular values of a factor pair: ‖left_j‖·‖right_j‖ (each side carries Σ^½). */
    private static double[] factorSigmas(LowRank.Factors f) {
        double[] sigma = new double[f.k()];
        for (int j = 0; j < f.k(); j++) {
            double l = 0;
            double r = 0;
            for (int a = 0; a < f.rows(); a++) {
                l += (double) f.left()[a * f.k() + j] * f.left()[a * f.k() + j];
            }
            for (int b = 0; b < f.cols(); b++) {
                r += (double) f.right()[j * f.cols() + b] * f.right()[j * f.cols() + b];
            }
            sigma[j] = Math.sqrt(l * r);
        }
        return sigma;
    }

    @Test
    void randomizedRouteMatchesFullSvd() throws LrdktException {
        for (int[] dims : new int[][] {{300, 700}, {700, 300}, {400, 400}}) {
            int rows = dims[0];
            int cols = dims[1];
            float[] m = decaying(rows, cols, rows + 3L * cols);
            Lapack.Svd svd = Lapack.svd(m, rows, cols);
            LowRank randomized;
            try (Matrix matrix = Matrix.of(m, rows, cols)) {
                LowRank exact = LowRank.of(matrix, LowRank.Solver.SVD);
                randomized = LowRank.of(matrix, LowRank.Solver.RANDOMIZED);
                for (int k : new int[] {5, 40, 100}) {
                    // the range finder itself (LowRank may prefer the exact route by cost), then what LowRank picks
                    RandomizedRange.Result r = RandomizedRange.factors(matrix, k, randomized.spectrum());
                    assertNotNull(r, "converged at K=" + k + " of " + rows + "x" + cols);
                    LowRank.Factors direct = new LowRank.Factors(r.left(), r.right(), rows, cols, k);
                    for (LowRank.Factors f : List.of(direct, randomized.factors(matrix, k))) {
                        double[] sigma = factorSigmas(f);
                        for (int i = 0; i < k; i++) {
                            assertEquals(svd.s()[i], sigma[i], 1e-3 * svd.s()[i], "σ_" + i + " at K=" + k + " of "
                                    + rows + "x" + cols);
                        }
                        double errRandomized = Math.sqrt(frobeniusError2(m, f));
                        double errSvd = Math.sqrt(frobeniusError2(m, exact.factors(matrix, k)));
                        assertEquals(errSvd, errRandomized, 1e-3 * errSvd, "K=" + k + " of " + rows + "x" + cols);
                    }
                }
            }
            double[] e = randomized.spectrum().energies();
            for (int i = 0; i < 100; i++) {
                assertEquals(svd.s()[i], Math.sqrt(e[i]), 1e-3 * svd.s()[i], "spectrum σ_" + i);
            }
        }
    }

    @Test
    void randomizedRouteStopsOnlyAtTheOptimumOnAFlatSpectrum() throws LrdktException {
        // a Gaussian matrix has no spectral gap: the range finder must either reach the optimal residual or give up
        // (null), and LowRank's answer must be optimal either way
        int rows = 256;
        int cols = 600;
        Random random = new Random(7);
        float[] m = new float[rows * cols];
        for (int i = 0; i < m.length; i++) {
            m[i] = (float) random.nextGaussian();
        }
        int k = 64;
        try (Matrix matrix = Matrix.of(m, rows, cols)) {
            LowRank lowRank = LowRank.of(matrix, LowRank.Solver.RANDOMIZED);
            assertFalse(RandomizedRange.worthTrying(lowRank.spectrum(), rows, cols, k), "no gap: exact route expected");
            double errExact = Math.sqrt(frobeniusError2(m, LowRank.of(matrix, LowRank.Solver.SVD)
                    .factors(matrix, k)));
            RandomizedRange.Result r = RandomizedRange.factors(matrix, k, lowRank.spectrum());
            if (r != null) {
                double err = Math.sqrt(frobeniusError2(m, new LowRank.Factors(r.left(), r.right(), rows, cols, k)));
                assertEquals(errExact, err, 1e-3 * errExact, "range finder stopped before the optimum");
            }
            assertEquals(errExact, Math.sqrt(frobeniusError2(m, lowRank.factors(matrix, k))), 1e-3 * errExact);
        }
    }

    @Test
    void truncatedConvErrorEqualsDroppedEnergy() throws LrdktException {
        ModelBuilder b = new ModelBuilder(1, 8, 10, 10).conv("conv", new long[] {16, 8, 3, 3}, true);
        OnnxModel teacher = b.build();
        int k = 7;
        OnnxModel student = Compressor.compress(teacher, CompressOptions.builder().ranks(Map.of("conv", k)).build())
                .student();
        Graph g = Graph.of(student);
        float[] v = TensorData.toFloats(g.constant("conv/lrd_v.weight").orElseThrow()); // (K, C, 3, 1)
        float[] h = TensorData.toFloats(g.constant("conv/lrd_h.weight").orElseThrow()); // (N, K, 1, 3)
        float[] w = TensorData.toFloats(Graph.of(teacher).constant("conv.weight").orElseThrow()); // (N, C, 3, 3)
        // recompose W'[n,c,i,j] = Σ_k h[n,k,j] v[k,c,i] and compare with the original
        double err2 = 0;
        for (int n = 0; n < 16; n++) {
            for (int c = 0; c < 8; c++) {
                for (int i = 0; i < 3; i++) {
                    for (int j = 0; j < 3; j++) {
                        double s = 0;
                        for (int r = 0; r < k; r++) {
                            s += (double) h[(n * k + r) * 3 + j] * v[(r * 8 + c) * 3 + i];
                        }
                        double d = w[((n * 8 + c) * 3 + i) * 3 + j] - s;
                        err2 += d * d;
                    }
                }
            }
        }
        // dropped energy from an SVD of the independently unfolded weight: M[(c,i),(n,j)]
        float[] m = new float[8 * 3 * 16 * 3];
        for (int n = 0; n < 16; n++) {
            for (int c = 0; c < 8; c++) {
                for (int i = 0; i < 3; i++) {
                    for (int j = 0; j < 3; j++) {
                        m[(c * 3 + i) * 48 + n * 3 + j] = w[((n * 8 + c) * 3 + i) * 3 + j];
                    }
                }
            }
        }
        float[] s = Lapack.svd(m, 24, 48).s();
        double dropped = 0;
        for (int i = k; i < s.length; i++) {
            dropped += (double) s[i] * s[i];
        }
        assertTrue(dropped > 0.1, "the test needs a real truncation, dropped " + dropped);
        assertEquals(dropped, err2, 1e-4 * dropped);
    }
}
