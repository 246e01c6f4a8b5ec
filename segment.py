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
     lent by predict.py, reads the pieces best; straight down, or slanted as handwriting leans.

Each step is bounded: a picture of thousands of specks or of noise takes no longer than a number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from paper import ImageError
from pixels import bounds, label_parts

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
        # A comma is a stroke, longer than the pen is wide (and often leaning), that hangs below.
        long = group.height > 1.6 * group.width or group.height > 3 * pen
        return "," if long and group.bottom > bottom + 0.1 * size else "."
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
CLOSER_CUTS_PER_HEIGHT = 6  # where none of those parted a wide group: straight down only, to stay bounded
ONE = math.log(0.1)  # a piece read as a 1, cut from a group that is no digit, is doubtful: a letter's stroke is a 1
SURE = 0.5  # the least probability a piece of a split may be read with: the network was taught that parts of
# digits and pairs are no digits (nondigits.pieces, nondigits.pairs), so a wrong cut reads below it
REFUSED = 3.0  # what a piece below the "not a digit" bar costs per digit-height of its width (log probability)
# Handwriting leans, so the gap between two touching digits often does too: cuts are tried straight
# down and leaning about 14 degrees either way (a shift of a quarter of a pixel per row).
SLANTS = (0.0, 0.25, -0.25)
# Slanted cuts, and more cuts where none parted the group, are only tried in a group as wide as two
# digits: each try is one more chance for the pieces of a letter to pass as digits.
PAIR_WIDTH = 1.3  # in heights
MAX_JUDGED = 500  # candidate pieces the network may read in one picture: what keeps the search bounded


@dataclass
class Budget:
    """How many more candidate pieces the network may read in this picture."""
    left: int = MAX_JUDGED


def cut_columns(mask: torch.Tensor, per_height: int = CUTS_PER_HEIGHT) -> list[int]:
    """Where touching digits may be cut: the columns at each end of the ink, and between them those
    where it is thinnest (minima of the number of ink pixels in each column), `per_height` for each
    height of its width at most, the more of them the closer together."""
    top, left, bottom, right = bounds(mask)
    height = bottom - top
    profile = mask.sum(0).float()[None, None]
    profile = F.avg_pool1d(profile, 3, stride=1, padding=1, count_include_pad=False)[0, 0].tolist()
    edge = max(1, round(0.15 * height))
    minima = [c for c in range(left + edge, right - edge) if profile[c - 1] >= profile[c] <= profile[c + 1]]
    chosen: list[int] = []
    for column in sorted(minima, key=lambda c: profile[c]):  # the thinnest first
        if all(abs(column - other) >= 0.4 / per_height * height for other in chosen):
            chosen.append(column)
    return [left] + sorted(chosen[:round(per_height * (right - left) / height)]) + [right]


def without_scraps(mask: torch.Tensor, left: int, right: int) -> torch.Tensor:
    """The ink of `mask` between columns `left` and `right`, without the scraps that a cut leaves of a
    neighbour: parts that touch the cut and hold less than a sixth of the piece's ink."""
    piece = torch.zeros_like(mask)
    labels, boxes = label_parts(mask[:, left:right].numpy())  # columns from `left` on: boxes[:, 1] == 0 at the cut
    size = np.bincount(labels.ravel())[1:]
    scraps = (size < size.sum() / 6) & (((boxes[:, 1] == 0) & (left > 0)) | (boxes[:, 3] >= right - left))
    if scraps.any() and not scraps.all():
        piece[:, left:right] = torch.from_numpy((labels > 0) & ~np.isin(labels, 1 + np.nonzero(scraps)[0]))
    else:
        piece[:, left:right] = mask[:, left:right]
    return piece


def split_touching(mask: torch.Tensor, judge: Judge, budget: Budget,
                   ) -> tuple[list[torch.Tensor], list[tuple[int, int]]]:
    """A group of ink that may hold several touching digits -> one mask per digit, left to right,
    and each cut between them as the columns where it crosses the ink's first and last rows.

    The cuts are tried straight and, in a group as wide as two digits, slanted (SLANTS): a slanted
    cut is a straight one in the group sheared by that slant, whose pieces are sheared back before
    the network reads them. Where no cut parts such a group, more are tried, closer together. A
    search that would read more pieces than the picture's `budget` has left is not made.
    """
    # A group that the network reads surely as one digit is one: it was taught that two digits run
    # together are no digit. Only the others are worth the search.
    confidence, is_digit, _ = judge([mask])
    if is_digit.item() and confidence.item() >= 0.8:
        return [mask], []
    one_cost = 0.0 if is_digit.item() else ONE  # see best_split
    top, left, bottom, right = bounds(mask)
    wide = right - left >= PAIR_WIDTH * (bottom - top)
    pieces, cuts = slanted_split(mask, judge, budget, one_cost, SLANTS if wide else SLANTS[:1], CUTS_PER_HEIGHT)
    if len(pieces) == 1 and wide and not is_digit.item():
        pieces, cuts = slanted_split(mask, judge, budget, one_cost, SLANTS[:1], CLOSER_CUTS_PER_HEIGHT)
    return pieces, cuts


