package org.lrdkt;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.function.IntSupplier;
import org.lrdkt.cli.Main;

/** Runs the CLI in-process and captures what it prints. */
public final class Cli {

    /** Exit code and captured streams of one run. */
    public record Result(int exitCode, String out, String err) {
        /** Errors must be exactly one line with no stack trace. */
        public boolean errIsOneLine() {
            return err.strip().lines().count() == 1 && !err.contains("\tat ") && !err.contains("Exception");
        }
    }

    private Cli() {
    }

    public static Result run(String... args) {
        return capture(() -> Main.run(args));
    }

    /** Runs {@code main} (a call of Main that returns an exit code) with its output captured. */
    public static synchronized Result capture(IntSupplier main) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = main.getAsInt();
            return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }
}
