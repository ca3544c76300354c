package org.lrdkt.train;

/** A tensor shape the mirror cannot handle, found while running; the mirror turns it into a one-line error. */
final class MirrorShapeException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    MirrorShapeException(String message) {
        super(message);
    }
}
