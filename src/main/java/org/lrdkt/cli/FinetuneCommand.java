package org.lrdkt.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Options;
import org.lrdkt.Json;
import org.lrdkt.LrdktException;
import org.lrdkt.TextTable;
import org.lrdkt.data.Dataset;
import org.lrdkt.data.Datasets;
import org.lrdkt.data.IdxDataset;
import org.lrdkt.data.Preprocessing;
import org.lrdkt.onnx.AtomicFiles;
import org.lrdkt.onnx.Inference;
import org.lrdkt.onnx.OnnxModel;
import org.lrdkt.train.FinetuneOptions;
import org.lrdkt.train.FinetuneResult;
import org.lrdkt.train.Finetuner;
import org.lrdkt.train.Optimizer;
import org.lrdkt.train.TrainData;
import org.lrdkt.validate.Evaluator;

/** {@code lrdkt finetune}: knowledge-transfer fine-tuning of a decomposed student against its teacher. */
final class FinetuneCommand implements Command {

    @Override
    public String name() {
        return "finetune";
    }

    @Override
    public String summary() {
        return "recover accuracy: train the decomposed student against the original (knowledge transfer)";
    }

    @Override
    public String arguments() {
        return "--teacher T.onnx --student S.onnx --data D -o OUT.onnx";
    }

    @Override
    public Options options() {
        FinetuneOptions d = FinetuneOptions.defaults();
        Options options = new Options()
                .addOption(Flags.valued("teacher", "T.onnx", "the original model (frozen)"))
                .addOption(Flags.valued("student", "S.onnx", "the decomposed model to train"))
                .addOption(Flags.valued("data", "D", "training data: IDX images (a folder with "
                        + "train-images-idx3-ubyte[.gz], or the file; labels from the matching labels-idx1 file when "
                        + "present), a folder with one sub-folder per class, or unlabelled .npy tensors; "
                        + "preprocessed as the flags below say"))
                .addOption(Flags.output("OUT.onnx", "where to write the fine-tuned student"))
                .addOption(Flags.valued("epochs", "N", "epochs (default " + d.epochs() + ")"))
                .addOption(Flags.valued("batch", "N", "batch size (default " + d.batch() + ")"))
                .addOption(Flags.valued("lr", "X", "learning rate (default " + d.learningRate() + ")"))
                .addOption(Flags.valued("momentum", "X", "SGD momentum (default " + d.momentum() + ")"))
                .addOption(Flags.valued("weight-decay", "X", "L2 weight decay of the student (default "
                        + d.weightDecay() + "); the teacher never decays"))
                .addOption(Flags.valued("optimizer", "sgd|adam", "update rule (default sgd)"))
                .addOption(Flags.valued("lr-schedule", "cosine|constant", "learning rate over the run: half-cosine "
                        + "decay to 0 (default) or constant"))
                .addOption(Flags.valued("warmup-epochs", "E", "ramp the learning rate up linearly over the first E "
                        + "epochs (default " + d.warmupEpochs() + "; 0 = off)"))
                .addOption(Flags.valued("clip-norm", "X", "scale each step's gradient down to L2 norm X when it is "
                        + "longer, so that higher learning rates do not diverge (default off)"))
                .addOption(Flags.valued("shift", "PX", "augmentation: move each training image by a random offset of "
                        + "up to PX pixels per axis, repeating edge pixels (default " + d.shift() + "; 0 = off; only "
                        + "[C,H,W] or [H,W,C] inputs)"))
                .addOption(Flags.valued("rotate", "DEG", "augmentation: turn each training image by a random angle of "
                        + "up to DEG degrees (default " + d.rotate() + "; 0 = off)"))
                .addOption(Flags.valued("zoom", "Z", "augmentation: scale each training image by a random factor in "
                        + "[1-Z, 1+Z] (default " + d.zoom() + "; 0 = off)"))
                .addOption(Flags.valued("temperature", "T", "soft-target temperature (default "
                        + d.temperature() + ")"))
                .addOption(Flags.valued("soft-weight", "X", "weight of the soft-target cross-entropy, which is also "
                        + "scaled by T² (default " + d.softWeight() + ")"))
                .addOption(Flags.valued("hint-weight", "X", "weight of each hint's relative squared error (default "
                        + d.hintWeight() + ")"))
                .addOption(Flags.valued("hints", "NAMES", "hint tensors shared by both models, comma-separated, or "
                        + "'none' (default: the student's lrdkt.hints metadata, the decomposed layers' outputs)"))
                .addOption(Flags.toggle("ignore-labels", "pure transfer: learn from the teacher only, even when "
                        + "labels exist"))
                .addOption(Flags.valued("seed", "N", "seed of shuffling, the held-out split and the shifts (default "
                        + d.seed() + ")"))
                .addOption(Flags.valued("limit", "N", "use at most N samples (default: all)"))
                .addOption(Flags.valued("val-fraction", "X", "share held out to pick the best epoch (default "
                        + d.valFraction() + ")"))
                .addOption(Flags.toggle("resume", "continue an interrupted run from OUT.onnx.ckpt (same flags)"))
                .addOption(Flags.valued("test-data", "D", "labelled IDX data to score teacher and written student on "
                        + "with ONNX Runtime afterwards: the t10k images, or a folder holding them"))
                .addOption(Flags.valued("report", "FILE", "also write the run's history as JSON"));
        PreprocessingFlags.addTo(options);
        return options;
    }

