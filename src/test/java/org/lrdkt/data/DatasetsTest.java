package org.lrdkt.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lrdkt.LrdktException;
import org.lrdkt.Npy;

/** Every loader on small hand-made files, including the malformed ones (one-line errors). */
class DatasetsTest {

    @TempDir
    Path dir;

    // ---- IDX ----

    private static byte[] idx(int type, int[] dims, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + data.length);
        b.put((byte) 0).put((byte) 0).put((byte) type).put((byte) dims.length);
        for (int d : dims) {
            b.putInt(d);
        }
        return b.put(data).array();
    }

    private static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(data);
        }
        return out.toByteArray();
    }

    /** Two 2×3 images with pixels 0..5 and 250..255, labels 7 and 3. */
    private Path[] writeIdx(boolean gzipped) throws IOException {
        byte[] pixels = new byte[12];
        for (int i = 0; i < 6; i++) {
            pixels[i] = (byte) i;
            pixels[6 + i] = (byte) (250 + i);
        }
        byte[] images = idx(0x08, new int[] {2, 2, 3}, pixels);
        byte[] labels = idx(0x08, new int[] {2}, new byte[] {7, 3});
        String suffix = gzipped ? ".gz" : "";
        Path im = dir.resolve("set-images-idx3-ubyte" + suffix);
        Path lb = dir.resolve("set-labels-idx1-ubyte" + suffix);
        Files.write(im, gzipped ? gzip(images) : images);
        Files.write(lb, gzipped ? gzip(labels) : labels);
        return new Path[] {im, lb};
    }

    @Test
    void idxPlainAndGzippedWithConventionalLabels() throws Exception {
        for (boolean gz : new boolean[] {false, true}) {
            Path[] files = writeIdx(gz);
            Dataset d = Datasets.open(files[0], null, Preprocessing.defaults());
            assertEquals(2, d.size());
            assertArrayEquals(new long[] {1, 2, 3}, d.sampleShape());
            assertArrayEquals(new int[] {7, 3}, d.labels());
            assertEquals(8, d.classCount());
            Dataset.Batch b = d.batch(0, 2);
            assertArrayEquals(new long[] {2, 1, 2, 3}, b.shape());
            assertEquals(5 / 255f, b.values()[5], 1e-7);
            assertEquals(255 / 255f, b.values()[11], 1e-7);
            assertTrue(d.preprocessing().describe().startsWith("scale 1/255, mean 0, std 1, size 2x3, grayscale"));
            Files.delete(files[1]);
            assertNull(Datasets.open(files[0], null, Preprocessing.defaults()).labels(), "no labels file: unlabelled");
        }
    }

    @Test
    void idxNormalisesResizesAndConvertsToRgbNhwc() throws Exception {
        Path[] files = writeIdx(false);
        Preprocessing p = new Preprocessing(1.0, new double[] {1}, new double[] {2}, 4, 6, 3,
                Preprocessing.Layout.NHWC, 0);
        Dataset d = Datasets.open(files[0], files[1], p);
        assertArrayEquals(new long[] {4, 6, 3}, d.sampleShape());
        float[] s = new float[4 * 6 * 3];
        d.fill(1, s, 0);
        // top-left corner of the 2x upscaled image is pixel (0,0) = 250 in every channel; (250 - 1) / 2
        assertEquals(124.5f, s[0]);
        assertEquals(124.5f, s[1]);
        assertEquals(124.5f, s[2]);
        // bottom-right corner = pixel (1,2) = 255
        assertEquals(127f, s[s.length - 1]);
    }

    @Test
    void bilinearResizeUsesHalfPixelCentres() {
        // 1x2 → 1x4: PIL/OpenCV bilinear give 0, 2.5, 7.5, 10 for (0, 10)
        float[] out = ImageOps.resize(new ImageOps.Pixels(new float[] {0, 10}, 1, 2, 1), 1, 4);
        assertArrayEquals(new float[] {0, 2.5f, 7.5f, 10}, out, 1e-6f);
    }

    @Test
    void idxMalformedFilesGiveOneLineErrors() throws Exception {
        Path[] files = writeIdx(false);
        byte[] good = Files.readAllBytes(files[0]);
        byte[] badMagic = good.clone();
        badMagic[0] = 0x42;
        assertBadInput(write("magic-images-idx3-ubyte", badMagic), "bad magic");
        assertBadInput(write("trunc-images-idx3-ubyte", Arrays.copyOf(good, good.length - 1)), "truncated");
        assertBadInput(write("extra-images-idx3-ubyte", Arrays.copyOf(good, good.length + 3)), "extra data");
        assertBadInput(write("hdr-images-idx3-ubyte", Arrays.copyOf(good, 9)), "header is truncated");
        assertBadInput(write("dims-images-idx3-ubyte", idx(0x08, new int[] {12}, new byte[12])), "3 dimension");
        LrdktException type = assertThrows(LrdktException.class, () -> Datasets.open(
                write("float-images-idx3-ubyte", idx(0x0D, new int[] {1, 1, 1}, new byte[4])), null,
                Preprocessing.defaults()));
        assertTrue(type.getMessage().contains("0xd"), type.getMessage());
        Path threeLabels = write("x-labels-idx1-ubyte", idx(0x08, new int[] {3}, new byte[3]));
        LrdktException counts = assertThrows(LrdktException.class,
                () -> Datasets.open(files[0], threeLabels, Preprocessing.defaults()));
        assertTrue(counts.getMessage().contains("2 images") && counts.getMessage().contains("3 labels"),
                counts.getMessage());
        assertBadInput(write("gz-images-idx3-ubyte.gz", Arrays.copyOf(gzip(good), 20)), "gzip");
        assertBadInput(dir.resolve("missing-images-idx3-ubyte"), "does not exist");
    }

    // ---- image folder ----

    @Test
    void imageFolderLabelsBySortedClassFolders() throws Exception {
        Path root = dir.resolve("imgs");
        BufferedImage gray = new BufferedImage(2, 2, BufferedImage.TYPE_BYTE_GRAY);
        gray.getRaster().setSample(1, 1, 0, 200);
        BufferedImage rgb = new BufferedImage(2, 2, BufferedImage.TYPE_INT_RGB);
        rgb.setRGB(0, 0, (10 << 16) | (20 << 8) | 30);
        Files.createDirectories(root.resolve("b_dog"));
        Files.createDirectories(root.resolve("a_cat"));
        ImageIO.write(gray, "png", root.resolve("b_dog/1.png").toFile());
        ImageIO.write(rgb, "png", root.resolve("a_cat/2.png").toFile());
        Files.writeString(root.resolve("a_cat/notes.txt"), "not an image");
        Preprocessing p = new Preprocessing(1.0, new double[] {0}, new double[] {1}, 2, 2, 0,
                Preprocessing.Layout.NCHW, 0);
        ImageFolderDataset d = (ImageFolderDataset) Datasets.open(root, null, p);
        assertEquals(List.of("a_cat", "b_dog"), d.classes());
        assertArrayEquals(new int[] {0, 1}, d.labels());
        assertArrayEquals(new long[] {3, 2, 2}, d.sampleShape(), "RGB by default");
        float[] s = new float[12];
        d.fill(0, s, 0);
        assertEquals(10f, s[0]);
        assertEquals(20f, s[4]);
        assertEquals(30f, s[8]);
        d.fill(1, s, 0);
        // a grayscale PNG keeps its sample values (no linear-gray colour conversion) and is replicated to RGB
        assertEquals(200f, s[3]);
        assertEquals(200f, s[7]);
        assertEquals(0f, s[0]);
        Preprocessing grayOut = new Preprocessing(1.0, new double[] {0}, new double[] {1}, 2, 2, 1,
                Preprocessing.Layout.NCHW, 0);
        Dataset g = Datasets.open(root, null, grayOut);
        float[] one = new float[4];
        g.fill(0, one, 0);
        assertEquals(0.299 * 10 + 0.587 * 20 + 0.114 * 30, one[0], 1e-4);
    }

    @Test
    void imageFolderErrors() throws Exception {
        Path empty = Files.createDirectories(dir.resolve("empty/cls"));
        Preprocessing sized = Preprocessing.defaults().withModelInput(new long[] {1, 3, 4, 4});
        assertBadInput(empty.getParent(), sized, "no images");
        LrdktException noSize = assertThrows(LrdktException.class,
                () -> Datasets.open(empty.getParent(), null, Preprocessing.defaults()));
        assertTrue(noSize.getMessage().contains("--resize"), noSize.getMessage());
        Path broken = dir.resolve("broken/cls/x.png");
        Files.createDirectories(broken.getParent());
        Files.writeString(broken, "not really a png");
        Dataset d = Datasets.open(broken.getParent().getParent(), null, sized);
        LrdktException e = assertThrows(LrdktException.class, () -> d.fill(0, new float[48], 0));
        assertOneLine(e);
        assertTrue(e.getMessage().contains("cannot decode image"), e.getMessage());
    }

    // ---- npy ----

    @Test
    void npyFloat32Float64Uint8AndBigEndian() throws Exception {
        ByteBuffer f4 = ByteBuffer.allocate(6 * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 6; i++) {
            f4.putFloat(i * 0.5f);
        }
        Dataset d = Datasets.open(write("a.npy", Npy.bytes("<f4", false, "2, 3", f4, 1)), null, Preprocessing.defaults());
        assertEquals(2, d.size());
        assertFalse(d.labelled());
        assertArrayEquals(new long[] {3}, d.sampleShape());
        assertArrayEquals(new float[] {1.5f, 2f, 2.5f}, d.batch(1, 1).values());

        ByteBuffer f8 = ByteBuffer.allocate(4 * 8).order(ByteOrder.BIG_ENDIAN);
        for (int i = 0; i < 4; i++) {
            f8.putDouble(i + 0.25);
        }
        Dataset big = Datasets.open(write("b.npy", Npy.bytes(">f8", false, "1, 2, 2", f8, 2)), null,
                Preprocessing.defaults());
        assertArrayEquals(new float[] {0.25f, 1.25f, 2.25f, 3.25f}, big.batch(0, 1).values());

        // uint8 (N, C, H, W) = (1, 2, 1, 2) with per-channel mean: scale defaults to 1/255
        ByteBuffer u1 = ByteBuffer.wrap(new byte[] {0, (byte) 255, (byte) 255, 0});
        Preprocessing p = new Preprocessing(null, new double[] {0, 1}, new double[] {1, 1}, 0, 0, 0,
                Preprocessing.Layout.NCHW, 0);
        Dataset bytes = Datasets.open(write("c.npy", Npy.bytes("|u1", false, "1, 2, 1, 2", u1, 1)), null, p);
        assertArrayEquals(new float[] {0, 1, 0, -1}, bytes.batch(0, 1).values(), 1e-6f);
        assertTrue(bytes.preprocessing().describe().startsWith("scale 1/255, mean 0,1"));
    }

    @Test
    void npyMalformedFilesGiveOneLineErrors() throws Exception {
        ByteBuffer f4 = ByteBuffer.allocate(8);
        byte[] good = Npy.bytes("<f4", false, "2, 1", f4, 1);
        byte[] badMagic = good.clone();
        badMagic[1] = 'X';
        assertBadInput(write("m.npy", badMagic), "bad magic");
        assertBadInput(write("t.npy", Arrays.copyOf(good, good.length - 2)), "truncated");
        assertBadInput(write("h.npy", Arrays.copyOf(good, 40)), "header is truncated");
        assertBadInput(write("n.npy", good), null);
        String garbled = new String(good, StandardCharsets.ISO_8859_1).replace("'shape'", "'shapo'");
        assertBadInput(write("g.npy", garbled.getBytes(StandardCharsets.ISO_8859_1)), "'shape'");
        assertBadInput(write("f.npy", Npy.bytes("<f4", true, "2, 1", f4, 1)), "Fortran order");
        assertBadInput(write("i.npy", Npy.bytes("<i8", false, "1, 1", ByteBuffer.allocate(8), 1)), "dtype '<i8'");
        assertBadInput(write("s.npy", Npy.bytes("<f4", false, "8,", ByteBuffer.allocate(32), 1)), "(N, sample dims...)");
        byte[] v9 = good.clone();
        v9[6] = 9;
        assertBadInput(write("v.npy", v9), "version 9");
    }

    // ---- helpers ----

    private Path write(String name, byte[] content) throws IOException {
        return Files.write(dir.resolve(name), content);
    }

    private static void assertBadInput(Path file, String fragment) {
        assertBadInput(file, Preprocessing.defaults(), fragment);
    }

    /** Opening {@code file} fails with a one-line message containing {@code fragment}; null: must succeed. */
    private static void assertBadInput(Path file, Preprocessing p, String fragment) {
        if (fragment == null) {
            try {
                Datasets.open(file, null, p);
            } catch (LrdktException e) {
                throw new AssertionError("valid file rejected: " + e.getMessage(), e);
            }
            return;
        }
        LrdktException e = assertThrows(LrdktException.class, () -> Datasets.open(file, null, p));
        assertOneLine(e);
        assertTrue(e.getMessage().contains(fragment), "'" + e.getMessage() + "' should mention '" + fragment + "'");
        assertTrue(e.kind() != LrdktException.Kind.USAGE, "a bad file is not a usage error: " + e.getMessage());
    }

    private static void assertOneLine(LrdktException e) {
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
    }
}
