package org.lrdkt.cli;

import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Options;
import org.lrdkt.Json;
import org.lrdkt.LrdktException;
import org.lrdkt.decompose.Calibration;
import org.lrdkt.decompose.ModelAnalysis;
import org.lrdkt.onnx.OnnxModel;
import org.lrdkt.onnx.Shapes;

/** {@code lrdkt inspect MODEL}: per-layer shapes, costs, energy ranks and break-even. */
final class InspectCommand implements Command {

    @Override
    public String name() {
        return "inspect";
    }

    @Override
    public String summary() {
        return "list Conv/Gemm/MatMul layers with params, MACs, energy ranks and break-even";
    }

    @Override
    public String arguments() {
        return "MODEL";
    }

    @Override
    public Options options() {
        Options options = new Options()
                .addOption(Flags.valued("input-shape", "SHAPE", "input shape, e.g. 1x3x224x224 (default: the model's "
                        + "own, batch 1)"))
                .addOption(Flags.toggle("json", "print JSON instead of a table"))
                .addOption(Flags.valued("calibration", "D", "also show the ranks that keep each energy level of the "
                        + "layers' responses on these samples (the data-aware spectrum compress --calibration uses)"))
                .addOption(Flags.valued("calibration-samples", "N", "samples used (default "
                        + Calibration.DEFAULT_SAMPLES + ")"));
        PreprocessingFlags.addTo(options);
        return options;
    }

    @Override
    public int run(CommandLine line) throws LrdktException {
        String model = Flags.positional(line, 1, 1, "MODEL (an .onnx file)").get(0);
        long[] shape = line.hasOption("input-shape") ? Shapes.parse(line.getOptionValue("input-shape")) : null;
        Calibration calibration = CompressCommand.calibration(line, null);
        ModelAnalysis.Report report = ModelAnalysis.analyse(OnnxModel.load(Flags.path(model)), shape, calibration);
        System.out.print(line.hasOption("json") ? Json.write(report) + "\n" : ModelAnalysis.table(report));
        return 0;
    }
}
