"""Finding the digits in the ink: which parts make a digit, which are separators, where touching
digits are cut.

Read this after paper.py, which finds the ink. A digit may be drawn in several pieces (a 5's flag,
a 4 in two strokes), a number's digits stand side by side or touch, separators (. , ' - /) stand
between them, and specks of dirt and the table around the paper are no digit at all:

  1. find_parts: the connected parts of the ink;
  2. off_the_edges, group_parts, one_line: the table dropped, pieces of one digit grouped, specks
     set apart, the line of writing kept, left to right;
  3. split_separators: the small marks and far-leaning strokes that separate digits;
  4. split_touching: a group that may hold several touching digits is cut where the network,
     lent by predict.py, reads the pieces best.

Each step is bounded: a picture of thousands of specks or of noise takes no longer than a number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from paper import ImageError, bounds, label_parts

# ---------------------------------------------------------------------------------------------
# Parts, digits and separators
# ---------------------------------------------------------------------------------------------

MAX_PARTS = 200  # the heaviest parts of ink that are grouped into digits; the rest can only be specks
MAX_DIGITS = 40  # a picture holding more is read as its 40 heaviest
# What the network says of candidate digits (masks of ink): see split_touching.
Judge = Callable[[list[torch.Tensor]], tuple[torch.Tensor, torch.Tensor, torch.Tensor]]


@dataclass
class Group:
    """Parts of ink that make one digit, or one separator: their labels and bounding box."""
    top: int
    left: int
    bottom: int
    right: int
    parts: list[int]
    mass: float

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def width(self) -> int:
        return self.right - self.left


def find_parts(ink: torch.Tensor) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The connected parts of the ink: labels [H, W] on ink pixels, boxes [n, 4] and mass [n] of each."""
    mask = (ink > 0.3).numpy()
    # Close breaks of a pixel or two in a stroke, so that its pieces count as one part: grow the
    # mask by one pixel in every direction (along columns, then along rows).
    joined = mask.copy()
    for _ in range(2):
        grown = joined.copy()
        grown[1:] |= joined[:-1]
        grown[:-1] |= joined[1:]
        joined = grown.T
    labels, boxes = label_parts(joined.copy())  # two turns by .T: back the right way round
    labels = np.where(mask, labels, 0)  # each ink pixel carries its part's label
    mass = np.bincount(labels.ravel(), weights=ink.numpy().ravel(), minlength=len(boxes) + 1)[1:]
    return labels, boxes, mass


def off_the_edges(labels: np.ndarray, boxes: np.ndarray, mass: np.ndarray, margin: int) -> np.ndarray:
    """The parts, heaviest first, without the table or the page's edge: a part that runs along more
    than half of one of the picture's edges (`margin` pixels inside), or a sliver along it (what is
    left of a ruled line that the picture's edge cut). A digit that merely touches the edge (a
    tight crop) is kept."""
    height, width = labels.shape
    inside = labels[margin:height - margin, margin:width - margin]
    along = np.zeros(len(mass))
    for edge in (inside[0], inside[-1], inside[:, 0], inside[:, -1]):
        along = np.maximum(along, np.bincount(edge, minlength=len(mass) + 1)[1:] / len(edge))
    thin, long = np.sort(boxes[:, 2:] - boxes[:, :2], axis=1).T
    sliver = (along > 0) & (thin <= 3) & (long >= 10 * thin)
    order = np.argsort(-mass)
    kept = order[(along[order] <= 0.5) & ~sliver[order] & (mass[order] > 0)]
    return kept if len(kept) else order[:1]


def group_parts(parts: np.ndarray, boxes: np.ndarray, mass: np.ndarray, labels_size: int,
                ) -> tuple[list[Group], list[Group]]:
    """Group the parts (heaviest first) into digits: a part joins a digit when it lies mostly above
    or below it (their columns overlap by half the narrower one's width), close by; otherwise it
    starts a digit of its own if it holds enough ink or is tall enough to be one, or else is a
    speck. Returns the digits and the specks (dots and commas among them)."""
    groups: list[Group] = []
    specks: list[Group] = []
    largest = mass[parts[0]]
    tallest = (boxes[parts[:MAX_PARTS], 2] - boxes[parts[:MAX_PARTS], 0]).max()
    smallest = max(5, 0.02 * labels_size)  # in pixels: a dot of a printed screen is no digit
    for k in parts[:MAX_PARTS].tolist():  # bounded: a picture of a thousand dots takes no longer
        top, left, bottom, right = boxes[k].tolist()
        for group in groups:
            overlap = min(right, group.right) - max(left, group.left)
            near = 0.5 * group.height
            if overlap >= 0.5 * min(right - left, group.width) and \
                    top < group.bottom + near and bottom > group.top - near:
                group.top, group.left = min(top, group.top), min(left, group.left)
                group.bottom, group.right = max(bottom, group.bottom), max(right, group.right)
                group.parts.append(k + 1)
                group.mass += mass[k]
                break
        else:
            # Enough ink for a digit, or as tall as one: a thin 1 beside a heavy group of touching digits.
            digit = (mass[k] >= 0.1 * largest or (bottom - top >= 0.6 * tallest and mass[k] >= 0.02 * largest)) \
                and max(bottom - top, right - left) >= smallest
            (groups if digit else specks).append(Group(top, left, bottom, right, [k + 1], mass[k]))
    return groups, specks


