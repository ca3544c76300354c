package org.lrdkt;

/**
 * What a model output holds, judged from its shape and the op of the node that produces it: the one rule behind
 * both the transfer loss {@code --output-loss auto} chooses (train) and the fidelity figure {@code eval} reports for
 * it (validate).
 */
public enum OutputKind {
    /** Scores over a class axis: [N,C] class logits, or one class per position of [N,C,H,W] or [N,T,C]. */
    CLASSES,
    /** Independent per-element probabilities, as a {@code Sigmoid} leaves them: masks, multi-label scores. */
    MASK,
    /** Anything else: embeddings, boxes, regression maps. */
    VALUES;

    /** Classes beyond this are not taken for a class axis (an embedding, a feature map). */
    public static final long MAX_CLASSES = 4096;

    /**
     * {@code Sigmoid} output → MASK; rank-2 with more than one column → CLASSES; rank 3 or 4 produced by
     * {@code Softmax} or with 2..{@value #MAX_CLASSES} entries on the class axis → CLASSES; else VALUES.
     *
     * @param producerOp the producing node's op type, or null when no node produces it
     */
    public static OutputKind of(long[] shape, String producerOp) {
        if ("Sigmoid".equals(producerOp)) {
            return MASK;
        }
        if (shape.length == 2 && shape[1] > 1) {
            return CLASSES;
        }
        if (shape.length == 3 || shape.length == 4) {
            long classes = shape[classAxis(shape.length)];
            if ("Softmax".equals(producerOp) || (classes > 1 && classes <= MAX_CLASSES)) {
                return CLASSES;
            }
        }
        return VALUES;
    }

    /** The class axis of a CLASSES output: the last of rank 3 ([N,T,C]), else 1 ([N,C] and [N,C,H,W]). */
    public static int classAxis(int rank) {
        return rank == 3 ? 2 : 1;
    }

    /** Whether a node of this op leaves probabilities rather than logits. */
    public static boolean probabilities(String producerOp) {
        return "Sigmoid".equals(producerOp) || "Softmax".equals(producerOp);
    }
}
