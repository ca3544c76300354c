package org.lrdkt.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Options;
import org.lrdkt.Json;
import org.lrdkt.LrdktException;
import org.lrdkt.decompose.Calibration;
import org.lrdkt.decompose.CompressOptions;
import org.lrdkt.decompose.Compressor;
import org.lrdkt.decompose.LowRank;
import org.lrdkt.onnx.AtomicFiles;
import org.lrdkt.onnx.OnnxModel;
import org.lrdkt.onnx.Shapes;

/** {@code lrdkt compress MODEL -o OUT}: closed-form low-rank decomposition of Conv and fully-connected layers. */
final class CompressCommand implements Command {

    static final String[] POLICIES = {"energy", "ranks", "target-macs", "target-params", "target-latency"};

    @Override
    public String name() {
        return "compress";
    }

    @Override
    public String summary() {
        return "decompose Conv/Gemm/MatMul layers into low-rank pairs (closed form) and write the student model";
    }

    @Override
    public String arguments() {
        return "MODEL -o OUTPUT";
    }

    @Override
    public Options options() {
        Options options = new Options()
                .addOption(Flags.output("FILE", "where to write the compressed model (required; never the input)"))
                .addOption(Flags.valued("energy", "E", "keep fraction E of each layer's singular-value energy "
                        + "(default 0.9; the paper used 0.7 and 0.5); with --calibration, of its responses on the "
                        + "data"))
                .addOption(Flags.valued("ranks", "FILE.json", "explicit ranks {\"layer name\": K, ...}; unnamed "
                        + "layers stay untouched"))
                .addOption(Flags.valued("target-macs", "R", "keep fraction R of the decomposable layers' MACs, ranks "
                        + "allocated by least energy lost per MAC saved"))
                .addOption(Flags.valued("target-params", "R", "the same for parameters"))
                .addOption(Flags.valued("target-latency", "R", "the decomposable layers' summed ONNX Runtime "
                        + "latency, each measured alone on its input shape, at most R times the original's; ranks by "
                        + "least energy lost per ms saved"))
                .addOption(Flags.valued("objective", "macs|latency", "with --target-macs: buy ranks per MAC "
                        + "(default) or per measured millisecond saved"))
                .addOption(Flags.valued("latency-cache", "DIR", "where measured per-layer latency tables are cached "
                        + "(default ~/.cache/lrdkt/latency)"))
                .addOption(Flags.valued("round-to", "M", "round every rank up to a multiple of M (default 1)"))
                .addOption(Flags.valued("scheme", "spatial|channel|auto", "conv factorisation: spatial kh×1 + 1×kw "
                        + "(paper, default), channel kh×kw + 1×1, or auto (per layer the one with fewer MACs at the "
                        + "same energy)"))
                .addOption(Flags.valued("include", "REGEX", "only layers whose name matches"))
                .addOption(Flags.valued("exclude", "REGEX", "leave layers whose name matches untouched"))
                .addOption(Flags.valued("input-shape", "SHAPE", "input shape for measuring MACs, e.g. 1x3x224x224 "
                        + "(default: the model's own, batch 1)"))
                .addOption(Flags.valued("report", "FILE.json", "also write the per-layer report (with energy curves) "
                        + "as JSON"))
                .addOption(Flags.valued("solver", "auto|svd|gram|randomized", "factor solver: full SVD, Gram eigen "
                        + "route, randomized range finder (spectrum from Gram eigenvalues), or auto: SVD for small "
                        + "layers, randomized for the rest (default)"))
                .addOption(Flags.valued("threads", "N", "layers analysed in parallel (default 1: LAPACK uses every "
                        + "core)"));
        addCalibrationOptions(options);
        PreprocessingFlags.addTo(options);
        return options;
    }

    private static void addCalibrationOptions(Options options) {
        options.addOption(Flags.valued("calibration", "D", "calibrate the closed form on unlabelled samples (any "
                        + "data finetune --data reads): each layer keeps the directions its inputs excite, and its "
                        + "bias absorbs the mean shift"))
                .addOption(Flags.valued("calibration-samples", "N", "samples used, spread evenly over the data "
                        + "(default " + Calibration.DEFAULT_SAMPLES + ")"))
                .addOption(Flags.valued("calibration-ranks", "data|weights", "with calibration, rank policies spend "
                        + "the data-aware spectra (default) or the weights' own"))
                .addOption(Flags.valued("calibration-shrinkage", "A", "ridge toward the weights' spectrum as a share "
                        + "of each layer's response energy (default " + Calibration.DEFAULT_SHRINKAGE + ")"));
    }

    @Override
    public int run(CommandLine line) throws LrdktException {
        Path input = Flags.path(Flags.positional(line, 1, 1, "MODEL (an .onnx file)").get(0));
        if (!line.hasOption("output")) {
            throw LrdktException.usage("missing -o/--output FILE (the compressed model)");
        }
        Path output = Flags.path(line.getOptionValue("output"));
        AtomicFiles.checkNotSameFile(input, output);
        Path reportFile = line.hasOption("report") ? Flags.path(line.getOptionValue("report")) : null;
        if (reportFile != null) {
            AtomicFiles.checkNotSameFile(input, reportFile);
        }
        CompressOptions options = parse(line);
        Compressor.Compression result = Compressor.compress(OnnxModel.load(input), options);
        result.student().save(output, OnnxModel.ExternalData.AUTO);
        if (reportFile != null) {
            AtomicFiles.writeString(reportFile, Json.write(result.report()) + "\n");
        }
        System.out.print(result.report().table());
        System.out.println("wrote " + output + (reportFile != null ? " and " + reportFile : ""));
        return 0;
    }