    private static String required(CommandLine line, String flag) throws LrdktException {
        String v = line.getOptionValue(flag);
        if (v == null) {
            throw LrdktException.usage("missing --" + flag);
        }
        return v;
    }

    static FinetuneOptions parse(CommandLine line, Path checkpoint) throws LrdktException {
        FinetuneOptions d = FinetuneOptions.defaults();
        Optimizer.Kind optimizer = Flags.enumValue(line, "optimizer", Optimizer.Kind.SGD);
        boolean cosineSchedule = Flags.word(line, "lr-schedule", "cosine", "constant").equals("cosine");
        List<String> hints = null;
        if (line.hasOption("hints")) {
            String h = line.getOptionValue("hints").trim();
            hints = h.equals("none") ? List.of() : Arrays.stream(h.split(",")).map(String::trim)
                    .filter(s -> !s.isEmpty()).toList();
        }
        return new FinetuneOptions(
                Flags.intValue(line, "epochs", d.epochs(), 1, 100_000),
                Flags.intValue(line, "batch", d.batch(), 1, 1 << 20),
                Flags.doubleValue(line, "lr", d.learningRate(), 1e-12, 100),
                Flags.doubleValue(line, "momentum", d.momentum(), 0, 0.9999),
                Flags.doubleValue(line, "weight-decay", d.weightDecay(), 0, 10),
                optimizer, cosineSchedule,
                Flags.doubleValue(line, "warmup-epochs", d.warmupEpochs(), 0, 100_000),
                Flags.doubleValue(line, "clip-norm", d.clipNorm(), 0, 1e12),
                Flags.intValue(line, "shift", d.shift(), 0, 1 << 10),
                Flags.doubleValue(line, "rotate", d.rotate(), 0, 180),
                Flags.doubleValue(line, "zoom", d.zoom(), 0, 0.9),
                Flags.doubleValue(line, "temperature", d.temperature(), 1e-3, 1e4),
                Flags.doubleValue(line, "soft-weight", d.softWeight(), 0, 1e6),
                Flags.doubleValue(line, "hint-weight", d.hintWeight(), 0, 1e6),
                hints, line.hasOption("ignore-labels"),
                Flags.intValue(line, "seed", (int) d.seed(), 0, Integer.MAX_VALUE),
                Flags.intValue(line, "limit", 0, 0, Integer.MAX_VALUE),
                Flags.doubleValue(line, "val-fraction", d.valFraction(), 0, 0.9),
                checkpoint, line.hasOption("resume"));
    }

