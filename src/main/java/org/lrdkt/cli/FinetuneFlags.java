package org.lrdkt.cli;

import java.util.Arrays;
import java.util.List;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Options;
import org.lrdkt.LrdktException;
import org.lrdkt.train.FinetuneOptions;
import org.lrdkt.train.FinetuneOptions.Augmentation;
import org.lrdkt.train.FinetuneOptions.Sampling;
import org.lrdkt.train.FinetuneOptions.Schedule;
import org.lrdkt.train.FinetuneOptions.Transfer;
import org.lrdkt.train.Optimizer;
import org.lrdkt.train.OutputLosses;

/** The fine-tuning flags shared by {@code finetune} and {@code run}: schedule, augmentation, transfer, sampling. */
final class FinetuneFlags {

    /** Decoding threads: enough to keep a step of a real network fed on two cores (BENCHMARKS.md). */
    static final int DEFAULT_LOADER_THREADS = 2;

    private FinetuneFlags() {
    }

    /** {@code --loader-threads}. */
    static int loaderThreads(CommandLine line) throws LrdktException {
        return Flags.intValue(line, "loader-threads", DEFAULT_LOADER_THREADS, 0, 256);
    }

    static void addTo(Options options) {
        FinetuneOptions d = FinetuneOptions.defaults();
        Schedule s = d.schedule();
        Augmentation a = d.augmentation();
        Transfer t = d.transfer();
        options.addOption(Flags.valued("epochs", "N", "epochs (default " + s.epochs() + ")"))
                .addOption(Flags.valued("batch", "N", "batch size (default " + s.batch() + ")"))
                .addOption(Flags.valued("lr", "X", "learning rate (default " + s.learningRate() + ")"))
                .addOption(Flags.valued("momentum", "X", "SGD momentum (default " + s.momentum() + ")"))
                .addOption(Flags.valued("weight-decay", "X", "L2 weight decay of the student (default "
                        + s.weightDecay() + "); the teacher never decays"))
                .addOption(Flags.valued("optimizer", "sgd|adam", "update rule (default sgd)"))
                .addOption(Flags.valued("lr-schedule", "cosine|constant", "learning rate over the run: half-cosine "
                        + "decay to 0 (default) or constant"))
                .addOption(Flags.valued("warmup-epochs", "E", "ramp the learning rate up linearly over the first E "
                        + "epochs (default " + s.warmupEpochs() + "; 0 = off)"))
                .addOption(Flags.valued("clip-norm", "X", "scale each step's gradient down to L2 norm X when it is "
                        + "longer, so that higher learning rates do not diverge (default off)"))
                .addOption(Flags.valued("shift", "PX", "augmentation: move each training image by a random offset of "
                        + "up to PX pixels per axis, repeating edge pixels (default " + a.shift() + ", 0 with --preset "
                        + "imagenet; 0 = off; only [C,H,W] or [H,W,C] inputs)"))
                .addOption(Flags.valued("rotate", "DEG", "augmentation: turn each training image by a random angle of "
                        + "up to DEG degrees (default " + a.rotate() + ", 0 with --preset imagenet; 0 = off)"))
                .addOption(Flags.valued("zoom", "Z", "augmentation: scale each training image by a random factor in "
                        + "[1-Z, 1+Z] (default " + a.zoom() + ", 0 with --preset imagenet; 0 = off)"))
                .addOption(Flags.valued("random-crop", "MIN", "augmentation: train on random-resized crops of each "
                        + "image, covering MIN to all of its area with aspect ratios 3/4 to 4/3, cut from the decoded "
                        + "image before resizing (torchvision's RandomResizedCrop; image folders only; default off, "
                        + Augmentation.imagenet().cropScale() + " with --preset imagenet; 0 = off)"))
                .addOption(Flags.valued("flip", "on|off", "augmentation: mirror each training image left to right "
                        + "with probability 1/2 (default off, on with --preset imagenet)"))
                .addOption(Flags.valued("loader-threads", "N", "threads decoding an image folder's batches ahead of "
                        + "the training step (default " + DEFAULT_LOADER_THREADS + "; 0 = decode on the training "
                        + "thread when a batch is needed); in-memory data (IDX, .npy) needs none"))
                .addOption(Flags.valued("temperature", "T", "soft-target temperature (default "
                        + t.temperature() + ")"))
                .addOption(Flags.valued("soft-weight", "X", "weight of the soft-target cross-entropy, which is also "
                        + "scaled by T² (default " + t.softWeight() + ")"))
                .addOption(Flags.valued("hint-weight", "X", "weight of each hint's relative squared error (default "
                        + t.hintWeight() + ")"))
                .addOption(Flags.valued("hints", "NAMES", "hint tensors shared by both models, comma-separated, or "
                        + "'none' (default: the student's lrdkt.hints metadata, the decomposed layers' outputs)"))
                .addOption(Flags.valued("output-loss", "auto|softmax|sigmoid|mse|cosine", "transfer loss on each "
                        + "model output, weighted by --soft-weight: one for all, one per output in order (sigmoid,mse) "
                        + "or by name (boxes=mse,scores=sigmoid) (default auto: softmax for class logits, also per "
                        + "position for [N,C,H,W]/[N,T,C]; sigmoid BCE after a Sigmoid node; else relative mse)"))
                .addOption(Flags.toggle("ignore-labels", "pure transfer: learn from the teacher only, even when "
                        + "labels exist"))
                .addOption(Flags.valued("seed", "N", "seed of shuffling, the held-out split and the shifts (default "
                        + d.sampling().seed() + ")"))
                .addOption(Flags.valued("limit", "N", "use at most N samples (default: all)"))
                .addOption(Flags.valued("val-fraction", "X", "share held out to pick the best epoch (default "
                        + d.sampling().valFraction() + ")"));
    }

