"""Finding the digits in the ink: which parts make a digit, and which are separators.

Read this after paper.py, which finds the ink. A digit may be drawn in several pieces (a 5's flag,
a 4 in two strokes), a number's digits stand side by side or touch, separators (. , ' - /) stand
between them, and specks of dirt and the table around the paper are no digit at all:

  1. find_parts: the connected parts of the ink;
  2. off_the_edges, group_parts, one_line: the table dropped, and a box, a ring or a line drawn
     around the writing (around.py), pieces of one digit grouped, specks set apart, the
     line of writing kept, left to right (a line photographed turned is first levelled by
     prepare.py, by the angle tilt finds);
  3. split_separators: the small marks and far-leaning strokes that separate digits, commas that
     touch a digit, and a % sign after the number, in one stroke or three (is_percent,
     joined_percent).

A group that may hold several touching digits is then cut apart by touching.py. Each step is
bounded: a picture of thousands of specks or of noise takes no longer than a number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from around import around_the_writing
from images import ImageError
from pixels import enclosed, grown, label_parts, min_filter, stroke_width

# ---------------------------------------------------------------------------------------------
# Parts, digits and separators
# ---------------------------------------------------------------------------------------------

MAX_PARTS = 200  # the heaviest parts of ink that are grouped into digits; the rest can only be specks
MAX_DIGITS = 40  # a picture holding more is read as its 40 heaviest


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
    # mask by one pixel in every direction.
    labels, boxes = label_parts(grown(mask, 1))
    labels = np.where(mask, labels, 0)  # each ink pixel carries its part's label
    mass = np.bincount(labels[mask], weights=ink.numpy()[mask], minlength=len(boxes) + 1)[1:]
    return labels, boxes, mass


def off_the_edges(labels: np.ndarray, boxes: np.ndarray, mass: np.ndarray, margin: int) -> np.ndarray:
    """The parts, heaviest first, without the table or the page's edge: a part that runs along more
    than half of one of the picture's edges (`margin` pixels inside), or a sliver along it (what is
    left of a ruled line that the picture's edge cut), or a solid one near it (a corner of the
    table, where the page lies turned in the photo), or a faint one near it (the shade along the
    page's edge). A digit that merely touches the edge (a tight crop) is kept. Then what is drawn
    around the writing goes too (around_the_writing)."""
    height, width = labels.shape
    inside = labels[margin:height - margin, margin:width - margin]
    along = np.zeros(len(mass))
    for edge in (inside[0], inside[-1], inside[:, 0], inside[:, -1]):
        along = np.maximum(along, np.bincount(edge, minlength=len(mass) + 1)[1:] / len(edge))
    thin, long = np.sort(boxes[:, 2:] - boxes[:, :2], axis=1).T
    sliver = (along > 0) & (thin <= 3) & (long >= 10 * thin)
    order = np.argsort(-mass)
    kept = order[(along[order] <= 0.5) & ~sliver[order] & (mass[order] > 0)]
    # A corner of a dark table is solid: wear the ink away by a stroke's width from every side, and
    # strokes vanish while something of it is left. (Only near the edge: a blot may be a digit.)
    near = (boxes[:, :2].min(1) <= margin) | (boxes[:, 2] >= height - margin) | (boxes[:, 3] >= width - margin)
    if near[kept].any():
        ink = torch.from_numpy(np.isin(labels, kept + 1))
        core = min_filter(ink.float(), 4 * round(stroke_width(ink) / 2) + 1).bool().numpy()
        table = near & (np.bincount(labels[core], minlength=len(mass) + 1)[1:] > 0)
        # The shade at the table's edge is a soft band, far fainter on average than the strokes of
        # the digits away from the edge: the ink of a pen is as dark near the edge as elsewhere.
        darkness = mass / np.maximum(np.bincount(labels.ravel(), minlength=len(mass) + 1)[1:], 1)  # mean ink
        inner = kept[~near[kept]]
        if len(inner):
            table |= near & (darkness < 0.7 * darkness[inner].max())
        kept = kept[~table[kept]] if not table[kept].all() else kept
    kept = np.concatenate([around_the_writing(labels, boxes, mass, kept[:MAX_PARTS]), kept[MAX_PARTS:]])
    return kept if len(kept) else order[:1]


def group_parts(parts: np.ndarray, boxes: np.ndarray, mass: np.ndarray, labels_size: int,
                ) -> tuple[list[Group], list[Group]]:
    """Group the parts (heaviest first) into digits: a part joins a digit when it lies mostly above
    or below it (their columns overlap by half the narrower one's width), close by (a speck only
    where it nearly touches it); otherwise it starts a digit of its own if it holds enough ink or is
    tall enough to be one, or else is a speck. Returns the digits and the specks (dots and commas
    among them)."""
    if len(parts) == 0:  # all the ink ran along the picture's edges
        raise ImageError("no digit found: only the edges of the picture, or the table around the paper")
    groups: list[Group] = []
    specks: list[Group] = []
    largest = mass[parts[0]]
    tallest = (boxes[parts[:MAX_PARTS], 2] - boxes[parts[:MAX_PARTS], 0]).max()
    smallest = max(5, 0.02 * labels_size)  # in pixels: a dot of a printed screen is no digit
    for k in parts[:MAX_PARTS].tolist():  # bounded: a picture of a thousand dots takes no longer
        top, left, bottom, right = boxes[k].tolist()
        for group in groups:
            overlap = min(right, group.right) - max(left, group.left)
            # Close by: within half its height, or for a speck (a scrap of a line), nearly touching it.
            near = (0.5 if mass[k] >= 0.02 * group.mass else 0.1) * group.height
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


def writing(boxes: np.ndarray, mass: np.ndarray, parts: np.ndarray) -> tuple[list[int], int]:
    """Where the writing is, and how large: the box (top, left, bottom, right) around the parts that
    hold enough ink to be digits (a tenth of the heaviest's, as in group_parts), and the tallest one's height."""
    heavy = boxes[parts[mass[parts] >= 0.1 * mass[parts[0]]]] if len(parts) else boxes[:0]
    if not len(heavy):
        return [0, 0, 0, 0], 0
    return [*heavy[:, :2].min(0).tolist(), *heavy[:, 2:].max(0).tolist()], int((heavy[:, 2] - heavy[:, 0]).max())


def one_line(groups: list[Group], specks: list[Group]) -> tuple[list[Group], list[Group]]:
    """One line of writing: what shares rows with the largest digit, left to right."""
    if not groups:
        raise ImageError("no digit found: only specks, far smaller than a digit")
    main = groups[0]
    on_line = lambda g: g.top < main.bottom and g.bottom > main.top  # noqa: E731
    groups = sorted((g for g in groups[:MAX_DIGITS] if on_line(g)), key=lambda g: g.left + g.right)
    return groups, [s for s in specks if on_line(s)]


TURNED = (16.0, 40.0)  # degrees: a line of writing turned by less reads as it is, by more is no line


def tilt(ink: torch.Tensor, labels: np.ndarray, boxes: np.ndarray, mass: np.ndarray, parts: np.ndarray) -> float:
    """How far a line of writing is turned from level, in degrees (clockwise as seen), or 0 where it
    is level enough or no line. Two things must agree: the direction along which the ink of the
    `parts` spreads most (half as far again as across it), and the line through the centres of
    those that could be digits (with a quarter of the heaviest's `mass` or more: two at least). A
    single digit drawn slanted has one of these at most."""
    big = parts[mass[parts] >= mass[parts[0]] / 4] if len(parts) else parts
    if len(big) < 2:
        return 0.0
    # The line through the centres first: it costs least, and most lines of writing are level.
    x, y = boxes[big][:, [1, 3]].mean(1), boxes[big][:, [0, 2]].mean(1)
    through = math.degrees(math.atan2(((x - x.mean()) * (y - y.mean())).sum(), ((x - x.mean()) ** 2).sum()))
    if not TURNED[0] - 10 <= abs(through) <= TURNED[1] + 10:
        return 0.0
    ink = ink * torch.from_numpy(np.isin(labels, parts + 1))  # not the table's
    y, x = torch.nonzero(ink, as_tuple=True)
    weight = ink[y, x] / ink[y, x].sum()
    dx, dy = x - (weight * x).sum(), y - (weight * y).sum()
    xx, yy, xy = (weight * dx * dx).sum().item(), (weight * dy * dy).sum().item(), (weight * dx * dy).sum().item()
    angle = math.degrees(0.5 * math.atan2(2 * xy, xx - yy))  # the ink's longest axis
    across, along = np.linalg.eigvalsh([[xx, xy], [xy, yy]])
    if along < 1.5 ** 2 * across or not TURNED[0] <= abs(angle) <= TURNED[1] or abs(through - angle) > 10:
        return 0.0
    return angle


def separator(group: Group, top: float, bottom: float, pen: float) -> str | None:
    """What a mark much smaller than the digits between `top` and `bottom` is: '.', ',', "'", '-';
    '' for a scrap that is no separator (a speck of dirt smaller than the pen, a scrap of a digit's
    stroke that broke off); None for something else, which may be a digit."""
    size = bottom - top
    # A long comma may be as tall as most of a digit, but it starts below the line's middle.
    hangs = group.top > top + 0.5 * size and group.bottom > bottom + 0.1 * size
    tallest, widest = (0.8, 0.4) if hangs else (0.5, 0.8)  # of the digits' height
    if max(group.width, group.height) < 0.6 * pen:
        return ""
    if group.height > tallest * size or group.width > widest * size:
        return None
    middle = (group.top + group.bottom) / 2 - top
    flat = group.width > 1.5 * group.height
    if middle > 0.6 * size:  # low: a comma if it hangs below the line, a point if it sits on it
        # A comma is a stroke, longer than the pen is wide (and often leaning), that hangs below.
        long = group.height > 1.6 * group.width or group.height > 3 * pen
        if long and group.bottom > bottom + 0.1 * size:
            return ","
        # A point is written on the baseline; a dot a quarter of a digit above it is a scrap of a stroke.
        return "." if middle > 0.75 * size else ""
    if middle < 0.4 * size:  # high: an apostrophe is a short stroke down (or leaning), never a flat bar
        return "'" if not flat else ""
    return "-" if flat else None


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


def is_percent(mask: torch.Tensor, loose: bool = False) -> bool:
    """Whether a mark is a % sign: no wider than tall, with two small rings of paper enclosed by its
    ink, one high on its left and one low on its right, far apart. Digits that touch can enclose two
    such loops (a 9 run into a 6), but side by side they are wider, and a digit's loop is about half
    its height; a faint stroke broken along its length encloses a sliver, not a ring. `loose`: as type
    sets a %, wider, its rings larger and closer; only for strokes apart (digits that touch are one)."""
    height, width = mask.shape
    if width > (1.2 if loose else 1.1) * height:
        return False
    rings = sorted(enclosed(mask))  # the higher one first
    if len(rings) != 2:
        return False
    (top1, left1, bottom1, right1), (top2, left2, bottom2, right2) = rings
    small = max(bottom1 - top1, bottom2 - top2) <= (0.5 if loose else 0.35) * height
    rings_round = all(3 * min(b - t, r - l) >= max(b - t, r - l) for t, l, b, r in rings)  # no slivers
    across = (left2 + right2 - left1 - right1) / 2 >= 0.3 * width  # the lower one to the right
    down = (top2 + bottom2 - top1 - bottom1) / 2 >= (0.3 if loose else 0.4) * height
    return small and rings_round and across and down


def percent_alone(labels: np.ndarray, boxes: np.ndarray, parts: np.ndarray) -> bool:
    """Whether the writing is a % sign alone, nothing to read: three parts, two of them rings (not a
    6's or a 9's loop with its stroke), as is_percent takes them loosely, as a typeset % needs.
    Looked for before a line is levelled: alone, a % lies on a slant, as a turned line does."""
    if len(parts) != 3:
        return False
    box = boxes[parts]
    rings = 0
    for part, (top, left, bottom, right) in zip(parts.tolist(), box.tolist()):
        inside = enclosed(torch.from_numpy(labels[top:bottom, left:right] == part + 1))
        rings += len(inside) == 1 and all(bottom - top <= 1.8 * (b - t) and right - left <= 2.2 * (r - l)
                                          for t, l, b, r in inside)
    top, left, bottom, right = box[:, 0].min(), box[:, 1].min(), box[:, 2].max(), box[:, 3].max()
    return rings == 2 and is_percent(torch.from_numpy(np.isin(labels[top:bottom, left:right], parts + 1)), loose=True)


def split_separators(labels: np.ndarray, groups: list[Group], specks: list[Group], pen: float,
                     ) -> tuple[list[Group], list[tuple[Group, str]]]:
    """The digits of a line, and the separators among them ('.', ',', "'", '-', '/') with their characters,
    and a '%' after them."""
    tallest = max(g.height for g in groups)
    groups, specks = joined_percent(labels, groups, specks, tallest)
    full = [g for g in groups if g.height >= 0.6 * tallest]  # the line's digits, by their size
    top, bottom = float(np.median([g.top for g in full])), float(np.median([g.bottom for g in full]))
    digits, marks = [], []
    for group in groups:
        mark = separator(group, top, bottom, pen) if group.height < 0.8 * tallest else None
        if mark is None and len(full) > 1 and is_slash(mask_of(labels, group)):
            mark = "/"
        if mark is None and len(full) > 1 and is_percent(mask_of(labels, group), loose=len(group.parts) >= 3):
            mark = "%"
        if mark is None:
            digits.append(group)
        elif mark:  # and a scrap ('') is neither
            marks.append((group, mark))
    marks += [(speck, mark) for speck in specks if (mark := separator(speck, top, bottom, pen))]
    if not digits:  # marks alone: read them as they are, and let the network say what they are
        return groups, []
    # A date's slash stands between its digits: a stroke leaning as far before or after the number is
    # a 1 written far over, or no digit at all, for the network to say. A % follows a number: among
    # its digits or before them, it is no % (12%34 is no number), and the network says what it is.
    first, last = min(g.left for g in digits), max(g.right for g in digits)
    back = {id(g) for g, m in marks
            if (m == "/" and not first < g.left < g.right <= last) or (m == "%" and g.left < last)}
    kept = back | {id(g) for g in digits}
    digits = [g for g in groups if id(g) in kept]  # in the line's order
    marks = [(g, m) for g, m in marks if id(g) not in back]
    first, last = min(g.left for g in digits), max(g.right for g in digits)
    commas = [hanging_comma(labels, g, top, bottom) for g in digits if g.height >= 0.6 * tallest and len(full) > 1]
    marks += [(comma, ",") for comma in commas if comma and first < comma.left and comma.right < last]
    # Between digits, or a full stop or a % after the last one; anything before the number is no separator.
    return digits, [(g, m) for g, m in marks if first < g.left and (g.right <= last or m in ".%")]


def joined_percent(labels: np.ndarray, groups: list[Group], specks: list[Group], tallest: int,
                   ) -> tuple[list[Group], list[Group]]:
    """The groups and specks, with a % sign after the number made one group where it was drawn in
    strokes apart: its small rings, marks of their own beside the last tall stroke of the line,
    joined with it where together they pass is_percent (loosely: strokes apart are no digits)."""
    tall = [g for g in groups if g.height >= 0.6 * tallest]
    if len(tall) < 2:  # a % follows a number
        return groups, specks
    last = max(tall, key=lambda g: g.right)
    before = max((g.right for g in tall if g.right <= last.left), default=-1)  # the digit before it
    reach = 0.5 * last.height
    rings = [g for g in groups + specks if g.height < 0.6 * tallest and (g.left + g.right) / 2 > before
             and g.left >= last.left - reach and g.right <= last.right + reach]
    if not rings:
        return groups, specks
    marks = [last, *rings]
    joined = Group(min(g.top for g in marks), min(g.left for g in marks), max(g.bottom for g in marks),
                   max(g.right for g in marks), [p for g in marks for p in g.parts], sum(g.mass for g in marks))
    if not is_percent(mask_of(labels, joined), loose=True):
        return groups, specks
    apart = {id(g) for g in marks}
    return (sorted([g for g in groups if id(g) not in apart] + [joined], key=lambda g: g.left + g.right),
            [g for g in specks if id(g) not in apart])


def hanging_comma(labels: np.ndarray, digit: Group, top: float, bottom: float) -> Group | None:
    """The box of a comma that touches a digit, or None: the digit's ink that hangs well below the
    line, narrow, at one of its sides, where a comma written between two digits touches one of them.
    The box holds no part: prepare.py takes the comma out of the digit."""
    size = bottom - top
    if digit.bottom <= bottom + 0.1 * size:
        return None
    mask = mask_of(labels, digit)
    # Digits sit a little above or below the line, commas hang well below it. Where a digit sits low,
    # its own bottom lies below the line too, beside the comma: look again, further down.
    for depth in (0.05, 0.12):
        below = round(bottom + depth * size)
        columns = mask[max(0, below - digit.top):].any(0).nonzero()[:, 0]
        if len(columns) == 0:  # the box reaches a little further than the ink: parts are found on grown ink
            return None
        left, right = columns[0].item(), columns[-1].item() + 1
        if (right <= 0.35 * digit.width or left >= 0.65 * digit.width) and right - left <= 0.35 * size:
            return Group(below, digit.left + left, digit.bottom, digit.left + right, [], 0.0)
    return None


def mask_of(labels: np.ndarray, group: Group, pad: int = 0) -> torch.Tensor:
    """The ink pixels of a group, in its bounding box widened by `pad` pixels on every side."""
    window = labels[max(0, group.top - pad):group.bottom + pad, max(0, group.left - pad):group.right + pad]
    return torch.from_numpy(np.isin(window, group.parts))


