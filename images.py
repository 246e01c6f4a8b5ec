"""Reading a picture file safely, and the picture in grey at the size it is read at.

Read this file to learn what stands between a file a person gives and the pixels that are read: an
image is refused, in one line (ImageError), if it is no image, broken, animated, or so large that
it would exhaust memory once decoded (a "decompression bomb": a tiny file that decompresses into
gigabytes), and a pipe or a device is never read (read_image). A large JPEG is decoded smaller than
it is stored, in a fraction of the time (shrink_while_decoding); a phone photo stored sideways is
turned upright (upright); colour, transparency and 16-bit greys become one grey (to_grey), and the
greys that a 1-bit scan or fax made of black and white dots are greys again (undithered); it is shrunk
to a working size that holds plenty of detail for a digit, and smoothed where a photo taken in dim
light is grainy (grain, grey_at_working_size), or enlarged where a small picture is read again
larger (finer). predict.py, draw.py and finetune.py open every picture here; prepare.py reads the
ink and the digits in it.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from pixels import box_mean, shrunk

# Pillow warns above this many pixels and refuses twice as many; we refuse anything above it, unread,
# so that a tiny file that decompresses into gigabytes (a "decompression bomb") cannot exhaust memory.
MAX_PIXELS = 50_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
ORIENTATION = 0x0112  # the EXIF tag that says how a photo must be turned
WORKING_SIZE = 512  # larger images are first shrunk to this: plenty of detail for a 20-pixel digit
# A picture of black and white pixels alone may show its greys as scattered dots (dithering: a 1-bit
# scan or fax, Pillow's convert("1")). Its dots stand alone: a dark pixel among eight white ones, or a
# white one among eight dark. Where such pixels number at least this share of its dark pixels, its
# greys are taken to be dots; strokes, even one pixel wide, hardly leave a pixel alone (a scan's specks
# do, and lose nothing by being averaged away).
DOTS = 0.02
# A picture of dots with more pixels than this is shrunk to a quarter of its size or less to be read,
# which averages its dots; below it, turning them into greys takes a small part of a picture's time.
MAX_DOTTED = 16 * WORKING_SIZE ** 2
# A photo taken in dim light is grainy: each pixel off by a random amount, the camera's noise, in which
# the thin lines of a page and the soft edges of strokes are lost. Where the noise is more than this
# share of the picture's contrast (grain), each pixel is averaged with its eight neighbours. Photos in
# good light, scans and drawings measure far less; a fine printed pattern may measure as much, and
# loses little by being smoothed.
GRAINY = 0.05


class ImageError(Exception):
    """An image that cannot be read or holds no digit; reported in one line, the other images go on."""


def read_image(source: Path | str | object, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Open and fully decode an image (a path, or a file object), refusing what we cannot read
    faithfully, and, before decoding it, a picture of more than `max_pixels` as it would be decoded
    (a large JPEG is decoded smaller: shrink_while_decoding)."""
    if isinstance(source, (str, Path)) and Path(source).exists() and not Path(source).is_file() \
            and not Path(source).is_dir():  # reading a pipe or a device could wait or run forever
        raise ImageError("not a file but a device, a pipe or a socket; not read")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(source)  # reads the header only: the size is known before decoding
            shrink_while_decoding(image)
            if image.width * image.height > max_pixels:
                raise ImageError(f"image too large ({image.width}x{image.height} pixels, more than "
                                 f"{max_pixels:,}); shrink it first")
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


DECODED_AT = "mnist-pytorch: decoded at"  # in image.info: the image's pixels per pixel of its file


def shrink_while_decoding(image: Image.Image) -> None:
    """A JPEG far larger than the working size is decoded at a half, a quarter or an eighth of its
    size (Pillow's draft mode: the JPEG decoder itself skips the detail), in a fraction of the time
    and memory. image.info remembers by how much, so that boxes are given in the file's pixels."""
    if image.format == "JPEG" and max(image.size) > 4 * WORKING_SIZE:
        width, scale = image.width, 2 * WORKING_SIZE / max(image.size)
        image.draft(image.mode, (math.ceil(image.width * scale), math.ceil(image.height * scale)))
        image.info[DECODED_AT] = image.width / width


def decoded_scale(image: Image.Image) -> float:
    """The image's pixels per pixel of its file: 1; less for a large JPEG decoded smaller, more for a
    picture enlarged to be read again (finer)."""
    return image.info.get(DECODED_AT, 1.0)


