package org.lrdkt;

/**
 * The one checked exception of lrdkt. Its message is a single line meant for the user; its {@link Kind} decides
 * the process exit code (2 for usage errors, 1 for everything else).
 */
public final class LrdktException extends Exception {

    /** What went wrong, coarsely; each kind maps to an exit code. */
    public enum Kind {
        /** A flag, rank or argument that makes no sense. */
        USAGE(2),
        /** A file that is missing, unreadable, truncated or not what it claims to be. */
        BAD_INPUT(1),
        /** A valid model using something this tool does not handle (an op, a data type, a layout). */
        UNSUPPORTED(1),
        /** Reading or writing failed for a reason outside the input's content. */
        IO(1),
        /** A failure inside a library we call (ONNX Runtime, ND4J, LAPACK). */
        RUNTIME(1);

        private final int exitCode;

        Kind(int exitCode) {
            this.exitCode = exitCode;
        }

        public int exitCode() {
            return exitCode;
        }
    }

    private static final long serialVersionUID = 1L;

    private final Kind kind;

    public LrdktException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public LrdktException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }

    public static LrdktException usage(String message) {
        return new LrdktException(Kind.USAGE, message);
    }

    public static LrdktException badInput(String message) {
        return new LrdktException(Kind.BAD_INPUT, message);
    }

    public static LrdktException unsupported(String message) {
        return new LrdktException(Kind.UNSUPPORTED, message);
    }

    /** A message joined onto one line, for the single line of stderr an error gets. */
    public static String oneLine(String message) {
        return message == null ? "unknown error" : message.replaceAll("\\s*\\R\\s*", " ").strip();
    }

    /** A library's message (ONNX Runtime's span lines and carry the point in the first) cut to its first line. */
    public static String firstLine(String message) {
        if (message == null) {
            return "unknown error";
        }
        String line = message.strip().lines().findFirst().orElse(message);
        return line.length() > 300 ? line.substring(0, 300) + "..." : line;
    }
}
