"""Working with pixels: the few image tools that finding ink and digits is built on.

Read this first, or whenever paper.py, segment.py, shapes.py, separators.py, touching.py or prepare.py uses
one of these. Each works on a whole image at once, with a handful of tensor or numpy operations
instead of a Python loop over pixels, so that a picture takes milliseconds:

  - filters over squares of pixels: the largest, the smallest and the mean value around each
    pixel (max_filter, min_filter, box_mean), and resizing (resize, shrunk);
  - the connected parts of a mask, numbered, with their boxes (label_parts), found by joining
    runs of pixels (touching_runs), and those that touch the picture's edges (edges, reaching_the_edge);
  - a mask's bounding box (bounds), the width of its strokes (stroke_width), and the paper its
    ink encloses (enclosed); which parts stand in the line of the writing, by their boxes (in_line);
  - the level that splits values into two groups, such as ink and paper (otsu);
  - how soft the ink's edges are, as in a photo out of focus (edge_width), and steep again (sharpened);
  - an image turned by an angle, on a canvas that holds all of it (turned).
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

# ---------------------------------------------------------------------------------------------
# Filters over squares of pixels
# ---------------------------------------------------------------------------------------------

def resize(pixels: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Resize a [H, W] image; when shrinking, anti-alias, so that thin strokes are averaged, not skipped."""
    shrinking = height < pixels.shape[0] or width < pixels.shape[1]
    return F.interpolate(pixels[None, None], size=(height, width), mode="bilinear", antialias=shrinking,
                         align_corners=False)[0, 0]


def shrunk(pixels: torch.Tensor, size: int) -> torch.Tensor:
    """A [H, W] image shrunk so that its longer side is at most `size` pixels (as it is, if it is)."""
    if max(pixels.shape) <= size:
        return pixels
    scale = size / max(pixels.shape)
    return resize(pixels, max(1, round(pixels.shape[0] * scale)), max(1, round(pixels.shape[1] * scale)))


