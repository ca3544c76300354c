#!/usr/bin/python3
"""tools/make_text_images.py — writes a folder of synthetic photos of printed text (PNG, RGB) for fine-tuning and
evaluating OCR models (PaddleOCR's text detector and recogniser) by label-free knowledge transfer.

No OCR data set is reachable here, so the images are rendered: English sentences (the Zen of Python, which every
Python install ships) and numbers, in the DejaVu fonts (Debian fonts-dejavu-core, free licence), at random sizes,
colours and positions, on backgrounds with a colour gradient, blotches and sensor noise, slightly rotated.
The models' labels are never needed: the teacher's outputs are the targets.

Two kinds:
  det  SIZE×SIZE scenes (default 320) with 3–8 text lines anywhere, for text detectors;
  rec  48×WIDTH crops (default 320) holding one line of text each, left-aligned, for text recognisers.
--upside-down P turns each image by 180° with probability P (drawn from the seed; for text-direction
classifiers such as PaddleOCR's cls, whose two classes are upright and upside down).
Files are flat in OUTDIR (IMAGE_00000.png ...), an unlabelled folder. Same seed, same bytes.

Usage: /usr/bin/python3 tools/make_text_images.py {det|rec} OUTDIR [-n COUNT] [--size N] [--width W] [--seed S]
       [--upside-down P]
Needs python3-pil and fonts-dejavu-core (tools/setup-python.sh installs both).
"""
import argparse
import codecs
import contextlib
import io
import os
import random
import sys

from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT_DIR = "/usr/share/fonts/truetype/dejavu"
FONTS = ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSerif.ttf", "DejaVuSansMono.ttf",
         "DejaVuSansCondensed-Oblique.ttf", "DejaVuSerif-Bold.ttf"]


def sentences():
    with contextlib.redirect_stdout(io.StringIO()):  # importing `this` prints the text
        import this
    lines = codecs.decode(this.s, "rot13").splitlines()
    return [line.strip() for line in lines if len(line.strip()) > 8]


def phrase(rng, texts, max_chars):
    if rng.random() < 0.25:
        text = rng.choice([f"{rng.randint(1, 99999)}", f"{rng.randint(1, 28):02d}.{rng.randint(1, 12):02d}.20"
                           f"{rng.randint(10, 30)}", f"No. {rng.randint(100, 999)}-{rng.randint(1000, 9999)}",
                           f"{rng.uniform(0.5, 999):.2f} EUR"])
    else:
        words = rng.choice(texts).split()
        start = rng.randrange(len(words))
        text = " ".join(words[start:start + rng.randint(1, 6)])
    return text[:max_chars]


def background(rng, width, height):
    a = [rng.randint(0, 255) for _ in range(3)]
    b = [min(255, max(0, c + rng.randint(-90, 90))) for c in a]
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    for y in range(height):
        t = y / max(1, height - 1)
        draw.line([(0, y), (width, y)], fill=tuple(int(a[i] + (b[i] - a[i]) * t) for i in range(3)))
    for _ in range(rng.randint(0, 6)):
        x, y = rng.randrange(width), rng.randrange(height)
        r = rng.randint(4, max(5, min(width, height) // 3))
        draw.ellipse([x - r, y - r, x + r, y + r], fill=tuple(rng.randint(0, 255) for _ in range(3)))
    return image.filter(ImageFilter.GaussianBlur(rng.uniform(1.5, 6)))


def contrasting(rng, image, box):
    crop = image.crop(box).resize((1, 1)).getpixel((0, 0))
    luma = 0.299 * crop[0] + 0.587 * crop[1] + 0.114 * crop[2]
    base = rng.randint(0, 60) if luma > 128 else rng.randint(195, 255)
    return tuple(min(255, max(0, base + rng.randint(-40, 40))) for _ in range(3))


def text_layer(rng, image, text, font, xy, angle):
    """Draws text at xy on its own transparent layer, turned by angle, so that rotation does not cut it."""
    left, top, right, bottom = font.getbbox(text)
    layer = Image.new("RGBA", (right - left + 8, bottom - top + 8), (0, 0, 0, 0))
    ImageDraw.Draw(layer).text((4 - left, 4 - top), text, font=font,
                               fill=contrasting(rng, image, (xy[0], xy[1], xy[0] + layer.width, xy[1] + layer.height)))
    layer = layer.rotate(angle, resample=Image.BICUBIC, expand=True)
    image.paste(layer, xy, layer)


def noisy(rng, image):
    noise = Image.effect_noise(image.size, rng.uniform(4, 20)).convert("RGB")
    return Image.blend(image, noise, rng.uniform(0.03, 0.12))


def detection_scene(rng, texts, size):
    image = background(rng, size, size)
    for _ in range(rng.randint(3, 8)):
        font = ImageFont.truetype(os.path.join(FONT_DIR, rng.choice(FONTS)), rng.randint(12, 40))
        text = phrase(rng, texts, 40)
        width = font.getbbox(text)[2]
        x = rng.randint(0, max(0, size - min(width, size)))
        y = rng.randint(0, size - 20)
        text_layer(rng, image, text, font, (x, y), rng.uniform(-8, 8))
    return noisy(rng, image)


def recognition_crop(rng, texts, width):
    height = 48
    image = background(rng, width, height)
    font = ImageFont.truetype(os.path.join(FONT_DIR, rng.choice(FONTS)), rng.randint(24, 36))
    text = phrase(rng, texts, 40)
    while len(text) > 1 and font.getbbox(text)[2] > width - 10:
        text = text[:-1]
    top = font.getbbox(text)[1]
    text_layer(rng, image, text, font, (rng.randint(0, 8), max(0, (height - font.size) // 2 - top // 2 - 4)),
               rng.uniform(-2, 2))
    return noisy(rng, image)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("kind", choices=["det", "rec"])
    parser.add_argument("outdir")
    parser.add_argument("-n", "--count", type=int, default=512)
    parser.add_argument("--size", type=int, default=320, help="det: side of the square scene")
    parser.add_argument("--width", type=int, default=320, help="rec: width of the 48-pixel-high line")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--upside-down", type=float, default=0.0, help="share of images turned by 180 degrees")
    args = parser.parse_args()
    if not 0 <= args.upside_down <= 1:
        sys.exit("make_text_images: --upside-down takes a share between 0 and 1")
    if not os.path.isdir(FONT_DIR):
        sys.exit(f"make_text_images: {FONT_DIR} missing (apt-get install fonts-dejavu-core)")
    rng = random.Random(args.seed)
    texts = sentences()
    os.makedirs(args.outdir, exist_ok=True)
    for i in range(args.count):
        image = detection_scene(rng, texts, args.size) if args.kind == "det" else recognition_crop(rng, texts,
                                                                                                   args.width)
        if args.upside_down and rng.random() < args.upside_down:  # no draw without it: same bytes as before
            image = image.rotate(180)
        path = os.path.join(args.outdir, f"IMAGE_{i:05d}.png")
        image.save(path + ".tmp", format="PNG")
        os.replace(path + ".tmp", path)
    print(f"make_text_images: {args.count} {args.kind} images in {args.outdir}")


if __name__ == "__main__":
    main()
