package org.lrdkt;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * A progress bar on stderr for a long step, silent when stderr is not a terminal (pipes, CI, log files, tests) so
 * that logs and captured output stay clean. Stages take one of these rather than printing themselves.
 */
public final class TerminalProgress implements AutoCloseable {

    private final ProgressBar bar;

    private TerminalProgress(ProgressBar bar) {
        this.bar = bar;
    }

    /** A bar for {@code total} units when {@code enabled} and stderr is a terminal; otherwise a silent one. */
    public static TerminalProgress start(String task, long total, String unit, boolean enabled) {
        if (!enabled || !stderrIsTerminal()) {
            return new TerminalProgress(null);
        }
        ProgressBar bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(total).setUnit(" " + unit, 1)
                .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(250).continuousUpdate()
                .setConsumer(new ConsoleProgressBarConsumer(System.err)).build();
        return new TerminalProgress(bar);
    }

    /**
     * Whether stderr, where bars are drawn, is a terminal: a bar redraws itself with carriage returns, which a log
     * file keeps as one endless line. Java 17 only tells whether stdin and stdout are a console; on Linux
     * /proc/self/fd/2 names what stderr is, which also tells {@code lrdkt ... 2> log} from an interactive run.
     */
    public static boolean stderrIsTerminal() {
        try {
            String target = Files.readSymbolicLink(Path.of("/proc/self/fd/2")).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
        } catch (IOException | UnsupportedOperationException e) {
            return System.console() != null; // no /proc: the console is the best guess there is
        }
    }

    public void step(long units) {
        if (bar != null) {
            bar.stepBy(units);
        }
    }

    @Override
    public void close() {
        if (bar != null) {
            bar.close();
        }
    }
}
