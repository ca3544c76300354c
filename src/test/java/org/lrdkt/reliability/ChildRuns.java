package org.lrdkt.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** lrdkt's CLI run as a child JVM, its stderr in {@code child-stderr.txt} of its working folder. */
final class ChildRuns {

    private ChildRuns() {
    }

    static Process start(Path workDir, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                        .toString(), "-Xss8m", "-Xmx2g", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp",
                System.getProperty("java.class.path"), "org.lrdkt.cli.Main"));
        command.addAll(Arrays.asList(args));
        ProcessBuilder pb = new ProcessBuilder(command).directory(workDir.toFile())
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(workDir.resolve("child-stderr.txt").toFile());
        // OpenBLAS's thread count changes the float results (ReproducibleOutputsTest): the child gets this JVM's, stated
        // here rather than left to whatever environment runs the tests (OpenBLAS takes every core when it is unset)
        pb.environment().put("OMP_NUM_THREADS", System.getenv().getOrDefault("OMP_NUM_THREADS",
                Integer.toString(Runtime.getRuntime().availableProcessors())));
        pb.environment().put("OMP_WAIT_POLICY", "PASSIVE");
        return pb.start();
    }

    /** Runs a child to completion; returns its wall time in milliseconds. */
    static long runToEnd(Path workDir, String... args) throws Exception {
        long started = System.nanoTime();
        Process p = start(workDir, args);
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "child did not finish");
        assertEquals(0, p.exitValue(), () -> readQuietly(workDir.resolve("child-stderr.txt")));
        return (System.nanoTime() - started) / 1_000_000;
    }

    static String readQuietly(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return e.toString();
        }
    }
}