def max_filter(pixels: torch.Tensor, size: int) -> torch.Tensor:
    """The largest value in the size x size square around each pixel of a [H, W] image (size odd)."""
    # A square's maximum is the maximum along rows of the maxima along columns: two passes, the
    # image turned a quarter (.T) between them. Along a row, the maxima over 2 pixels are the larger
    # of each pixel and its neighbour, over 4 the larger of two such pairs side by side, and so on,
    # a last step topping up to `size`: a few elementwise maxima over the image, whatever the size.
    for _ in range(2):
        row = F.pad(pixels, (size // 2, size // 2), value=-math.inf)
        width = 1  # how many pixels each value of `row` is now the maximum of
        while width < size:
            step = min(width, size - width)
            row = torch.maximum(row[:, :-step], row[:, step:])
            width += step
        pixels = row.T
    return pixels


def grown(mask: np.ndarray, reach: int) -> np.ndarray:
    """A boolean [H, W] mask grown by `reach` pixels in every direction, diagonals too: max_filter's
    square of 2 * reach + 1 pixels, in numpy, which on masks this small takes a fraction of its time."""
    for _ in range(2):  # along columns, then along rows: the mask turned a quarter (.T) between
        spread = mask.copy()
        for step in range(1, reach + 1):
            spread[step:] |= mask[:-step]
            spread[:-step] |= mask[step:]
        mask = spread.T
    return mask


def box_mean(pixels: torch.Tensor, size: int) -> torch.Tensor:
    """The mean of the size x size square around each pixel of a [H, W] image (size odd), counting
    only the part of the square inside the image."""
    # Two passes again, along rows then along columns. The sum of a window of a row is the
    # difference of two running sums (cumsum) `size` apart: one subtraction whatever the size.
    for _ in range(2):
        width = pixels.shape[1]
        sums = F.pad(pixels, (size // 2 + 1, size // 2)).cumsum(1)
        column = torch.arange(width)
        inside = (column + size // 2).clamp(max=width - 1) - (column - size // 2).clamp(min=0) + 1
        pixels = ((sums[:, size:] - sums[:, :width]) / inside).T
    return pixels


def min_filter(pixels: torch.Tensor, size: int) -> torch.Tensor:
    return -max_filter(-pixels, size)  # the smallest value in each square


def fill_in(pixels: torch.Tensor, holes: torch.Tensor) -> torch.Tensor:
    """A [H, W] image with its `holes` (a boolean mask) filled from around them, a ring of pixels at a
    time, each the mean of its known neighbours: what lies around a hole goes on smoothly into it."""
    pixels, holes = pixels.clone(), holes.clone()
    for _ in range(max(pixels.shape)):  # every hole is filled by then, if any pixel is known
        known = box_mean((~holes).float(), 3)
        edge = holes & (known > 0)
        if not edge.any():
            break
        pixels[edge] = box_mean(pixels * ~holes, 3)[edge] / known[edge]
        holes &= ~edge
    return pixels

# ---------------------------------------------------------------------------------------------
# Connected parts, boxes and strokes
# ---------------------------------------------------------------------------------------------

def label_parts(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Number the connected parts of a [H, W] boolean mask (diagonal neighbours count as touching).

    Returns the labels ([H, W], 0 for background, 1 to n for the parts) and each part's bounding
    box [n, 4] as (top, left, bottom, right), bottom and right exclusive.
    """
    height, width = mask.shape
    # Work on runs: a run is a stretch of set pixels within one row. numpy finds them all at once,
    # row after row: where a set pixel follows an unset one, a run starts; where an unset one follows
    # a set one, it ends (exclusive). Comparisons of booleans: far faster than searching differences.
    padded = np.zeros((height, width + 2), dtype=bool)  # a column of background either side
    padded[:, 1:-1] = mask
    rows, starts = np.divmod(np.flatnonzero(padded[:, 1:] & ~padded[:, :-1]), width + 1)
    ends = np.flatnonzero(padded[:, :-1] & ~padded[:, 1:]) % (width + 1)
    roots = touching_runs(rows, starts, ends, width)
    part_ids, run_part = np.unique(roots, return_inverse=True)  # parts numbered 0 to n - 1
    # Paint each run with its part's label (1 to n): +label where a run starts, -label where it ends,
    # then a running sum along the flattened image.
    flat = np.zeros(height * width + 1, dtype=np.int64)
    np.add.at(flat, rows * width + starts, run_part + 1)
    np.add.at(flat, rows * width + ends, -(run_part + 1))
    labels = np.cumsum(flat[:-1]).reshape(height, width)
    boxes = np.empty((len(part_ids), 4), dtype=np.int64)
    boxes[:, 0], boxes[:, 1], boxes[:, 2:] = height, width, 0
    np.minimum.at(boxes[:, 0], run_part, rows)
    np.minimum.at(boxes[:, 1], run_part, starts)
    np.maximum.at(boxes[:, 2], run_part, rows + 1)
    np.maximum.at(boxes[:, 3], run_part, ends)
    return labels, boxes


def edges(pixels: torch.Tensor | np.ndarray) -> tuple:
    """The four rows and columns of pixels along the edges of a [H, W] picture (or mask, or labels)."""
    return pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]


def reaching_the_edge(labels: np.ndarray) -> np.ndarray:
    """Of the parts that label_parts numbered [H, W], the pixels of those that touch the picture's edge."""
    # A table of which labels touch it, looked up for every pixel: one step, however many parts.
    touches = np.zeros(int(labels.max()) + 1, dtype=bool)
    touches[np.concatenate(edges(labels))] = True
    touches[0] = False  # the background between the parts
    return touches[labels]


def touching_runs(rows: np.ndarray, starts: np.ndarray, ends: np.ndarray, width: int) -> np.ndarray:
    """For runs (row, start, end) in row-major order: a root run for each, shared by all the runs
    it touches, directly or through others."""
    # Number the pixels row after row, with columns to spare between rows, so that the runs of the
    # next row that touch run i (diagonally too) are found by binary search: from the first that
    # ends at or after its start to the last that starts at or before its end.
    line = width + 2
    start_key, end_key = rows * line + starts, rows * line + ends
    first = np.searchsorted(end_key, start_key + line)
    count = np.maximum(np.searchsorted(start_key, end_key + line, side="right") - first, 0)
    a = np.repeat(np.arange(len(starts)), count)  # every touching pair (a, b), b in the row below a
    b = np.repeat(first - (np.cumsum(count) - count), count) + np.arange(count.sum())
    # Union-find for all pairs at once: each root takes the smallest root that its runs touch, then
    # every run points straight at its root; until nothing changes. Runs only ever point to smaller
    # ones, so there are no loops, and a few rounds join even a long snake of runs.
    root = np.arange(len(starts))
    while True:
        before = root.copy()
        smaller = np.minimum(root[a], root[b])
        np.minimum.at(root, root[a], smaller)
        np.minimum.at(root, root[b], smaller)
        jumped = root[root]
        while (jumped != root).any():  # until every run points straight at its root
            root, jumped = jumped, jumped[jumped]
        if (root == before).all():
            return root


def stroke_width(mask: torch.Tensor) -> float:
    """The mean width of the strokes in a mask, in pixels: twice their area over their outline."""
    # The outline is the ink with background among its 8 neighbours. In numpy, as shifted copies ANDed
    # together, three across and then three down (ink all around): this runs for every candidate piece
    # of touching digits, and on masks this small it takes a fraction of the time of min_filter's torch steps.
    ink = mask.numpy()
    # Beyond the edge counts as ink, as for min_filter: a stroke cut off by the edge has no outline there.
    marked = np.ones((ink.shape[0] + 2, ink.shape[1] + 2), dtype=bool)
    marked[1:-1, 1:-1] = ink
    across = marked[:, :-2] & marked[:, 1:-1] & marked[:, 2:]  # ink here and on both sides
    inside = across[:-2] & across[1:-1] & across[2:]
    return 2 * np.count_nonzero(ink) / max(np.count_nonzero(ink & ~inside), 1)  # counted: far faster than sum()


def in_line(boxes: np.ndarray, parts: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Which of `parts` stand in the line of the writing, as a digit does beside another: 0.75 to 1.33
    times as tall as one of the `others`, sharing half the rows of the shorter of the two."""
    heights = boxes[:, 2] - boxes[:, 0]
    ratio = heights[parts, None] / np.maximum(heights[others], 1)
    shared = np.minimum(boxes[parts, 2:3], boxes[others, 2]) - np.maximum(boxes[parts, :1], boxes[others, 0])
    beside = shared >= 0.5 * np.minimum(heights[parts, None], heights[others])
    return ((ratio >= 0.75) & (ratio <= 1.33) & beside).any(1)


def coordinates(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows and columns of the set (non-zero) pixels of a [H, W] array, row after row: what
    np.nonzero gives, found along the flattened array, which numpy does several times faster."""
    return np.divmod(np.flatnonzero(mask), mask.shape[1])


def bounds(mask: torch.Tensor) -> tuple[int, int, int, int]:
    """(top, left, bottom, right) of a non-empty mask's set pixels; bottom and right exclusive."""
    # numpy, because this runs for every candidate piece of touching digits, and on a mask this small
    # torch's nonzero() takes several times as long.
    marked = mask.numpy()
    rows, cols = np.flatnonzero(marked.any(1)), np.flatnonzero(marked.any(0))
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


def turned(pixels: torch.Tensor, degrees: float) -> tuple[torch.Tensor, Callable]:
    """`pixels` [H, W] turned back by `degrees` (clockwise as seen) on a canvas large enough to hold
    them all, and a function from (x, y) on it to (x, y) in `pixels`: pixels' edges at whole numbers."""
    height, width = pixels.shape
    cos, sin = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    new_height = math.ceil(abs(width * sin) + abs(height * cos) - 1e-6)  # not one more for a rounding error
    new_width = math.ceil(abs(width * cos) + abs(height * sin) - 1e-6)

    def back(x, y):
        u, v = x - new_width / 2, y - new_height / 2
        return width / 2 + cos * u - sin * v, height / 2 + sin * u + cos * v

    # Each pixel of the new canvas takes its value from where its centre falls in the old one.
    y, x = torch.meshgrid(torch.arange(new_height) + 0.5, torch.arange(new_width) + 0.5, indexing="ij")
    source_x, source_y = back(x, y)
    grid = torch.stack([2 * source_x / width - 1, 2 * source_y / height - 1], -1)  # grid_sample's -1 to 1
    mode = "nearest" if pixels.dtype == torch.bool else "bilinear"
    result = F.grid_sample(pixels[None, None].float(), grid[None], mode, align_corners=False)[0, 0]
    return result.to(pixels.dtype), back


def enclosed(mask: torch.Tensor) -> list[tuple[int, int, int, int]]:
    """The boxes (top, left, bottom, right) of the paper that a mask's ink encloses: not reaching its
    edge, and more than a gap of a pixel or two in a thick stroke."""
    height, width = mask.shape
    _, boxes = label_parts(~mask.numpy())  # the parts of the paper
    return [(top, left, bottom, right) for top, left, bottom, right in boxes.tolist()
            if top > 0 and left > 0 and bottom < height and right < width and (bottom - top) * (right - left) >= 4]


def otsu(values: np.ndarray) -> float:
    """The level that splits `values` into two groups as different as possible (Otsu's method)."""
    if values.max() - values.min() < 1e-3:  # one shade (a blank page, shrunk: differences of a millionth)
        return float(values.min()) - 1e-3  # no split: all of it above the level, as for a single value
    counts, edges = np.histogram(values, bins=64)
    centres = (edges[:-1] + edges[1:]) / 2
    below = np.cumsum(counts)[:-1]
    above = len(values) - below
    sum_below = np.cumsum(counts * centres)[:-1]
    mean_below = sum_below / np.maximum(below, 1)
    mean_above = (np.sum(counts * centres) - sum_below) / np.maximum(above, 1)
    between = below * above * (mean_below - mean_above) ** 2  # the spread between the two groups
    return float(edges[1:-1][np.argmax(between)])


# ---------------------------------------------------------------------------------------------
# Soft edges: a photo out of focus
# ---------------------------------------------------------------------------------------------

def edge_width(ink: torch.Tensor, height: float) -> float:
    """How soft the ink's edges are: how far the ink would take to rise from the paper to its
    darkest at the pace it rises fastest halfway up (the steepest tenth of those places), as a share
    of the digits' `height`. A pen in focus rises within a pixel or two, and an enlarged
    picture's soft edges are narrow beside its enlarged digits; a lens out of focus spreads them."""
    # In numpy: every picture is measured, and on arrays this small each numpy step takes a fraction
    # of a torch one's time (docs/reading.md, "Out of focus").
    pixels = ink.numpy()
    darkest = darkest_ink(pixels)
    here = pixels[:-1, :-1]
    halfway = (here > 0.25 * darkest) & (here < 0.75 * darkest)
    if halfway.sum() < 10:
        return 0.0
    rise = np.hypot(pixels[1:, :-1][halfway] - here[halfway], pixels[:-1, 1:][halfway] - here[halfway])
    return darkest / max(quantile(rise, 0.9), 1e-3) / height


def sharpened(ink: torch.Tensor) -> torch.Tensor:
    """Ink with steep edges again: what lies below a quarter of its darkest is paper, above three
    quarters full ink, and what lies between is stretched. The grey that blur spreads into a loop
    (an 8's, a 6's) goes, and the loop opens; MNIST's digits have soft edges, but narrow ones."""
    return (2 * ink / darkest_ink(ink.numpy()) - 0.5).clamp(0, 1)


def darkest_ink(pixels: np.ndarray) -> float:
    """How dark most of the darkest ink is (the 90% quantile of what is ink at all), not one stray pixel."""
    inked = pixels[pixels > 0.05]
    return max(float(quantile(inked, 0.9) if len(inked) >= 10 else pixels.max()), 1e-3)


def quantile(values: np.ndarray, q: float) -> float:
    """The value that a share `q` of `values` lie below (np.partition: no full sort needed). With q = 0.5,
    the median as torch gives it: of an even count, the lower of the two middle values."""
    k = int(q * (len(values) - 1))
    # Two places asked for, not one: numpy partitions for one place slowly where many values are equal.
    return float(np.partition(values, [k, min(k + 1, len(values) - 1)])[k])


def linear_quantile(values: np.ndarray, q: float) -> float:
    """The quantile `q` of `values` as torch.quantile gives it (to a millionth): on the straight line
    between the two values nearest it, but found by np.partition, several times faster than a sort."""
    rank = q * (len(values) - 1)
    below, above = int(rank), min(int(rank) + 1, len(values) - 1)
    lower, upper = np.partition(values, [below, above])[[below, above]].astype(np.float64)
    return float(lower + (rank - below) * (upper - lower))


def ink_quantile(ink: np.ndarray, q: float) -> float:
    """linear_quantile of a picture's ink, most of it 0 (the paper), where q lies among the inked
    pixels: ranked among those alone, several times faster, and the same (to a millionth)."""
    inked = ink[ink > 0]
    rank = q * (ink.size - 1) - (ink.size - len(inked))  # its rank among the inked pixels
    if rank < 0 or len(inked) < 2:
        return linear_quantile(ink.ravel(), q)
    return linear_quantile(inked, rank / (len(inked) - 1))
