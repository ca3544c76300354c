package org.lrdkt.cli;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.lrdkt.pipeline.Pipeline;
import org.lrdkt.train.FinetuneResult;
import org.lrdkt.train.KtLoss;

/**
 * Progress: one numbered line per pipeline stage on stdout (the run's log, so that stderr holds only errors) with
 * the time the previous stage took, and a bar per fine-tuning epoch on stderr with the loss terms and throughput.
 */
final class ConsoleProgress implements Pipeline.Listener, AutoCloseable {

    private final String command;
    private ProgressBar bar;
    private int stages;
    private long stageStarted;

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
        bar = new ProgressBarBuilder().setTaskName("epoch " + epoch + "/" + epochs).setInitialMax(samples)
                .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(500).setUnit(" img", 1)
                .setConsumer(new ConsoleProgressBarConsumer(System.err)).build();
    }

    @Override
    public void step(int samplesDone, KtLoss.Terms terms, double imagesPerSecond) {
        bar.stepTo(samplesDone);
        bar.setExtraMessage(String.format("loss %.4f (hard %.4f soft %.5f hint %.5f) %.0f img/s", terms.total(),
                terms.hard(), terms.soft(), terms.hint(), imagesPerSecond));
    }

    @Override
    public void epochEnd(FinetuneResult.Epoch epoch, boolean best) {
        close();
    }

    @Override
    public void close() {
        if (bar != null) {
            bar.close();
            bar = null;
        }
    }
}
