package org.lrdkt.decompose;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.openblas.global.openblas;
import org.lrdkt.LrdktException;

/**
 * The dense linear algebra lrdkt needs, straight from OpenBLAS/LAPACKE (libnd4j's own SVD op crashes under
 * SameDiff and ND4J's LAPACK wrapper returns full U and V, 2.5 GB for VGG-16's fc6). Matrices are row-major: the
 * large ones (weights, Gram matrices) as native {@link Matrix}es that the routines read in place, small ones as
 * float arrays.
 */
public final class Lapack {

    private Lapack() {
    }

    /** Thin SVD {@code A = U diag(s) Vᵀ}: U is rows×k, s has k values (descending), Vt is k×cols, k = min. */
    public record Svd(float[] u, float[] s, float[] vt, int rows, int cols, int k) {
    }

    /** Thin SVD by divide and conquer (sgesdd). {@code a} is not modified. */
    public static Svd svd(float[] a, int rows, int cols) throws LrdktException {
        int k = Math.min(rows, cols);
        float[] work = a.clone();
        float[] s = new float[k];
        float[] u = new float[(long) rows * k > Integer.MAX_VALUE ? fail(rows, k) : rows * k];
        float[] vt = new float[(long) k * cols > Integer.MAX_VALUE ? fail(k, cols) : k * cols];
        int info = openblas.LAPACKE_sgesdd(openblas.LAPACK_ROW_MAJOR, (byte) 'S', rows, cols, work, cols, s, u, k, vt,
                cols);
        check("sgesdd", info);
        return new Svd(u, s, vt, rows, cols, k);
    }

    /**
     * The Gram matrix of the smaller side: {@code AᵀA} (cols×cols) when cols ≤ rows, else {@code AAᵀ} (rows×rows).
     * Only the upper triangle is filled (row-major), which is what the symmetric eigensolvers here read.
     */
    public static Matrix gram(Matrix a) throws LrdktException {
        return gram(a, a.cols() <= a.rows());
    }

    /** {@code AᵀA} (cols×cols) when {@code colsSide}, else {@code AAᵀ} (rows×rows); upper triangle only. */
    public static Matrix gram(Matrix a, boolean colsSide) throws LrdktException {
        int rows = a.rows();
        int cols = a.cols();
        int n = colsSide ? cols : rows;
        int inner = colsSide ? rows : cols;
        Matrix g = Matrix.zeros(n, n);
        // row-major A: AᵀA = syrk(Trans) over the rows; AAᵀ = syrk(NoTrans)
        openblas.cblas_ssyrk(openblas.CblasRowMajor, openblas.CblasUpper,
                colsSide ? openblas.CblasTrans : openblas.CblasNoTrans, n, inner, 1f, a.pointer(), cols, 0f,
                g.pointer(), n);
        return g;
    }

    /** {@code target += AᵀA} over the first {@code rows} rows of {@code a} (upper triangle of target only). */
    public static void addGramOfRows(Matrix a, int rows, Matrix target) {
        int n = a.cols();
        openblas.cblas_ssyrk(openblas.CblasRowMajor, openblas.CblasUpper, openblas.CblasTrans, n, rows, 1f,
                a.pointer(), n, 1f, target.pointer(), n);
    }

    /**
     * Eigenvalues only of a symmetric n×n matrix (upper triangle used, destroyed), ascending. The two-stage
     * reduction (ssyevd_2stage) does most of its work in matrix-matrix products, where the one-stage tridiagonal
     * reduction spends half its flops in memory-bound matrix-vector products: the spectrum of VGG-16's fc6 Gram
     * (n = 4096) is where that shows.
     */
    public static float[] eigenvalues(Matrix sym) throws LrdktException {
        int n = sym.rows();
        try (FloatPointer w = new FloatPointer(Math.max(1, n))) {
            int info = openblas.LAPACKE_ssyevd_2stage(openblas.LAPACK_ROW_MAJOR, (byte) 'N', (byte) 'U', n,
                    sym.pointer(), n, w);
            check("ssyevd_2stage", info);
            return values(w, n);
        }
    }

    /**
     * Replaces the columns of a row-major rows×cols matrix (rows ≥ cols) by an orthonormal basis of their span
     * (Householder QR: sgeqrf, then sorgqr forms Q in place).
     */
    public static void orthonormalizeColumns(float[] a, int rows, int cols) throws LrdktException {
        float[] tau = new float[cols];
        check("sgeqrf", openblas.LAPACKE_sgeqrf(openblas.LAPACK_ROW_MAJOR, rows, cols, a, cols, tau));
        check("sorgqr", openblas.LAPACKE_sorgqr(openblas.LAPACK_ROW_MAJOR, rows, cols, cols, a, cols, tau));
    }

