package org.lrdkt.decompose;

import org.lrdkt.LrdktException;

/**
 * How a layer's weight is laid out as a matrix before the SVD, and the rank above which the factor pair stops
 * saving anything. Weights are row-major float arrays in ONNX layout.
 */
public enum Unfolding {

    /**
     * The paper's scheme for a conv (N, C, kh, kw): {@code M[(c,i),(n,j)] = W[n,c,i,j]}, (C·kh)×(N·kw); factors
     * become a kh×1 conv with K filters and a 1×kw conv with N filters.
     */
    SPATIAL {
        @Override
        public float[] unfold(float[] w, long[] shape) {
            int n = (int) shape[0], c = (int) shape[1], kh = (int) shape[2], kw = (int) shape[3];
            float[] m = new float[w.length];
            int cols = n * kw;
            for (int o = 0; o < n; o++) {
                for (int ci = 0; ci < c; ci++) {
                    for (int i = 0; i < kh; i++) {
                        int src = ((o * c + ci) * kh + i) * kw;
                        int dst = (ci * kh + i) * cols + o * kw;
                        System.arraycopy(w, src, m, dst, kw);
                    }
                }
            }
            return m;
        }

        @Override
        public int rows(long[] shape) {
            return (int) (shape[1] * shape[2]);
        }

        @Override
        public int cols(long[] shape) {
            return (int) (shape[0] * shape[3]);
        }

        @Override
        public double breakEven(long[] shape) {
            double n = shape[0], c = shape[1], kh = shape[2], kw = shape[3];
            return kh * kw * c * n / (kh * c + kw * n);
        }
    },

    /**
     * Channel (AIMET "weight SVD") scheme for a conv (N, C, kh, kw): {@code M[(c,i,j), n] = W[n,c,i,j]},
     * (C·kh·kw)×N; factors become a kh×kw conv with K filters and a 1×1 conv with N filters.
     */
    CHANNEL {
        @Override
        public float[] unfold(float[] w, long[] shape) {
            int n = (int) shape[0];
            int inner = w.length / n;
            float[] m = new float[w.length];
            for (int o = 0; o < n; o++) {
                for (int r = 0; r < inner; r++) {
                    m[r * n + o] = w[o * inner + r];
                }
            }
            return m;
        }

        @Override
        public int rows(long[] shape) {
            return (int) (shape[1] * shape[2] * shape[3]);
        }

        @Override
        public int cols(long[] shape) {
            return (int) shape[0];
        }

        @Override
        public double breakEven(long[] shape) {
            double inner = shape[1] * shape[2] * shape[3], n = shape[0];
            return inner * n / (inner + n);
        }
    },

    /**
     * A fully-connected weight as an (out × in) matrix; {@code shape} is (out, in). Factors are in → K and K → out.
     */
    FC {
        @Override
        public float[] unfold(float[] w, long[] shape) {
            return w;
        }

        @Override
        public int rows(long[] shape) {
            return (int) shape[0];
        }

        @Override
        public int cols(long[] shape) {
            return (int) shape[1];
        }

        @Override
        public double breakEven(long[] shape) {
            double out = shape[0], in = shape[1];
            return in * out / (in + out);
        }
    };

    /** The weight as a row-major matrix of {@link #rows} × {@link #cols}. */
    public abstract float[] unfold(float[] weight, long[] shape);

    /** The unfolded weight in native memory, for LAPACK (the caller closes it). */
    public Matrix matrix(float[] weight, long[] shape) throws LrdktException {
        return Matrix.of(unfold(weight, shape), rows(shape), cols(shape));
    }

    public abstract int rows(long[] shape);

    public abstract int cols(long[] shape);

    /** The rank at which the factor pair has as many weights as the layer; decomposing pays only below it. */
    public abstract double breakEven(long[] shape);

    /** Full rank of the unfolding. */
    public int fullRank(long[] shape) {
        return Math.min(rows(shape), cols(shape));
    }
}