def one_line(groups: list[Group], specks: list[Group]) -> tuple[list[Group], list[Group]]:
    """One line of writing: what shares rows with the largest digit, left to right."""
    if not groups:
        raise ImageError("no digit found: only specks, far smaller than a digit")
    main = groups[0]
    on_line = lambda g: g.top < main.bottom and g.bottom > main.top  # noqa: E731
    groups = sorted((g for g in groups[:MAX_DIGITS] if on_line(g)), key=lambda g: g.left + g.right)
    return groups, [s for s in specks if on_line(s)]


def separator(group: Group, top: float, bottom: float, pen: float) -> str | None:
    """What a mark much smaller than the digits between `top` and `bottom` is: '.', ',', "'", '-',
    or None for a speck of dirt (smaller than the pen) or something else."""
    size = bottom - top
    if max(group.width, group.height) < 0.6 * pen or group.height > 0.5 * size or group.width > 0.8 * size:
        return None
    middle = (group.top + group.bottom) / 2 - top
    if middle > 0.6 * size:  # low, on the baseline: a point, or a comma if it hangs below it
        return "," if group.height > 1.6 * group.width and group.bottom > bottom + 0.1 * size else "."
    if middle < 0.4 * size:
        return "'"
    return "-" if group.width > 1.5 * group.height else None


def is_slash(mask: torch.Tensor) -> bool:
    """Whether a mark is one straight stroke leaning far over, like / (fewer than 1 in 100 of MNIST's
    ones lean more than 40 degrees)."""
    y, x = mask.nonzero().T.float()
    if len(x) < 10:
        return False
    # The direction in which the ink spreads most (the covariance's main axis), and how much more.
    spread, axes = torch.linalg.eigh(torch.cov(torch.stack([x, y])))
    leaning = math.degrees(math.atan2(abs(axes[0, 1].item()), abs(axes[1, 1].item())))
    return spread[1].item() > 30 * max(spread[0].item(), 1e-6) and leaning > 40


def split_separators(labels: np.ndarray, groups: list[Group], specks: list[Group], pen: float,
                     ) -> tuple[list[Group], list[tuple[Group, str]]]:
    """The digits of a line, and the separators among them ('.', ',', "'", '-', '/') with their characters."""
    tallest = max(g.height for g in groups)
    full = [g for g in groups if g.height >= 0.6 * tallest]  # the line's digits, by their size
    top, bottom = float(np.median([g.top for g in full])), float(np.median([g.bottom for g in full]))
    digits, marks = [], []
    for group in groups:
        mark = separator(group, top, bottom, pen) if group.height < 0.5 * tallest else None
        if mark is None and len(full) > 1 and is_slash(mask_of(labels, group)):
            mark = "/"
        (digits if mark is None else marks).append(group if mark is None else (group, mark))
    marks += [(speck, mark) for speck in specks if (mark := separator(speck, top, bottom, pen))]
    if not digits:  # marks alone: read them as they are, and let the network say what they are
        return groups, []
    first, last = min(g.left for g in digits), max(g.right for g in digits)
    # Between digits, or a full stop after the last one; anything before the number is no separator.
    return digits, [(g, m) for g, m in marks if first < g.left and (g.right <= last or m == ".")]


def mask_of(labels: np.ndarray, group: Group, pad: int = 0) -> torch.Tensor:
    """The ink pixels of a group, in its bounding box widened by `pad` pixels on every side."""
    window = labels[max(0, group.top - pad):group.bottom + pad, max(0, group.left - pad):group.right + pad]
    return torch.from_numpy(np.isin(window, group.parts))


# ---------------------------------------------------------------------------------------------
# Digits that touch: let the network choose where to cut
# ---------------------------------------------------------------------------------------------

CUTS_PER_HEIGHT = 4  # places to try cutting touching digits, per digit height of their width: a bounded search
ONE = math.log(0.1)  # a piece read as a 1, cut from a group that is no digit, is doubtful: a letter's stroke is a 1
SURE = 0.4  # the least probability a piece of a split may be read with: the network was taught that parts of
# digits and pairs are no digits (nondigits.pieces, nondigits.pairs), so a wrong cut reads below it
REFUSED = 3.0  # what a piece below the "not a digit" bar costs per digit-height of its width (log probability)


