"""Read the digit in any image file: a drawing, a photo of paper, a scan, or an MNIST image.

Read this file to learn why a model trained on MNIST needs its input prepared the way MNIST was
made. MNIST digits are light on a black background, fitted into a 20x20 box and centred by their
centre of mass in a 28x28 image. A digit drawn in a paint program or photographed on paper is dark
on light, large, off-centre, often in colour or on a transparent background; squeezed to 28x28 as
it is, it looks like nothing the model has seen. preprocess() below repeats MNIST's recipe. A
model trained on Fashion-MNIST gets a photo of a garment or shoe prepared like those images instead.

    python predict.py my-digit.png [more images or folders ...]
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps, UnidentifiedImageError

import common

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm", ".pbm"}
# Pillow warns above this many pixels and refuses twice as many; we refuse anything above it, unread,
# so that a tiny file that decompresses into gigabytes (a "decompression bomb") cannot exhaust memory.
MAX_PIXELS = 50_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
WORKING_SIZE = 512  # larger images are first shrunk to this: plenty of detail for a 20-pixel digit


class ImageError(Exception):
    """An image that cannot be read or holds no digit; reported in one line, the other images go on."""


# ---------------------------------------------------------------------------------------------
# Reading an image file
# ---------------------------------------------------------------------------------------------

def read_image(path: Path) -> Image.Image:
    """Open and fully decode an image file, refusing what we cannot read faithfully."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(path)
            if getattr(image, "n_frames", 1) > 1:
                raise ImageError(f"animated image with {image.n_frames} frames; save the frame you mean as a PNG")
            image.load()  # decode now, so that a truncated file fails here and not later
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise ImageError(f"image too large (more than {MAX_PIXELS:,} pixels); shrink it first") from None
    except UnidentifiedImageError:
        raise ImageError("not an image file that Pillow can read") from None
    except FileNotFoundError:
        raise ImageError("no such file") from None
    except IsADirectoryError:
        raise ImageError("a folder without image files") from None
    except PermissionError:
        raise ImageError("permission denied") from None
    except (OSError, SyntaxError, ValueError) as error:  # Pillow's ways of saying "broken file"
        raise ImageError(f"corrupt or truncated image ({error})") from None
    return image


def to_grey(image: Image.Image) -> torch.Tensor:
    """Any Pillow image -> a [H, W] float tensor in [0, 1], as a person sees its brightness."""
    image = ImageOps.exif_transpose(image)  # phone photos are often stored sideways, with a rotation tag
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):  # 16-bit greyscale: scale by the 16-bit range
        pixels = np.asarray(image, dtype=np.float32)
        return torch.from_numpy(pixels / (65535 if pixels.max() > 255 else 255)).clamp(0, 1)
    if image.mode == "F":
        raise ImageError("32-bit floating-point image; save it as an 8-bit or 16-bit PNG")
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        # A transparent background counts as white paper: composite the drawing onto white.
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, rgba)
    try:
        grey = np.asarray(image.convert("L"), dtype=np.float32) / 255
    except (ValueError, OSError):
        raise ImageError(f"cannot convert its colour mode {image.mode} to grey") from None
    return torch.from_numpy(grey.copy())


# ---------------------------------------------------------------------------------------------
# Preprocessing: turn any picture of a digit into an MNIST-like 28x28 image
# ---------------------------------------------------------------------------------------------

