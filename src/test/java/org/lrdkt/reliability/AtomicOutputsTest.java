package org.lrdkt.reliability;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lrdkt.LrdktException;
import org.lrdkt.ModelBuilder;
import org.lrdkt.TestModels;
import org.lrdkt.onnx.Inference;
import org.lrdkt.onnx.OnnxModel;

/**
 * Kills {@code compress} and {@code finetune} running as child JVMs (SIGKILL, no shutdown hooks) at seeded random
 * moments, then while the output's temp file is being written until a kill lands there. Afterwards the output path must hold nothing (no
 * earlier output), the earlier complete output byte for byte, or a new complete model. {@code AtomicFiles} writes a
 * hidden {@code .NAME*.tmp} beside the target and renames it; a SIGKILL leaves that temp file behind (a finally block
 * cannot run), never a partial file under the output's name. Those leftovers are counted and printed.
 */
class AtomicOutputsTest {

    @TempDir
    Path dir;

    /** Outcomes of one command's kill trials, printed for BENCHMARKS.md. */
    private static final class Tally {
        int trials;
        int absent;
        int previous;
        int completeNew;
        int tempLeft;
        int killedMidWrite;

        @Override
        public String toString() {
            return trials + " kills: " + absent + " no output, " + previous + " previous output intact, " + completeNew
                    + " new complete output; " + killedMidWrite + " killed while writing; hidden temp files left "
                    + "by " + tempLeft;
        }
    }

    /** AtomicFiles' temp name for {@code target}: ".NAME." + a random base-36 number + ".tmp". */
    private static boolean isTemp(Path target, String name) {
        return name.matches(Pattern.quote("." + target.getFileName()) + "\\.[0-9a-z]+\\.tmp");
    }

    /** Tries before a kill must have landed while the output's temp file was being written. */
    private static final int MID_WRITE_TRIES = 5;

