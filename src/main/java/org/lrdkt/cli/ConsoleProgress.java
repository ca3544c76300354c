package org.lrdkt.cli;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.lrdkt.TerminalProgress;
import org.lrdkt.pipeline.Pipeline;
import org.lrdkt.train.FinetuneResult;
import org.lrdkt.train.KtLoss;

/**
 * Progress: one numbered line per pipeline stage on stdout (the run's log, so that stderr holds only errors) with
 * the time the previous stage took, and a bar per fine-tuning epoch on stderr with the loss terms and throughput.
 * When stderr is not a terminal (CI, nohup, a log file) the bar's carriage-return frames would pile up in the log:
 * a line every {@value #LOG_INTERVAL_SECONDS} seconds and one per finished epoch take its place.
 */
final class ConsoleProgress implements Pipeline.Listener, AutoCloseable {

    static final int LOG_INTERVAL_SECONDS = 10;

    private final String command;
    private final boolean drawBars = TerminalProgress.stderrIsTerminal();
    private ProgressBar bar;
    private int stages;
    private long stageStarted;
    private String epochName;
    private int epochSamples;
    private long lastLogLine;

    ConsoleProgress(String command) {
        this.command = command;
    }

    @Override
    public void stage(String description) {
        long now = System.nanoTime();
        String took = stages == 0 ? "" : String.format(" (previous step %.1f s)", (now - stageStarted) / 1e9);
        stageStarted = now;
        System.out.println("lrdkt " + command + ": [" + ++stages + "] " + description + took);
    }

    @Override
    public void epochStart(int epoch, int epochs, int samples) {
        close();
        epochName = "epoch " + epoch + "/" + epochs;
        epochSamples = samples;
        lastLogLine = System.nanoTime();
        if (drawBars) {
            bar = new ProgressBarBuilder().setTaskName(epochName).setInitialMax(samples)
                    .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(500).setUnit(" img", 1)
                    .setConsumer(new ConsoleProgressBarConsumer(System.err)).build();
        }
    }

    @Override
    public void step(int samplesDone, KtLoss.Terms terms, double imagesPerSecond) {
        String loss = String.format("loss %.4f (hard %.4f output %.5f hint %.5f) %.0f img/s", terms.total(),
                terms.hard(), terms.soft(), terms.hint(), imagesPerSecond);
        if (bar != null) {
            bar.stepTo(samplesDone);
            bar.setExtraMessage(loss);
            return;
        }
        long now = System.nanoTime();
        if (now - lastLogLine >= LOG_INTERVAL_SECONDS * 1_000_000_000L) {
            lastLogLine = now;
            System.err.println("lrdkt " + command + ": " + epochName + ": " + samplesDone + "/" + epochSamples
                    + " img, " + loss);
        }
    }

    @Override
    public void epochEnd(FinetuneResult.Epoch epoch, boolean best) {
        close();
        if (!drawBars) {
            System.err.printf("lrdkt %s: %s done in %.1f s: loss %.4f, held-out loss %.4f%s; per batch: step %.1f ms, "
                    + "waiting for data %.1f ms%n", command, epochName, epoch.seconds(), epoch.total(),
                    epoch.heldOutLoss(), best ? " (best so far)" : "", epoch.stepMillis(), epoch.loaderMillis());
        }
    }

    @Override
    public void close() {
        if (bar != null) {
            bar.close();
            bar = null;
        }
    }
}