    static CompressOptions parse(CommandLine line) throws LrdktException {
        return parse(line, null);
    }

    /**
     * The flags as compress options; {@code defaultCalibration} (null: none) is the data the closed form is
     * calibrated on when no --calibration is given.
     */
    static CompressOptions parse(CommandLine line, Path defaultCalibration) throws LrdktException {
        return rankPolicy(line).toBuilder().calibration(calibration(line, defaultCalibration)).build();
    }

    /** The calibration the flags ask for, on {@code defaultData} when no --calibration is given (null: none). */
    static Calibration calibration(CommandLine line, Path defaultData) throws LrdktException {
        Path data = line.hasOption("calibration") ? Flags.path(line.getOptionValue("calibration")) : defaultData;
        if (data == null) {
            for (String flag : List.of("calibration-samples", "calibration-ranks", "calibration-shrinkage")) {
                if (line.hasOption(flag)) {
                    throw LrdktException.usage("--" + flag + " needs --calibration D");
                }
            }
            return null;
        }
        boolean dataRanks = Flags.word(line, "calibration-ranks", "data", "weights").equals("data");
        return new Calibration(data, PreprocessingFlags.parse(line),
                Flags.intValue(line, "calibration-samples", Calibration.DEFAULT_SAMPLES, 1, 1 << 24),
                dataRanks,
                Flags.doubleValue(line, "calibration-shrinkage", Calibration.DEFAULT_SHRINKAGE, 0, 1e6));
    }

    /** The rank policy and the other decomposition flags, without calibration. */
    static CompressOptions rankPolicy(CommandLine line) throws LrdktException {
        List<String> given = new ArrayList<>();
        for (String p : POLICIES) {
            if (line.hasOption(p)) {
                given.add("--" + p);
            }
        }
        if (given.size() > 1) {
            throw LrdktException.usage(String.join(" and ", given) + " are alternative rank policies; give one");
        }
        CompressOptions.Builder o = CompressOptions.builder()
                .scheme(Flags.enumValue(line, "scheme", CompressOptions.Scheme.SPATIAL))
                .roundTo(Flags.intValue(line, "round-to", 1, 1, 1 << 20))
                .include(regex(line, "include"))
                .exclude(regex(line, "exclude"))
                .solver(Flags.enumValue(line, "solver", LowRank.Solver.AUTO))
                .threads(Flags.intValue(line, "threads", 1, 1, 64));
        if (line.hasOption("input-shape")) {
            o.inputShape(Shapes.parse(line.getOptionValue("input-shape")));
        }
        if (line.hasOption("ranks")) {
            return o.ranks(readRanks(Flags.path(line.getOptionValue("ranks")))).build();
        }
        if (latencyObjective(line)) {
            if (!line.hasOption("target-macs")) {
                throw LrdktException.usage("--objective latency prices ranks under --target-macs R; for a latency "
                        + "budget give --target-latency R");
            }
            o.latency(latency(line));
        }
        if (line.hasOption("target-macs")) {
            return o.target(CompressOptions.Policy.TARGET_MACS, fraction(line, "target-macs", 0)).build();
        }
        if (line.hasOption("target-params")) {
            return o.target(CompressOptions.Policy.TARGET_PARAMS, fraction(line, "target-params", 0)).build();
        }
        if (line.hasOption("target-latency")) {
            return o.target(CompressOptions.Policy.TARGET_LATENCY, fraction(line, "target-latency", 0))
                    .latency(latency(line)).build();
        }
        return o.energy(fraction(line, "energy", CompressOptions.DEFAULT_ENERGY)).build();
    }

    private static boolean latencyObjective(CommandLine line) throws LrdktException {
        return Flags.word(line, "objective", "macs", "latency").equals("latency");
    }

    private static CompressOptions.Latency latency(CommandLine line) {
        CompressOptions.Latency defaults = CompressOptions.Latency.defaults();
        return line.hasOption("latency-cache")
                ? new CompressOptions.Latency(Flags.path(line.getOptionValue("latency-cache")), defaults.threads())
                : defaults;
    }

    /** A fraction in (0, 1]. */
    private static double fraction(CommandLine line, String flag, double fallback) throws LrdktException {
        double v = Flags.doubleValue(line, flag, fallback, 0, 1);
        if (v <= 0) {
            throw LrdktException.usage("--" + flag + " must be above 0 and at most 1");
        }
        return v;
    }

    private static Pattern regex(CommandLine line, String flag) throws LrdktException {
        String v = line.getOptionValue(flag);
        if (v == null) {
            return null;
        }
        try {
            return Pattern.compile(v);
        } catch (PatternSyntaxException e) {
            throw LrdktException.usage("--" + flag + " '" + v + "' is not a valid regular expression: "
                    + e.getDescription());
        }
    }

    /** {"layer": K, ...}; every value a positive integer (range against the layer is checked by the compressor). */
    static Map<String, Integer> readRanks(Path file) throws LrdktException {
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(Files.readString(file));
        } catch (IOException e) {
            throw LrdktException.usage("cannot read ranks file " + file + ": "
                    + LrdktException.oneLine(e.getMessage()));
        }
        if (root == null || !root.isObject() || root.isEmpty()) {
            throw LrdktException.usage("ranks file " + file + " must be a non-empty JSON object {\"layer name\": K}");
        }
        Map<String, Integer> ranks = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            JsonNode v = e.getValue();
            if (!v.canConvertToInt() || !v.isIntegralNumber() || v.asInt() <= 0) {
                throw LrdktException.usage("ranks file " + file + ": rank of '" + e.getKey() + "' must be a positive "
                        + "integer, got " + v);
            }
            ranks.put(e.getKey(), v.asInt());
        }
        return ranks;
    }
}
