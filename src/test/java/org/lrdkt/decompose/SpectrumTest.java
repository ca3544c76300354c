package org.lrdkt.decompose;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SpectrumTest {

    /** Columns of a random orthonormal basis (Gram-Schmidt in double), rows × k, row-major. */
    static double[] orthonormal(int rows, int k, Random random) {
        double[] q = new double[rows * k];
        for (int j = 0; j < k; j++) {
            double[] v = new double[rows];
            for (int i = 0; i < rows; i++) {
                v[i] = random.nextGaussian();
            }
            for (int p = 0; p < j; p++) {
                double dot = 0;
                for (int i = 0; i < rows; i++) {
                    dot += v[i] * q[i * k + p];
                }
                for (int i = 0; i < rows; i++) {
                    v[i] -= dot * q[i * k + p];
                }
            }
            double norm = 0;
            for (double x : v) {
                norm += x * x;
            }
            norm = Math.sqrt(norm);
            for (int i = 0; i < rows; i++) {
                q[i * k + j] = v[i] / norm;
            }
        }
        return q;
    }

    /** U diag(s) Vᵀ with random orthonormal U, V: a matrix whose singular values are known exactly. */
    static float[] withSingularValues(int rows, int cols, double[] s, long seed) {
        Random random = new Random(seed);
        int k = s.length;
        double[] u = orthonormal(rows, k, random);
        double[] v = orthonormal(cols, k, random);
        float[] m = new float[rows * cols];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                double sum = 0;
                for (int p = 0; p < k; p++) {
                    sum += u[i * k + p] * s[p] * v[j * k + p];
                }
                m[i * cols + j] = (float) sum;
            }
        }
        return m;
    }

    /**
     * Float arithmetic moves the smallest σ² here (0.01, beside a largest of 100) by about 2e-4 of itself, and leaves
     * the zero ones at up to 3e-6: a relative 1e-3 keeps a margin and still checks every σ² to three digits.
     */
    private static final double RELATIVE_ERROR = 1e-3;

    @Test
    void energiesAreTheSquaredSingularValues() throws Exception {
        double[] s = {10, 5, 3, 1, 0.5, 0.1};
        for (int[] shape : new int[][] {{40, 12}, {12, 40}}) {
            Spectrum spectrum;
            try (Matrix m = Matrix.of(withSingularValues(shape[0], shape[1], s, 3), shape[0], shape[1])) {
                spectrum = Spectrum.of(m);
            }
            double[] e = spectrum.energies();
            assertEquals(12, e.length);
            for (int i = 0; i < s.length; i++) {
                // relative to each σ², so that the smallest (0.01 of a total 135) is checked as closely as the largest
                assertEquals(s[i] * s[i], e[i], RELATIVE_ERROR * s[i] * s[i], "σ" + i + " for " + shape[0] + "x"
                        + shape[1]);
            }
            for (int i = s.length; i < 12; i++) {
                assertEquals(0, e[i], RELATIVE_ERROR * s[s.length - 1] * s[s.length - 1], "σ" + i + " is 0");
            }
        }
    }

    @Test
    void rankIsTheSmallestKeepingTheFraction() {
        Spectrum spectrum = Spectrum.ofEnergies(new double[] {1, 6, 3}); // sorted: 6, 3, 1 of 10
        assertEquals(1, spectrum.rankFor(0.5));
        assertEquals(1, spectrum.rankFor(0.6));
        assertEquals(2, spectrum.rankFor(0.61));
        assertEquals(2, spectrum.rankFor(0.9));
        assertEquals(3, spectrum.rankFor(0.95));
        assertEquals(3, spectrum.rankFor(1.0));
        assertEquals(0.9, spectrum.kept(2), 1e-12);
        assertEquals(1, Spectrum.ofEnergies(new double[] {0, 0}).rankFor(0.9), "an all-zero layer keeps rank 1");
    }

    @Test
    void thinSvdReconstructsTheMatrix() throws Exception {
        float[] m = withSingularValues(9, 7, new double[] {4, 2, 1}, 5);
        Lapack.Svd svd = Lapack.svd(m, 9, 7);
        assertArrayEquals(new float[] {4, 2, 1}, Arrays.copyOf(svd.s(), 3), 1e-4f);
        for (int i = 0; i < 9; i++) {
            for (int j = 0; j < 7; j++) {
                double sum = 0;
                for (int p = 0; p < svd.k(); p++) {
                    sum += svd.u()[i * svd.k() + p] * svd.s()[p] * svd.vt()[p * 7 + j];
                }
                assertEquals(m[i * 7 + j], sum, 1e-5);
            }
        }
    }

    @Test
    void spatialUnfoldingFollowsThePaperIndexing() {
        long[] shape = {3, 2, 4, 5}; // N, C, kh, kw
        float[] w = new float[3 * 2 * 4 * 5];
        for (int i = 0; i < w.length; i++) {
            w[i] = i;
        }
        float[] m = Unfolding.SPATIAL.unfold(w, shape);
        int cols = Unfolding.SPATIAL.cols(shape);
        assertEquals(2 * 4, Unfolding.SPATIAL.rows(shape));
        assertEquals(3 * 5, cols);
        for (int n = 0; n < 3; n++) {
            for (int c = 0; c < 2; c++) {
                for (int i = 0; i < 4; i++) {
                    for (int j = 0; j < 5; j++) {
                        assertEquals(w[((n * 2 + c) * 4 + i) * 5 + j], m[(c * 4 + i) * cols + n * 5 + j]);
                    }
                }
            }
        }
        float[] ch = Unfolding.CHANNEL.unfold(w, shape);
        assertEquals(w[(2 * 2 * 4 * 5) + 7], ch[7 * 3 + 2], "M[(c,i,j), n] = W[n, c, i, j]");
        // kh·kw·C·N / (kh·C + kw·N)
        assertEquals(4.0 * 5 * 2 * 3 / (4 * 2 + 5 * 3), Unfolding.SPATIAL.breakEven(shape), 1e-12);
    }
}
