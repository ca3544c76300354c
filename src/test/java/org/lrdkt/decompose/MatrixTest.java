package org.lrdkt.decompose;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.lrdkt.LrdktException;
import org.lrdkt.ModelBuilder;

class MatrixTest {

    @Test
    void roundTripsAndTransposesAcrossTileEdges() throws LrdktException {
        int rows = 130; // not a multiple of the 64-element tiles
        int cols = 70;
        float[] values = ModelBuilder.random(3, rows * cols, 1f);
        try (Matrix m = Matrix.of(values, rows, cols); Matrix t = m.transpose()) {
            assertArrayEquals(values, m.toArray());
            assertEquals(cols, t.rows());
            assertEquals(rows, t.cols());
            assertArrayEquals(LayerWeights.transpose(values, rows, cols), t.toArray());
        }
    }

    @Test
    void findsTheFirstNonFiniteValue() throws LrdktException {
        float[] values = new float[50];
        try (Matrix finite = Matrix.of(values, 5, 10)) {
            assertEquals(-1, Matrix.firstNonFinite(finite.buffer()));
        }
        values[17] = Float.NEGATIVE_INFINITY;
        values[30] = Float.NaN;
        try (Matrix m = Matrix.of(values, 5, 10)) {
            assertEquals(17, Matrix.firstNonFinite(m.buffer()));
        }
    }

    @Test
    void refusesMatricesBeyondOneBuffer() {
        LrdktException e = assertThrows(LrdktException.class, () -> Matrix.zeros(1 << 16, 1 << 14));
        assertEquals(LrdktException.Kind.UNSUPPORTED, e.kind());
    }

    @Test
    void productsMatchTheArrayRoute() throws LrdktException {
        float[] a = ModelBuilder.random(1, 6 * 4, 1f);
        float[] b = ModelBuilder.random(2, 6 * 5, 1f);
        float[] expected = new float[4 * 5]; // aᵀ·b by hand
        for (int i = 0; i < 4; i++) {
            for (int j = 0; j < 5; j++) {
                for (int r = 0; r < 6; r++) {
                    expected[i * 5 + j] += a[r * 4 + i] * b[r * 5 + j];
                }
            }
        }
        try (Matrix ma = Matrix.of(a, 6, 4); Matrix mb = Matrix.of(b, 6, 5)) {
            assertArrayEquals(expected, Lapack.multiply(ma, true, mb, false), 1e-5f);
        }
        assertArrayEquals(expected, Lapack.multiply(a, 6, 4, true, b, 6, 5, false), 1e-5f);
    }
}
