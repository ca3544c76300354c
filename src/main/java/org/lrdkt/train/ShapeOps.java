package org.lrdkt.train;

import static org.lrdkt.train.Ops.axis;
import static org.lrdkt.train.Ops.leading;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** Mirror ops that move or regroup elements without arithmetic: pass-through, reshapes, transposes, concatenation. */
final class ShapeOps {

    private ShapeOps() {
    }

    static final class PassThrough implements MirrorOp {
        @Override
        public INDArray[] forward(INDArray[] in) {
            return new INDArray[] {in[0]};
        }

        @Override
        public INDArray[] backward(INDArray[] in, INDArray[] out, INDArray[] g, boolean[] need) {
            INDArray[] grads = new INDArray[in.length];
            grads[0] = g[0];
            return grads;
        }
    }

    /** Base of the ops that only change the shape: the gradient is reshaped back to the input's shape. */
    abstract static class Reshaping implements MirrorOp {
        abstract long[] target(INDArray[] in);

        @Override
        public INDArray[] forward(INDArray[] in) {
            return new INDArray[] {in[0].reshape('c', target(in))};
        }

        @Override
        public INDArray[] backward(INDArray[] in, INDArray[] out, INDArray[] g, boolean[] need) {
            INDArray[] grads = new INDArray[in.length];
            grads[0] = g[0].reshape('c', in[0].shape());
            return grads;
        }
    }

    static final class Flatten extends Reshaping {
        private final long axis;

        Flatten(long axis) {
            this.axis = axis;
        }

        @Override
        long[] target(INDArray[] in) {
            long outer = leading(in[0], axis(axis, in[0].rank()));
            return new long[] {outer, in[0].length() / outer};
        }
    }

    /** Reshape with ONNX's 0 (copy the input's dimension unless allowzero) and −1 (infer). */
    static final class Reshape extends Reshaping {
        private final boolean allowZero;

        Reshape(boolean allowZero) {
            this.allowZero = allowZero;
        }

        @Override
        long[] target(INDArray[] in) {
            long[] shape = in[1].toLongVector();
            long known = 1;
            int infer = -1;
            for (int i = 0; i < shape.length; i++) {
                if (shape[i] == 0 && !allowZero) {
                    shape[i] = in[0].size(i);
                }
                if (shape[i] == -1) {
                    infer = i;
                } else {
                    known *= shape[i];
                }
            }
            if (infer >= 0) {
                shape[infer] = in[0].length() / known;
            }
            return shape;
        }
    }

    static final class Transpose implements MirrorOp {
        private final long[] perm;

        Transpose(long[] perm) {
            this.perm = perm;
        }

        private int[] permutation(int rank) {
            int[] p = new int[rank];
            for (int i = 0; i < rank; i++) {
                p[i] = perm == null ? rank - 1 - i : (int) perm[i];
            }
            return p;
        }

        @Override
        public INDArray[] forward(INDArray[] in) {
            return new INDArray[] {in[0].permute(permutation(in[0].rank())).dup('c')};
        }

        @Override
        public INDArray[] backward(INDArray[] in, INDArray[] out, INDArray[] g, boolean[] need) {
            int[] p = permutation(in[0].rank());
            int[] inverse = new int[p.length];
            for (int i = 0; i < p.length; i++) {
                inverse[p[i]] = i;
            }
            return new INDArray[] {g[0].permute(inverse).dup('c')};
        }
    }

    static final class Concat implements MirrorOp {
        private final long axis;

        Concat(long axis) {
            this.axis = axis;
        }

        @Override
        public INDArray[] forward(INDArray[] in) {
            return new INDArray[] {Nd4j.concat(axis(axis, in[0].rank()), in)};
        }

        @Override
        public INDArray[] backward(INDArray[] in, INDArray[] out, INDArray[] g, boolean[] need) {
            int a = axis(axis, in[0].rank());
            INDArray[] grads = new INDArray[in.length];
            long start = 0;
            for (int i = 0; i < in.length; i++) {
                long size = in[i].size(a);
                if (need[i]) {
                    org.nd4j.linalg.indexing.INDArrayIndex[] idx = NDArrayIndex.allFor(g[0]);
                    idx[a] = NDArrayIndex.interval(start, start + size);
                    grads[i] = g[0].get(idx).dup('c');
                }
                start += size;
            }
            return grads;
        }
    }
}
