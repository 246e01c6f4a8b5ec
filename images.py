"""Reading a picture file safely, and the picture in grey at the size it is read at.

Read this file to learn what stands between a file a person gives and the pixels that are read: an
image is refused, in one line (ImageError), if it is no image, broken, animated, or so large that
it would exhaust memory once decoded (a "decompression bomb": a tiny file that decompresses into
gigabytes), and a pipe or a device is never read (read_image). A large JPEG is decoded smaller than
it is stored, in a fraction of the time (shrink_while_decoding); a phone photo stored sideways is
turned upright (upright); colour, transparency and 16-bit greys become one grey (to_grey), and the
greys that a 1-bit scan or fax made of black and white dots are greys again (undithered); the
colour of a highlighter over the writing is taken out (untinted); it is shrunk to a working size
that holds plenty of detail for a digit, and smoothed where a photo taken in dim light is grainy
(grain, grey_at_working_size), or enlarged where a small picture is read again larger (finer).
predict.py, draw.py and finetune.py open every picture here; prepare.py reads the ink and the
digits in it.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageChops, ImageOps, UnidentifiedImageError

from pixels import box_mean, grown, label_parts, resize, shrunk

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
# A highlighter lays a transparent colour over paper and writing. White, grey and black paper are as
# bright as their brightest colour (of red, green and blue); a tint makes the paper darker than its
# brightest colour (by a share: its brightness over it, 0.75 for a pink highlighter, 0.9 for a yellow
# one), a red pen or a margin line far darker than that. Paper whose share, against that of the
# picture's usual paper, lies in this range is tinted.
TINTED = (0.65, 0.93)
ONE_TINT = 0.06  # a dye is one colour all over: the share of the tinted paper varies by less (25th to 75th percentile)
BAND = 0.1  # of the picture: a highlighter's band across the writing covers as much or more
DARK_UNDER = 0.06  # ink darker than the tint, beside it or in it, per pixel of it: a band over writing has as much


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


def on_white(image: Image.Image) -> Image.Image:
    """A picture with a transparent background on white paper, as it is shown; any other as it is."""
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        return Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
    return image


def to_grey(image: Image.Image) -> torch.Tensor:
    """Any upright Pillow image -> a [H, W] float tensor in [0, 1], as a person sees its brightness."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):  # 16-bit greyscale: scale by the 16-bit range
        pixels = np.asarray(image, dtype=np.float32)
        return torch.from_numpy(pixels / (65535 if pixels.max() > 255 else 255)).clamp(0, 1)
    if image.mode == "F":
        raise ImageError("32-bit floating-point image; save it as an 8-bit or 16-bit PNG")
    image = on_white(image)
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
    values = grey.numpy()  # numpy compares many pixels several times faster than torch
    if grey.numel() > MAX_DOTTED or np.count_nonzero((values > 0.1) & (values < 0.9)) > 0.01 * grey.numel():
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


