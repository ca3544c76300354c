package org.lrdkt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.stream.Stream;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Options;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lrdkt.Cli;
import org.lrdkt.LrdktException;
import org.lrdkt.TestModels;
import org.lrdkt.onnx.OnnxModel;

/**
 * A model file truncated by another process after lrdkt mapped it: the next read of its tensors faults. The run must
 * end in one line that says the input changed, exit 1, and leave no output (nor temp or data file) behind.
 */
class InputChangedTest {

    @TempDir
    Path dir;

    /** Loads MODEL, truncates it as another process would, then saves the loaded model to OUT with external data. */
    private static final class TruncateAfterLoading implements Command {
        @Override
        public String name() {
            return "truncate-after-loading";
        }

        @Override
        public String summary() {
            return "test only";
        }

        @Override
        public String arguments() {
            return "MODEL OUT";
        }

        @Override
        public Options options() {
            return new Options();
        }

        @Override
        public int run(CommandLine line) throws LrdktException {
            Path model = Path.of(line.getArgs()[0]);
            OnnxModel loaded = OnnxModel.load(model);
            try (FileChannel file = FileChannel.open(model, StandardOpenOption.WRITE)) {
                file.truncate(0);
            } catch (IOException e) {
                throw new AssertionError(e);
            }
            loaded.save(Path.of(line.getArgs()[1]), OnnxModel.ExternalData.ALWAYS);
            return 0;
        }
    }

    @Test
    void aModelTruncatedWhileInUseEndsInOneLineAndWritesNothing() throws Exception {
        Path input = dir.resolve("in").resolve("lenet5.onnx");
        Files.createDirectories(input.getParent());
        Files.copy(TestModels.LENET, input);
        Path outputs = Files.createDirectories(dir.resolve("out"));
        Cli.Result r = Cli.capture(() -> Main.run(List.of(new TruncateAfterLoading()), "truncate-after-loading",
                input.toString(), outputs.resolve("student.onnx").toString()));
        assertEquals(1, r.exitCode(), r.err());
        assertTrue(r.errIsOneLine(), r.err());
        assertTrue(r.err().contains("input " + input.toAbsolutePath() + " changed while lrdkt read it"), r.err());
        try (Stream<Path> written = Files.list(outputs)) {
            assertEquals(List.of(), written.toList());
        }
    }
}
