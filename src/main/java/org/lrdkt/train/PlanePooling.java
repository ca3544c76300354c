package org.lrdkt.train;

import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.Shape;
import org.nd4j.linalg.factory.Nd4j;

/**
 * 2-D max and average pooling of NCHW tensors and their gradients, in plain Java over the arrays' native memory, one
 * (sample, channel) plane per task. libnd4j's maxpool2d/avgpool2d and their _bp ops were slow at ImageNet sizes (a
 * 3×3 average of [8,288,35,35] took 65–70 ms, this class 25 ms; together a quarter of an Inception-v3 training
 * step). Each plane is copied into a scratch surrounded by its pads, −∞ for max and 0 for average; an average divides
 * by a count per output pixel that the rule below decides.
 *
 * @param countFrom  with count_include_pad, the window positions counted start here (−top, −left) and end before
 *                   countTo (height + bottom, width + right, less ceil mode's extra border); without it, they are
 *                   the input itself
 */
record PlanePooling(boolean max, int kernelH, int kernelW, int strideH, int strideW, int dilationH, int dilationW,
                    int top, int left, int outH, int outW, int[] countFrom, int[] countTo) {

    static PlanePooling of(boolean max, long[] kernel, Window window, Window.Pads p, long height, long width,
                           boolean countPadding) {
        int kh = (int) kernel[0];
        int kw = (int) kernel[1];
        long spanH = (kh - 1) * window.dilationH() + 1;
        long spanW = (kw - 1) * window.dilationW() + 1;
        int outH = (int) ((height + p.top() + p.bottom() - spanH) / window.strideH() + 1);
        int outW = (int) ((width + p.left() + p.right() - spanW) / window.strideW() + 1);
        int[] from = countPadding ? new int[] {(int) -p.top(), (int) -p.left()} : new int[] {0, 0};
        int[] to = countPadding
                ? new int[] {(int) (height + p.bottom() - p.ceilBottom()), (int) (width + p.right() - p.ceilRight())}
                : new int[] {(int) height, (int) width};
        return new PlanePooling(max, kh, kw, (int) window.strideH(), (int) window.strideW(),
                (int) window.dilationH(), (int) window.dilationW(), (int) p.top(), (int) p.left(), outH, outW, from,
                to);
    }

    /** Reads and writes runs of an array's own float or double memory as doubles. */
    private interface Plane {
        void read(int offset, double[] to, int at, int length);

        void write(int offset, double[] from, int at, int length);

        static Plane of(INDArray a) {
            var bytes = a.data().asNio().order(ByteOrder.nativeOrder());
            if (a.dataType() == DataType.DOUBLE) {
                DoubleBuffer d = bytes.asDoubleBuffer();
                return new Plane() {
                    public void read(int offset, double[] to, int at, int length) {
                        d.get(offset, to, at, length);
                    }

                    public void write(int offset, double[] from, int at, int length) {
                        d.put(offset, from, at, length);
                    }
                };
            }
            FloatBuffer f = bytes.asFloatBuffer();
            ThreadLocal<float[]> row = ThreadLocal.withInitial(() -> new float[0]);
            return new Plane() {
                private float[] row(int length) {
                    if (row.get().length < length) {
                        row.set(new float[length]);
                    }
                    return row.get();
                }

                public void read(int offset, double[] to, int at, int length) {
                    float[] r = row(length);
                    f.get(offset, r, 0, length);
                    for (int i = 0; i < length; i++) {
                        to[at + i] = r[i];
                    }
                }

                public void write(int offset, double[] from, int at, int length) {
                    float[] r = row(length);
                    for (int i = 0; i < length; i++) {
                        r[i] = (float) from[at + i];
                    }
                    f.put(offset, r, 0, length);
                }
            };
        }
    }

    /** The array itself when it owns dense c-order memory of float or double, else such a copy. */
    private static INDArray dense(INDArray a) {
        boolean own = !a.isView() && a.offset() == 0 && a.ordering() == 'c' && Shape.hasDefaultStridesForShape(a);
        INDArray d = own ? a : a.dup('c');
        return d.dataType() == DataType.FLOAT || d.dataType() == DataType.DOUBLE ? d : d.castTo(DataType.FLOAT);
    }

    /**
     * A plane surrounded by its pads (rows of paddedW) and the scratch a task pools it in. Windows are reduced along
     * rows first, then along columns, each loop running over independent output columns: no chain of dependent adds.
     */
    private final class Padded {
        final int h;
        final int w;
        final int paddedH;
        final int paddedW;
        final double[] values;
        /** Per padded row, the reduction of each output column's horizontal taps. */
        final double[] rows;
        final double[] result;
        final int[] best;

        Padded(int h, int w) {
            this.h = h;
            this.w = w;
            paddedH = Math.max(h + top, (outH - 1) * strideH + (kernelH - 1) * dilationH + 1);
            paddedW = Math.max(w + left, (outW - 1) * strideW + (kernelW - 1) * dilationW + 1);
            values = new double[paddedH * paddedW];
            rows = new double[paddedH * outW];
            result = new double[outH * outW];
            best = new int[outW];
        }

        /** Plane {@code plane} of the input into values, the pads around it set to fill. */
        void load(Plane in, int plane, double fill) {
            Arrays.fill(values, fill);
            for (int y = 0; y < h; y++) {
                in.read(plane * h * w + y * w, values, (y + top) * paddedW + left, w);
            }
        }

        /** result = each window's maximum or sum of values. */
        void reduce() {
            for (int y = 0; y < paddedH; y++) {
                int r = y * outW;
                int v = y * paddedW;
                for (int ox = 0; ox < outW; ox++) {
                    rows[r + ox] = values[v + ox * strideW];
                }
                for (int kx = 1; kx < kernelW; kx++) {
                    int tap = v + kx * dilationW;
                    if (max) {
                        for (int ox = 0; ox < outW; ox++) {
                            rows[r + ox] = Math.max(rows[r + ox], values[tap + ox * strideW]);
                        }
                    } else {
                        for (int ox = 0; ox < outW; ox++) {
                            rows[r + ox] += values[tap + ox * strideW];
                        }
                    }
                }
            }
            for (int oy = 0; oy < outH; oy++) {
                int o = oy * outW;
                System.arraycopy(rows, oy * strideH * outW, result, o, outW);
                for (int ky = 1; ky < kernelH; ky++) {
                    int r = (oy * strideH + ky * dilationH) * outW;
                    if (max) {
                        for (int ox = 0; ox < outW; ox++) {
                            result[o + ox] = Math.max(result[o + ox], rows[r + ox]);
                        }
                    } else {
                        for (int ox = 0; ox < outW; ox++) {
                            result[o + ox] += rows[r + ox];
                        }
                    }
                }
            }
        }

        /** values += each output's gradient (in result), divided by its divisor, spread over its window. */
        void spread(double[] divisors) {
            Arrays.fill(rows, 0);
            for (int oy = 0; oy < outH; oy++) {
                int o = oy * outW;
                for (int ky = 0; ky < kernelH; ky++) {
                    int r = (oy * strideH + ky * dilationH) * outW;
                    for (int ox = 0; ox < outW; ox++) {
                        rows[r + ox] += result[o + ox] / divisors[o + ox];
                    }
                }
            }
            for (int y = 0; y < paddedH; y++) {
                int r = y * outW;
                for (int kx = 0; kx < kernelW; kx++) {
                    int tap = y * paddedW + kx * dilationW;
                    for (int ox = 0; ox < outW; ox++) {
                        values[tap + ox * strideW] += rows[r + ox];
                    }
                }
            }
        }

        /** gradients.values[first maximum of each window of values] += that window's gradient (gradients.result). */
        void route(Padded gradients) {
            for (int oy = 0; oy < outH; oy++) {
                int origin = oy * strideH * paddedW;
                for (int ox = 0; ox < outW; ox++) {
                    best[ox] = origin + ox * strideW;
                }
                for (int ky = 0; ky < kernelH; ky++) {
                    for (int kx = 0; kx < kernelW; kx++) {
                        int tap = origin + ky * dilationH * paddedW + kx * dilationW;
                        for (int ox = 0; ox < outW; ox++) {
                            int i = tap + ox * strideW;
                            best[ox] = values[i] > values[best[ox]] ? i : best[ox];
                        }
                    }
                }
                for (int ox = 0; ox < outW; ox++) {
                    gradients.values[best[ox]] += gradients.result[oy * outW + ox];
                }
            }
        }
    }

    private ThreadLocal<Padded> scratch(int h, int w) {
        return ThreadLocal.withInitial(() -> new Padded(h, w));
    }

    INDArray forward(INDArray input) {
        INDArray x = dense(input);
        int h = (int) x.size(2);
        int w = (int) x.size(3);
        INDArray y = Nd4j.createUninitialized(x.dataType(), x.size(0), x.size(1), outH, outW);
        Plane in = Plane.of(x);
        Plane out = Plane.of(y);
        double[] divisors = max ? null : divisors();
        ThreadLocal<Padded> scratch = scratch(h, w);
        planes(x, plane -> {
            Padded p = scratch.get();
            p.load(in, plane, max ? Double.NEGATIVE_INFINITY : 0);
            p.reduce();
            if (!max) {
                for (int o = 0; o < p.result.length; o++) {
                    p.result[o] /= divisors[o];
                }
            }
            out.write(plane * outH * outW, p.result, 0, outH * outW);
        });
        return y;
    }

    /**
     * The input's gradient: an average spreads each output's gradient evenly over the pixels it averaged; a max hands
     * it to the first maximum of its window in row-major order (as PyTorch and ONNX Runtime pick the index).
     */
    INDArray backward(INDArray input, INDArray gradOutput) {
        INDArray x = dense(input);
        INDArray gy = dense(gradOutput);
        int h = (int) x.size(2);
        int w = (int) x.size(3);
        INDArray gx = Nd4j.createUninitialized(x.dataType(), x.shape());
        Plane in = Plane.of(x);
        Plane grads = Plane.of(gy);
        Plane out = Plane.of(gx);
        double[] divisors = max ? null : divisors();
        ThreadLocal<Padded> inputs = scratch(h, w);
        ThreadLocal<Padded> gradients = scratch(h, w);
        planes(x, plane -> {
            Padded gp = gradients.get();
            Arrays.fill(gp.values, 0);
            grads.read(plane * outH * outW, gp.result, 0, outH * outW);
            if (max) {
                Padded p = inputs.get();
                p.load(in, plane, Double.NEGATIVE_INFINITY);
                p.route(gp);
            } else {
                gp.spread(divisors);
            }
            for (int y = 0; y < h; y++) {
                out.write(plane * h * w + y * w, gp.values, (y + top) * gp.paddedW + left, w);
            }
        });
        return gx;
    }

    /** Per output pixel, how many window positions fall in [countFrom, countTo) on both axes. */
    private double[] divisors() {
        double[] d = new double[outH * outW];
        for (int oy = 0; oy < outH; oy++) {
            int rows = covered(oy * strideH - top, kernelH, dilationH, countFrom[0], countTo[0]);
            for (int ox = 0; ox < outW; ox++) {
                d[oy * outW + ox] = rows * covered(ox * strideW - left, kernelW, dilationW, countFrom[1], countTo[1]);
            }
        }
        return d;
    }

    private static int covered(int start, int taps, int dilation, int from, int to) {
        int n = 0;
        for (int k = 0; k < taps; k++) {
            int i = start + k * dilation;
            n += i >= from && i < to ? 1 : 0;
        }
        return Math.max(n, 1);
    }

    private static void planes(INDArray x, IntConsumer body) {
        IntStream.range(0, (int) (x.size(0) * x.size(1))).parallel().forEach(body);
    }
}
