package org.lrdkt.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
        Options options = new Options()
                .addOption(Flags.valued("teacher", "T.onnx", "the original model (frozen)"))
                .addOption(Flags.valued("student", "S.onnx", "the decomposed model to train"))
                .addOption(Flags.valued("data", "D", "training data: IDX images (a folder with "
                        + "train-images-idx3-ubyte[.gz], or the file; labels from the matching labels-idx1 file when "
                        + "present), a folder with one sub-folder per class, or unlabelled .npy tensors; "
                        + "preprocessed as the flags below say"))
                .addOption(Flags.output("OUT.onnx", "where to write the fine-tuned student"));
        FinetuneFlags.addTo(options);
        options.addOption(Flags.toggle("resume", "continue an interrupted run from OUT.onnx.ckpt (same flags)"))
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
        FinetuneOptions parsed = FinetuneFlags.parse(line);
        FinetuneOptions options = parsed.withCheckpoint(checkpoint, parsed.resume());
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
