package org.lrdkt.validate;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Resident memory of this process from {@code /proc/self/status} (Linux). The peak (VmHWM) can be reset by writing
 * 5 to {@code /proc/self/clear_refs}, which lets the benchmark measure each model's peak growth in turn.
 */
final class ProcessMemory {

    private static final Path STATUS = Path.of("/proc/self/status");
    private static final Path CLEAR_REFS = Path.of("/proc/self/clear_refs");

    private ProcessMemory() {
    }

    /** Current resident set in bytes, or -1 when /proc is not available. */
    static long residentBytes() {
        return field("VmRSS:");
    }

    /** Peak resident set since start or the last {@link #resetPeak()}, or -1. */
    static long peakBytes() {
        return field("VmHWM:");
    }

    /** Resets the peak to the current resident set; false where the kernel does not allow it. */
    static boolean resetPeak() {
        try {
            Files.writeString(CLEAR_REFS, "5", StandardCharsets.US_ASCII);
            return true;
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return false;
        }
    }

    private static long field(String name) {
        try {
            for (String line : Files.readAllLines(STATUS, StandardCharsets.US_ASCII)) {
                if (line.startsWith(name)) {
                    String[] parts = line.substring(name.length()).trim().split("\\s+");
                    return Long.parseLong(parts[0]) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }

    /** "Intel(R) Xeon(R) ..., 2 cores" from /proc/cpuinfo and the JVM. */
    static String machine() {
        String model = "unknown CPU";
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"), StandardCharsets.UTF_8)) {
                if (line.startsWith("model name")) {
                    model = line.substring(line.indexOf(':') + 1).trim();
                    break;
                }
            }
        } catch (IOException e) {
            // not Linux: the core count alone still says something
        }
        return model + ", " + Runtime.getRuntime().availableProcessors() + " cores";
    }
}