    /**
     * All eigenpairs of a symmetric n×n matrix (upper triangle used, destroyed) by MRRR (ssyevr). Unlike ssyevd's
     * workspace query, which rounds its float-encoded size down and fails from n ≈ 4000 on, ssyevr needs O(n) work.
     * Returns the eigenvalues ascending; the eigenvectors are the columns of the row-major n×n {@code vectors}.
     */
    public static float[] symmetricEigenVectors(Matrix sym, float[] vectors) throws LrdktException {
        int n = sym.rows();
        try (FloatPointer w = new FloatPointer(Math.max(1, n));
             Matrix v = Matrix.zeros(n, n);
             IntPointer found = new IntPointer(1);
             IntPointer support = new IntPointer(2L * Math.max(1, n))) {
            int info = openblas.LAPACKE_ssyevr(openblas.LAPACK_ROW_MAJOR, (byte) 'V', (byte) 'A', (byte) 'U', n,
                    sym.pointer(), n, 0f, 0f, 0, 0, 0f, found, w, v.pointer(), n, support);
            check("ssyevr", info);
            v.pointer().get(vectors);
            return values(w, n);
        }
    }

    /**
     * The eigenvectors of the {@code k} largest eigenvalues of a symmetric n×n matrix (upper triangle used,
     * destroyed) by MRRR (ssyevr, index range): after the tridiagonal reduction only k vectors are computed and
     * transformed back. Returns them as the columns of a row-major n×k matrix, largest eigenvalue first.
     */
    public static float[] topEigenvectors(Matrix sym, int k) throws LrdktException {
        int n = sym.rows();
        float[] ascending;
        try (FloatPointer w = new FloatPointer(Math.max(1, n));
             Matrix vectors = Matrix.zeros(n, k);
             IntPointer found = new IntPointer(1);
             IntPointer support = new IntPointer(2L * Math.max(1, k))) {
            int info = openblas.LAPACKE_ssyevr(openblas.LAPACK_ROW_MAJOR, (byte) 'V', (byte) 'I', (byte) 'U', n,
                    sym.pointer(), n, 0f, 0f, n - k + 1, n, 0f, found, w, vectors.pointer(), k, support);
            check("ssyevr", info);
            ascending = vectors.toArray();
        }
        float[] top = new float[n * k];
        for (int r = 0; r < n; r++) {
            for (int j = 0; j < k; j++) {
                top[r * k + j] = ascending[r * k + (k - 1 - j)];
            }
        }
        return top;
    }

    /** Row-major C = op(A)·op(B) with sgemm. */
    public static float[] multiply(float[] a, int aRows, int aCols, boolean transA,
                                   float[] b, int bRows, int bCols, boolean transB) throws LrdktException {
        try (Matrix ma = Matrix.of(a, aRows, aCols); Matrix mb = Matrix.of(b, bRows, bCols)) {
            return multiply(ma, transA, mb, transB);
        }
    }

    /** Row-major C = op(A)·op(B) with sgemm, the operands read in place. */
    public static float[] multiply(Matrix a, boolean transA, Matrix b, boolean transB) throws LrdktException {
        int m = transA ? a.cols() : a.rows();
        int k = transA ? a.rows() : a.cols();
        int n = transB ? b.rows() : b.cols();
        try (Matrix c = Matrix.zeros(m, n)) {
            openblas.cblas_sgemm(openblas.CblasRowMajor, transA ? openblas.CblasTrans : openblas.CblasNoTrans,
                    transB ? openblas.CblasTrans : openblas.CblasNoTrans, m, n, k, 1f, a.pointer(), a.cols(),
                    b.pointer(), b.cols(), 0f, c.pointer(), n);
            return c.toArray();
        }
    }

    private static float[] values(FloatPointer p, int n) {
        float[] out = new float[n];
        p.get(out);
        return out;
    }

    private static void check(String routine, int info) throws LrdktException {
        if (info != 0) {
            throw new LrdktException(LrdktException.Kind.RUNTIME, "LAPACK " + routine + " failed (info=" + info
                    + (info > 0 ? ": did not converge; the weights may contain NaN or Inf" : ": illegal argument")
                    + ")");
        }
    }

    private static int fail(long a, long b) throws LrdktException {
        throw LrdktException.unsupported("SVD factor of " + a + "x" + b + " exceeds 2^31 elements");
    }
}
