package org.lrdkt.cli;

import java.nio.file.Path;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Options;
import org.lrdkt.Json;
import org.lrdkt.LrdktException;
import org.lrdkt.onnx.AtomicFiles;
import org.lrdkt.pipeline.Finetuning;

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
                        + "present), a folder with one sub-folder of images per class, a folder of unlabelled images "
                        + "(streamed from disk), or unlabelled .npy tensors; preprocessed as the flags below say"))
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
        Path teacher = Flags.path(required(line, "teacher"));
        Path student = Flags.path(required(line, "student"));
        Path data = Flags.path(required(line, "data"));
        Path output = Flags.path(required(line, "output"));
        Path testData = line.hasOption("test-data") ? Flags.path(line.getOptionValue("test-data")) : null;
        Finetuning.Job job = new Finetuning.Job(teacher, student, data, testData, PreprocessingFlags.parse(line),
                FinetuneFlags.parse(line), output, FinetuneFlags.loaderThreads(line));
        Finetuning.Result result;
        try (ConsoleProgress bar = new ConsoleProgress("finetune")) {
            result = Finetuning.run(job, bar);
        }
        result.warnings().forEach(w -> System.err.println("lrdkt finetune: warning: " + w));
        System.out.print(result.summary());
        System.out.println("wrote " + result.output());
        if (line.hasOption("report")) {
            AtomicFiles.writeString(Flags.path(line.getOptionValue("report")), Json.write(result.finetune()) + "\n");
        }
        return 0;
    }
}
