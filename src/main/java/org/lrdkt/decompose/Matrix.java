package org.lrdkt.decompose;

import java.nio.FloatBuffer;
import org.bytedeco.javacpp.FloatPointer;
import org.lrdkt.LrdktException;

/**
 * A row-major float matrix in native memory, which BLAS and LAPACK read and write in place. A Java array passed to
 * them is copied by JNI on every call (in and out): for VGG-16's fc6 (4096×25088, 411 MB) that doubled the memory
 * of each product. Close a matrix to free it at once rather than whenever the garbage collector gets to it.
 */
public final class Matrix implements AutoCloseable {

    /** Element access goes through one direct buffer, whose capacity in bytes is an int. */
    static final long MAX_ELEMENTS = (Integer.MAX_VALUE - 8) / Float.BYTES;

    private final FloatPointer data;
    private final int rows;
    private final int cols;

    private Matrix(FloatPointer data, int rows, int cols) {
        this.data = data;
        this.rows = rows;
        this.cols = cols;
    }

    /** A zero-filled rows×cols matrix. */
    public static Matrix zeros(int rows, int cols) throws LrdktException {
        long count = (long) rows * cols;
        if (rows < 0 || cols < 0 || count > MAX_ELEMENTS) {
            throw LrdktException.unsupported("a " + rows + "x" + cols + " matrix is over " + MAX_ELEMENTS
                    + " elements (2 GiB of floats)");
        }
        FloatPointer data = new FloatPointer(Math.max(1, count));
        data.zero();
        return new Matrix(data, rows, cols);
    }

    /** A native copy of a row-major rows×cols array. */
    public static Matrix of(float[] values, int rows, int cols) throws LrdktException {
        if ((long) rows * cols != values.length) {
            throw new IllegalArgumentException(values.length + " values for a " + rows + "x" + cols + " matrix");
        }
        Matrix m = zeros(rows, cols);
        m.data.put(values);
        return m;
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    FloatPointer pointer() {
        return data;
    }

    /** The elements, row-major, as a view (no copy). */
    public FloatBuffer buffer() {
        return data.limit((long) rows * cols).asBuffer();
    }

    /** A Java copy of the elements, row-major. */
    public float[] toArray() {
        float[] out = new float[rows * cols];
        data.get(out);
        return out;
    }

    /** A new cols×rows matrix. */
    public Matrix transpose() throws LrdktException {
        Matrix t = zeros(cols, rows);
        FloatBuffer src = buffer();
        FloatBuffer dst = t.buffer();
        int block = 64; // tiles keep both sides' reads and writes within cache lines
        for (int r0 = 0; r0 < rows; r0 += block) {
            for (int c0 = 0; c0 < cols; c0 += block) {
                for (int r = r0; r < Math.min(rows, r0 + block); r++) {
                    for (int c = c0; c < Math.min(cols, c0 + block); c++) {
                        dst.put(c * rows + r, src.get(r * cols + c));
                    }
                }
            }
        }
        return t;
    }

    /** Doubles rounded to floats (statistics accumulated in double, handed to BLAS in float). */
    static float[] narrow(double[] values) {
        float[] out = new float[values.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) values[i];
        }
        return out;
    }

    /** Index of the first NaN or Inf, or -1 when every value is finite. */
    public static int firstNonFinite(FloatBuffer values) {
        for (int i = values.position(); i < values.limit(); i++) {
            if (!Float.isFinite(values.get(i))) {
                return i - values.position();
            }
        }
        return -1;
    }

    @Override
    public void close() {
        data.close();
    }
}
