package org.lrdkt.decompose;

import org.bytedeco.openblas.global.openblas;
import org.lrdkt.LrdktException;

/**
 * The dense linear algebra lrdkt needs, straight from OpenBLAS/LAPACKE (libnd4j's own SVD op crashes under
 * SameDiff and ND4J's LAPACK wrapper returns full U and V, 2.5 GB for VGG-16's fc6). Matrices are row-major
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
     * Only the upper triangle is filled (row-major), which is what {@link #symmetricEigen} reads.
     */
    public static float[] gram(float[] a, int rows, int cols) {
        boolean colsSide = cols <= rows;
        int n = colsSide ? cols : rows;
        int inner = colsSide ? rows : cols;
        float[] g = new float[n * n];
        // row-major A: AᵀA = syrk(Trans) over the rows; AAᵀ = syrk(NoTrans)
        openblas.cblas_ssyrk(openblas.CblasRowMajor, openblas.CblasUpper,
                colsSide ? openblas.CblasTrans : openblas.CblasNoTrans, n, inner, 1f, a, cols, 0f, g, n);
        return g;
    }

    /**
     * Eigenvalues only of a symmetric n×n matrix (upper triangle used, destroyed), ascending. The two-stage
     * reduction (ssyevd_2stage) does most of its work in matrix-matrix products, where the one-stage tridiagonal
     * reduction spends half its flops in memory-bound matrix-vector products: the spectrum of VGG-16's fc6 Gram
     * (n = 4096) is where that shows.
     */
    public static float[] eigenvalues(float[] sym, int n) throws LrdktException {
        float[] w = new float[n];
        int info = openblas.LAPACKE_ssyevd_2stage(openblas.LAPACK_ROW_MAJOR, (byte) 'N', (byte) 'U', n, sym, n, w);
        check("ssyevd_2stage", info);
        return w;
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
    public static float[] symmetricEigenVectors(float[] sym, int n, float[] vectors) throws LrdktException {
        float[] w = new float[n];
        int[] found = new int[1];
        int[] support = new int[2 * Math.max(1, n)];
        int info = openblas.LAPACKE_ssyevr(openblas.LAPACK_ROW_MAJOR, (byte) 'V', (byte) 'A', (byte) 'U', n, sym, n,
                0f, 0f, 0, 0, 0f, found, w, vectors, n, support);
        check("ssyevr", info);
        return w;
    }

    /**
     * The eigenvectors of the {@code k} largest eigenvalues of a symmetric n×n matrix (upper triangle used,
     * destroyed) by MRRR (ssyevr, index range): after the tridiagonal reduction only k vectors are computed and
     * transformed back. Returns them as the columns of a row-major n×k matrix, largest eigenvalue first.
     */
    public static float[] topEigenvectors(float[] sym, int n, int k) throws LrdktException {
        float[] w = new float[n];
        float[] ascending = new float[n * k];
        int[] found = new int[1];
        int[] support = new int[2 * Math.max(1, k)];
        int info = openblas.LAPACKE_ssyevr(openblas.LAPACK_ROW_MAJOR, (byte) 'V', (byte) 'I', (byte) 'U', n, sym, n,
                0f, 0f, n - k + 1, n, 0f, found, w, ascending, k, support);
        check("ssyevr", info);
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
                                   float[] b, int bRows, int bCols, boolean transB) {
        int m = transA ? aCols : aRows;
        int k = transA ? aRows : aCols;
        int n = transB ? bRows : bCols;
        float[] c = new float[m * n];
        openblas.cblas_sgemm(openblas.CblasRowMajor, transA ? openblas.CblasTrans : openblas.CblasNoTrans,
                transB ? openblas.CblasTrans : openblas.CblasNoTrans, m, n, k, 1f, a, aCols, b, bCols, 0f, c, n);
        return c;
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