def tinted_paper(image: Image.Image, grey: torch.Tensor) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Where a picture's paper is tinted (TINTED), in broad stretches, and where it is plain (two
    [H, W] masks at the size of its grey, to_grey at any size), and each pixel's share of its
    brightest colour; None where there is no tint."""
    if image.mode in ("1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "F"):
        return None  # no colours
    try:
        red, green, blue = on_white(image).convert("RGB").split()
    except (ValueError, OSError):  # a mode Pillow cannot turn into colours: read in grey
        return None
    brightest = np.asarray(ImageChops.lighter(ImageChops.lighter(red, green), blue), dtype=np.float32) / 255
    brightest = torch.from_numpy(brightest)
    brightest = resize(brightest, *grey.shape) if brightest.shape != grey.shape else brightest
    if (brightest - grey).max() < 0.05:  # white, greys and black alone: most pictures
        return None
    tint = grey / brightest.clamp(min=0.01)
    paper = brightest > 0.6 * torch.quantile(brightest[::2, ::2].flatten(), 0.95)  # plain or tinted: not ink
    usual = tint[::2, ::2][paper[::2, ::2]].median() if paper[::2, ::2].any() else torch.tensor(1.0)
    tinted = (paper & (tint > TINTED[0] * usual) & (tint < TINTED[1] * usual)).numpy()
    broad = grown(~grown(~tinted, 2), 2)  # what squares of 5x5 pixels tinted cover: no stroke, no line
    return (broad, paper.numpy() & ~tinted, tint.numpy()) if broad.any() else None


def untinted(image: Image.Image, grey: torch.Tensor) -> torch.Tensor:
    """A picture's grey [H, W] (to_grey, at any size) with the transparent colour of a highlighter
    taken out where it lies over writing; as it is where there is none."""
    if (found := tinted_paper(image, grey)) is None:
        return grey
    broad, plain, tint = found
    # Stretches of tint, each parted only by the strokes and lines on it, of one colour all over, as a
    # dye is (the halo of a coloured pen's stroke out of focus shades from the pen's colour to the
    # paper's), and together as a highlighter's band across the writing is: a tenth of the picture or
    # more, with ink darker than the tint among them (DARK_UNDER). The strokes of a light pen, each a
    # stretch of one colour, cover less, and have only the printed lines' crossings darker than them.
    regions, _ = label_parts(grown(broad, 4))
    dark = (grey < 0.4 * torch.quantile(grey[::2, ::2].flatten(), 0.95)).numpy()
    count = lambda mask: np.bincount(regions[mask], minlength=regions.max() + 1)  # noqa: E731 (pixels per region)
    tinted_pixels, dark_pixels = count(broad), count(dark)
    uniform = [k for k in np.nonzero(tinted_pixels[1:] >= (max(grey.shape) / 16) ** 2)[0] + 1
               if np.subtract(*np.percentile(tint[(regions == k) & broad], [75, 25])) < ONE_TINT]
    band = sum(tinted_pixels[uniform])
    if band < BAND * grey.numel() or sum(dark_pixels[uniform]) < DARK_UNDER * band:
        return grey
    # A tint lets through a share of the light: what lies under it (the paper, the pen, a printed line)
    # is that much darker than it would be, as much as the tinted paper is darker than the plain paper
    # around it. Divided by that share, it is as it would be without the tint.
    through = torch.ones_like(grey)
    for region in uniform:
        under = regions == region
        around = plain & grown(under, 6) & ~under
        if around.any():
            share = grey[torch.from_numpy(under & broad)].median() / grey[torch.from_numpy(around)].median()
            through[torch.from_numpy(under & ~plain)] = share.clamp(max=1).item()
    return (grey / through).clamp(max=1)


def grey_at_working_size(image: Image.Image, tints: bool = False) -> torch.Tensor:
    """The image in grey, shrunk to WORKING_SIZE if larger (a phone photo's millions of pixels only cost
    time), a highlighter's colour over writing taken out if `tints` (digits are read so, not clothes),
    and smoothed if it is grainy (GRAINY)."""
    # A big picture is first shrunk by a whole factor in its own colours (Pillow's reduce averages
    # blocks of pixels), so that the conversions below handle a few million values, not fifty.
    factor = max(image.size) // (2 * WORKING_SIZE)
    if factor >= 2 and image.mode in ("L", "LA", "RGB", "RGBA") and "transparency" not in image.info:
        image = image.reduce(factor)
    grey = shrunk(to_grey(image), WORKING_SIZE)  # shrinking averages the grain of a large photo, if any
    grey = untinted(image, grey) if tints else grey
    return box_mean(grey, 3) if grain(grey) > GRAINY else grey


def finer(image: Image.Image, times: float) -> Image.Image:
    """`image` enlarged `times` times, in grey (all that is read of it), a highlighter's colour taken
    out: bicubic, which keeps thin strokes and lines sharper than bilinear does. Its info says how
    much larger than its file it is."""
    grey = Image.fromarray((untinted(image, to_grey(image)) * 255).round().to(torch.uint8).numpy())
    larger = grey.resize((round(image.width * times), round(image.height * times)), Image.Resampling.BICUBIC)
    larger.info[DECODED_AT] = decoded_scale(image) * larger.width / image.width
    return larger
