package org.lrdkt.data;

import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.lrdkt.LrdktException;

/**
 * A folder with one sub-folder per class ({@code root/cat/1.png}, {@code root/dog/7.jpg}), like torchvision's
 * ImageFolder: classes sorted by name get labels 0, 1, ...; files with image extensions are sorted within each
 * class. Images are decoded with javax.imageio when a sample is requested, so large sets need no memory up front.
 */
public final class ImageFolderDataset extends LoadedDataset {

    private static final List<String> EXTENSIONS = List.of(".png", ".jpg", ".jpeg", ".bmp", ".gif");

    private final List<Path> files;
    private final List<String> classes;

    private ImageFolderDataset(Path root, List<Path> files, int[] labels, List<String> classes,
                               Preprocessing preprocessing) {
        super(files.size(), preprocessing.imageSampleShape(), labels, preprocessing, "image folder " + root + ": "
                + files.size() + " images in " + classes.size() + " classes");
        this.files = files;
        this.classes = classes;
    }

    /**
     * Lists the folder. Size must come from the preprocessing (or the model's input shape); channels default to
     * RGB, scale to 1/255.
     */
    public static ImageFolderDataset load(Path root, Preprocessing preprocessing) throws LrdktException {
        if (preprocessing.height() == 0 || preprocessing.width() == 0) {
            throw LrdktException.usage("images in " + root + " need a target size: give --resize HxW (the model's "
                    + "input shape does not fix it)");
        }
        List<Path> classDirs;
        try (Stream<Path> s = Files.list(root)) {
            classDirs = s.filter(Files::isDirectory).sorted().toList();
        } catch (IOException e) {
            throw new LrdktException(LrdktException.Kind.IO, "cannot list " + root + ": " + e.getMessage(), e);
        }
        List<Path> files = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        List<String> classes = new ArrayList<>();
        for (Path dir : classDirs) {
            List<Path> images;
            try (Stream<Path> s = Files.list(dir)) {
                images = s.filter(f -> Files.isRegularFile(f) && isImage(f)).sorted().toList();
            } catch (IOException e) {
                throw new LrdktException(LrdktException.Kind.IO, "cannot list " + dir + ": " + e.getMessage(), e);
            }
            for (Path f : images) {
                files.add(f);
                labels.add(classes.size());
            }
            classes.add(dir.getFileName().toString());
        }
        if (files.isEmpty()) {
            throw LrdktException.badInput(root + " holds no images in class sub-folders (expected "
                    + root.resolve("CLASS/IMAGE.png") + "; extensions " + String.join(" ", EXTENSIONS) + ")");
        }
        Preprocessing p = preprocessing.resolve(1.0 / 255, preprocessing.height(), preprocessing.width(), 3);
        p.checkChannels(p.channels());
        return new ImageFolderDataset(root, files, labels.stream().mapToInt(Integer::intValue).toArray(), classes, p);
    }

    private static boolean isImage(Path f) {
        String name = f.getFileName().toString().toLowerCase(Locale.ROOT);
        return EXTENSIONS.stream().anyMatch(name::endsWith);
    }

    public List<String> classes() {
        return classes;
    }




    @Override
    public void fill(int index, float[] target, int offset) throws LrdktException {
        Path file = files.get(index);
        BufferedImage image;
        try {
            image = ImageIO.read(file.toFile());
        } catch (IOException | RuntimeException e) {
            throw LrdktException.badInput("cannot decode image " + file + ": " + e.getMessage());
        }
        if (image == null) {
            throw LrdktException.badInput("cannot decode image " + file + ": not a format javax.imageio reads");
        }
        int h = image.getHeight();
        int w = image.getWidth();
        Raster raster = image.getRaster();
        boolean gray = raster.getNumBands() == 1 && image.getColorModel().getNumComponents() == 1;
        int c = gray ? 1 : 3;
        float[] hwc = new float[h * w * c];
        if (gray) {
            // read samples directly: getRGB would pass them through Java2D's linear-gray colour conversion
            int[] row = new int[w];
            int shift = Math.max(0, raster.getSampleModel().getSampleSize(0) - 8);
            for (int y = 0; y < h; y++) {
                raster.getSamples(0, y, w, 1, 0, row);
                for (int x = 0; x < w; x++) {
                    hwc[y * w + x] = row[x] >> shift;
                }
            }
        } else {
            int[] rgb = image.getRGB(0, 0, w, h, null, 0, w);
            for (int i = 0; i < rgb.length; i++) {
                hwc[i * 3] = (rgb[i] >> 16) & 0xff;
                hwc[i * 3 + 1] = (rgb[i] >> 8) & 0xff;
                hwc[i * 3 + 2] = rgb[i] & 0xff;
            }
        }
        preprocessing().writeImage(hwc, h, w, c, target, offset);
    }


}
