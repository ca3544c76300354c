package org.lrdkt.decompose;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.lrdkt.LrdktException;

/**
 * The calibrated closed form against independent references in double precision: its response error equals the
 * Eckart–Young optimum of the response matrix (eigenvalues by Jacobi rotations, not LAPACK) at every rank, never
 * exceeds the plain SVD's, and its spectrum reports exactly the response energy each rank keeps.
 */
class CalibratedLowRankTest {

    /** A weight matrix with decaying singular values and inputs whose directions have very unequal variance. */
    private record Problem(float[] m, int rows, int cols, double[][] inputs, boolean responseOnCols) {

        int inputDim() {
            return responseOnCols ? rows : cols;
        }

        int responseDim() {
            return responseOnCols ? cols : rows;
        }

        /** The response of sample s to a weight w: wᵀx (response on cols) or w x. */
        double[] response(float[] w, int s) {
            double[] y = new double[responseDim()];
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    if (responseOnCols) {
                        y[c] += w[r * cols + c] * inputs[s][r];
                    } else {
                        y[r] += w[r * cols + c] * inputs[s][c];
                    }
                }
            }
            return y;
        }

        /** Σ over samples of ‖(M − w) response‖², inputs centred. */
        double responseError(float[] w) {
            float[] d = new float[m.length];
            for (int i = 0; i < d.length; i++) {
                d[i] = m[i] - w[i];
            }
            double e = 0;
            for (int s = 0; s < inputs.length; s++) {
                for (double v : response(d, s)) {
                    e += v * v;
                }
            }
            return e;
        }

        /** The response covariance C = (1/n) Σ y yᵀ of the centred inputs. */
        double[][] responseCovariance() {
            int d = responseDim();
            double[][] c = new double[d][d];
            for (int s = 0; s < inputs.length; s++) {
                double[] y = response(m, s);
                for (int i = 0; i < d; i++) {
                    for (int j = 0; j < d; j++) {
                        c[i][j] += y[i] * y[j] / inputs.length;
                    }
                }
            }
            return c;
        }
    }

    private static Problem problem(boolean responseOnCols, long seed) {
        int rows = responseOnCols ? 12 : 10;
        int cols = responseOnCols ? 20 : 16;
        Random r = new Random(seed);
        float[] m = new float[rows * cols];
        for (int i = 0; i < m.length; i++) {
            m[i] = (float) r.nextGaussian();
        }
        int in = responseOnCols ? rows : cols;
        int n = 300;
        double[][] x = new double[n][in];
        double[] mean = new double[in];
        for (int s = 0; s < n; s++) {
            for (int i = 0; i < in; i++) {
                x[s][i] = r.nextGaussian() * Math.pow(0.6, i) + 0.5; // anisotropic, with an offset to centre away
                mean[i] += x[s][i] / n;
            }
        }
        for (double[] sample : x) {
            for (int i = 0; i < in; i++) {
                sample[i] -= mean[i];
            }
        }
        return new Problem(m, rows, cols, x, responseOnCols);
    }

    private static float[] product(LowRank.Factors f) throws LrdktException {
        return Lapack.multiply(f.left(), f.rows(), f.k(), false, f.right(), f.k(), f.cols(), false);
    }

    private static float[] flat(double[][] a) {
        int d = a.length;
        float[] out = new float[d * d];
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < d; j++) {
                out[i * d + j] = (float) a[i][j];
            }
        }
        return out;
    }

    @ParameterizedTest(name = "response on cols = {0}")
    @ValueSource(booleans = {true, false})
    void responseErrorIsTheOptimumAndNoWorseThanPlainSvd(boolean responseOnCols) throws LrdktException {
        Problem p = problem(responseOnCols, 7);
        double[][] cov = p.responseCovariance();
        double[] eig = Jacobi.eigenvaluesDescending(cov);
        double total = 0;
        for (double e : eig) {
            total += e;
        }
        total *= p.inputs().length;
        int full = Math.min(p.rows(), p.cols());
        try (Matrix m = Matrix.of(p.m(), p.rows(), p.cols())) {
            LowRank calibrated = LowRank.calibrated(m, flat(cov), responseOnCols, 0);
            LowRank plain = LowRank.of(m, LowRank.Solver.SVD);
            for (int k = 1; k <= full; k++) {
                double optimum = 0;
                for (int i = k; i < eig.length; i++) {
                    optimum += eig[i] * p.inputs().length;
                }
                double error = p.responseError(product(calibrated.factors(m, k)));
                double plainError = p.responseError(product(plain.factors(m, k)));
                assertEquals(optimum / total, error / total, 1e-4, "rank " + k);
                assertTrue(error <= plainError + 1e-5 * total, "rank " + k + ": " + error + " > plain " + plainError);
                assertEquals(1 - optimum / total, calibrated.spectrum().kept(k), 1e-4, "energy kept at rank " + k);
            }
            // the input directions matter: somewhere the data-aware truncation is clearly better
            double gain = 0;
            for (int k = 1; k < full; k++) {
                gain = Math.max(gain, p.responseError(product(plain.factors(m, k)))
                        - p.responseError(product(calibrated.factors(m, k))));
            }
            assertTrue(gain > 0.05 * total, "no rank where calibration helps: " + gain / total);
        }
    }

    @Test
    void aDominantRidgeGivesBackThePlainTruncation() throws LrdktException {
        Problem p = problem(true, 11);
        try (Matrix m = Matrix.of(p.m(), p.rows(), p.cols())) {
            LowRank ridge = LowRank.calibrated(m, flat(p.responseCovariance()), true, 1e6);
            LowRank plain = LowRank.of(m, LowRank.Solver.SVD);
            for (int k = 1; k < Math.min(p.rows(), p.cols()); k++) {
                double a = weightError(p.m(), product(ridge.factors(m, k)));
                double b = weightError(p.m(), product(plain.factors(m, k)));
                assertEquals(b, a, 1e-4 * b + 1e-6, "rank " + k);
                assertEquals(plain.spectrum().kept(k), ridge.weightSpectrum().kept(k), 1e-5);
            }
        }
    }

    private static double weightError(float[] m, float[] w) {
        double e = 0;
        for (int i = 0; i < m.length; i++) {
            e += ((double) m[i] - w[i]) * ((double) m[i] - w[i]);
        }
        return e;
    }

    /** Cyclic Jacobi rotations: eigenvalues of a small symmetric matrix, independent of LAPACK. */
    static final class Jacobi {

        private Jacobi() {
        }

        static double[] eigenvaluesDescending(double[][] symmetric) {
            int n = symmetric.length;
            double[][] a = new double[n][];
            for (int i = 0; i < n; i++) {
                a[i] = symmetric[i].clone();
            }
            for (int sweep = 0; sweep < 100; sweep++) {
                double off = 0;
                for (int i = 0; i < n; i++) {
                    for (int j = i + 1; j < n; j++) {
                        off += a[i][j] * a[i][j];
                    }
                }
                if (off < 1e-26) {
                    break;
                }
                for (int p = 0; p < n; p++) {
                    for (int q = p + 1; q < n; q++) {
                        if (Math.abs(a[p][q]) < 1e-300) {
                            continue;
                        }
                        double theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
                        double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
                        if (theta == 0) {
                            t = 1;
                        }
                        double c = 1 / Math.sqrt(t * t + 1);
                        double s = t * c;
                        for (int k = 0; k < n; k++) { // A ← A J (columns p, q)
                            double akp = a[k][p];
                            double akq = a[k][q];
                            a[k][p] = c * akp - s * akq;
                            a[k][q] = s * akp + c * akq;
                        }
                        for (int k = 0; k < n; k++) { // A ← Jᵀ A (rows p, q)
                            double apk = a[p][k];
                            double aqk = a[q][k];
                            a[p][k] = c * apk - s * aqk;
                            a[q][k] = s * apk + c * aqk;
                        }
                    }
                }
            }
            double[] e = new double[n];
            for (int i = 0; i < n; i++) {
                e[i] = a[i][i];
            }
            Arrays.sort(e);
            for (int i = 0; i < n / 2; i++) {
                double t = e[i];
                e[i] = e[n - 1 - i];
                e[n - 1 - i] = t;
            }
            return e;
        }
    }
}
