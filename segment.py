"""Finding the digits in the ink: which parts make a digit, which are specks, which is the line.

Read this after paper.py, which finds the ink. A digit may be drawn in several pieces (a 5's flag,
a 4 in two strokes), a number's digits stand side by side or touch, small marks stand between
them, and specks of dirt and the table around the paper are no digit at all:

  1. find_parts: the connected parts of the ink;
  2. off_the_edges: the table dropped, and the shadow a page casts on a light desk, and a box, a
     ring or a line drawn around the writing (around.py);
  3. group_parts, lines_of: pieces of one digit grouped, specks set apart, the lines of writing
     found, each left to right (a line photographed turned is first levelled, by the angle tilt
     finds: levelled); spaces: where a line's groups stand apart as words do.

Which of the small groups are separators, not digits, shapes.py and separators.py say next (with
mask_of, a group's ink, and merged and replaced, which join a mark drawn in strokes apart); a
group that may hold several touching digits is then cut apart by touching.py. Each step is
bounded: a picture of thousands of specks or of noise takes no longer than a number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from around import around_the_writing
from images import ImageError
from pixels import edges, grown, in_line, label_parts, min_filter, stroke_width, turned

# ---------------------------------------------------------------------------------------------
# Parts, digits and specks
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
    mask = ink.numpy() > 0.3  # numpy compares many pixels several times faster than torch
    # Close breaks of a pixel or two in a stroke, so that its pieces count as one part: grow the
    # mask by one pixel in every direction.
    labels, boxes = label_parts(grown(mask, 1))
    labels = np.where(mask, labels, 0)  # each ink pixel carries its part's label
    mass = np.bincount(labels[mask], weights=ink.numpy()[mask], minlength=len(boxes) + 1)[1:]
    return labels, boxes, mass


def off_the_edges(labels: np.ndarray, boxes: np.ndarray, mass: np.ndarray, margin: int) -> np.ndarray:
    """The parts, heaviest first, without the table or the page's edge: a part that runs along more
    than half of one of the picture's edges (`margin` pixels inside), unless it stands in line with
    the writing (a digit at the side of a tight crop), or a sliver along it (what is left of a ruled
    line that the picture's edge cut), or a solid one near it (a corner of the table, where the page
    lies turned in the photo), or a faint one near it (the shade along the page's edge). A digit
    that merely touches the edge (a tight crop) is kept. The shadow that a page casts on a light desk
    goes, wherever it lies (page_shadow), and then what is drawn around the writing
    (around_the_writing)."""
    height, width = labels.shape
    along, contact = edge_contact(labels[margin:height - margin, margin:width - margin], len(mass))
    thin, long = np.sort(boxes[:, 2:] - boxes[:, :2], axis=1).T
    sliver = (along > 0) & (thin <= 3) & (long >= 10 * thin)
    order = np.argsort(-mass)
    kept = order[(along[order] <= 0.5) & ~sliver[order] & (mass[order] > 0)]
    # But in a picture cropped tight to a number, a digit at its side runs along most of that edge (a
    # 1, a 4's stem): one in line with a digit kept (in_line) is one too, unless it is solid or faint.
    beside = np.nonzero((along > 0.5) & ~sliver & (mass > 0))[0]
    beside = beside[in_line(boxes, beside, kept[:MAX_PARTS])] if len(kept) else beside[:0]
    size = np.bincount(labels.ravel(), minlength=len(mass) + 1)[1:]  # pixels
    mean_ink = mass / np.maximum(size, 1)
    kept = kept[~page_shadow(boxes, mass, mean_ink, kept)]
    near = (boxes[:, :2].min(1) <= margin) | (boxes[:, 2] >= height - margin) | (boxes[:, 3] >= width - margin)
    if near[kept].any() or len(beside):
        pen = stroke_width(torch.from_numpy(np.isin(labels, kept + 1)))  # the writing's, without what runs along
        kept = order[np.isin(order, np.concatenate([kept, beside]))]
        table = near & solid(labels, boxes, size, kept, contact, pen)
        # The shade at the table's edge is a soft band, far fainter on average than the strokes of
        # the digits away from the edge: the ink of a pen is as dark near the edge as elsewhere.
        inner = kept[~near[kept]]
        if len(inner):
            table |= near & (mean_ink < 0.7 * mean_ink[inner].max())
        kept = kept[~table[kept]] if not table[kept].all() else kept
    kept = np.concatenate([around_the_writing(labels, boxes, mass, kept[:MAX_PARTS]), kept[MAX_PARTS:]])
    return kept if len(kept) else order[:1]


def edge_contact(labels: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """How far each of `count` labelled parts runs along the picture's edges, along the one it meets
    most: as a share of that edge's length, and in pixels."""
    along, contact = np.zeros(count), np.zeros(count)
    for edge in edges(labels):
        pixels = np.bincount(edge, minlength=count + 1)[1:]
        along, contact = np.maximum(along, pixels / len(edge)), np.maximum(contact, pixels)
    return along, contact


def solid(labels: np.ndarray, boxes: np.ndarray, size: np.ndarray, kept: np.ndarray, contact: np.ndarray,
          pen: float) -> np.ndarray:
    """Which parts are solid, as a corner of a dark table is: of the parts whose ink `size` and `contact`
    with the picture's edge (both in pixels) off_the_edges measured, weighed against the `kept` ones
    and the breadth of the `pen` that wrote them."""
    # Wear the ink away by a stroke's width from every side: strokes vanish, something of a solid
    # part is left. Where a bold pen's strokes cross or overlap, or a small picture's JPEG blurs
    # them, something of a digit is left too. The table is solid, filling half its box or more or
    # leaving as much as two squares a stroke wide, and the picture's edge cuts it across: it meets
    # the edge over two strokes' width or more, where a digit cropped by the edge meets it with a
    # stroke's end or a curve.
    ink = torch.from_numpy(np.isin(labels, kept + 1))
    core = np.bincount(labels[min_filter(ink.float(), 4 * round(pen / 2) + 1).bool().numpy()],
                       minlength=len(size) + 1)[1:]
    fills = size / np.maximum(np.prod(boxes[:, 2:] - boxes[:, :2], axis=1), 1)
    table_like = (core > 0) & ((fills >= 0.5) | (core >= 2 * pen ** 2)) & (contact >= 2 * pen)
    # But a picture cropped tight to a number cuts a bold digit's flat stroke (a 2's base) along the
    # edge, and it may fill half its box or leave a few squares: it stands in the line of the other
    # digits, about as tall as one of them and beside it. A table's corner or a shadow in that place
    # is as solid only where it fills half its box and leaves two squares, or leaves five.
    doubtful = np.nonzero(table_like & ((fills < 0.5) | (core < 2 * pen ** 2)) & (core < 5 * pen ** 2))[0]
    others = kept[~table_like[kept]][:MAX_PARTS]  # the heaviest: a picture of a thousand specks costs no more
    table_like[doubtful[in_line(boxes, doubtful, others)]] = False
    return table_like


def page_shadow(boxes: np.ndarray, mass: np.ndarray, mean_ink: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """Which of the `kept` parts are the shadow a page casts on a desk as light as itself or lighter,
    inside the picture: a band along the page's edge, far fainter on average (`mean_ink`) than the
    strokes of a pen, and twice as long as the tallest of them. A faint stroke of a digit is no
    longer than the digit."""
    if len(kept) < 2:
        return np.zeros(len(kept), dtype=bool)
    heavy = kept[mass[kept] >= 0.1 * mass[kept].max()]
    faint = mean_ink[kept] < 0.7 * mean_ink[heavy].max()
    tallest = (boxes[kept[~faint], 2] - boxes[kept[~faint], 0]).max()  # the darkest heavy part is no shadow
    return faint & ((boxes[kept, 2:] - boxes[kept, :2]).max(1) >= 2 * tallest)


def group_parts(parts: np.ndarray, boxes: np.ndarray, mass: np.ndarray, labels_size: int,
                ) -> tuple[list[Group], list[Group]]:
    """Group the parts (heaviest first) into digits: a part joins a digit when it lies mostly above
    or below it (their columns overlap by half the narrower one's width), close by (a speck only
    where it nearly touches it), and is no digit of another line (stacked); otherwise it starts a
    digit of its own if it holds enough ink or is tall enough to be one, or else is a speck.
    Returns the digits and the specks (dots and commas among them)."""
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
                    top < group.bottom + near and bottom > group.top - near and \
                    not stacked(group, top, left, bottom, right, tallest):
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


def stacked(group: Group, top: int, left: int, bottom: int, right: int, tallest: int) -> bool:
    """Whether a part (its box) stands under or over the `group` as a digit or a letter of the next
    line does, not as a piece of the same digit (a 5's flag, a stroke broken in two): the shorter
    of the two at least 0.4 as tall as the other and a third as tall as the `tallest` part, and no
    stroke lying flat under 0.6 of the other's height (a 5's foot drawn apart), and the two apart
    by more than a broken stroke's gap (0.15 of the taller's height)."""
    (short, wide), (tall, _) = sorted([(bottom - top, right - left), (group.height, group.width)])
    gap = max(top - group.bottom, group.top - bottom)
    flat = 2 * short < wide and short < 0.6 * tall
    return not flat and short >= max(0.4 * tall, tallest / 3) and gap > 0.15 * tall


def writing(boxes: np.ndarray, mass: np.ndarray, parts: np.ndarray) -> tuple[list[int], int]:
    """Where the writing is, and how large: the box (top, left, bottom, right) around the parts that
    hold enough ink to be digits (a tenth of the heaviest's, as in group_parts), and the tallest one's height."""
    heavy = boxes[parts[mass[parts] >= 0.1 * mass[parts[0]]]] if len(parts) else boxes[:0]
    if not len(heavy):
        return [0, 0, 0, 0], 0
    return [*heavy[:, :2].min(0).tolist(), *heavy[:, 2:].max(0).tolist()], int((heavy[:, 2] - heavy[:, 0]).max())


MAX_LINES = 8  # lines of writing read in one picture, at most
SMALLER = 0.5  # a line whose largest digit is less tall than this much of the first line's is no writing to read


def lines_of(groups: list[Group], specks: list[Group]) -> list[tuple[list[Group], list[Group]]]:
    """The lines of writing, each its digits left to right and its specks: first what shares rows
    with the largest digit, then what shares rows with the largest digit left, and so on. A line
    written much smaller than the first (a page's print, a doodle's scraps) is no writing to read."""
    if not groups:
        raise ImageError("no digit found: only specks, far smaller than a digit")
    left, lines = groups[:MAX_DIGITS], []
    while left and len(lines) < MAX_LINES:
        main = left[0]
        on_line = lambda g: g.top < main.bottom and g.bottom > main.top  # noqa: E731
        line, left = [g for g in left if on_line(g)], [g for g in left if not on_line(g)]
        if main.height >= SMALLER * groups[0].height:
            marks, specks = [s for s in specks if on_line(s)], [s for s in specks if not on_line(s)]
            lines.append((sorted(line, key=lambda g: g.left + g.right), marks))
    return lines


# Writing sets a number's groups and the words beside it about a digit's height apart (SPACE); type
# sets its words closer, about a third of it (TYPED_SPACE: a sign's Room 214, a form's Total: 12).
SPACE = 0.8
TYPED_SPACE = 0.3


def spaces(boxes: list[tuple[int, int, int, int]], marked: set[int], least: float = SPACE) -> list[tuple[int, str]]:
    """Where two neighbouring digits (their `boxes`: left, top, right, bottom), no mark between them
    (after how many digits: `marked`), stand `least` of a digit's height apart or more (a full SPACE
    unless asked), and far more than the others do: a space, as in 12 345, or between two numbers on
    one line. Only among three digits or more: two have no other gap to be measured against, and a
    form's cells set digits apart evenly, however wide."""
    gaps = [right[0] - left[2] for left, right in zip(boxes, boxes[1:])]
    tall = float(np.median([bottom - top for _, top, _, bottom in boxes]))
    found = []
    for after, gap in enumerate(gaps, start=1):
        others = gaps[:after - 1] + gaps[after:]
        if not others or after in marked:
            continue
        usual = max(float(np.median(others)), 0.1 * tall)  # digits that touch stand 0 apart, or less
        if gap >= least * tall and gap >= 2.5 * usual:
            found.append((after, " "))
    return found


TURNED = (16.0, 40.0)  # degrees: a line of writing turned by less reads as it is, by more is no line


def tilt(ink: torch.Tensor, labels: np.ndarray, boxes: np.ndarray, mass: np.ndarray, parts: np.ndarray) -> float:
    """How far a line of writing is turned from level, in degrees (clockwise as seen), or 0 where it
    is level enough or no line. Two things must agree: the direction along which the ink of the
    `parts` spreads most (half as far again as across it), and the line through the centres of
    those that could be digits (with a quarter of the heaviest's `mass` or more: two at least), none
    of them further from it than half their height. A single digit drawn slanted has one of these at
    most; two level lines of writing, one further right than the other, lie far off any one line."""
    big = parts[mass[parts] >= mass[parts[0]] / 4] if len(parts) else parts
    if len(big) < 2:
        return 0.0
    # The line through the centres first: it costs least, and most lines of writing are level.
    x, y = boxes[big][:, [1, 3]].mean(1), boxes[big][:, [0, 2]].mean(1)
    through = math.atan2(((x - x.mean()) * (y - y.mean())).sum(), ((x - x.mean()) ** 2).sum())
    off = np.abs((y - y.mean()) * math.cos(through) - (x - x.mean()) * math.sin(through))  # each from the line
    through, tall = math.degrees(through), np.median(boxes[big][:, 2] - boxes[big][:, 0])
    if not TURNED[0] - 10 <= abs(through) <= TURNED[1] + 10 or off.max() > 0.5 * tall:
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


def parts_of(ink: torch.Tensor, margin: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The ink's parts (find_parts: labels, boxes, mass), and which are writing, not the table."""
    labels, boxes, mass = find_parts(ink)
    return labels, boxes, mass, off_the_edges(labels, boxes, mass, margin)


def levelled(ink: torch.Tensor, paper: torch.Tensor, parts: tuple, margin: int) -> tuple:
    """A number photographed turned: its ink levelled (the table left out), the paper with it, its parts
    found again, and how a point of the levelled ink goes back to the picture (None: it was level)."""
    labels, boxes, mass, writing = parts
    degrees = tilt(ink, labels, boxes, mass, writing)
    if not degrees:
        return ink, paper, parts, None
    ink, back = turned(ink * torch.from_numpy(np.isin(labels, writing + 1)), degrees)
    return ink, turned(paper, degrees)[0], parts_of(ink, margin), back


def mask_of(labels: np.ndarray, group: Group, pad: int = 0) -> torch.Tensor:
    """The ink pixels of a group, in its bounding box widened by `pad` pixels on every side."""
    window = labels[max(0, group.top - pad):group.bottom + pad, max(0, group.left - pad):group.right + pad]
    return torch.from_numpy(np.isin(window, group.parts))


def merged(marks: list[Group]) -> Group:
    """One group of the parts of several."""
    return Group(min(g.top for g in marks), min(g.left for g in marks), max(g.bottom for g in marks),
                 max(g.right for g in marks), [p for g in marks for p in g.parts], sum(g.mass for g in marks))


def replaced(groups: list[Group], specks: list[Group], marks: list[Group], joined: Group,
            ) -> tuple[list[Group], list[Group]]:
    """The groups and specks with `joined` in place of the `marks` it was merged from, in the line's order."""
    apart = {id(g) for g in marks}
    return (sorted([g for g in groups if id(g) not in apart] + [joined], key=lambda g: g.left + g.right),
            [g for g in specks if id(g) not in apart])
