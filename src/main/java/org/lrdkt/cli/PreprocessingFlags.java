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
        options.addOption(Flags.valued("preset", "imagenet|none", "start from a known preprocessing; the flags below "
                + "override its fields. imagenet: shorter side 256, centre crop 224x224, RGB, scale 1/255, mean "
                + "0.485,0.456,0.406, std 0.229,0.224,0.225 (and, for fine-tuning, random-resized crops and flips)"))
                .addOption(Flags.valued("scale", "S", "multiply raw values by S (default 1/255 for 8-bit images, 1 "
                + "for float tensors); accepts a fraction like 1/255"))
                .addOption(Flags.valued("mean", "M[,M,M]", "subtract per-channel mean after scaling (default 0)"))
                .addOption(Flags.valued("std", "S[,S,S]", "divide by per-channel std (default 1)"))
                .addOption(Flags.valued("resize", "HxW|S", "resize images to HxW (bilinear, antialiased when "
                        + "shrinking; default: the model's input size), or so that their shorter side is S, keeping "
                        + "the aspect ratio, then take the centre crop (--crop)"))
                .addOption(Flags.valued("crop", "HxW|S", "with --resize S: the centre crop taken (default: the "
                        + "model's input size)"))
                .addOption(Flags.valued("channels", "1|3", "grayscale or RGB (default: the model's input channels)"))
                .addOption(Flags.valued("layout", "nchw|nhwc", "sample layout (default nchw)"));
    }

    /** Whether {@code --preset imagenet} was given (fine-tuning then also draws random-resized crops and flips). */
    static boolean imagenetPreset(CommandLine line) throws LrdktException {
        return Flags.word(line, "preset", "none", "imagenet").equals("imagenet");
    }

    /** The flags, with unset sizes taken from the model's first input. */
    static Preprocessing parse(CommandLine line, OnnxModel model) throws LrdktException {
        return parse(line).withModelInput(Shapes.declaredInputDims(model));
    }

    /** The flags alone; unset sizes stay unset until {@link Preprocessing#withModelInput} resolves them. */
    static Preprocessing parse(CommandLine line) throws LrdktException {
        Preprocessing base = imagenetPreset(line) ? Preprocessing.imagenet() : Preprocessing.defaults();
        Preprocessing.Layout layout = Flags.enumValue(line, "layout", base.layout());
        int height = base.height();
        int width = base.width();
        int shorterSide = base.shorterSide();
        if (line.hasOption("resize")) {
            int[] size = size(line, "resize");
            shorterSide = size.length == 1 ? size[0] : 0;
            if (size.length == 2) {
                height = size[0];
                width = size[1];
            }
        }
        if (line.hasOption("crop")) {
            if (shorterSide == 0) {
                throw LrdktException.usage("--crop takes the centre of an image resized by its shorter side: give "
                        + "--resize S (one number) with it");
            }
            int[] size = size(line, "crop");
            height = size[0];
            width = size[size.length - 1];
        }
        Double scale = line.hasOption("scale") ? Double.valueOf(number(line.getOptionValue("scale"), "scale"))
                : base.scale();
        double[] mean = line.hasOption("mean") ? numbers(line, "mean") : base.mean();
        double[] std = line.hasOption("std") ? numbers(line, "std") : base.std();
        return new Preprocessing(scale, mean, std, height, width,
                Flags.intValue(line, "channels", base.channels(), 1, 3), layout, shorterSide).validated();
    }

    /** {@code HxW} as two numbers or {@code S} as one, all positive. */
    private static int[] size(CommandLine line, String flag) throws LrdktException {
        String text = line.getOptionValue(flag);
        String[] parts = text.toLowerCase(Locale.ROOT).split("x");
        try {
            if (parts.length > 2) {
                throw new NumberFormatException();
            }
            int[] size = new int[parts.length];
            for (int i = 0; i < parts.length; i++) {
                size[i] = Integer.parseInt(parts[i].trim());
                if (size[i] <= 0) {
                    throw new NumberFormatException();
                }
            }
            return size;
        } catch (NumberFormatException e) {
            throw LrdktException.usage("--" + flag + " expects HxW like 224x224 or one size like 256, got '" + text
                    + "'");
        }
    }

    private static double[] numbers(CommandLine line, String flag) throws LrdktException {
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