def slanted_split(mask: torch.Tensor, judge: Judge, budget: Budget, one_cost: float, slants: tuple[float, ...],
                  per_height: int) -> tuple[list[torch.Tensor], list[tuple[int, int]]]:
    """The best of best_split's ways to cut the group at each slant, the cuts as split_touching gives them."""
    top, _, bottom, _ = bounds(mask)
    best = (-math.inf, [mask], [])
    for slant in slants:
        shift = shifts(mask.shape[0], slant)
        unsheared = lambda m: unshear(m, shift, mask.shape[1])  # noqa: E731
        score, pieces, cuts = best_split(shear(mask, shift), lambda masks: judge([unsheared(m) for m in masks]),
                                         budget, one_cost, per_height)
        if score > best[0]:
            best = (score, [unsheared(p) for p in pieces], [(c - shift[top], c - shift[bottom - 1]) for c in cuts])
    return best[1], best[2]


def shifts(height: int, slant: float) -> list[int]:
    """How far right each of `height` rows moves when a mask is sheared by `slant` (pixels per row,
    the top moving most for a positive slant): never left, so that nothing falls off."""
    moves = [round(-slant * (y - (height - 1) / 2)) for y in range(height)]
    return [move - min(moves) for move in moves]


def shear(mask: torch.Tensor, shift: list[int]) -> torch.Tensor:
    """Each row of `mask` moved right by its shift, on a canvas wide enough to hold them all."""
    height, width = mask.shape
    columns = torch.tensor(shift)[:, None] + torch.arange(width)
    return torch.zeros(height, width + max(shift), dtype=mask.dtype).scatter_(1, columns, mask)


def unshear(mask: torch.Tensor, shift: list[int], width: int) -> torch.Tensor:
    """What shear() undoes: each row moved back left, the canvas cut back to `width` columns."""
    return mask.gather(1, torch.tensor(shift)[:, None] + torch.arange(width))


def best_split(mask: torch.Tensor, judge: Judge, budget: Budget, one_cost: float, per_height: int,
               ) -> tuple[float, list[torch.Tensor], list[int]]:
    """The best way to cut the group straight down: its score, its pieces and the columns cut.

    Every stretch between two possible cuts is a candidate digit, and the network reads them all in
    one batch: `judge` gives each one's best class's probability, whether that clears the "not a
    digit" bar, and whether it is a 1. The best way to cut is then found by dynamic programming
    (best_reading). A single wide digit (a flat 0) stays whole, since its halves are not read as surely.
    """
    height = bounds(mask)[2] - bounds(mask)[0]
    cuts = cut_columns(mask, per_height)
    whole = (0, len(cuts) - 1)
    stretches = [(i, j) for i in range(len(cuts)) for j in range(i + 1, len(cuts))
                 if cuts[j] - cuts[i] <= 1.6 * height or (i, j) == whole]  # no wider than a digit, or all of it
    if len(stretches) > budget.left:
        return -math.inf, [mask], []
    budget.left -= len(stretches)
    pieces = {(i, j): without_scraps(mask, cuts[i], cuts[j]) for i, j in stretches}
    pieces = {stretch: piece for stretch, piece in pieces.items() if piece.sum() >= 8}
    if not pieces:
        return -math.inf, [mask], []
    confidence, is_digit, one = judge(list(pieces.values()))
    # The whole group is one digit, or no digit at all (which costs by its width, so that a long
    # group of touching digits is not kept whole because each of its pieces would cost as much).
    # A split must read every piece surely enough: the network was taught that parts of digits are
    # no digit. A stroke cut off a letter looks like a 1: where the whole group is no digit (a
    # letter, say), a piece read as a 1 costs more (ONE); where it is a doubtful digit, such as a 4
    # with a 1 run into it, it does not.
    score = {}
    for (i, j), c, ok, is_one in zip(pieces, confidence.tolist(), is_digit.tolist(), one.tolist()):
        if (i, j) == whole:
            score[i, j] = math.log(max(c, 1e-9)) if ok else -REFUSED * (cuts[j] - cuts[i]) / height
        elif ok and c >= SURE:
            score[i, j] = math.log(c) + (one_cost if is_one else 0.0)
    total, path = best_reading(len(cuts), score)
    return total, [pieces[step] for step in path], [cuts[i] for i, _ in path[1:]]


def best_reading(cuts: int, score: dict[tuple[int, int], float]) -> tuple[float, list[tuple[int, int]]]:
    """The best-scoring way from the first cut to the last, as the pieces (i, j) it is made of, by
    dynamic programming: the best reading up to each cut is the best one up to an earlier cut, plus
    one piece. No way at all scores -inf."""
    best: dict[int, tuple[float, list]] = {0: (0.0, [])}
    for j in range(1, cuts):
        options = [(best[i][0] + score[i, j], best[i][1] + [(i, j)]) for i in range(j) if i in best and (i, j) in score]
        if options:
            best[j] = max(options, key=lambda option: option[0])
    return best.get(cuts - 1, (-math.inf, []))
