package org.lrdkt;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * A progress bar on stderr for a long step, silent when the process has no terminal (pipes, CI, tests) so that
 * logs and captured output stay clean. Stages take one of these rather than printing themselves.
 */
public final class Progress implements AutoCloseable {

    private final ProgressBar bar;

    private Progress(ProgressBar bar) {
        this.bar = bar;
    }

    /** A bar for {@code total} units when {@code enabled} and a terminal is attached; otherwise a silent one. */
    public static Progress start(String task, long total, String unit, boolean enabled) {
        if (!enabled || System.console() == null) {
            return new Progress(null);
        }
        ProgressBar bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(total).setUnit(" " + unit, 1)
                .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(250).continuousUpdate()
                .setConsumer(new ConsoleProgressBarConsumer(System.err)).build();
        return new Progress(bar);
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
