package org.lrdkt.decompose;

import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.lrdkt.LrdktException;
import org.lrdkt.onnx.Attrs;
import org.lrdkt.onnx.Costs;
import org.lrdkt.onnx.Inference;
import org.lrdkt.onnx.Layer;
import org.lrdkt.onnx.UnitHeight;

/**
 * What a calibration set says about one layer, gathered batch by batch from the teacher's activations: the mean
 * input the layer sees (for bias correction) and the covariance of its responses (for the data-aware truncation).
 *
 * <p>Which response each scheme's closed form minimises the error of, with X the calibration inputs centred on
 * their mean:
 * <ul>
 * <li>FC: the output vector W x; covariance out×out, taken from the layer's output (a Gemm's alpha divided out).
 * <li>CHANNEL: the conv output per position, Mᵀ p over the kh×kw×C patch p; covariance N×N, taken from the conv's
 * output (scaled by a folded BatchNormalization's per-channel factor).
 * <li>SPATIAL: the N·kw partial responses Mᵀ x of each kh×1 column patch x of the LRDKT unfolding; covariance
 * Mᵀ Σₓ M from the sampled column patches' covariance Σₓ. The horizontal factor then holds the exact projection.
 * </ul>
 * Every scheme's factor pair is then the rank-K minimiser of ‖(M − M′)ᵀX‖_F ({@link LowRank#calibrated}), and the
 * bias absorbs the mean shift: b′ = b + (W − W′)μ over the layer's full input patch μ, which zeroes the mean output
 * error on the calibration set.
 */
final class LayerStatistics implements AutoCloseable {

    private final Candidate candidate;
    private final int samplesPerImage;
    private final Random random;
    /** Column patches (SPATIAL), or null when the spatial scheme is not considered. */
    private final Moments columns;
    /** Output vectors (CHANNEL, FC), or null when neither is considered. */
    private final Moments responses;
    /** Σ of the full input patch (C·kh·kw, conv) or input vector (in, FC) over every output position. */
    private final double[] inputSum;
    private long inputCount;
    /** Sampled rows of the current batch, reused: allocating them per image churned gigabytes on VGG-16. */
    private float[] sampleRows = new float[0];

    private LayerStatistics(Candidate candidate, Moments columns, Moments responses, int samplesPerImage,
                            long seed) {
        this.candidate = candidate;
        this.columns = columns;
        this.responses = responses;
        this.samplesPerImage = samplesPerImage;
        this.random = new Random(seed);
        Layer layer = candidate.layer();
        this.inputSum = new double[layer.isConv() ? Unfolding.CHANNEL.rows(candidate.shape())
                : (int) layer.inFeatures()];
    }

    /**
     * Statistics for the unfoldings a candidate may use. {@code samples} bounds the sampled positions per layer
     * over the whole set of {@code images}: column patches and conv responses are drawn at random positions,
     * about 16 per dimension of the covariance, so that a layer's cost does not grow with its resolution.
     */
    static LayerStatistics of(Candidate c, CompressOptions.Scheme scheme, int images, long seed)
            throws LrdktException {
        List<Unfolding> unfoldings = c.unfoldings(scheme);
        boolean spatial = unfoldings.contains(Unfolding.SPATIAL);
        boolean byResponse = unfoldings.contains(Unfolding.CHANNEL) || unfoldings.contains(Unfolding.FC);
        int dim = Math.max(spatial ? Unfolding.SPATIAL.rows(c.shape()) : 0,
                byResponse ? (int) c.layer().outFeatures() : 0);
        long total = Math.max(16384, Math.min(131072, 16L * dim));
        int perImage = (int) Math.max(1, (total + images - 1) / images);
        Moments columns = spatial ? new Moments(Unfolding.SPATIAL.rows(c.shape())) : null;
        try {
            return new LayerStatistics(c, columns, byResponse ? new Moments((int) c.layer().outFeatures()) : null,
                    perImage, seed);
        } catch (LrdktException e) {
            if (columns != null) {
                columns.close();
            }
            throw e;
        }
    }

    /** The tensors this layer reads from a calibration run: its input, and its output when responses are needed. */
    List<String> tensors() {
        return responses != null ? List.of(inputTensor(), outputTensor())
                : List.of(inputTensor());
    }

    private String inputTensor() {
        return candidate.layer().node().getInput(0);
    }

    private String outputTensor() {
        return candidate.layer().node().getOutput(0);
    }

    /** Folds one batch of the teacher's activations in. */
    void add(Map<String, Inference.View> activations) throws LrdktException {
        Inference.View x = activations.get(inputTensor());
        Inference.View y = responses != null ? activations.get(outputTensor()) : null;
        if (candidate.layer().isConv()) {
            addConv(x, y);
        } else {
            addFullyConnected(x, y);
        }
    }

