package org.lrdkt.decompose;

import java.util.Arrays;
import org.lrdkt.LrdktException;

/**
 * Streaming mean and covariance of d-dimensional samples, fed a batch of rows at a time. Each batch's second moment
 * is one ssyrk in float, accumulated in double. Samples are shifted by the first batch's mean before squaring, so
 * that a large common offset (post-ReLU activations, images in 0..1) does not cancel the covariance away.
 */
final class Moments {

    private final int dim;
    private float[] shift;
    private final double[] sum;
    /** Upper triangle (row-major) of Σ (x − shift)(x − shift)ᵀ. */
    private final double[] second;
    private long count;

    Moments(int dim) {
        this.dim = dim;
        this.sum = new double[dim];
        this.second = new double[Math.multiplyExact(dim, dim)];
    }

    int dim() {
        return dim;
    }

    long count() {
        return count;
    }

    /** Adds {@code n} samples, row-major n×dim; {@code rows} is used as scratch and left shifted. */
    void add(float[] rows, int n) throws LrdktException {
        if (n == 0) {
            return;
        }
        if (shift == null) {
            shift = new float[dim];
            double[] mean = new double[dim];
            for (int s = 0; s < n; s++) {
                for (int i = 0; i < dim; i++) {
                    mean[i] += rows[s * dim + i];
                }
            }
            for (int i = 0; i < dim; i++) {
                shift[i] = (float) (mean[i] / n);
            }
        }
        for (int s = 0; s < n; s++) {
            for (int i = 0; i < dim; i++) {
                float v = rows[s * dim + i] - shift[i];
                rows[s * dim + i] = v;
                sum[i] += v;
            }
        }
        float[] gram;
        try (Matrix batch = Matrix.of(n == rows.length / dim ? rows : Arrays.copyOf(rows, n * dim), n, dim);
             Matrix g = Lapack.gram(batch, true)) {
            gram = g.toArray();
        }
        for (int i = 0; i < dim; i++) {
            for (int j = i; j < dim; j++) {
                second[i * dim + j] += gram[i * dim + j];
            }
        }
        count += n;
    }

    /** The mean of every sample added. */
    double[] mean() {
        double[] mean = new double[dim];
        for (int i = 0; i < dim; i++) {
            mean[i] = shift[i] + sum[i] / count;
        }
        return mean;
    }

    /** The (biased, 1/n) covariance as a full symmetric row-major dim×dim matrix. */
    double[] covariance() {
        double[] c = new double[dim * dim];
        for (int i = 0; i < dim; i++) {
            for (int j = i; j < dim; j++) {
                double v = (second[i * dim + j] - sum[i] * sum[j] / count) / count;
                c[i * dim + j] = v;
                c[j * dim + i] = v;
            }
        }
        return c;
    }
}
