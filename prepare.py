"""Turn any picture of a digit or a number into MNIST-like 28x28 inputs, one per digit.

Read this file to learn why a model trained on MNIST needs its input prepared the way MNIST was
made. MNIST digits are light on a black background, fitted into a 20x20 box and centred by their
centre of mass in a 28x28 image. A digit drawn in a paint program or photographed on paper is dark
on light, large, off-centre, often in colour or on a transparent background; squeezed to 28x28 as
it is, it looks like nothing the model has seen. The steps, each a function below:

  1. read the file and turn it into grey (read_image, to_grey);
  2. find the ink: light on dark, background removed (find_ink);
  3. find the digits: connected parts of ink, pieces of one digit grouped together, specks and the
     table around the paper dropped, in reading order (find_digits);
  4. prepare each digit exactly as MNIST did (to_mnist).

predict.py classifies what this file prepares. A model trained on Fashion-MNIST gets a photo of a
garment or shoe prepared like those images instead (prepare_clothing).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps, UnidentifiedImageError

# Pillow warns above this many pixels and refuses twice as many; we refuse anything above it, unread,
# so that a tiny file that decompresses into gigabytes (a "decompression bomb") cannot exhaust memory.
MAX_PIXELS = 50_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
WORKING_SIZE = 512  # larger images are first shrunk to this: plenty of detail for a 20-pixel digit


class ImageError(Exception):
    """An image that cannot be read or holds no digit; reported in one line, the other images go on."""


@dataclass
class Item:
    """One digit (or garment) found in a picture: the model's 28x28 input and where it was."""
    pixels: torch.Tensor  # [28, 28] in [0, 1], light on black, as in MNIST
    box: tuple[int, int, int, int]  # left, top, right, bottom in the original picture's pixels


# ---------------------------------------------------------------------------------------------
# 1. Reading an image file
# ---------------------------------------------------------------------------------------------

