package org.lrdkt.cli;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Options;
import org.lrdkt.Json;
import org.lrdkt.LrdktException;
import org.lrdkt.OutputKind;
import org.lrdkt.onnx.Inference;
import org.lrdkt.onnx.OnnxModel;
import org.lrdkt.data.Dataset;
import org.lrdkt.data.Datasets;
import org.lrdkt.validate.Evaluator;

/** {@code lrdkt eval --model M [--reference T] --data D}: accuracy and fidelity to a reference in ONNX Runtime. */
final class EvalCommand implements Command {

    @Override
    public String name() {
        return "eval";
    }

    @Override
    public String summary() {
        return "top-1/top-5 accuracy on a data set and, per output, fidelity to a reference model, in ONNX Runtime";
    }

    @Override
    public String arguments() {
        return "--model MODEL --data DATA [--reference MODEL]";
    }

    @Override
    public Options options() {
        Options options = new Options()
                .addOption(Flags.valued("model", "MODEL", "the .onnx model to evaluate"))
                .addOption(Flags.valued("reference", "MODEL", "compare outputs of the same name with this model (e.g. "
                        + "the teacher): top-1 agreement for class logits (per position for [N,C,H,W]/[N,T,C]), mask "
                        + "IoU at 0.5 for Sigmoid outputs; cosine, relative L2 error and differences for every output"))
                .addOption(Flags.valued("data", "DATA", "IDX images file (gzipped or not; labels found by MNIST "
                        + "naming or --labels), a folder with one sub-folder per class, or an unlabelled .npy tensor "
                        + "file"))
                .addOption(Flags.valued("output-kind", "NAME=KIND,...", "what a reference output holds where its shape "
                        + "and producing op mislead (a [N,4] box regression reads as class logits): KIND classes, mask "
                        + "or values"))
                .addOption(Flags.valued("labels", "FILE", "IDX labels file for IDX images"))
                .addOption(Flags.valued("limit", "N", "evaluate only the first N samples"))
                .addOption(Flags.valued("batch", "B", "batch size (default 64)"))
                .addOption(Flags.valued("threads", "N", "ONNX Runtime intra-op threads (default: all cores)"))
                .addOption(Flags.toggle("json", "print JSON instead of a table"));
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
        Evaluator.EvalResult result = Evaluator.evaluate(model, reference, data, options, outputKinds(line));
        System.out.print(line.hasOption("json") ? Json.write(result) + "\n" : Evaluator.table(result));
        return 0;
    }

    /** {@code --output-kind NAME=KIND,...}; empty when absent. */
    private static Map<String, OutputKind> outputKinds(CommandLine line) throws LrdktException {
        Map<String, OutputKind> kinds = new LinkedHashMap<>();
        if (!line.hasOption("output-kind")) {
            return kinds;
        }
        for (String entry : line.getOptionValue("output-kind").split(",", -1)) {
            int eq = entry.lastIndexOf('=');
            String kind = entry.substring(eq + 1).trim();
            if (eq <= 0 || Arrays.stream(OutputKind.values()).noneMatch(k -> k.name().equalsIgnoreCase(kind))) {
                throw LrdktException.usage("--output-kind takes NAME=KIND entries, KIND one of classes, mask, values; "
                        + "not '" + entry.trim() + "'");
            }
            kinds.put(entry.substring(0, eq).trim(), OutputKind.valueOf(kind.toUpperCase(Locale.ROOT)));
        }
        return kinds;
    }

    static String required(CommandLine line, String flag) throws LrdktException {
        String value = line.getOptionValue(flag);
        if (value == null) {
            throw LrdktException.usage("missing --" + flag);
        }
        return value;
    }
}
