package org.lrdkt.cli;

import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;
import org.lrdkt.Json;
import org.lrdkt.LrdktException;
import org.lrdkt.onnx.Inference;
import org.lrdkt.onnx.OnnxModel;
import org.lrdkt.data.Dataset;
import org.lrdkt.data.Datasets;
import org.lrdkt.validate.Evaluator;

/** {@code lrdkt eval --model M [--reference T] --data D}: accuracy and agreement in ONNX Runtime. */
final class EvalCommand implements Command {

    @Override
    public String name() {
        return "eval";
    }

    @Override
    public String summary() {
        return "top-1/top-5 accuracy on a data set and agreement with a reference model, in ONNX Runtime";
    }

    @Override
    public String arguments() {
        return "--model MODEL --data DATA [--reference MODEL]";
    }

    @Override
    public Options options() {
        Options options = new Options()
                .addOption(Option.builder().longOpt("model").hasArg().argName("MODEL").desc("the .onnx model to "
                        + "evaluate").build())
                .addOption(Option.builder().longOpt("reference").hasArg().argName("MODEL").desc("compare outputs "
                        + "with this model (e.g. the teacher): agreement, output difference, cosine").build())
                .addOption(Option.builder().longOpt("data").hasArg().argName("DATA").desc("IDX images file "
                        + "(gzipped or not; labels found by MNIST naming or --labels), a folder with one sub-folder "
                        + "per class, or an unlabelled .npy tensor file").build())
                .addOption(Option.builder().longOpt("labels").hasArg().argName("FILE").desc("IDX labels file for "
                        + "IDX images").build())
                .addOption(Option.builder().longOpt("limit").hasArg().argName("N").desc("evaluate only the first N "
                        + "samples").build())
                .addOption(Option.builder().longOpt("batch").hasArg().argName("B").desc("batch size (default 64)")
                        .build())
                .addOption(Option.builder().longOpt("threads").hasArg().argName("N").desc("ONNX Runtime intra-op "
                        + "threads (default: all cores)").build())
                .addOption(Option.builder().longOpt("json").desc("print JSON instead of a table").build());
        PreprocessingFlags.addTo(options);
        return options;
    }

    @Override
    public int run(CommandLine line) throws LrdktException {
        Flags.positional(line, 0, 0, "nothing");
        OnnxModel model = OnnxModel.load(Flags.path(required(line, "model")));
        OnnxModel reference = line.hasOption("reference")
                ? OnnxModel.load(Flags.path(line.getOptionValue("reference"))) : null;
        Dataset data = Datasets.open(Flags.path(required(line, "data")),
                line.hasOption("labels") ? Flags.path(line.getOptionValue("labels")) : null,
                PreprocessingFlags.parse(line, model))
                .limit(Flags.intValue(line, "limit", 0, 1, Integer.MAX_VALUE));
        int threads = Flags.intValue(line, "threads", Inference.Settings.defaults().threads(), 1, 1024);
        Evaluator.EvalOptions options = new Evaluator.EvalOptions(Flags.intValue(line, "batch", 64, 1, 65536),
                Inference.Settings.defaults().withThreads(threads), true);
        Evaluator.EvalResult result = Evaluator.evaluate(model, reference, data, options);
        System.out.print(line.hasOption("json") ? Json.write(result) + "\n" : Evaluator.table(result));
        return 0;
    }

    static String required(CommandLine line, String flag) throws LrdktException {
        String value = line.getOptionValue(flag);
        if (value == null) {
            throw LrdktException.usage("missing --" + flag);
        }
        return value;
    }
}
