package org.lrdkt.data;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.lrdkt.LrdktException;

/**
 * Images in a folder, decoded with javax.imageio only when a sample is requested, so that a folder of any size costs
 * no more memory than its list of file names (about 40 bytes a file). Two layouts:
 * <ul>
 *   <li>one sub-folder per class ({@code root/cat/1.png}, {@code root/dog/x/7.jpg}), like torchvision's
 *   ImageFolder: classes sorted by name get labels 0, 1, ...; images anywhere below a class folder belong to it;</li>
 *   <li>images directly in the folder ({@code root/1.jpg}): unlabelled.</li>
 * </ul>
 * A folder with both is refused, as it is ambiguous. Files without an image extension are skipped; files within a
 * folder are sorted by name.
 */
public final class ImageFolderDataset extends LoadedDataset {

    private static final List<String> EXTENSIONS = List.of(".png", ".jpg", ".jpeg", ".bmp", ".gif");

    private final Path root;
    /** Every file's path relative to the root, end to end; file i is {@code names[start[i] .. start[i+1])}. */
    private final String names;
    private final int[] start;
    private final List<String> classes;

    private ImageFolderDataset(Path root, String names, int[] start, int[] labels, List<String> classes,
                               Preprocessing preprocessing, String description) {
        super(start.length - 1, preprocessing.imageSampleShape(), labels, preprocessing, description);
        this.root = root;
        this.names = names;
        this.start = start;
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
        Listing top = list(root);
        Names files = new Names();
        List<Integer> labels = new ArrayList<>();
        List<String> classes = new ArrayList<>();
        int skipped = top.skipped;
        for (Path dir : top.dirs) {
            int before = files.count();
            skipped += walk(dir, root, files);
            for (int i = before; i < files.count(); i++) {
                labels.add(classes.size());
            }
            // an empty class folder keeps its label, as sorted position, so that labels do not shift
            classes.add(dir.getFileName().toString());
        }
        boolean labelled = files.count() > 0;
        if (labelled && !top.files.isEmpty()) {
            throw LrdktException.badInput(root + " holds images both directly (" + top.files.get(0) + ") and in "
                    + "class sub-folders: put the loose images in a folder of their own, or move the sub-folders "
                    + "away to read it as unlabelled images");
        }
        if (!labelled) {
            top.files.forEach(files::add);
        }
        if (files.count() == 0) {
            throw LrdktException.badInput(root + " holds no images (expected " + root.resolve("IMAGE.jpg")
                    + " for unlabelled images or " + root.resolve("CLASS/IMAGE.jpg") + " for classes; extensions "
                    + String.join(" ", EXTENSIONS) + ")");
        }
        String description = "image folder " + root + ": " + files.count() + (labelled ? " images in "
                + classes.size() + " classes" : " unlabelled images")
                + (skipped > 0 ? " (" + skipped + " files without an image extension skipped)" : "");
        Preprocessing p = preprocessing.resolve(1.0 / 255, preprocessing.height(), preprocessing.width(), 3);
        p.checkChannels(p.channels());
        return new ImageFolderDataset(root, files.text.toString(), Arrays.copyOf(files.start, files.count() + 1),
                labelled ? labels.stream().mapToInt(Integer::intValue).toArray() : null,
                labelled ? List.copyOf(classes) : List.of(), p, description);
    }

    /** File names end to end with their start offsets: a million names in tens of megabytes. */
    private static final class Names {
        final StringBuilder text = new StringBuilder();
        int[] start = new int[1024];
        private int count;

        void add(String name) {
            text.append(name);
            if (++count >= start.length) {
                start = Arrays.copyOf(start, start.length * 2);
            }
            start[count] = text.length();
        }

        int count() {
            return count;
        }
    }

    /** Image files (relative to the root, sorted) and sub-folders of one folder. */
    private static final class Listing {
        final List<String> files = new ArrayList<>();
        final List<Path> dirs = new ArrayList<>();
        int skipped;
    }

    /**
     * One folder's entries. A name with an image extension is taken as a file without asking the file system,
     * which keeps listing a folder of a million images to one directory read; anything else is checked.
     */
    private static Listing list(Path dir) throws LrdktException {
        if (!Files.isDirectory(dir)) {
            throw LrdktException.badInput(dir + " is not a folder");
        }
        Listing out = new Listing();
        List<String> names = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                if (isImage(name)) {
                    names.add(name);
                } else if (Files.isDirectory(entry)) {
                    out.dirs.add(entry);
                } else {
                    out.skipped++;
                }
            }
        } catch (IOException | RuntimeException e) {
            throw new LrdktException(LrdktException.Kind.IO, "cannot list " + dir + ": " + e.getMessage(), e);
        }
        names.sort(null);
        out.dirs.sort(null);
        out.files.addAll(names);
        return out;
    }

    /**
     * Adds every image below {@code dir}, its own files first, then each sub-folder's, as names relative to the
     * root; returns how many other files were skipped.
     */
    private static int walk(Path dir, Path root, Names into) throws LrdktException {
        Listing here = list(dir);
        String prefix = root.relativize(dir).toString() + dir.getFileSystem().getSeparator();
        for (String name : here.files) {
            into.add(prefix + name);
        }
        int skipped = here.skipped;
        for (Path sub : here.dirs) {
            skipped += walk(sub, root, into);
        }
        return skipped;
    }

    private static boolean isImage(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        return EXTENSIONS.stream().anyMatch(lower::endsWith);
    }

    public List<String> classes() {
        return classes;
    }

    /** The file of sample {@code index}. */
    public Path file(int index) {
        return root.resolve(names.substring(start[index], start[index + 1]));
    }

    @Override
    public void fill(int index, float[] target, int offset) throws LrdktException {
        preprocessing().writeImage(ImageOps.decode(file(index)), target, offset);
    }

    /**
     * Writes sample {@code index} as a random-resized crop of the decoded image (drawn from {@code random}) instead
     * of the fixed resize: the crop is taken from the full-resolution image, before any resizing.
     */
    public void fillRandomCrop(int index, float[] target, int offset, RandomResizedCrop crop, SplittableRandom random)
            throws LrdktException {
        ImageOps.Pixels image = ImageOps.decode(file(index));
        preprocessing().writeRegion(image, crop.draw(image.height(), image.width(), random), target, offset);
    }
}