def cut_columns(mask: torch.Tensor) -> list[int]:
    """Where touching digits may be cut: the columns at each end of the ink, and between them those
    where it is thinnest (minima of the number of ink pixels in each column), not too close together."""
    top, left, bottom, right = bounds(mask)
    height = bottom - top
    profile = mask.sum(0).float()[None, None]
    profile = F.avg_pool1d(profile, 3, stride=1, padding=1, count_include_pad=False)[0, 0].tolist()
    edge = max(1, round(0.15 * height))
    minima = [c for c in range(left + edge, right - edge) if profile[c - 1] >= profile[c] <= profile[c + 1]]
    chosen: list[int] = []
    for column in sorted(minima, key=lambda c: profile[c]):  # the thinnest first
        if all(abs(column - other) >= 0.1 * height for other in chosen):
            chosen.append(column)
    return [left] + sorted(chosen[:round(CUTS_PER_HEIGHT * (right - left) / height)]) + [right]


def without_scraps(mask: torch.Tensor, left: int, right: int) -> torch.Tensor:
    """The ink of `mask` between columns `left` and `right`, without the scraps that a cut leaves of a
    neighbour: parts that touch the cut and hold less than a sixth of the piece's ink."""
    piece = mask.clone()
    piece[:, :left], piece[:, right:] = False, False
    labels, boxes = label_parts(piece.numpy())
    size = np.bincount(labels.ravel())[1:]
    scraps = (size < size.sum() / 6) & (((boxes[:, 1] <= left) & (left > 0)) | (boxes[:, 3] >= right))
    if scraps.any() and not scraps.all():
        piece &= torch.from_numpy(~np.isin(labels, 1 + np.nonzero(scraps)[0]))
    return piece


def split_touching(mask: torch.Tensor, judge: Judge) -> list[torch.Tensor]:
    """A group of ink that may hold several touching digits -> one mask per digit, left to right.

    Every stretch between two possible cuts is a candidate digit, and the network reads them all in
    one batch: `judge` gives each one's best class's probability, whether that clears the "not a
    digit" bar, and whether it is a 1. The best way to cut is then found by dynamic programming
    (best_reading). A single wide digit (a flat 0) stays whole, since its halves are not read as surely.
    """
    # A group that the network reads surely as one digit is one: it was taught that two digits run
    # together are no digit. Only the others are worth the search.
    confidence, is_digit, _ = judge([mask])
    if is_digit.item() and confidence.item() >= 0.8:
        return [mask]
    one_cost = 0.0 if is_digit.item() else ONE  # see below
    height = bounds(mask)[2] - bounds(mask)[0]
    cuts = cut_columns(mask)
    pieces = {}
    for i in range(len(cuts)):
        for j in range(i + 1, len(cuts)):
            if cuts[j] - cuts[i] > 1.6 * height and (i, j) != (0, len(cuts) - 1):
                continue  # wider than any digit
            piece = without_scraps(mask, cuts[i], cuts[j])
            if piece.sum() >= 8:
                pieces[i, j] = piece
    if not pieces:
        return [mask]
    confidence, is_digit, one = judge(list(pieces.values()))
    # The whole group is one digit, or no digit at all (which costs by its width, so that a long
    # group of touching digits is not kept whole because each of its pieces would cost as much).
    # A split must read every piece surely enough: the network was taught that parts of digits are
    # no digit. A stroke cut off a letter looks like a 1: where the whole group is no digit (a
    # letter, say), a piece read as a 1 costs more (ONE); where it is a doubtful digit, such as a 4
    # with a 1 run into it, it does not.
    whole = (0, len(cuts) - 1)
    score = {}
    for (i, j), c, ok, is_one in zip(pieces, confidence.tolist(), is_digit.tolist(), one.tolist()):
        if (i, j) == whole:
            score[i, j] = math.log(max(c, 1e-9)) if ok else -REFUSED * (cuts[j] - cuts[i]) / height
        elif ok and c >= SURE:
            score[i, j] = math.log(c) + (one_cost if is_one else 0.0)
    return best_reading(len(cuts), score, pieces) or [mask]


def best_reading(cuts: int, score: dict[tuple[int, int], float], pieces: dict) -> list | None:
    """The pieces of the best-scoring way from the first cut to the last, by dynamic programming:
    the best reading up to each cut is the best one up to an earlier cut, plus one piece."""
    best: dict[int, tuple[float, list]] = {0: (0.0, [])}
    for j in range(1, cuts):
        options = [(best[i][0] + score[i, j], best[i][1] + [pieces[i, j]])
                   for i in range(j) if i in best and (i, j) in score]
        if options:
            best[j] = max(options, key=lambda option: option[0])
    return best[cuts - 1][1] if cuts - 1 in best else None

