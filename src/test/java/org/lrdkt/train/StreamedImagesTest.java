package org.lrdkt.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lrdkt.LrdktException;
import org.lrdkt.data.Datasets;
import org.lrdkt.data.ImageFolderDataset;
import org.lrdkt.data.Preprocessing;
import org.lrdkt.data.RandomResizedCrop;

/** Streaming from an image folder: the same batches as in memory, in an order that thread timing cannot change. */
class StreamedImagesTest {

    @TempDir
    static Path dir;
    static ImageFolderDataset images;
    @TempDir
    Path scratch;

    /** 23 JPEGs of different sizes in three classes: noise over a gradient, so that no two samples are alike. */
    @BeforeAll
    static void writeImages() throws Exception {
        Random random = new Random(11);
        for (int i = 0; i < 23; i++) {
            int h = 20 + random.nextInt(30);
            int w = 20 + random.nextInt(30);
            BufferedImage image = new BufferedImage(w, h, BufferedImage.TYPE_3BYTE_BGR);
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int v = (x * 255 / w + random.nextInt(40)) & 0xff;
                    image.setRGB(x, y, v << 16 | (y * 255 / h) << 8 | random.nextInt(256));
                }
            }
            Path file = dir.resolve("class" + i % 3).resolve(String.format("%02d.jpg", i));
            Files.createDirectories(file.getParent());
            ImageIO.write(image, "jpg", file.toFile());
        }
        images = (ImageFolderDataset) Datasets.open(dir, null, new Preprocessing(null, new double[] {0.5},
                new double[] {0.25}, 16, 16, 3, Preprocessing.Layout.NCHW, 18));
    }

    private static List<int[]> batches(int seed, int size) {
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < images.size(); i++) {
            order.add(i);
        }
        java.util.Collections.shuffle(order, new Random(seed));
        List<int[]> out = new ArrayList<>();
        for (int from = 0; from < order.size(); from += size) {
            out.add(order.subList(from, Math.min(order.size(), from + size)).stream().mapToInt(Integer::intValue)
                    .toArray());
        }
        return out;
    }

    private static List<float[]> drain(TrainSamples samples, List<int[]> batches, TrainSamples.Views views)
            throws LrdktException {
        List<float[]> out = new ArrayList<>();
        try (TrainSamples.Loader loader = samples.loader(batches, views)) {
            for (int i = 0; i < batches.size(); i++) {
                out.add(loader.next());
            }
        }
        return out;
    }

    private static TrainSamples.Views affineViews(long seed, RandomResizedCrop crop) {
        RandomAffine affine = RandomAffine.forSamples(images.sampleShape(), 2, 10, 0.1, true);
        return new TrainSamples.Views(affine, new Random(seed), crop, seed);
    }

    private static void assertSameBatches(List<float[]> expected, List<float[]> actual, String what) {
        assertEquals(expected.size(), actual.size(), what);
        for (int i = 0; i < expected.size(); i++) {
            assertArrayEquals(expected.get(i), actual.get(i), what + ", batch " + i);
        }
    }

    @Test
    void streamingGivesExactlyTheInMemoryBatchesForTheSameSeed() throws Exception {
        TrainData inMemory = TrainData.of(images);
        List<int[]> batches = batches(3, 5);
        List<float[]> expected = drain(inMemory, batches, affineViews(7, null));
        for (int threads : new int[] {0, 1, 3}) {
            assertSameBatches(expected, drain(new StreamedImages(images, threads), batches, affineViews(7, null)),
                    threads + " threads");
        }
        // the views do move the pixels: the unaugmented batches differ
        float[] plain = inMemory.values(batches.get(0));
        assertFalse(Arrays.equals(plain, expected.get(0)), "augmentation changed nothing");
        assertArrayEquals(plain, drain(new StreamedImages(images, 2), batches, null).get(0));
    }

    @Test
    void randomResizedCropsDoNotDependOnThreadTiming() throws Exception {
        RandomResizedCrop crop = new RandomResizedCrop(0.08);
        List<int[]> batches = batches(5, 4);
        List<float[]> reference = drain(new StreamedImages(images, 0), batches, affineViews(9, crop));
        for (int round = 0; round < 3; round++) {
            for (int threads : new int[] {1, 2, 5}) {
                assertSameBatches(reference, drain(new StreamedImages(images, threads), batches,
                        affineViews(9, crop)), threads + " threads, round " + round);
            }
        }
        List<float[]> otherSeed = drain(new StreamedImages(images, 2), batches, affineViews(10, crop));
        assertFalse(Arrays.equals(reference.get(0), otherSeed.get(0)), "the seed must matter");
        // a crop is a fresh view of the photo, not the fixed resize
        List<float[]> noCrop = drain(new StreamedImages(images, 2), batches, affineViews(9, null));
        assertFalse(Arrays.equals(reference.get(0), noCrop.get(0)));
    }

    @Test
    void labelsAndShapeComeFromTheFolder() throws Exception {
        StreamedImages streamed = new StreamedImages(images, 2);
        assertTrue(streamed.labelled() && streamed.decodesImages());
        assertArrayEquals(new long[] {3, 16, 16}, streamed.sampleShape());
        assertArrayEquals(new int[] {0, 1, 2, 0}, streamed.labels(new int[] {0, 8, 16, 1}));
        assertTrue(streamed.source().contains("23 images in 3 classes") && streamed.source().contains("2 decoding"),
                streamed.source());
        assertFalse(TrainData.of(images).decodesImages());
    }

    @Test
    void inMemoryDataRefusesCrops() throws Exception {
        TrainData inMemory = TrainData.of(images);
        LrdktException e = assertThrows(LrdktException.class, () -> inMemory.loader(batches(1, 4),
                affineViews(1, new RandomResizedCrop(0.5))));
        assertEquals(LrdktException.Kind.USAGE, e.kind());
    }

    @Test
    void aCorruptImageFailsTheBatchInOneLine() throws Exception {
        Path folder = Files.createDirectories(scratch.resolve("corrupt"));
        for (int i = 0; i < 6; i++) {
            Files.copy(images.file(i), folder.resolve(i + ".jpg"));
        }
        Files.write(folder.resolve("3.jpg"), new byte[] {(byte) 0xff, (byte) 0xd8, 1, 2, 3});
        ImageFolderDataset broken = (ImageFolderDataset) Datasets.open(folder, null, images.preprocessing());
        assertNull(broken.labels());
        for (int threads : new int[] {0, 2}) {
            StreamedImages streamed = new StreamedImages(broken, threads);
            List<int[]> batches = List.of(new int[] {0, 1}, new int[] {2, 3}, new int[] {4, 5});
            try (TrainSamples.Loader loader = streamed.loader(batches, null)) {
                loader.next();
                LrdktException e = assertThrows(LrdktException.class, loader::next);
                assertTrue(e.getMessage().contains("3.jpg") && e.getMessage().lines().count() == 1, e.getMessage());
            }
        }
    }
}