    /**
     * Kills {@code args} (which write {@code out}) {@code trials} times at seeded moments in [0, 1.2 × its full
     * run time], then as soon as a temp file of {@code out} appears until one such kill lands mid-write (the temp file
     * outlives the child and the output is not the new one; at most {@link #MID_WRITE_TRIES} tries). Before each kill
     * the output is randomly either absent or {@code previous}; {@code isCompleteNew} judges an output that is neither.
     */
    private void killRepeatedly(String label, Path out, byte[] previous, long fullRunMillis, int trials, long seed,
                                 CompleteCheck isCompleteNew, List<String> allowedLeftovers, String... args)
            throws Exception {
        Random random = new Random(seed);
        Tally tally = new Tally();
        for (int t = 0; t < trials + MID_WRITE_TRIES && tally.killedMidWrite == 0; t++) {
            boolean midWrite = t >= trials;
            boolean hadPrevious = random.nextBoolean();
            Files.deleteIfExists(out);
            if (hadPrevious) {
                Files.write(out, previous);
            }
            long delay = (long) (random.nextDouble() * 1.2 * fullRunMillis);
            Process p = ChildRuns.start(dir, args);
            boolean tempSeen = false;
            if (midWrite) {
                tempSeen = waitForTemp(p, out);
            } else {
                p.waitFor(delay, TimeUnit.MILLISECONDS);
            }
            p.destroyForcibly();
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), label + ": killed child did not end");
            tally.trials++;
            String when = label + " killed " + (midWrite ? "while writing" : "after " + delay + " ms");
            boolean completeNew = false;
            if (!Files.exists(out)) {
                assertTrue(!hadPrevious, when + ": the previous output vanished");
                tally.absent++;
            } else if (hadPrevious && Arrays.equals(previous, Files.readAllBytes(out))) {
                tally.previous++;
            } else {
                assertTrue(isCompleteNew.test(out), when + ": output is neither the previous one nor complete");
                tally.completeNew++;
                completeNew = true;
            }
            boolean temp = false;
            boolean outputTempLeft = false;
            for (String name : TestDirs.listing(dir)) {
                boolean ofOutput = isTemp(out, name);
                if (ofOutput || isTemp(out.resolveSibling(out.getFileName() + ".ckpt"), name)) {
                    temp = true;
                    outputTempLeft |= ofOutput;
                    Files.delete(dir.resolve(name));
                } else {
                    assertTrue(name.equals(out.getFileName().toString()) || allowedLeftovers.contains(name),
                            when + ": unexpected file " + name);
                }
            }
            tally.tempLeft += temp ? 1 : 0;
            tally.killedMidWrite += tempSeen && outputTempLeft && !completeNew ? 1 : 0;
        }
        System.out.println("atomic outputs: " + label + ": " + tally);
        assertEquals(1, tally.killedMidWrite, label + ": no kill landed while the output was being written in "
                + MID_WRITE_TRIES + " tries");
    }

    /** Polls for a temp file of {@code out} and returns whether it was seen before the child ended. */
    private static boolean waitForTemp(Process p, Path out) throws Exception {
        while (p.isAlive()) {
            for (String name : TestDirs.listing(out.getParent())) {
                if (isTemp(out, name)) {
                    return true;
                }
            }
            Thread.sleep(1);
        }
        return false;
    }

    @FunctionalInterface
    private interface CompleteCheck {
        boolean test(Path model) throws Exception;
    }

    /** Loads and runs in ONNX Runtime with finite outputs. */
    private static boolean loadsAndRuns(Path model, long[] inputShape) throws LrdktException {
        OnnxModel m = OnnxModel.load(model);
        int n = (int) Arrays.stream(inputShape).reduce(1, (a, b) -> a * b);
        float[] y;
        try (Inference session = Inference.open(m, new Inference.Settings(1, false, false))) {
            y = session.run(new Inference.Tensor(ModelBuilder.random(3, n, 1f), inputShape)).values();
        }
        for (float v : y) {
            if (!Float.isFinite(v)) {
                return false;
            }
        }
        return y.length > 0;
    }

    /** Three Gemm layers, 2.6 M weights (10 MiB): big enough that the write takes a moment. */
    private static OnnxModel mlp() {
        return new ModelBuilder(1, 512).gemm("fc1", 512, 1024, true, true, 1, 1).relu()
                .gemm("fc2", 1024, 1024, true, true, 1, 1).relu().gemm("fc3", 1024, 512, true, true, 1, 1).build();
    }

    void killCompress(int trials) throws Exception {
        Path model = dir.resolve("mlp.onnx");
        mlp().save(model, OnnxModel.ExternalData.NEVER);
        Path out = dir.resolve("out.onnx");
        // any complete model serves as the earlier output; the teacher itself differs from the new one
        byte[] previous = Files.readAllBytes(model);
        String[] args = {"compress", model.toString(), "-o", out.toString(), "--target-macs", "0.3"};
        long full = ChildRuns.runToEnd(dir, args);
        byte[] fresh = Files.readAllBytes(out);
        killRepeatedly("compress", out, previous, full, trials, 20261126L,
                p -> Arrays.equals(fresh, Files.readAllBytes(p)), List.of("mlp.onnx", "child-stderr.txt"), args);
    }

    void killFinetune(int trials) throws Exception {
        TestDirs.writeMnistSubset(dir, "train", 128);
        Path student = dir.resolve("student.onnx");
        ChildRuns.runToEnd(dir, "compress", TestModels.LENET.toAbsolutePath().toString(), "-o", student.toString(), "--target-macs", "0.3");
        Path out = dir.resolve("out.onnx");
        String[] args = {"finetune", "--teacher", TestModels.LENET.toAbsolutePath().toString(), "--student",
            student.toString(), "--data", dir.toString(), "--epochs", "2", "--batch", "32", "-o", out.toString()};
        byte[] previous = Files.readAllBytes(student);
        long full = ChildRuns.runToEnd(dir, args);
        long[] shape = {1, 1, 28, 28};
        // the epoch checkpoint (for --resume) may stay after a kill; it too is written atomically and must load
        killRepeatedly("finetune", out, previous, full, trials, 20261127L,
                p -> loadsAndRuns(p, shape), List.of("student.onnx", "train-images-idx3-ubyte",
                        "train-labels-idx1-ubyte", "child-stderr.txt", "out.onnx.ckpt"), args);
        Path checkpoint = dir.resolve("out.onnx.ckpt");
        if (Files.exists(checkpoint)) {
            OnnxModel.load(checkpoint);
        }
    }

    @Test
    void killedCompressLeavesNothingOrACompleteModel() throws Exception {
        killCompress(3);
    }

    @Test
    void killedFinetuneLeavesNothingOrACompleteModel() throws Exception {
        killFinetune(1);
    }

    @Test
    @Tag("slow")
    void manyKills() throws Exception {
        killCompress(30);
        TestDirs.clearExcept(dir, dir.resolve("nothing"));
        killFinetune(15);
    }

    @Test
    void previousOutputSurvivesAFailedRun() throws Exception {
        Path out = dir.resolve("out.onnx");
        byte[] previous = Files.readAllBytes(TestModels.LENET);
        Files.write(out, previous);
        Path broken = dir.resolve("broken.onnx");
        Files.write(broken, Arrays.copyOf(previous, previous.length / 2));
        Process p = ChildRuns.start(dir, "compress", broken.toString(), "-o", out.toString());
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertEquals(1, p.exitValue());
        assertArrayEquals(previous, Files.readAllBytes(out));
    }
}
