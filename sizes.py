"""At what size a picture is read: writing small on a large page, a small picture, a close-up.

Read this after images.py, which shrinks every picture to one working size. prepare.py finds the
ink and the digits there, and most pictures are read well at that size; three are not, and are
read once more at another size, each found by one function here:

  - writing small on a large page (a number on a form photographed whole) is a few faint pixels
    at the working size: it is read again from a crop around it, enlarged in a small picture (zoomed);
  - a small picture of printed paper, whose pen strokes are as thin as the paper's lines: neither
    can be told from the other, so it is read again larger (too_fine);
  - a close-up of ruled or squared paper, whose lines are broader than lines.py looks for: it is
    read smaller, where they are as broad as a page's (too_coarse).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from PIL import Image

from images import WORKING_SIZE, decoded_scale, finer
from lines import BROADEST, lines_at_one_tilt, thin
from pixels import stroke_width

LEAST_SIZE = 200  # a picture smaller than this, on printed paper, in thin strokes, is read again larger (too_fine)
THIN = 4  # strokes thinner than this many pixels are hardly wider than a notebook's lines
SMALL = 24  # writing whose digits are shorter than this (in working-size pixels) is read again from a crop (zoomed)
ENLARGE = 3  # the most such a crop is enlarged: it holds no more detail, but digits that touch are cut more finely
# Writing wider than this many times its tallest part may be two digits that touch, read enlarged: a 1
# and the digit it touches are often no wider than tall; about half of MNIST's digits are narrower.
MAY_BE_TWO = 0.75
CLOSER = 1.5  # how much larger the crop must show the writing: less is not worth a second reading
LINE = 2  # pixels: how broad a page's printed lines are read best; a close-up is read smaller (too_coarse)
MOST_SHRUNK = 100  # pixels: but never smaller than this
PRINTED = 0.8  # a close-up's lines are at most this share of its pen strokes' width (too_coarse)


def zoomed(image: Image.Image, working: tuple[int, int], margin: int, where: list[int], tallest: int,
           ) -> tuple[Image.Image, tuple[int, int]] | None:
    """The part of `image` around the writing `where` (top, left, bottom, right in working-size pixels
    with the margin), and where it begins in the file's pixels; None unless its tallest part is
    shorter than SMALL and, read at the working size (in a small picture enlarged up to ENLARGE
    times where the writing may be two digits, MAY_BE_TWO), the crop shows it at least CLOSER
    times as large."""
    if not 0 < tallest < SMALL:
        return None
    per = image.width / working[1]  # the image's pixels per working-size pixel
    top, left, bottom, right = ((v - margin) * per for v in where)
    room = bottom - top  # a line's height all round: strokes too light to count in `where`
    left, top = max(0, int(left - room)), max(0, int(top - room))
    right, bottom = min(image.width, math.ceil(right + room)), min(image.height, math.ceil(bottom + room))
    # The crop's pixels per image pixel: enlarged only where the writing may be two digits
    # (MAY_BE_TWO), whose cuts it is for; a single digit reads as well at its own size, and
    # MNIST's own come through nearly unchanged.
    wide = where[3] - where[1] > MAY_BE_TWO * tallest
    enlarge = min(ENLARGE if wide else 1.0, WORKING_SIZE / max(right - left, bottom - top))
    if per * enlarge < CLOSER:
        return None
    crop = image.crop((left, top, right, bottom))  # it keeps the image's info: how it was decoded
    start = (round(left / decoded_scale(image)), round(top / decoded_scale(image)))
    return (finer(crop, enlarge) if enlarge > 1 else crop), start  # enlarged in grey, all that is read of it


def too_fine(pixels: torch.Tensor, ink: torch.Tensor, paper: torch.Tensor) -> bool:
    """Whether a picture is too small for its paper's print to be told from the pen: smaller than
    LEAST_SIZE, on printed paper (some of it was taken for lines or a pattern), its strokes thinner
    than THIN pixels. There the lines and the strokes are both a pixel or two wide, and a line is
    hardly longer than a digit is tall; twice as large, the strokes are the wider, and the lines as
    long as lines.py looks for."""
    return max(pixels.shape) < LEAST_SIZE and bool(paper.any()) and stroke_width(ink > 0.3) < THIN


def too_coarse(ink: torch.Tensor, margin: int) -> float:
    """How much smaller a close-up of ruled or squared paper is read (1: as it is). Lines that cross
    the picture from edge to edge, finer than the pen's strokes (PRINTED), and are still in the ink
    were missed by lines.py, which looks for lines no broader than a page photographed from further
    away shows them; read smaller, a close-up is read as well as such a page, since every measure of
    lines and strokes there is in pixels."""
    inside = ink.numpy()[margin:-margin, margin:-margin] > 0.3
    broad = []
    for mask in (inside, inside.T.copy()):  # lines across, then lines down
        if mask[:, 0].any() and mask[:, -1].any():  # ink at both edges, as where a line crosses
            # Every pixel of the mask weighs alike: only where the lines run and how broad they are is wanted.
            found = lines_at_one_tilt(mask.astype(np.float32), mask, thin(mask, 4 * BROADEST), int(0.6 * mask.shape[1]))
            # Measured here, at a third of a stroke's brightness, a line a little broader than LINE
            # pixels is as broad as lines.BROADEST where lines.py measures it (fainter), and is missed.
            lines = (found.strength > 0) & (found.thickness > 1.25 * LINE)
            # A line as broad as the pen is a stroke: in a number cropped to its ink, a 1 crosses the
            # picture from edge to edge too. A printed line is finer than the pen that wrote on it.
            if lines.any():
                lines &= found.thickness < PRINTED * stroke_width(torch.from_numpy(mask & (found.labels == 0)))
            broad += found.thickness[lines].tolist()
    # Their median, not the broadest: where a stroke runs along a line, the line seems broader.
    return max(LINE / float(np.median(broad)), MOST_SHRUNK / max(inside.shape)) if broad else 1.0