    private void addFullyConnected(Inference.View x, Inference.View y) throws LrdktException {
        int in = inputSum.length;
        FloatBuffer v = x.values();
        int rows = v.limit() / in;
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < in; i++) {
                inputSum[i] += v.get(r * in + i);
            }
        }
        inputCount += rows;
        if (y != null) {
            responses.add(y.values(), 0, y.values().limit() / responses.dim());
        }
    }

    private void addConv(Inference.View x, Inference.View y) throws LrdktException {
        long[] s = candidate.shape();
        int kh = (int) s[2];
        int kw = (int) s[3];
        long[] xs = UnitHeight.shape(x.shape());
        ConvGeometry g = ConvGeometry.of(candidate.layer().node(), kh, kw, xs, candidate.name());
        int batch = (int) xs[0];
        int c = (int) xs[1];
        int h = (int) xs[2];
        int w = (int) xs[3];
        int outH = (int) ((h + g.pads()[0] + g.pads()[2] - g.dilations()[0] * (kh - 1) - 1) / g.strides()[0] + 1);
        int outW = (int) ((w + g.pads()[1] + g.pads()[3] - g.dilations()[1] * (kw - 1) - 1) / g.strides()[1] + 1);
        FloatBuffer values = x.values();
        int image = c * h * w;
        for (int b = 0; b < batch; b++) {
            addPatchSums(values, b * image, c, h, w, kh, kw, outH, outW, g);
            if (columns != null) {
                addColumns(values, b * image, c, h, w, kh, outH, g);
            }
        }
        inputCount += (long) batch * outH * outW;
        if (y != null) {
            addConvResponses(y);
        }
    }

    /**
     * Adds Σ over every output position of each tap of the full patch: tap (i, j) of channel c sums the input over
     * the rows tap i visits times the columns tap j visits, since strided positions visit distinct rows and columns.
     * Padding contributes zeros.
     */
    private void addPatchSums(FloatBuffer x, int offset, int channels, int h, int w, int kh, int kw, int outH, int outW,
                              ConvGeometry g) {
        int[][] rows = visited(kh, outH, h, g.strides()[0], g.pads()[0], g.dilations()[0]);
        int[][] cols = visited(kw, outW, w, g.strides()[1], g.pads()[1], g.dilations()[1]);
        double[] rowSums = new double[h * kw];
        for (int ch = 0; ch < channels; ch++) {
            int base = offset + ch * h * w;
            for (int r = 0; r < h; r++) {
                for (int j = 0; j < kw; j++) {
                    double sum = 0;
                    for (int col : cols[j]) {
                        sum += x.get(base + r * w + col);
                    }
                    rowSums[r * kw + j] = sum;
                }
            }
            for (int i = 0; i < kh; i++) {
                for (int j = 0; j < kw; j++) {
                    double sum = 0;
                    for (int r : rows[i]) {
                        sum += rowSums[r * kw + j];
                    }
                    inputSum[(ch * kh + i) * kw + j] += sum;
                }
            }
        }
    }

    /** Per tap, the input indices it reads over all output positions that fall inside the input. */
    private static int[][] visited(int taps, int out, int size, long stride, long padBegin, long dilation) {
        int[][] indices = new int[taps][];
        for (int t = 0; t < taps; t++) {
            int[] buf = new int[out];
            int n = 0;
            for (int o = 0; o < out; o++) {
                long i = o * stride - padBegin + t * dilation;
                if (i >= 0 && i < size) {
                    buf[n++] = (int) i;
                }
            }
            indices[t] = Arrays.copyOf(buf, n);
        }
        return indices;
    }

    /** Column patches x[(c, i)] = input[c, oh·s − pad + i·d, col] at random (output row, input column) pairs. */
    private void addColumns(FloatBuffer x, int offset, int channels, int h, int w, int kh, int outH, ConvGeometry g)
            throws LrdktException {
        int dim = columns.dim();
        int n = samplesPerImage;
        float[] rows = scratch(n * dim);
        for (int s = 0; s < n; s++) {
            int oh = random.nextInt(outH);
            int col = random.nextInt(w);
            for (int ch = 0; ch < channels; ch++) {
                for (int i = 0; i < kh; i++) {
                    long r = oh * g.strides()[0] - g.pads()[0] + i * g.dilations()[0];
                    rows[s * dim + ch * kh + i] = r >= 0 && r < h ? x.get(offset + (ch * h + (int) r) * w + col)
                            : 0;
                }
            }
        }
        columns.add(rows, n);
    }

    /** Output vectors (one per position) at random positions of each image, or at all when there are fewer. */
    private void addConvResponses(Inference.View y) throws LrdktException {
        long[] ys = y.shape();
        int batch = (int) ys[0];
        int n = (int) ys[1];
        int positions = (int) (Costs.product(ys) / ys[0] / ys[1]);
        int per = Math.min(positions, samplesPerImage);
        FloatBuffer v = y.values();
        float[] rows = scratch(batch * per * n);
        int s = 0;
        for (int b = 0; b < batch; b++) {
            for (int k = 0; k < per; k++, s++) {
                int p = per == positions ? k : random.nextInt(positions);
                for (int o = 0; o < n; o++) {
                    rows[s * n + o] = v.get((b * n + o) * positions + p);
                }
            }
        }
        responses.add(rows, s);
    }

    /** Frees the accumulated covariances (native memory); the mean input, all bias correction needs, stays. */
    @Override
    public void close() {
        if (columns != null) {
            columns.close();
        }
        if (responses != null) {
            responses.close();
        }
    }

    private float[] scratch(int length) {
        if (sampleRows.length < length) {
            sampleRows = new float[length];
        }
        return sampleRows;
    }

    /** The mean full input patch (c, i, j) of a conv, or the mean input vector of an FC layer. */
    double[] meanInput() {
        double[] mean = new double[inputSum.length];
        for (int i = 0; i < mean.length; i++) {
            mean[i] = inputSum[i] / Math.max(1, inputCount);
        }
        return mean;
    }

    /** The data-aware decomposition of the candidate's unfolded weight {@code m} under {@code unfolding}. */
    LowRank decompose(Unfolding unfolding, Matrix m, double shrinkage) throws LrdktException {
        return LowRank.calibrated(m, responseCovariance(unfolding, m), unfolding != Unfolding.FC, shrinkage);
    }

    /** The covariance of the unfolding's responses, on M's response side (cols for convs, rows for FC). */
    private float[] responseCovariance(Unfolding unfolding, Matrix m) throws LrdktException {
        return switch (unfolding) {
            case SPATIAL -> {
                try (Matrix sigma = Matrix.of(columns.covariance(), columns.dim(), columns.dim())) {
                    float[] sm = Lapack.multiply(sigma, false, m, false);
                    try (Matrix right = Matrix.of(sm, m.rows(), m.cols())) {
                        yield Lapack.multiply(m, true, right, false);
                    }
                }
            }
            case CHANNEL -> scaled(responses.covariance(), candidate.bnScale());
            case FC -> {
                double alpha = candidate.layer().kind() == Layer.Kind.GEMM
                        ? Attrs.getFloat(candidate.layer().node(), "alpha", 1f) : 1;
                float[] cov = responses.covariance();
                for (int i = 0; i < cov.length; i++) {
                    cov[i] /= (float) (alpha * alpha);
                }
                yield cov;
            }
        };
    }

    /** diag(s) C diag(s): the covariance of the BN-folded layer's responses. */
    private static float[] scaled(float[] cov, double[] scale) {
        if (scale != null) {
            int n = scale.length;
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    cov[i * n + j] = (float) (cov[i * n + j] * scale[i] * scale[j]);
                }
            }
        }
        return cov;
    }

    /**
     * (W − W′)μ per output channel, in the units of M (a Gemm's alpha not applied): the bias change that keeps the
     * layer's mean output on the calibration set. For the conv unfoldings, with w = kw (spatial) or 1 (channel),
     * the mean patch is a rows×w matrix U and the shift of output n is Σⱼ (Uᵀ(M − LR))[j, n·w + j].
     */
    double[] biasShift(Unfolding unfolding, Matrix m, LowRank.Factors f) throws LrdktException {
        float[] mu = Matrix.narrow(meanInput());
        if (unfolding == Unfolding.FC) {
            try (Matrix meanColumn = Matrix.of(mu, mu.length, 1);
                 Matrix right = Matrix.of(f.right(), f.k(), f.cols());
                 Matrix left = Matrix.of(f.left(), f.rows(), f.k())) {
                float[] full = Lapack.multiply(m, false, meanColumn, false);
                try (Matrix projected = Matrix.of(Lapack.multiply(right, false, meanColumn, false), f.k(), 1)) {
                    float[] kept = Lapack.multiply(left, false, projected, false);
                    double[] shift = new double[full.length];
                    for (int i = 0; i < shift.length; i++) {
                        shift[i] = (double) full[i] - kept[i];
                    }
                    return shift;
                }
            }
        }
        int width = unfolding == Unfolding.SPATIAL ? (int) candidate.shape()[3] : 1;
        int n = (int) candidate.shape()[0];
        try (Matrix meanPatch = Matrix.of(mu, m.rows(), width);
             Matrix left = Matrix.of(f.left(), f.rows(), f.k());
             Matrix right = Matrix.of(f.right(), f.k(), f.cols())) {
            float[] full = Lapack.multiply(meanPatch, true, m, false);
            float[] kept;
            try (Matrix reduced = Matrix.of(Lapack.multiply(meanPatch, true, left, false), width, f.k())) {
                kept = Lapack.multiply(reduced, false, right, false);
            }
            double[] shift = new double[n];
            for (int o = 0; o < n; o++) {
                for (int j = 0; j < width; j++) {
                    int at = j * m.cols() + o * width + j;
                    shift[o] += (double) full[at] - kept[at];
                }
            }
            return shift;
        }
    }
}