    /**
     * The flags, without a checkpoint file (the stage places it beside its output); {@code --resume} is read when the
     * command offers it.
     */
    static FinetuneOptions parse(CommandLine line) throws LrdktException {
        FinetuneOptions d = FinetuneOptions.defaults();
        Schedule s = d.schedule();
        // photos train on crops and flips, digits on small shifts, turns and zooms
        Augmentation a = PreprocessingFlags.imagenetPreset(line) ? Augmentation.imagenet() : d.augmentation();
        Transfer t = d.transfer();
        Sampling p = d.sampling();
        Optimizer.Kind optimizer = Flags.enumValue(line, "optimizer", s.optimizer());
        boolean cosine = Flags.word(line, "lr-schedule", "cosine", "constant").equals("cosine");
        List<String> hints = hints(line);
        Schedule schedule = new Schedule(
                Flags.intValue(line, "epochs", s.epochs(), 1, 100_000),
                Flags.intValue(line, "batch", s.batch(), 1, 1 << 20),
                Flags.doubleValue(line, "lr", s.learningRate(), 1e-12, 100),
                Flags.doubleValue(line, "momentum", s.momentum(), 0, 0.9999),
                Flags.doubleValue(line, "weight-decay", s.weightDecay(), 0, 10),
                optimizer, cosine,
                Flags.doubleValue(line, "warmup-epochs", s.warmupEpochs(), 0, 100_000),
                Flags.doubleValue(line, "clip-norm", s.clipNorm(), 0, 1e12));
        Augmentation augmentation = new Augmentation(
                Flags.intValue(line, "shift", a.shift(), 0, 1 << 10),
                Flags.doubleValue(line, "rotate", a.rotate(), 0, 180),
                Flags.doubleValue(line, "zoom", a.zoom(), 0, 0.9),
                Flags.doubleValue(line, "random-crop", a.cropScale(), 0, 1),
                Flags.word(line, "flip", a.flip() ? "on" : "off", a.flip() ? "off" : "on").equals("on"));
        Transfer transfer = new Transfer(
                Flags.doubleValue(line, "temperature", t.temperature(), 1e-3, 1e4),
                Flags.doubleValue(line, "soft-weight", t.softWeight(), 0, 1e6),
                Flags.doubleValue(line, "hint-weight", t.hintWeight(), 0, 1e6),
                hints, line.hasOption("ignore-labels"), line.hasOption("output-loss")
                ? OutputLosses.parse(line.getOptionValue("output-loss")) : t.outputLoss());
        Sampling sampling = new Sampling(
                Flags.intValue(line, "seed", (int) p.seed(), 0, Integer.MAX_VALUE),
                Flags.intValue(line, "limit", p.limit(), 0, Integer.MAX_VALUE),
                Flags.doubleValue(line, "val-fraction", p.valFraction(), 0, 0.9));
        return new FinetuneOptions(schedule, augmentation, transfer, sampling, null, line.hasOption("resume"));
    }

    /** {@code --hints}: null when absent (the student's metadata decides), empty for "none". */
    private static List<String> hints(CommandLine line) {
        if (!line.hasOption("hints")) {
            return null;
        }
        String h = line.getOptionValue("hints").trim();
        return h.equals("none") ? List.of() : Arrays.stream(h.split(",")).map(String::trim).filter(x -> !x.isEmpty())
                .toList();
    }
}
