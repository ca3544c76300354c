package org.lrdkt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lrdkt.Cli;
import org.lrdkt.TestModels;
import org.nd4j.linalg.factory.Nd4j;

/** A folder of unlabelled photos through every command that reads data: run, finetune, eval, compress. */
class PhotoFolderCommandsTest {

    @TempDir
    static Path dir;
    static Path photos;
    static String lenet;

    /** 40 unlabelled RGB JPEGs, 30–50 px, bright strokes on dark noise (LeNet sees them as 28×28 grey). */
    @BeforeAll
    static void writePhotos() throws Exception {
        lenet = TestModels.LENET.toString();
        Nd4j.create(1); // ND4J's start-up log line goes to the real stderr, not into a captured one-line error
        photos = Files.createDirectories(dir.resolve("photos"));
        Random random = new Random(4);
        for (int i = 0; i < 40; i++) {
            int h = 30 + random.nextInt(20);
            int w = 30 + random.nextInt(20);
            BufferedImage image = new BufferedImage(w, h, BufferedImage.TYPE_3BYTE_BGR);
            int column = w / 4 + random.nextInt(w / 2);
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int v = Math.abs(x - column - (y - h / 2) * (i % 5 - 2) / 4) < 3 ? 255 : random.nextInt(50);
                    image.setRGB(x, y, v << 16 | v << 8 | v);
                }
            }
            ImageIO.write(image, "jpg", photos.resolve(String.format("photo%02d.jpg", i)).toFile());
        }
    }

    @Test
    void finetuneStreamsUnlabelledPhotosWithCropsAndFlipsAndReportsLoaderTime() throws Exception {
        Path out = dir.resolve("ft.onnx");
        Path report = dir.resolve("ft.json");
        Cli.Result r = Cli.run("finetune", "--teacher", lenet, "--student", lenet, "--data", photos.toString(),
                "-o", out.toString(), "--epochs", "2", "--batch", "8", "--random-crop", "0.3", "--flip", "on",
                "--loader-threads", "2", "--report", report.toString());
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("held-out agreement") && r.out().contains("loader ms"), r.out());
        String json = Files.readString(report);
        assertTrue(json.contains("\"loaderMillis\"") && json.contains("\"stepMillis\""), json);
        assertTrue(Files.exists(out));
    }

    @Test
    void evalScoresAgreementOnUnlabelledPhotos() {
        Cli.Result r = Cli.run("eval", "--model", lenet, "--reference", lenet, "--data", photos.toString());
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("40 unlabelled images") && r.out().matches("(?s).*top-1 agreement +100.00%.*"),
                r.out());
    }

    @Test
    void runCalibratesAndFineTunesOnUnlabelledPhotos() {
        Path out = dir.resolve("run.onnx");
        Cli.Result r = Cli.run("run", lenet, "--data", photos.toString(), "--energy", "0.9", "--epochs", "1",
                "--batch", "16", "-o", out.toString(), "--bench-runs", "20", "--bench-block", "10");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("fine-tuned") && r.out().contains("held-out agreement"), r.out());
        assertTrue(Files.exists(out));
    }

    @Test
    void compressCalibratesOnUnlabelledPhotos() {
        Path out = dir.resolve("cal.onnx");
        Cli.Result r = Cli.run("compress", lenet, "--energy", "0.9", "--calibration", photos.toString(), "-o",
                out.toString());
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(Files.exists(out));
    }

    @Test
    void badPhotoInputsGiveOneLine() throws Exception {
        Path empty = Files.createDirectories(dir.resolve("empty"));
        Path broken = Files.createDirectories(dir.resolve("broken"));
        Files.copy(photos.resolve("photo00.jpg"), broken.resolve("a.jpg"));
        Files.write(broken.resolve("b.jpg"), new byte[] {(byte) 0xff, (byte) 0xd8, (byte) 0xff, 0x00});
        Path mnist = TestModels.MNIST;
        String[][] cases = {
            {"1", "holds no images", "--data", empty.toString()},
            {"1", "cannot decode image", "--data", broken.toString(), "--val-fraction", "0"},
            {"2", "need an image folder", "--data", mnist.toString(), "--random-crop", "0.5"},
            {"2", "--crop takes the centre", "--data", photos.toString(), "--crop", "20"},
            {"2", "--preset", "--data", photos.toString(), "--preset", "cifar"},
            {"2", "--flip", "--data", photos.toString(), "--flip", "sometimes"},
        };
        for (String[] c : cases) {
            Path out = dir.resolve("bad-" + System.nanoTime() + ".onnx");
            String[] args = new String[c.length - 2 + 9];
            String[] common = {"finetune", "--teacher", lenet, "--student", lenet, "-o", out.toString(), "--epochs",
                "1"};
            System.arraycopy(common, 0, args, 0, common.length);
            System.arraycopy(c, 2, args, common.length, c.length - 2);
            Cli.Result r = Cli.run(args);
            assertEquals(Integer.parseInt(c[0]), r.exitCode(), c[1] + ": " + r.err());
            assertTrue(r.errIsOneLine() && r.err().contains(c[1]), r.err());
            assertFalse(Files.exists(out));
        }
    }
}
