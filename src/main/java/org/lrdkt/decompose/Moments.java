package org.lrdkt.decompose;

import java.nio.FloatBuffer;
import org.lrdkt.LrdktException;

/**
 * Streaming mean and covariance of d-dimensional samples. Samples are staged as rows in native memory and folded
 * into a native d×d second moment by one rank-k update (ssyrk) whenever the stage fills, so that a long stream
 * allocates nothing per batch. Samples are shifted by the first batch's mean before squaring, so that a large
 * common offset (post-ReLU activations, images in 0..1) does not cancel the covariance away in float.
 */
final class Moments implements AutoCloseable {

    /** Rows staged between updates: about 4 MiB, and never fewer than 64. */
    private static final int STAGE_FLOATS = 1 << 20;

    private final int dim;
    private final Matrix stage;
    /**
     * Upper triangle (row-major) of Σ (x − shift)(x − shift)ᵀ, allocated at the first full stage: a layer that sees
     * fewer samples than fit in one stage (a wide FC layer fed one vector per image) never holds its d×d matrix
     * while the calibration streams.
     */
    private Matrix second;
    private final double[] sum;
    private float[] shift;
    private int staged;
    private long count;

    Moments(int dim) throws LrdktException {
        this.dim = dim;
        this.sum = new double[dim];
        this.stage = Matrix.zeros(Math.max(64, STAGE_FLOATS / Math.max(1, dim)), dim);
    }

    int dim() {
        return dim;
    }

    /** Adds {@code n} samples, row-major n×dim, from {@code rows} starting at {@code offset}. */
    void add(FloatBuffer rows, int offset, int n) throws LrdktException {
        if (shift == null) {
            shift = new float[dim];
            double[] mean = new double[dim];
            for (int s = 0; s < n; s++) {
                for (int i = 0; i < dim; i++) {
                    mean[i] += rows.get(offset + s * dim + i);
                }
            }
            for (int i = 0; i < dim; i++) {
                shift[i] = (float) (mean[i] / Math.max(1, n));
            }
        }
        FloatBuffer target = stage.buffer();
        for (int s = 0; s < n; s++) {
            if (staged == stage.rows()) {
                flush();
            }
            int at = staged * dim;
            for (int i = 0; i < dim; i++) {
                float v = rows.get(offset + s * dim + i) - shift[i];
                target.put(at + i, v);
                sum[i] += v;
            }
            staged++;
        }
        count += n;
    }

    /** Adds {@code n} samples, row-major n×dim. */
    void add(float[] rows, int n) throws LrdktException {
        add(FloatBuffer.wrap(rows), 0, n);
    }

    private void flush() throws LrdktException {
        if (second == null) {
            second = Matrix.zeros(dim, dim);
        }
        Lapack.addGramOfRows(stage, staged, second);
        staged = 0;
    }

    /** The (biased, 1/n) covariance as a full symmetric row-major dim×dim matrix, centred in double. */
    float[] covariance() throws LrdktException {
        if (staged > 0 || second == null) {
            flush();
        }
        FloatBuffer s = second.buffer();
        float[] c = new float[dim * dim];
        for (int i = 0; i < dim; i++) {
            for (int j = i; j < dim; j++) {
                float v = (float) ((s.get(i * dim + j) - sum[i] * sum[j] / count) / count);
                c[i * dim + j] = v;
                c[j * dim + i] = v;
            }
        }
        return c;
    }

    /** Frees the native memory; closing twice is harmless. */
    @Override
    public void close() {
        stage.close();
        if (second != null) {
            second.close();
            second = null;
        }
    }
}