    @Override
    public int run(CommandLine line) throws LrdktException {
        Flags.positional(line, 0, 0, "");
        Path teacherPath = Flags.path(required(line, "teacher"));
        Path studentPath = Flags.path(required(line, "student"));
        Path dataPath = Flags.path(required(line, "data"));
        Path output = Flags.path(required(line, "output"));
        AtomicFiles.checkNotSameFile(teacherPath, output);
        AtomicFiles.checkNotSameFile(studentPath, output);
        Path checkpoint = output.resolveSibling(output.getFileName() + ".ckpt");
        FinetuneOptions options = parse(line, checkpoint);
        OnnxModel teacher = OnnxModel.load(teacherPath);
        OnnxModel student = OnnxModel.load(studentPath);
        checkRunnable(teacher, teacherPath);
        checkRunnable(student, studentPath);
        Preprocessing preprocessing = PreprocessingFlags.parse(line, teacher);
        TrainData data = TrainData.load(dataPath, preprocessing);
        Dataset test = line.hasOption("test-data") ? testData(Flags.path(line.getOptionValue("test-data")),
                preprocessing) : null;
        FinetuneResult result;
        try (ConsoleProgress bar = new ConsoleProgress("finetune")) {
            result = Finetuner.finetune(teacher, student, data, options, bar);
        }
        result.student().save(output, OnnxModel.ExternalData.AUTO);
        try {
            Files.deleteIfExists(checkpoint); // the run finished: nothing left to resume
        } catch (IOException e) {
            System.err.println("lrdkt finetune: warning: could not delete checkpoint " + checkpoint);
        }
        System.out.print(table(result));
        if (test != null) {
            System.out.printf("test accuracy (ONNX Runtime, %d samples): teacher %.2f%%, student before %.2f%%, "
                    + "fine-tuned %.2f%%%n", test.size(), 100 * top1(teacher, test), 100 * top1(student, test),
                    100 * top1(result.student(), test));
        }
        System.out.println("wrote " + output);
        if (line.hasOption("report")) {
            AtomicFiles.writeString(Flags.path(line.getOptionValue("report")), Json.write(result) + "\n");
        }
        return 0;
    }

    /** The test split of {@code path}, checked for labels before any training: it is only read to score. */
    private static Dataset testData(Path path, Preprocessing preprocessing) throws LrdktException {
        Dataset test = Datasets.open(IdxDataset.testImages(path), null, preprocessing);
        if (!test.labelled()) {
            throw LrdktException.badInput("test data " + test.description() + " has no labels");
        }
        return test;
    }

    /** Top-1 accuracy as ONNX Runtime computes it: the model written, not the training mirror, is what scores. */
    private static double top1(OnnxModel model, Dataset test) throws LrdktException {
        return Evaluator.evaluate(model, null, test, new Evaluator.EvalOptions(500, Inference.Settings.defaults(),
                false)).top1();
    }

    /**
     * ONNX Runtime validates what the training mirror takes on trust (attribute ranges, groups, opsets): a model it
     * cannot load is refused before any training, since the written student could not run either.
     */
    private static void checkRunnable(OnnxModel model, Path path) throws LrdktException {
        try {
            Inference.open(model, new Inference.Settings(1, false, false)).close(); // opening is the check
        } catch (LrdktException e) {
            throw new LrdktException(e.kind(), path + ": " + e.getMessage(), e);
        }
    }

    private static String pct(double v) {
        return String.format("%.2f%%", 100 * v);
    }

    static String table(FinetuneResult r) {
        TextTable t = new TextTable("epoch", "loss", "hard CE", "soft CE", "hint", "held-out loss",
                "held-out " + r.metric(), "images/s", "seconds");
        t.row("0" + (r.bestEpoch() == 0 ? " *" : ""), "", "", "", "", String.format("%.4f", r.initialLoss()),
                pct(r.initialScore()), "", "");
        for (FinetuneResult.Epoch e : r.history()) {
            t.row(e.epoch() + (e.epoch() == r.bestEpoch() ? " *" : ""), String.format("%.4f", e.total()),
                    String.format("%.4f", e.hard()), String.format("%.5f", e.soft()), String.format("%.5f", e.hint()),
                    String.format("%.4f", e.heldOutLoss()), pct(e.score()), String.format("%.0f", e.imagesPerSecond()), String.format("%.1f", e.seconds()));
        }
        return t.render() + String.format("teacher held-out %s %s; best epoch %d (lowest held-out loss; %s); %d training / %d held-out "
                + "samples; hints %s; %.1f s%n", r.metric(), pct(r.teacherScore()), r.bestEpoch(),
                pct(r.bestScore()), r.trainSamples(), r.heldOutSamples(), r.hints().isEmpty() ? "none" : r.hints(),
                r.seconds());
    }
}
