package org.lrdkt.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lrdkt.LrdktException;

/** Photo folders: the two layouts, the ImageNet preset against hand-computed values, random-resized crop bounds. */
class PhotoDataTest {

    @TempDir
    Path dir;

    /** An RGB image whose pixel (y, x) is (r(y, x), g, b) = (30x + 10y, 220 − 25x, 7y + 3x + 1), all within 0..255 up to 8×8. */
    static BufferedImage ramp(int h, int w) {
        BufferedImage image = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                image.setRGB(x, y, r(y, x) << 16 | g(x) << 8 | b(y, x));
            }
        }
        return image;
    }

    private static int r(int y, int x) {
        return 30 * x + 10 * y;
    }

    private static int g(int x) {
        return 220 - 25 * x;
    }

    private static int b(int y, int x) {
        return 7 * y + 3 * x + 1;
    }

    static Path png(Path file, BufferedImage image) throws IOException {
        Files.createDirectories(file.getParent());
        ImageIO.write(image, "png", file.toFile());
        return file;
    }

    private static final double[] MEAN = {0.485, 0.456, 0.406};
    private static final double[] STD = {0.229, 0.224, 0.225};

    private static float normalised(double raw, int c) {
        return (float) ((raw * (1.0 / 255) - MEAN[c]) / STD[c]);
    }

    @Test
    void imagenetPresetValues() {
        Preprocessing p = Preprocessing.imagenet();
        assertEquals(256, p.shorterSide());
        assertEquals(224, p.height());
        assertEquals(224, p.width());
        assertEquals(3, p.channels());
        assertEquals(1.0 / 255, p.scale());
        assertArrayEquals(MEAN, p.mean());
        assertArrayEquals(STD, p.std());
        assertEquals(Preprocessing.Layout.NCHW, p.layout());
    }

    /**
     * The preset's steps, scaled down: a 4×8 image resized to shorter side 2 (2×4), centre 2×2 crop (columns 1 and
     * 2). Halving with PIL's antialiased bilinear, each output pixel averages the source with a triangle two pixels
     * wide: weights ¼, ¾, ¾, ¼ around its centre, the taps outside the image dropped and the rest renormalised.
     */
    @Test
    void shorterSideResizeAndCropMatchHandComputedAntialiasedBilinear() throws Exception {
        Path file = png(dir.resolve("u/a.png"), ramp(4, 8));
        Preprocessing p = new Preprocessing(1.0 / 255, MEAN, STD, 2, 2, 3, Preprocessing.Layout.NCHW, 2);
        Dataset data = Datasets.open(file.getParent(), null, p);
        float[] sample = new float[12];
        data.fill(0, sample, 0);
        double[][] rowWeights = {{0.75 / 1.75, 0.75 / 1.75, 0.25 / 1.75, 0}, {0, 0.25 / 1.75, 0.75 / 1.75, 0.75 / 1.75}};
        // output columns 1 and 2 of the resized 2×4 (centres 3 and 5 in source pixels)
        double[][] columnWeights = {{0, 0.125, 0.375, 0.375, 0.125, 0, 0, 0}, {0, 0, 0, 0.125, 0.375, 0.375, 0.125, 0}};
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < 2; y++) {
                for (int x = 0; x < 2; x++) {
                    double sum = 0;
                    for (int row = 0; row < 4; row++) {
                        for (int col = 0; col < 8; col++) {
                            int raw = c == 0 ? r(row, col) : c == 1 ? g(col) : b(row, col);
                            sum += rowWeights[y][row] * columnWeights[x][col] * raw;
                        }
                    }
                    assertEquals(normalised(sum, c), sample[(c * 2 + y) * 2 + x], 1e-5,
                            "channel " + c + " at " + y + "," + x);
                }
            }
        }
    }

    /** torchvision's centre crop rounds the corner half to even: (3 − 2)/2 → 0, (5 − 2)/2 → 2. */
    @Test
    void centreCropCornerRoundsLikeTorchvision() throws Exception {
        Path file = png(dir.resolve("u/a.png"), ramp(3, 5));
        // shorter side 3 = the image's own: no resize, only the crop
        Preprocessing p = new Preprocessing(1.0, new double[] {0}, new double[] {1}, 2, 2, 3,
                Preprocessing.Layout.NHWC, 3);
        Dataset data = Datasets.open(file.getParent(), null, p);
        float[] sample = new float[12];
        data.fill(0, sample, 0);
        for (int y = 0; y < 2; y++) {
            for (int x = 0; x < 2; x++) {
                int at = (y * 2 + x) * 3;
                assertEquals(r(y, x + 2), sample[at], "red at " + y + "," + x);
                assertEquals(g(x + 2), sample[at + 1]);
                assertEquals(b(y, x + 2), sample[at + 2]);
            }
        }
    }

    /** Shrinking by a large factor averages every pixel: a fine checkerboard becomes flat grey, not aliased. */
    @Test
    void largeDownscalesAverageInsteadOfSkipping() {
        int n = 64;
        float[] board = new float[n * n];
        for (int y = 0; y < n; y++) {
            for (int x = 0; x < n; x++) {
                board[y * n + x] = (x + y) % 2 == 0 ? 0 : 255;
            }
        }
        float[] small = ImageOps.resize(new ImageOps.Pixels(board, n, n, 1), 4, 4);
        for (float v : small) {
            assertEquals(127.5, v, 2.0);
        }
    }

    @Test
    void randomResizedCropStaysInsideWithTorchvisionsScaleAndRatio() {
        RandomResizedCrop crop = new RandomResizedCrop(0.08);
        SplittableRandom random = new SplittableRandom(5);
        int[][] sizes = {{375, 500}, {500, 375}, {224, 224}, {31, 17}};
        for (int[] size : sizes) {
            for (int i = 0; i < 2000; i++) {
                RandomResizedCrop.Box box = crop.draw(size[0], size[1], random);
                assertTrue(box.top() >= 0 && box.left() >= 0 && box.height() >= 1 && box.width() >= 1
                        && box.top() + box.height() <= size[0] && box.left() + box.width() <= size[1], box.toString());
                double area = (double) box.height() * box.width() / (size[0] * size[1]);
                double ratio = (double) box.width() / box.height();
                // rounding each side to whole pixels moves area and ratio by up to one pixel's worth
                double slack = 1.0 / Math.min(box.height(), box.width()) + 1.0 / Math.min(size[0], size[1]);
                assertTrue(area >= 0.08 * (1 - 2 * slack) && area <= 1, "area " + area + " of " + box);
                assertTrue(ratio >= 0.75 * (1 - 2 * slack) && ratio <= 4.0 / 3 * (1 + 2 * slack), "ratio " + ratio);
            }
        }
    }

    @Test
    void randomResizedCropFallsBackToTheCentreClampedToTheRatioRange() {
        RandomResizedCrop crop = new RandomResizedCrop(0.9);
        // strips: no box of 90% of the area with a ratio in [3/4, 4/3] fits, so the centre, clamped to that range
        assertEquals(new RandomResizedCrop.Box(0, 49, 1, 1), crop.draw(1, 100, new SplittableRandom(1)));
        assertEquals(new RandomResizedCrop.Box(0, 43, 10, 13), crop.draw(10, 100, new SplittableRandom(1)));
        assertEquals(new RandomResizedCrop.Box(43, 0, 13, 10), crop.draw(100, 10, new SplittableRandom(1)));
        assertThrows(IllegalArgumentException.class, () -> new RandomResizedCrop(0));
    }

    @Test
    void aFlatFolderIsUnlabelledAndClassFoldersAreLabelled() throws Exception {
        Path flat = dir.resolve("flat");
        png(flat.resolve("b.png"), ramp(8, 8));
        png(flat.resolve("a.PNG"), ramp(8, 8));
        Files.writeString(flat.resolve("notes.txt"), "not an image");
        Preprocessing p = new Preprocessing(null, new double[] {0}, new double[] {1}, 4, 4, 3,
                Preprocessing.Layout.NCHW, 0);
        ImageFolderDataset unlabelled = (ImageFolderDataset) Datasets.open(flat, null, p);
        assertEquals(2, unlabelled.size());
        assertNull(unlabelled.labels());
        assertEquals(flat.resolve("a.PNG"), unlabelled.file(0), "sorted by name");
        assertTrue(unlabelled.description().contains("2 unlabelled images")
                && unlabelled.description().contains("1 files without an image extension skipped"),
                unlabelled.description());

        Path classes = dir.resolve("classes");
        png(classes.resolve("dog/x.png"), ramp(8, 8));
        png(classes.resolve("cat/deep/er/y.png"), ramp(8, 8));
        png(classes.resolve("cat/z.png"), ramp(8, 8));
        ImageFolderDataset labelled = (ImageFolderDataset) Datasets.open(classes, null, p);
        assertEquals(List.of("cat", "dog"), labelled.classes());
        assertArrayEquals(new int[] {0, 0, 1}, labelled.labels());
        assertEquals(classes.resolve("cat/z.png"), labelled.file(0), "a folder's own files before its sub-folders'");
        assertEquals(classes.resolve("cat/deep/er/y.png"), labelled.file(1));
    }

    @Test
    void badFoldersAndFilesGiveOneLineErrors() throws Exception {
        Preprocessing p = new Preprocessing(null, new double[] {0}, new double[] {1}, 4, 4, 3,
                Preprocessing.Layout.NCHW, 0);
        Path empty = Files.createDirectories(dir.resolve("empty"));
        assertOneLine(assertThrows(LrdktException.class, () -> Datasets.open(empty, null, p)), "holds no images");
        Path text = Files.createDirectories(dir.resolve("text"));
        Files.writeString(text.resolve("readme.md"), "hello");
        assertOneLine(assertThrows(LrdktException.class, () -> Datasets.open(text, null, p)), "holds no images");
        Path mixed = dir.resolve("mixed");
        png(mixed.resolve("loose.png"), ramp(8, 8));
        png(mixed.resolve("cls/a.png"), ramp(8, 8));
        assertOneLine(assertThrows(LrdktException.class, () -> Datasets.open(mixed, null, p)), "both directly");
        Path corrupt = dir.resolve("corrupt");
        Files.createDirectories(corrupt);
        byte[] jpeg = Files.readAllBytes(png(dir.resolve("ok.png"), ramp(8, 8)));
        Files.write(corrupt.resolve("broken.jpg"), new byte[] {(byte) 0xff, (byte) 0xd8, (byte) 0xff, 0, 1, 2});
        Files.write(corrupt.resolve("text.png"), "hello".getBytes());
        Files.write(corrupt.resolve("truncated.png"), java.util.Arrays.copyOf(jpeg, jpeg.length / 2));
        Dataset data = Datasets.open(corrupt, null, p);
        for (int i = 0; i < data.size(); i++) {
            int index = i;
            LrdktException e = assertThrows(LrdktException.class, () -> data.fill(index, new float[48], 0));
            assertOneLine(e, "cannot decode image " + corrupt);
        }
    }

    private static void assertOneLine(LrdktException e, String expected) {
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertEquals(1, e.getMessage().lines().count(), e.getMessage());
        assertEquals(LrdktException.Kind.BAD_INPUT, e.kind(), e.getMessage());
    }
}
