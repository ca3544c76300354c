import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;

/**
 * Writes COUNT JPEG photos made from the real photographs in SOURCE_DIR: each a random crop (30–100% of the area,
 * aspect 3/4–4/3) of one source photo, resized so that its longer side is LONG_SIDE pixels (ImageNet's images average
 * about 400×350; 500×375 is a common size), JPEG quality 90. With "classes" the photos go to OUT/SOURCE_NAME/,
 * one class per source photo; with "flat" all go directly into OUT (unlabelled). Seeded, so reruns write the same
 * files. Run by tools/make_photo_folder.sh; usage:
 *   java tools/MakePhotoFolder.java SOURCE_DIR OUT COUNT classes|flat [LONG_SIDE] [SEED]
 */
public final class MakePhotoFolder {

    public static void main(String[] args) throws Exception {
        Path sources = Path.of(args[0]);
        Path out = Path.of(args[1]);
        int count = Integer.parseInt(args[2]);
        boolean classes = args[3].equals("classes");
        int longSide = args.length > 4 ? Integer.parseInt(args[4]) : 500;
        Random random = new Random(args.length > 5 ? Long.parseLong(args[5]) : 1);
        List<Path> files = new ArrayList<>();
        try (var s = Files.list(sources)) {
            s.filter(f -> f.toString().matches(".*\\.(png|jpg)$")).sorted().forEach(files::add);
        }
        List<BufferedImage> photos = new ArrayList<>();
        for (Path f : files) {
            photos.add(rgb(ImageIO.read(f.toFile())));
        }
        for (int i = 0; i < count; i++) {
            int k = i % photos.size();
            BufferedImage photo = photos.get(k);
            String name = files.get(k).getFileName().toString().replaceAll("\\.[a-z]+$", "");
            Path dir = classes ? out.resolve(name) : out;
            Files.createDirectories(dir);
            writeJpeg(crop(photo, longSide, random), dir.resolve(String.format("%s_%06d.jpg", name, i)).toFile());
        }
        System.out.println("wrote " + count + " JPEGs from " + photos.size() + " photos into " + out);
    }

    private static BufferedImage rgb(BufferedImage image) {
        BufferedImage out = new BufferedImage(image.getWidth(), image.getHeight(), BufferedImage.TYPE_3BYTE_BGR);
        Graphics2D g = out.createGraphics();
        g.drawImage(image, 0, 0, null);
        g.dispose();
        return out;
    }

    private static BufferedImage crop(BufferedImage photo, int longSide, Random random) {
        int h = photo.getHeight();
        int w = photo.getWidth();
        double area = h * (double) w * (0.3 + 0.7 * random.nextDouble());
        double ratio = Math.exp(Math.log(0.75) + random.nextDouble() * Math.log(16.0 / 9));
        int cw = (int) Math.min(w, Math.round(Math.sqrt(area * ratio)));
        int ch = (int) Math.min(h, Math.round(Math.sqrt(area / ratio)));
        int top = random.nextInt(h - ch + 1);
        int left = random.nextInt(w - cw + 1);
        double scale = (double) longSide / Math.max(cw, ch);
        int ow = Math.max(1, (int) Math.round(cw * scale));
        int oh = Math.max(1, (int) Math.round(ch * scale));
        BufferedImage out = new BufferedImage(ow, oh, BufferedImage.TYPE_3BYTE_BGR);
        Graphics2D g = out.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BICUBIC);
        g.drawImage(photo, 0, 0, ow, oh, left, top, left + cw, top + ch, null);
        g.dispose();
        return out;
    }

    private static void writeJpeg(BufferedImage image, File file) throws Exception {
        Iterator<ImageWriter> writers = ImageIO.getImageWritersByFormatName("jpeg");
        ImageWriter writer = writers.next();
        ImageWriteParam param = writer.getDefaultWriteParam();
        param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
        param.setCompressionQuality(0.9f);
        try (ImageOutputStream stream = ImageIO.createImageOutputStream(file)) {
            writer.setOutput(stream);
            writer.write(null, new IIOImage(image, null, null), param);
        } finally {
            writer.dispose();
        }
    }
}
