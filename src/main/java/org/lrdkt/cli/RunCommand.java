package org.lrdkt.cli;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Options;
import org.lrdkt.LrdktException;
import org.lrdkt.data.IdxDataset;
import org.lrdkt.data.Preprocessing;
import org.lrdkt.decompose.CompressOptions;
import org.lrdkt.onnx.AtomicFiles;
import org.lrdkt.pipeline.Example;
import org.lrdkt.pipeline.Pipeline;
import org.lrdkt.pipeline.PipelineOptions;
import org.lrdkt.pipeline.PipelineResult;
import org.lrdkt.train.FinetuneOptions;
import org.lrdkt.validate.Benchmark;

/**
 * {@code lrdkt run [MODEL]}: compress, fine-tune, evaluate and benchmark in one go. Takes the flags of
 * {@code compress} and {@code finetune}, plus the benchmark's timing flags prefixed with {@code bench-}.
 */
final class RunCommand implements Command {

    /** The embedded example's default budget: a quarter of LeNet-5's MACs. */
    private static final double EXAMPLE_TARGET_MACS = 0.25;
    private static final Set<String> OWN_FLAGS = Set.of("output", "report", "data", "test-data");

    @Override
    public String name() {
        return "run";
    }

    @Override
    public String summary() {
        return "the whole pipeline: compress, fine-tune, evaluate and benchmark teacher vs student; no MODEL = the "
                + "embedded LeNet-5 and MNIST example, compressed to 25% of its MACs unless a rank policy is given";
    }

    @Override
    public String arguments() {
        return "[MODEL] [--data D] [--test-data D] [compress and finetune flags] [-o OUT]";
    }

    @Override
    public Options options() {
        Options options = new Options()
                .addOption(Flags.valued("data", "D", "training data for fine-tuning (as for finetune); without it "
                        + "the student is not fine-tuned"))
                .addOption(Flags.valued("test-data", "D", "labelled or unlabelled data to evaluate teacher and "
                        + "students on (default: t10k images in the --data folder)"))
                .addOption(Flags.output("OUT.onnx", "the final student (default lrdkt-out/MODEL_lrdkt.onnx)"))
                .addOption(Flags.valued("report", "DIR", "write report.json and report.html (charts) into DIR"))
                .addOption(Flags.toggle("no-finetune", "stop after the closed-form decomposition"))
                .addOption(Flags.toggle("no-calibration", "compute the closed form from the weights alone (default: "
                        + "calibrated on the training data, or on --calibration D)"));
        new CompressCommand().options().getOptions().stream().filter(o -> !OWN_FLAGS.contains(o.getLongOpt()))
                .forEach(options::addOption);
        FinetuneFlags.addTo(options);
        BenchCommand.addTimingOptions(options, "bench-");
        return options;
    }

    @Override
    public int run(CommandLine line) throws LrdktException {
        boolean example = Flags.positional(line, 0, 1, "MODEL").isEmpty();
        // every flag is checked before the example is unpacked or any model read
        CompressOptions compress = CompressCommand.rankPolicy(line);
        if (line.hasOption("no-calibration") && line.hasOption("calibration")) {
            throw LrdktException.usage("--no-calibration and --calibration contradict each other; give one");
        }
        CompressCommand.calibration(line, Path.of(".")); // checks the calibration flags before any work
        boolean exampleBudget = example && Arrays.stream(CompressCommand.POLICIES).noneMatch(line::hasOption);
        if (exampleBudget) {
            compress = compress.toBuilder().target(CompressOptions.Policy.TARGET_MACS, EXAMPLE_TARGET_MACS).build();
        }
        Preprocessing preprocessing = PreprocessingFlags.parse(line);
        FinetuneOptions finetune = FinetuneFlags.parse(line);
        Benchmark.BenchOptions bench = BenchCommand.parseTiming(line, "bench-", null);
        Path reportDir = line.hasOption("report") ? Flags.path(line.getOptionValue("report")) : null;

        Example embedded = example ? Example.unpack() : null;
        Path model = example ? embedded.model() : Flags.path(line.getArgList().get(0));
        Path data = line.hasOption("data") ? Flags.path(line.getOptionValue("data"))
                : example ? embedded.trainData() : null;
        Path testData = line.hasOption("test-data")
                ? IdxDataset.testImages(Flags.path(line.getOptionValue("test-data")))
                : example && !line.hasOption("data") ? embedded.testData() : IdxDataset.mnistImages(data, "t10k");
        Path output = line.hasOption("output") ? Flags.path(line.getOptionValue("output"))
                : Path.of("lrdkt-out", stem(model) + "_lrdkt.onnx");
        AtomicFiles.checkNotSameFile(model, output);
        compress = compress.toBuilder().calibration(CompressCommand.calibration(line,
                line.hasOption("no-calibration") ? null : data)).build();
        PipelineOptions options = new PipelineOptions(model, data, testData, preprocessing, compress,
                line.hasOption("no-finetune") || data == null ? null : finetune, bench, output, reportDir,
                FinetuneFlags.loaderThreads(line));
        if (example) {
            System.out.println("lrdkt run: the embedded example: LeNet-5 (PyTorch, 98.50% on its 2,000 test digits), "
                    + "8,000 MNIST training digits" + (exampleBudget ? ", compressed to "
                    + (int) (100 * EXAMPLE_TARGET_MACS) + "% of its MACs" : ""));
        }
        PipelineResult result;
        try (ConsoleProgress progress = new ConsoleProgress(name())) {
            result = Pipeline.run(options, progress);
        }
        System.out.print(result.compress().table());
        if (result.finetune() != null) {
            System.out.print(result.finetune().table());
        }
        System.out.println();
        System.out.print(result.summary());
        if (testData == null) {
            System.out.println("no --test-data: accuracy not measured");
        }
        System.out.println("wrote " + result.output() + (result.report() != null ? " and " + result.report() : ""));
        return 0;
    }

    private static String stem(Path model) {
        String name = model.getFileName().toString();
        return name.endsWith(".onnx") ? name.substring(0, name.length() - 5) : name;
    }
}