def full_size(image: Image.Image) -> tuple[int, int]:
    """The picture's width and height in its file's pixels, however it was decoded."""
    return round(image.width / decoded_scale(image)), round(image.height / decoded_scale(image))


def upright(image: Image.Image) -> Image.Image:
    """Phone photos are often stored sideways, with a tag saying how to turn them: turn them."""
    if image.getexif().get(ORIENTATION, 1) == 1:
        return image  # upright already: no copy of a picture that may be large
    return ImageOps.exif_transpose(image)


def to_grey(image: Image.Image) -> torch.Tensor:
    """Any upright Pillow image -> a [H, W] float tensor in [0, 1], as a person sees its brightness."""
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
    return undithered(torch.from_numpy(grey.copy()))


def undithered(grey: torch.Tensor) -> torch.Tensor:
    """A picture of black and white dots, whose greys were made by scattering them (DOTS), with its
    greys back: each pixel the mean of the dots around it, as the eye sees them from afar. A faint
    pen or a printed pattern behind the writing, dithered, is otherwise a cloud of black dots, and
    a grey pen's strokes a sieve. Any other picture comes back as it is."""
    if grey.numel() > MAX_DOTTED or ((grey > 0.1) & (grey < 0.9)).float().mean() > 0.01:
        return grey  # greys of its own (or so large that shrinking it averages the dots: grey_at_working_size)
    dark = (grey < 0.5).float()
    around = 9 * box_mean(dark, 3)  # dark pixels in each 3x3 square
    alone = ((dark == 1) & (around < 1.5)) | ((dark == 0) & (around > 7.5))
    if alone.sum() <= DOTS * dark.sum():  # too few to be dots (a blank page: none at all)
        return grey
    return box_mean(box_mean(grey, 3), 3)  # twice: a mean over 5x5 pixels, the nearest weighing most


def grain(grey: torch.Tensor) -> float:
    """How grainy a [H, W] picture is: its noise as a share of how far its ink stands from its paper.

    The noise is measured where the picture's own shapes cancel: in each square of 2x2 pixels, the
    two on one diagonal less the two on the other (halved), which is nothing on paper or inside a
    stroke, and little across a stroke's edge, but keeps all of the noise, each pixel's its own. Most
    squares lie on paper or inside strokes, so the median of these tells the noise: 0.6745 of its
    standard deviation, for noise spread as a bell curve. The ink is the picture's darkest (or
    lightest) half percent, the paper its median."""
    if min(grey.shape) < 8:  # too few squares to tell noise from the strokes
        return 0.0
    g = grey[:grey.shape[0] // 2 * 2, :grey.shape[1] // 2 * 2]
    diagonals = (g[0::2, 0::2] - g[0::2, 1::2] - g[1::2, 0::2] + g[1::2, 1::2]) / 2
    noise = diagonals.abs().median().item() / 0.6745
    shades = g[0::2, 0::2].flatten().numpy()  # every other pixel: plenty to tell the paper and the ink
    at = [round(q * (len(shades) - 1)) for q in (0.5, 0.005, 0.995)]
    paper, low, high = np.partition(shades, at)[at].tolist()
    return noise / max(paper - low, high - paper, 1e-6)


def grey_at_working_size(image: Image.Image) -> torch.Tensor:
    """The image in grey, shrunk to WORKING_SIZE if larger (a phone photo's millions of pixels only cost
    time), and smoothed if it is grainy (GRAINY)."""
    # A big picture is first shrunk by a whole factor in its own colours (Pillow's reduce averages
    # blocks of pixels), so that the conversions below handle a few million values, not fifty.
    factor = max(image.size) // (2 * WORKING_SIZE)
    if factor >= 2 and image.mode in ("L", "LA", "RGB", "RGBA") and "transparency" not in image.info:
        image = image.reduce(factor)
    grey = shrunk(to_grey(image), WORKING_SIZE)  # shrinking averages the grain of a large photo, if any
    return box_mean(grey, 3) if grain(grey) > GRAINY else grey


def finer(image: Image.Image, times: float) -> Image.Image:
    """`image` enlarged `times` times, in grey (all that is read of it): bicubic, which keeps thin
    strokes and lines sharper than bilinear does. Its info says how much larger than its file it is."""
    grey = Image.fromarray((to_grey(image) * 255).round().to(torch.uint8).numpy())
    larger = grey.resize((round(image.width * times), round(image.height * times)), Image.Resampling.BICUBIC)
    larger.info[DECODED_AT] = decoded_scale(image) * larger.width / image.width
    return larger