def resize(pixels: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Resize a [H, W] image; when shrinking, anti-alias, so that thin strokes are averaged, not skipped."""
    shrinking = height < pixels.shape[0] or width < pixels.shape[1]
    return F.interpolate(pixels[None, None], size=(height, width), mode="bilinear", antialias=shrinking,
                         align_corners=False)[0, 0]


def grey_at_working_size(image: Image.Image) -> torch.Tensor:
    """The image in grey, shrunk to WORKING_SIZE if larger: a phone photo's millions of pixels only cost time."""
    pixels = to_grey(image)
    if max(pixels.shape) > WORKING_SIZE:
        scale = WORKING_SIZE / max(pixels.shape)
        pixels = resize(pixels, max(1, round(pixels.shape[0] * scale)), max(1, round(pixels.shape[1] * scale)))
    return pixels


def max_filter(pixels: torch.Tensor, size: int) -> torch.Tensor:
    """The largest value in the size x size square around each pixel (size odd)."""
    # A square's maximum is the maximum along rows of the maxima along columns: two cheap passes.
    pixels = F.max_pool2d(pixels[None, None], (size, 1), stride=1, padding=(size // 2, 0))
    return F.max_pool2d(pixels, (1, size), stride=1, padding=(0, size // 2))[0, 0]


def min_filter(pixels: torch.Tensor, size: int) -> torch.Tensor:
    return -max_filter(-pixels, size)


def remove_background(pixels: torch.Tensor) -> torch.Tensor:
    """Subtract the (possibly uneven) background, so that only ink is left above zero."""
    # A min filter wider than any stroke erases the ink and leaves the background, shadows
    # included; the max filter after it undoes the shrinking of bright areas ("opening").
    small = resize(pixels, *[max(1, round(s * 128 / max(pixels.shape))) for s in pixels.shape]) \
        if max(pixels.shape) > 128 else pixels
    size = max(9, min(small.shape) // 3) | 1  # odd, and well wider than a pen stroke
    background = max_filter(min_filter(small, size), size)
    # Smooth the estimate, so that no edge of the filter's squares shows up as a step in the result.
    background = F.avg_pool2d(background[None, None], size, stride=1, padding=size // 2,
                              count_include_pad=False)[0, 0]
    background = resize(background, *pixels.shape) if background.shape != pixels.shape else background
    return (pixels - background).clamp(min=0)


def stroke_width(mask: torch.Tensor) -> float:
    """The mean width of the strokes in a mask, in pixels: twice their area over their outline."""
    outline = mask & ~min_filter(mask.float(), 3).bool()
    return 2 * mask.sum().item() / max(outline.sum().item(), 1)


def keep_digit(ink: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Drop specks of dirt and noise: keep the mask's connected parts that hold real amounts of ink."""
    # Work on a copy at most 96 pixels wide (fast), where a block counts as ink if any pixel in it is.
    scale = min(1.0, 96 / max(mask.shape))
    size = (max(1, round(mask.shape[0] * scale)), max(1, round(mask.shape[1] * scale)))
    small = F.adaptive_max_pool2d(mask[None, None].float(), size)[0, 0].bool()
    weight = F.adaptive_avg_pool2d(ink[None, None], size)[0, 0]
    # Label connected parts: every pixel takes the largest label among its neighbours, until nothing changes.
    labels = torch.arange(1, small.numel() + 1, dtype=torch.float32).view(small.shape) * small
    while True:
        grown = max_filter(labels, 3) * small
        if torch.equal(grown, labels):
            break
        labels = grown
    parts = [labels == label for label in labels.unique() if label > 0]
    # Ink that touches the picture's edge is the table or the paper's edge in a photo, unless there
    # is no other ink at all (a digit cropped tightly).
    inside = [p for p in parts if not (p[0].any() or p[-1].any() or p[:, 0].any() or p[:, -1].any())]
    parts = inside or parts
    masses = [weight[part].sum() for part in parts]
    keep = torch.zeros_like(small)
    for part, mass in zip(parts, masses):
        if mass >= 0.05 * sum(masses):  # a stroke of the digit, not a speck
            keep |= part
    keep = max_filter(keep.float(), 3)  # a little slack around the kept parts
    return mask & (F.interpolate(keep[None, None], size=mask.shape, mode="nearest")[0, 0] > 0)


def preprocess(image: Image.Image) -> torch.Tensor:
    """Any image of one digit -> [28, 28] pixels in [0, 1], light digit on black, as in MNIST."""
    pixels = grey_at_working_size(image)

    # 1. Polarity. MNIST is light ink on black. Background covers most of any picture of a digit, even
    #    a photo that shows some of the table around the paper; if most of it is light, this is dark
    #    ink on paper: invert it.
    if pixels.median() > 0.5:
        pixels = 1 - pixels

    # 2. Ink only: remove the background and stretch the strongest ink to full brightness.
    ink = remove_background(pixels)
    if (ink > 0.15).sum() < 4:  # a few stray pixels of contrast are not a digit
        raise ImageError("no digit found: the image is blank or has almost no contrast")
    peak = ink[ink > ink.max() / 2].median()  # the typical brightness of a stroke
    ink = (ink / peak).clamp(max=1)

    # 3. Find the digit: threshold the ink, ignore specks, and crop to its bounding box at full
    #    resolution, keeping the grey levels of its edges.
    mask = keep_digit(ink, ink > 0.3)
    ink = torch.where(ink > 0.1, ink, 0)  # faint noise around the digit becomes pure black

    # 4. A thin pen on a large digit would shrink to faint lines a fraction of a pixel wide. MNIST's
    #    strokes are about 0.115 times the digit's longer side wide: thicken much thinner ones.
    rows, cols = mask.any(1).nonzero().flatten(), mask.any(0).nonzero().flatten()
    wanted = 0.115 * max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1).item()
    width = stroke_width(mask)
    if width < 0.7 * wanted:
        grow = round(wanted - width) | 1  # an odd filter size; a max filter of size s adds s - 1
        ink = max_filter(ink * max_filter(mask.float(), 3), grow)  # only the digit's ink, not stray noise
        mask = max_filter(mask.float(), grow).bool()
        rows, cols = mask.any(1).nonzero().flatten(), mask.any(0).nonzero().flatten()
    digit = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]

    # 5. Fit the longer side into 20 pixels, keeping the aspect ratio, as MNIST did.
    height, width = digit.shape
    scale = 20 / max(height, width)
    digit = resize(digit, max(1, round(height * scale)), max(1, round(width * scale))).clamp(0, 1)

    # 6. Place it in 28x28 so that its centre of mass is at the centre, as MNIST did.
    height, width = digit.shape
    total = digit.sum()
    centre_y = (digit.sum(1) * torch.arange(height)).sum() / total
    centre_x = (digit.sum(0) * torch.arange(width)).sum() / total
    # MNIST's centres of mass sit at pixel 14 (counting from 0) in both directions.
    top = min(max(round(14 - centre_y.item()), 0), 28 - height)
    left = min(max(round(14 - centre_x.item()), 0), 28 - width)
    canvas = torch.zeros(28, 28)
    canvas[top:top + height, left:left + width] = digit
    return canvas


def preprocess_clothing(image: Image.Image) -> torch.Tensor:
    """A photo of one garment or shoe -> [28, 28] pixels in [0, 1], as in Fashion-MNIST.

    Fashion-MNIST was made from shop photos on white: each trimmed to the item, its longer side
    resized to 28 pixels, centred, and negated, so the item is light on black. Unlike MNIST's ink,
    the item's own shades are kept (a white shirt becomes dark grey), and nothing is thickened.
    """
    pixels = grey_at_working_size(image)
    # The background is what the picture's outermost pixels show: the item may fill most of it.
    background = torch.cat([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]]).median()
    if background > 0.5:  # a light background, as in shop photos: negate, as Fashion-MNIST did
        pixels, background = 1 - pixels, 1 - background
    pixels = ((pixels - background) / (1 - background)).clamp(0, 1)  # the background becomes pure black
    mask = keep_digit(pixels, pixels > 0.1)  # the item, without specks of dust
    if mask.sum() < 4:
        raise ImageError("nothing found: the image is blank or the item does not stand out from the background")
    rows, cols = mask.any(1).nonzero().flatten(), mask.any(0).nonzero().flatten()
    item = pixels[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    height, width = item.shape
    scale = 28 / max(height, width)
    size = (max(1, round(height * scale)), max(1, round(width * scale)))
    item = F.interpolate(item[None, None], size=size, mode="bicubic", antialias=True)
    # Fashion-MNIST's makers sharpened their small images, and a network trained on them misreads
    # blurred ones: add back the difference between the image and a slightly blurred copy of it.
    blur = torch.tensor([[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]) / 16
    item = 2 * item - F.conv2d(F.pad(item, (1, 1, 1, 1), mode="replicate"), blur[None, None])
    item = item[0, 0].clamp(0, 1)
    height, width = item.shape
    canvas = torch.zeros(28, 28)
    # Centred by its outline, not by its centre of mass; an odd pixel of margin goes above and to the
    # left, as in Fashion-MNIST.
    top, left = (29 - height) // 2, (29 - width) // 2
    canvas[top:top + height, left:left + width] = item
    return canvas


# ---------------------------------------------------------------------------------------------
# Prediction
# ---------------------------------------------------------------------------------------------

def image_files(arguments: list[str]) -> list[Path]:
    """The files to read: each file argument, and every image file inside each folder argument."""
    files = []
    for argument in map(Path, arguments):
        if argument.is_dir():
            images = sorted(p for p in argument.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
            files += images or [argument]  # a folder without images is reported like a bad file
        else:
            files.append(argument)
    return files


def save_processed(pixels: torch.Tensor, folder: Path, name: str) -> Path:
    """Write the model's 28x28 input as a PNG, enlarged 10 times so that a person can look at it."""
    folder.mkdir(parents=True, exist_ok=True)
    image = Image.fromarray((pixels * 255).round().to(torch.uint8).numpy())  # 8-bit greyscale
    path = folder / f"{name}.png"
    image.resize((280, 280), Image.NEAREST).save(path)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("images", nargs="+", help="image files, or folders of them")
    parser.add_argument("--checkpoint", default=str(common.default_checkpoint_path("cnn", "mnist")),
                        help="a checkpoint written by train_cnn.py or train_mlp.py")
    parser.add_argument("--json", action="store_true", help="print one JSON object per image, for scripts")
    parser.add_argument("--save-processed", metavar="DIR", type=Path,
                        help="also write what the model sees (28x28, enlarged) as PNG files in DIR")
    args = parser.parse_args(argv)

    if args.save_processed and args.save_processed.exists() and not args.save_processed.is_dir():
        raise common.UserError(f"--save-processed {args.save_processed} is a file, not a folder")
    path = Path(args.checkpoint)
    if not path.exists() and args.checkpoint == parser.get_default("checkpoint"):
        raise common.UserError(f"no checkpoint at {path}: train one first with `python train_cnn.py`, "
                               "or pick one with --checkpoint")
    checkpoint = common.load_checkpoint(path)
    model = common.model_from_checkpoint(checkpoint)  # loaded once, however many images
    classes = checkpoint["classes"]
    # Digits and clothes were put into 28x28 in different ways; each model gets what it was trained on.
    prepare = preprocess_clothing if checkpoint["dataset"] == "fashion-mnist" else preprocess

    failed = False
    saved_names: set[str] = set()
    for file in image_files(args.images):
        try:
            pixels = prepare(read_image(file))
            if args.save_processed:
                name = file.stem
                while name in saved_names:  # two inputs with the same name in different folders
                    name += "_"
                saved_names.add(name)
                save_processed(pixels, args.save_processed, name)
        except Exception as error:  # one bad image, even one unlike any we foresaw, must not stop the others
            unforeseen = f"could not process it ({type(error).__name__}: {error})"
            reason = error if isinstance(error, ImageError) else unforeseen
            print(f"error: {file}: {reason}", file=sys.stderr)
            failed = True
            continue
        logits = common.predict_logits(model, common.normalise(pixels[None], checkpoint["mean"], checkpoint["std"]))
        top = logits.softmax(1)[0].topk(3)
        guesses = [(classes[i], p.item()) for p, i in zip(top.values, top.indices)]
        if args.json:
            print(json.dumps({"path": str(file), "prediction": guesses[0][0], "probability": round(guesses[0][1], 4),
                              "top": [{"class": c, "probability": round(p, 4)} for c, p in guesses]}))
        else:
            others = ", ".join(f"{c} ({p:.1%})" for c, p in guesses[1:])
            print(f"{file}: {guesses[0][0]} ({guesses[0][1]:.1%})  next: {others}")
    return 1 if failed else 0


if __name__ == "__main__":
    common.run(lambda: sys.exit(main()))