def read_image(source: Path | str | object) -> Image.Image:
    """Open and fully decode an image (a path, or a file object), refusing what we cannot read faithfully."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(source)
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


def upright(image: Image.Image) -> Image.Image:
    """Phone photos are often stored sideways, with a tag saying how to turn them: turn them."""
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
    return torch.from_numpy(grey.copy())


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


# ---------------------------------------------------------------------------------------------
# 2. Finding the ink
# ---------------------------------------------------------------------------------------------

def max_filter(pixels: torch.Tensor, size: int) -> torch.Tensor:
    """The largest value in the size x size square around each pixel of a [H, W] image (size odd)."""
    # A square's maximum is the maximum along rows of the maxima along columns: two cheap passes,
    # each taking every window of `size` pixels in a row (unfold) and its largest value (amax), then
    # turning the image a quarter (.T) so that the second pass runs along the other direction.
    for _ in range(2):
        pixels = F.pad(pixels, (size // 2, size // 2), value=-math.inf).unfold(1, size, 1).amax(-1).T
    return pixels


def min_filter(pixels: torch.Tensor, size: int) -> torch.Tensor:
    return -max_filter(-pixels, size)


def remove_background(pixels: torch.Tensor) -> torch.Tensor:
    """Subtract the (possibly uneven) background, so that only ink is left above zero."""
    # A min filter wider than any stroke erases the ink and leaves the background, shadows
    # included; the max filter after it undoes the shrinking of bright areas ("opening").
    small = resize(pixels, *[max(1, round(s * 128 / max(pixels.shape))) for s in pixels.shape]) \
        if max(pixels.shape) > 128 else pixels
    size = max(9, max(small.shape) // 4) | 1  # odd, and well wider than a pen stroke
    background = max_filter(min_filter(small, size), size)
    # Smooth the estimate, so that no edge of the filter's squares shows up as a step in the result.
    # A square's mean is the mean along rows of the means along columns: two cheap passes again.
    background = F.avg_pool2d(background[None, None], (size, 1), stride=1, padding=(size // 2, 0),
                              count_include_pad=False)
    background = F.avg_pool2d(background, (1, size), stride=1, padding=(0, size // 2),
                              count_include_pad=False)[0, 0]
    background = resize(background, *pixels.shape) if background.shape != pixels.shape else background
    return (pixels - background).clamp(min=0)


def find_ink(pixels: torch.Tensor, margin: int) -> torch.Tensor:
    """Grey pixels -> ink: light on black, background removed, a typical stroke at full brightness,
    with `margin` pixels of blank paper added around, as MNIST leaves around every digit."""
    # Polarity. MNIST is light ink on black. Background covers most of any picture of a digit, even a
    # photo that shows some of the table around the paper; if most of it is light, this is dark ink
    # on paper: invert it. But a digit cropped tightly may hold as much ink as paper, or more (a 1);
    # unless the picture is clearly light, its edge, which such a digit touches in a few places
    # only, tells the paper's shade.
    edge = torch.cat([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    paper = pixels.median() if pixels.median() > 0.65 else edge.median()
    if paper > 0.5:
        pixels, edge = 1 - pixels, 1 - edge
    # A digit cropped tightly, or a photo it fills, touches the edge: paper added around it lets the
    # background be measured on all its sides. Its shade: the darker quarter of the pixels, or the
    # edge's, whichever is darker (the ink is light now).
    shade = min(pixels.flatten().kthvalue(pixels.numel() // 4 + 1).values, edge.median()).item()
    pixels = F.pad(pixels, (margin, margin, margin, margin), value=shade)
    ink = remove_background(pixels)
    if (ink > 0.15).sum() < 4:  # a few stray pixels of contrast are not a digit
        raise ImageError("no digit found: the image is blank or has almost no contrast")
    peak = ink[ink > ink.max() / 2].median()  # the typical brightness of a stroke
    ink = (ink / peak).clamp(max=1)
    return torch.where(ink > 0.1, ink, 0)  # faint noise becomes pure black


# ---------------------------------------------------------------------------------------------
# 3. Finding the digits
# ---------------------------------------------------------------------------------------------

def label_parts(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Number the connected parts of a [H, W] boolean mask (diagonal neighbours count as touching).

    Returns the labels ([H, W], 0 for background, 1 to n for the parts) and each part's bounding
    box [n, 4] as (top, left, bottom, right), bottom and right exclusive.
    """
    height, width = mask.shape
    # Work on runs: a run is a stretch of set pixels within one row. numpy finds them all at once.
    edges = np.diff(np.pad(mask, ((0, 0), (1, 1))).astype(np.int8), axis=1)
    rows, starts = np.nonzero(edges == 1)
    ends = np.nonzero(edges == -1)[1]  # exclusive; runs come in the same row-major order as starts
    first_run = np.searchsorted(rows, np.arange(height + 1))  # runs of row r: first_run[r] to first_run[r+1]
    # Union-find: runs in neighbouring rows that touch belong to the same part.
    parent = list(range(len(starts)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]  # halve the path as we go, so later searches are short
            i = parent[i]
        return i

    starts_list, ends_list = starts.tolist(), ends.tolist()
    for row in range(1, height):
        i, i_end = first_run[row - 1], first_run[row]  # runs of the row above
        j, j_end = first_run[row], first_run[row + 1]  # runs of this row
        while i < i_end and j < j_end:  # walk both rows left to right, like merging two sorted lists
            if starts_list[j] <= ends_list[i] and starts_list[i] <= ends_list[j]:  # they touch, or touch diagonally
                parent[root(j)] = root(i)
            if ends_list[i] < ends_list[j]:
                i += 1
            else:
                j += 1
    roots = np.array([root(i) for i in range(len(starts))], dtype=np.int64)
    part_ids, run_part = np.unique(roots, return_inverse=True)  # parts numbered 0 to n - 1
    count = len(part_ids)
    # Paint each run with its part's label (1 to n): +label where a run starts, -label where it ends,
    # then a running sum along the flattened image.
    flat = np.zeros(height * width + 1, dtype=np.int64)
    np.add.at(flat, rows * width + starts, run_part + 1)
    np.add.at(flat, rows * width + ends, -(run_part + 1))
    labels = np.cumsum(flat[:-1]).reshape(height, width)
    boxes = np.empty((count, 4), dtype=np.int64)
    boxes[:, 0], boxes[:, 1] = height, width
    boxes[:, 2:] = 0
    np.minimum.at(boxes[:, 0], run_part, rows)
    np.minimum.at(boxes[:, 1], run_part, starts)
    np.maximum.at(boxes[:, 2], run_part, rows + 1)
    np.maximum.at(boxes[:, 3], run_part, ends)
    return labels, boxes


def find_digits(ink: torch.Tensor, margin: int) -> list[torch.Tensor]:
    """The digits in an ink image, as one [H, W] boolean mask each, in reading order (left to right).

    A digit may be drawn in several pieces (a 5's flag, a 4 in two strokes, a broken ballpoint
    line): pieces that lie mostly above one another belong to one digit. Digits of a number stand
    side by side, separated by gaps. Specks of dirt are dropped, and so is the table or the edge of
    the paper, which in a photo runs along the picture's edge (`margin` pixels inside `ink`'s edge).
    """
    height, width = ink.shape
    mask = ink > 0.3
    # Close breaks of a pixel or two in a stroke, so that its pieces count as one part: grow the
    # mask by one pixel in every direction (along columns, then along rows).
    joined = mask.numpy().copy()
    for _ in range(2):
        grown = joined.copy()
        grown[1:] |= joined[:-1]
        grown[:-1] |= joined[1:]
        joined = grown.T
    joined = joined.copy()  # two turns by .T: back the right way round, contiguous for label_parts
    labels, boxes = label_parts(joined)
    labels = np.where(mask.numpy(), labels, 0)  # each ink pixel carries its part's label
    mass = np.bincount(labels.ravel(), weights=ink.numpy().ravel(), minlength=len(boxes) + 1)[1:]

    # The table around the paper: a part that runs along more than half of one of the picture's edges.
    # A digit that merely touches the edge (a tight crop) is kept.
    inside = labels[margin:height - margin, margin:width - margin]
    along = np.zeros(len(boxes))
    for edge in (inside[0], inside[-1], inside[:, 0], inside[:, -1]):
        along = np.maximum(along, np.bincount(edge, minlength=len(boxes) + 1)[1:] / len(edge))
    candidates = [k for k in np.argsort(-mass) if along[k] <= 0.5 and mass[k] > 0] or list(np.argsort(-mass)[:1])

    # Group the parts, heaviest first: a part joins a digit when it lies mostly above or below it
    # (their columns overlap by half the narrower one's width), close by; otherwise it starts a digit
    # of its own, if it holds enough ink to be one. Lighter parts off every digit are specks.
    groups: list[list] = []  # [top, left, bottom, right, [part numbers]]
    largest = mass[candidates[0]]
    for k in candidates:
        top, left, bottom, right = boxes[k].tolist()
        for group in groups:
            overlap = min(right, group[3]) - max(left, group[1])
            near = 0.5 * (group[2] - group[0])
            if overlap >= 0.5 * min(right - left, group[3] - group[1]) and \
                    top < group[2] + near and bottom > group[0] - near:
                group[:4] = min(top, group[0]), min(left, group[1]), max(bottom, group[2]), max(right, group[3])
                group[4].append(k + 1)
                break
        else:
            if mass[k] >= 0.1 * largest:
                groups.append([top, left, bottom, right, [k + 1]])

    # One line of writing: drop anything that does not share rows with the largest digit.
    main = groups[0]
    groups = [g for g in groups if g[0] < main[2] and g[2] > main[0]]
    groups.sort(key=lambda g: g[1] + g[3])  # left to right by their middles
    return [torch.from_numpy(np.isin(labels, g[4])) for g in groups]


# ---------------------------------------------------------------------------------------------
# 4. One digit, the way MNIST made it
# ---------------------------------------------------------------------------------------------

def stroke_width(mask: torch.Tensor) -> float:
    """The mean width of the strokes in a mask, in pixels: twice their area over their outline."""
    outline = mask & ~min_filter(mask.float(), 3).bool()
    return 2 * mask.sum().item() / max(outline.sum().item(), 1)


def bounds(mask: torch.Tensor) -> tuple[int, int, int, int]:
    """(top, left, bottom, right) of a non-empty mask's set pixels; bottom and right exclusive."""
    rows, cols = mask.any(1).nonzero().flatten(), mask.any(0).nonzero().flatten()
    return rows[0].item(), cols[0].item(), rows[-1].item() + 1, cols[-1].item() + 1


def to_mnist(ink: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The digit `mask` marks in `ink` -> [28, 28] pixels in [0, 1], light digit on black, as in MNIST."""
    # Work on the digit and its surroundings only, with room for its soft edges and thickening.
    top, left, bottom, right = bounds(mask)
    wanted = 0.115 * max(bottom - top, right - left)  # MNIST's stroke width, for a digit this size
    room = 3 + round(wanted)
    window = slice(max(0, top - room), bottom + room), slice(max(0, left - room), right + room)
    ink, mask = ink[window], mask[window]
    # Only this digit's ink and its soft edges, not a neighbour's or a speck's.
    ink = ink * max_filter(mask.float(), 5)

    # A thin pen on a large digit would shrink to faint lines a fraction of a pixel wide. MNIST's
    # strokes are about 0.115 times the digit's longer side wide: thicken much thinner ones.
    top, left, bottom, right = bounds(mask)
    width = stroke_width(mask)
    if width < 0.7 * wanted:
        grow = round(wanted - width) | 1  # an odd filter size; a max filter of size s adds s - 1
        ink = max_filter(ink, grow)
        top, left, bottom, right = bounds(max_filter(mask.float(), grow).bool())
    digit = ink[top:bottom, left:right]  # cropped at full resolution, keeping the edges' grey levels

    # Fit the longer side into 20 pixels, keeping the aspect ratio, as MNIST did.
    height, width = digit.shape
    scale = 20 / max(height, width)
    digit = resize(digit, max(1, round(height * scale)), max(1, round(width * scale))).clamp(0, 1)

    # Place it in 28x28 so that its centre of mass is at the centre, as MNIST did.
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


def prepare_digits(image: Image.Image) -> list[Item]:
    """Any picture of a digit or a number -> one MNIST-like Item per digit, left to right."""
    image = upright(image)
    pixels = grey_at_working_size(image)
    margin = max(2, round(0.1 * max(pixels.shape)))
    ink = find_ink(pixels, margin)
    to_original = max(image.size) / max(pixels.shape)  # from working-size pixels back to the picture's
    items = []
    for mask in find_digits(ink, margin):
        top, left, bottom, right = (v - margin for v in bounds(mask))
        box = (max(0, int(left * to_original)), max(0, int(top * to_original)),
               min(image.width, round(right * to_original)), min(image.height, round(bottom * to_original)))
        items.append(Item(to_mnist(ink, mask), box))
    return items


# ---------------------------------------------------------------------------------------------
# Clothes, the way Fashion-MNIST made them
# ---------------------------------------------------------------------------------------------

def prepare_clothing(image: Image.Image) -> list[Item]:
    """A photo of one garment or shoe -> one Item with [28, 28] pixels in [0, 1], as in Fashion-MNIST.

    Fashion-MNIST was made from shop photos on white: each trimmed to the item, its longer side
    resized to 28 pixels, centred, and negated, so the item is light on black. Unlike MNIST's ink,
    the item's own shades are kept (a white shirt becomes dark grey), and nothing is thickened.
    """
    image = upright(image)
    pixels = grey_at_working_size(image)
    # The background is what the picture's outermost pixels show: the item may fill most of it.
    background = torch.cat([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]]).median()
    if background > 0.5:  # a light background, as in shop photos: negate, as Fashion-MNIST did
        pixels, background = 1 - pixels, 1 - background
    pixels = ((pixels - background) / (1 - background)).clamp(0, 1)  # the background becomes pure black
    # The item, without specks of dust: its parts that hold at least 5% of the picture's ink.
    mask = pixels > 0.1
    if mask.sum() < 4:
        raise ImageError("nothing found: the image is blank or the item does not stand out from the background")
    # Neighbouring bits (a pattern's stripes, a strap) count as one part: label a slightly grown mask.
    labels, boxes = label_parts(max_filter(mask.float(), 5).bool().numpy())
    labels = np.where(mask.numpy(), labels, 0)
    mass = np.bincount(labels.ravel(), weights=pixels.numpy().ravel(), minlength=len(boxes) + 1)[1:]
    kept = 1 + np.nonzero(mass >= 0.05 * mass.sum())[0]
    top, left, bottom, right = bounds(torch.from_numpy(np.isin(labels, kept)))
    item = pixels[top:bottom, left:right]
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
    offset_y, offset_x = (29 - height) // 2, (29 - width) // 2
    canvas[offset_y:offset_y + height, offset_x:offset_x + width] = item
    to_original = max(image.size) / max(pixels.shape)
    box = (int(left * to_original), int(top * to_original), round(right * to_original), round(bottom * to_original))
    return [Item(canvas, box)]
