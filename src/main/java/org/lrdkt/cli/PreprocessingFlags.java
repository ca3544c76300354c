package org.lrdkt.cli;

import java.util.Locale;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Options;
import org.lrdkt.LrdktException;
import org.lrdkt.onnx.OnnxModel;
import org.lrdkt.onnx.Shapes;
import org.lrdkt.data.Preprocessing;

/** The data preprocessing flags shared by commands that read data sets (eval; later finetune and run). */
final class PreprocessingFlags {

    private PreprocessingFlags() {
    }

    static void addTo(Options options) {
        options.addOption(Flags.valued("scale", "S", "multiply raw values by S (default 1/255 for 8-bit images, 1 "
                + "for float tensors); accepts a fraction like 1/255"))
                .addOption(Flags.valued("mean", "M[,M,M]", "subtract per-channel mean after scaling (default 0)"))
                .addOption(Flags.valued("std", "S[,S,S]", "divide by per-channel std (default 1)"))
                .addOption(Flags.valued("resize", "HxW", "resize images bilinearly (default: the model's input size)"))
                .addOption(Flags.valued("channels", "1|3", "grayscale or RGB (default: the model's input channels)"))
                .addOption(Flags.valued("layout", "nchw|nhwc", "sample layout (default nchw)"));
    }

    /** The flags, with unset sizes taken from the model's first input. */
    static Preprocessing parse(CommandLine line, OnnxModel model) throws LrdktException {
        return parse(line).withModelInput(Shapes.declaredInputDims(model));
    }

    /** The flags alone; unset sizes stay unset until {@link Preprocessing#withModelInput} resolves them. */
    static Preprocessing parse(CommandLine line) throws LrdktException {
        Preprocessing.Layout layout = Flags.enumValue(line, "layout", Preprocessing.Layout.NCHW);
        int height = 0;
        int width = 0;
        if (line.hasOption("resize")) {
            String[] parts = line.getOptionValue("resize").toLowerCase(Locale.ROOT).split("x");
            try {
                if (parts.length != 2) {
                    throw new NumberFormatException();
                }
                height = Integer.parseInt(parts[0].trim());
                width = Integer.parseInt(parts[1].trim());
                if (height <= 0 || width <= 0) {
                    throw new NumberFormatException();
                }
            } catch (NumberFormatException e) {
                throw LrdktException.usage("--resize expects HxW like 224x224, got '" + line.getOptionValue("resize")
                        + "'");
            }
        }
        Double scale = line.hasOption("scale") ? number(line.getOptionValue("scale"), "scale") : null;
        return new Preprocessing(scale, numbers(line, "mean", 0), numbers(line, "std", 1), height, width,
                Flags.intValue(line, "channels", 0, 1, 3), layout).validated();
    }

    private static double[] numbers(CommandLine line, String flag, double fallback) throws LrdktException {
        if (!line.hasOption(flag)) {
            return new double[] {fallback};
        }
        String[] parts = line.getOptionValue(flag).split(",");
        double[] values = new double[parts.length];
        for (int i = 0; i < parts.length; i++) {
            values[i] = number(parts[i], flag);
        }
        return values;
    }

    /** A number or a fraction ("1/255"). */
    private static double number(String text, String flag) throws LrdktException {
        try {
            String t = text.trim();
            int slash = t.indexOf('/');
            double v = slash < 0 ? Double.parseDouble(t)
                    : Double.parseDouble(t.substring(0, slash)) / Double.parseDouble(t.substring(slash + 1));
            if (!Double.isFinite(v)) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw LrdktException.usage("--" + flag + " expects numbers, got '" + text + "'");
        }
    }
}
