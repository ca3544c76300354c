package org.lrdkt.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Options;
import org.lrdkt.Json;
import org.lrdkt.LrdktException;
import org.lrdkt.onnx.OnnxModel;
import org.lrdkt.onnx.Shapes;
import org.lrdkt.validate.Benchmark;

/** {@code lrdkt bench MODEL [MODEL...]}: latency, throughput, memory and costs; ratios against the first model. */
final class BenchCommand implements Command {

    @Override
    public String name() {
        return "bench";
    }

    @Override
    public String summary() {
        return "latency P50/P90/P99, throughput, memory, params, MACs; ratios against the first model";
    }

    @Override
    public String arguments() {
        return "MODEL [MODEL...]";
    }

    @Override
    public Options options() {
        Options options = new Options()
                .addOption(Flags.valued("input-shape", "SHAPE", "input shape for models with dynamic dims, e.g. "
                        + "1x3x48x192 (the batch dim is replaced by --batch)"))
                .addOption(Flags.toggle("json", "print JSON instead of tables"));
        addTimingOptions(options, "");
        return options;
    }

    /** The timing flags (batch, threads, warm-up, runs, block, provider), each name prefixed by {@code prefix}. */
    static void addTimingOptions(Options options, String prefix) {
        Benchmark.BenchOptions d = Benchmark.BenchOptions.defaults();
        options.addOption(Flags.valued(prefix + "batch", "B", "batch size (default " + d.batch() + ")"))
                .addOption(Flags.valued(prefix + "threads", "N", "ONNX Runtime intra-op threads (default: all "
                        + d.threads() + " cores)"))
                .addOption(Flags.valued(prefix + "warmup", "W", "untimed runs per model (default " + d.warmup() + ")"))
                .addOption(Flags.valued(prefix + "runs", "R", "timed runs per model (default " + d.runs() + ")"))
                .addOption(Flags.valued(prefix + "block", "K", "consecutive runs of one model before the next "
                        + "(default " + d.block() + ")"))
                .addOption(Flags.valued(prefix + "provider", "cpu|cuda", "execution provider (cuda needs a build "
                        + "with -Pgpu and a CUDA 12 GPU)"));
    }

    /** The timing flags added by {@link #addTimingOptions}. */
    static Benchmark.BenchOptions parseTiming(CommandLine line, String prefix, long[] inputShape)
            throws LrdktException {
        Benchmark.BenchOptions d = Benchmark.BenchOptions.defaults();
        String provider = Flags.word(line, prefix + "provider", "cpu", "cuda");
        return new Benchmark.BenchOptions(
                Flags.intValue(line, prefix + "batch", d.batch(), 1, 1 << 20),
                Flags.intValue(line, prefix + "threads", d.threads(), 1, 1024),
                Flags.intValue(line, prefix + "warmup", d.warmup(), 0, 1_000_000),
                Flags.intValue(line, prefix + "runs", d.runs(), 1, 1_000_000),
                Flags.intValue(line, prefix + "block", d.block(), 1, 1_000_000),
                provider.equals("cuda"), inputShape, true);
    }

    @Override
    public int run(CommandLine line) throws LrdktException {
        List<String> files = Flags.positional(line, 1, Integer.MAX_VALUE, "MODEL (one or more .onnx files)");
        Benchmark.BenchOptions options = parseTiming(line, "",
                line.hasOption("input-shape") ? Shapes.parse(line.getOptionValue("input-shape")) : null);
        List<Benchmark.NamedModel> models = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (String file : files) {
            Path path = Flags.path(file);
            String name = path.getFileName().toString();
            // the same file twice (a noise-floor check) or two files of one name get distinct labels
            String unique = name;
            for (int n = 2; !names.add(unique); n++) {
                unique = name + " #" + n;
            }
            models.add(new Benchmark.NamedModel(unique, OnnxModel.load(path)));
        }
        Benchmark.BenchResult result = Benchmark.compare(models, options);
        System.out.print(line.hasOption("json") ? Json.write(result) + "\n" : Benchmark.table(result));
        return 0;
    }
}
