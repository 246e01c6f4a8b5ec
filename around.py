"""What people draw around a number: a line under it, a box or a ring around it.

Read this after paper.py. People underline an answer, box a total, ring a number on a form, with
the pen they wrote it with. Such a mark is no paper (it is as dark and as thick as the writing)
and no digit, and left in, it joins every digit it touches into one part that reads as nothing.
Two steps take it out:

  1. drawn_around, on the ink, before its parts are found, takes such marks out pixel by pixel,
     where they touch the digits too. drawn_lines: a straight stroke of the pen under the writing
     and much longer than it is tall, or two with the writing between them and a side where they
     end (a box), the digits' strokes kept where they cross it; a straight stroke is told from a
     digit's by its edges, which run straight and a pen apart wherever no digit touches it
     (one_stroke). ring_around: one outline around the rest of the ink, enclosing paper, the ink
     along the paper outside it;
  2. around_the_writing, on the parts: a part that encloses the digits clear of them (a box, a
     ring: its ink on three sides of them at least) or runs under or over them (a line) is left
     out of the parts that make digits.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import torch

from lines import lines_at_one_tilt, thin
from pixels import coordinates, grown, label_parts, reaching_the_edge, stroke_width

LONG = 1.4  # a line drawn under the writing is this many times as long as the writing is tall: no digit's stroke is
LINES = 4  # the longest straight strokes weighed: a line drawn twice, a box's top and bottom, a digit's bar
FRAMES = 10  # the heaviest parts that may be a box, a ring or a line drawn around the writing


@dataclass
class Stroke:
    """A straight stroke of the pen, nearly level (an upright one is kept turned: its columns are rows):
    its pixels, and the row of its middle in each column."""
    pixels: np.ndarray  # [H, W] bool: the stroke's own, not those of a digit that crosses it
    columns: np.ndarray  # [n]: from its left end to its right end
    centre: np.ndarray  # [n]: its middle row in each of those columns
    sure: bool  # straight and alone enough to be a line by itself; else only as a box's side


def drawn_around(ink: torch.Tensor, margin: int) -> torch.Tensor:
    """The pixels [H, W] of what was drawn around the writing with the pen, to be taken out of the
    ink: lines under it or a box around it (drawn_lines), then a ring around it (ring_around);
    `margin` is the blank paper added around the picture."""
    mask = ink.numpy() > 0.3  # numpy compares many pixels several times faster than torch
    if np.count_nonzero(mask) < 20:
        return torch.zeros(mask.shape, dtype=torch.bool)
    pen = stroke_width(torch.from_numpy(mask))
    lines = drawn_lines(ink.numpy(), mask, pen)
    return torch.from_numpy(lines | ring_around(mask & ~lines, pen, margin))


def drawn_lines(ink: np.ndarray, mask: np.ndarray, pen: float) -> np.ndarray:
    """The pixels [H, W] of the lines drawn with the pen under the writing or around it as a box: a
    nearly level straight stroke below the rest of the ink and LONG times as long as it is tall
    (an underline); two with the rest between them, each as long as they are apart, and one
    upright side at least where they end (a box, its sides too)."""
    none = np.zeros_like(mask)
    rows, columns = np.nonzero(mask.any(1))[0], np.nonzero(mask.any(0))[0]
    if columns[-1] - columns[0] < 0.9 * (rows[-1] - rows[0]):
        return none  # too narrow for either: a single digit, as most pictures hold
    level = straight_strokes(ink, mask, pen)
    boxes = [(top, bottom, sides) for top, bottom in itertools.permutations(level, 2)
             if (sides := box_sides(mask, top, bottom, pen))]
    # Where the writing is without these lines, and how tall: the lines are long beside it.
    rest = mask & ~np.any([s.pixels for s in level + [s for *_, sides in boxes for s in sides]], axis=0) \
        if level else mask
    rows = np.nonzero(rest.any(1))[0]
    if len(rows) == 0:  # nothing but lines: no writing to take them from
        return none
    tall = rows[-1] - rows[0] + 1
    taken = [s.pixels for s in level if s.sure and under(s, mask & ~s.pixels)]
    for top, bottom, sides in boxes:
        apart = np.median(bottom.centre) - np.median(top.centre)
        inside = top.centre.min() - pen <= rows[0] and rows[-1] <= bottom.centre.max() + pen
        # Writing inside: as tall as half the box, as much ink as a stroke as tall as it at least.
        writing = tall >= 0.5 * apart and rest.sum() >= apart * pen
        if (top.sure or bottom.sure) and inside and writing and min(len(top.columns), len(bottom.columns)) >= apart:
            taken += [top.pixels, bottom.pixels] + [s.pixels for s in sides]
    return np.any(taken, axis=0) if taken else none


def under(line: Stroke, rest: np.ndarray) -> bool:
    """Whether a `line` runs under the rest of the ink [H, W], LONG times as long as it is tall: nearly
    all of it above the line, in the columns the line spans (not a 7's bar with its stem below it,
    nor a flat 4's bar across it)."""
    rows = np.nonzero(rest.any(1))[0]
    y, x = coordinates(rest[:, line.columns[0]:line.columns[-1] + 1])
    return len(y) > 0 and len(line.columns) >= LONG * (rows[-1] - rows[0] + 1) and (y < line.centre[x]).mean() >= 0.9


def box_sides(mask: np.ndarray, top: Stroke, bottom: Stroke, pen: float) -> list[Stroke]:
    """The upright strokes in `mask` [H, W] from the `top` line down to the `bottom` one where both
    end, on the left and on the right: a box's sides (a stroke's `columns` are rows here)."""
    sides = []
    for end in (0, -1):
        apart = bottom.centre[end] - top.centre[end]
        column = round((top.columns[end] + bottom.columns[end]) / 2)
        if apart < 4 * pen or abs(top.columns[end] - bottom.columns[end]) > 2 * pen:
            continue  # the lines are too close, or do not end together: no box
        near = np.zeros_like(mask)  # where a side would stand: from one line's middle to the other's, at their ends
        near[top.centre[end]:bottom.centre[end] + 1,
             max(0, column - round(2 * pen)):column + round(2 * pen) + 1] = True
        side = one_stroke(mask.T, (mask & near).T, pen) if (mask & near).sum() >= 10 else None
        if side is not None and len(side.columns) >= 0.8 * apart:
            sides.append(Stroke(side.pixels.T, side.columns, side.centre, side.sure))
    return sides


def straight_strokes(ink: np.ndarray, mask: np.ndarray, pen: float) -> list[Stroke]:
    """The straight strokes in `mask` [H, W], within 35 degrees of level, that cover at least half
    of the ink's width: lines through the pixels of level runs no thicker than about a pen (paper.py's
    search for ruled lines), each measured in one_stroke."""
    columns = np.nonzero(mask.any(0))[0]
    span = max(10, int(0.5 * (columns[-1] - columns[0] + 1)))
    lines = lines_at_one_tilt(ink, mask, thin(mask, max(4, math.ceil(1.8 * pen))), span)
    longest = [k for k in np.argsort(-lines.length) if lines.strength[k] > 0][:LINES]
    strokes = [one_stroke(mask, lines.labels == k, pen) for k in longest]
    return [s for s in strokes if s is not None]


def one_stroke(mask: np.ndarray, on_line: np.ndarray, pen: float) -> Stroke | None:
    """The stroke along the pixels `on_line` [H, W], or None if they are no stroke drawn straight:
    ink at its middle in nearly all of the columns it spans, and where it runs alone (in four
    columns in ten at least: digits may stand on it), edges that run straight. Such a stroke is
    `sure` (a line by itself); one less straight or less alone may still be a box's top or side.
    A digit's curved bottom, or the bottoms of digits run together, are neither."""
    y, x = coordinates(on_line)
    fit = middle_of(y, x, pen)
    columns = np.arange(x.min(), x.max() + 1)
    exact = np.polyval(fit, columns)
    reach, height = math.ceil(2 * pen), mask.shape[0]
    centre = np.round(exact).astype(int)
    bent = np.abs(exact - np.interp(columns, columns[[0, -1]], exact[[0, -1]])).max()
    if bent > max(0.04 * len(columns), 0.6 * pen) or centre.min() < reach or centre.max() >= height - reach:
        return None  # a curve, or a line at the picture's edge
    # In each column, the ink from the middle up and down (the middle counted in both).
    steps = np.arange(reach + 1)[:, None]
    up = np.cumprod(mask[centre - steps, columns], axis=0).sum(0)
    down = np.cumprod(mask[centre + steps, columns], axis=0).sum(0)
    run = up + down - 1
    narrow = (up > 0) & (run <= 1.5 * pen)
    # Alone: no thicker than the stroke usually is (a digit that touches it makes it thicker there).
    alone = narrow & (run <= np.median(run[narrow]) + max(2, 0.2 * pen)) if narrow.any() else narrow
    wobble = max(up[alone].std(), down[alone].std()) if alone.any() else np.inf
    if (up > 0).mean() < 0.8 or alone.mean() < 0.3 or wobble > 0.3 * pen + 0.5:
        return None
    sure = (up > 0).mean() >= 0.9 and alone.mean() >= 0.4 and wobble <= 0.15 * pen + 0.5
    return Stroke(stroke_pixels(mask, columns, centre, up, down, alone, pen), columns, centre, sure)


def stroke_pixels(mask: np.ndarray, columns: np.ndarray, centre: np.ndarray, up: np.ndarray, down: np.ndarray,
                  alone: np.ndarray, pen: float) -> np.ndarray:
    """A stroke's own pixels in `mask` [H, W]: in each column where it runs alone, its run of ink
    (`up` and `down` from its `centre`); elsewhere as far as it usually reaches, a pixel more for
    its blurred edge, but nothing where a digit's stroke crosses it (ink beyond it above and below)."""
    height = mask.shape[0]
    over = np.where(alone, up, int(np.median(up[alone])) + 1)
    under = np.where(alone, down, int(np.median(down[alone])) + 1)
    beyond = lambda start, sign: np.any([mask[(centre + sign * (start + d)).clip(0, height - 1), columns]  # noqa: E731
                                         for d in range(math.ceil(pen))], axis=0)
    crossed = beyond(over, -1) & beyond(under, 1) & ~alone
    pixels = np.zeros_like(mask)
    for d in range(-max(over.max(), 1), max(under.max(), 1)):
        inside = (-over < d) & (d < under) & ~crossed
        pixels[centre[inside] + d, columns[inside]] = True
    return pixels & mask


def middle_of(y: np.ndarray, x: np.ndarray, pen: float) -> np.ndarray:
    """The middle of a drawn line, as a curve y = f(x) bending gently (a polynomial of the second
    degree), fitted to the pixels (y, x) that lie along it: a line through all of them first, then
    the row along it that most pixels share (the line's, not those of the digits beside it), then
    the pixels near that."""
    fit = np.polyfit(x, y, 1)
    off = np.round(y - np.polyval(fit, x)).astype(int)
    fit[-1] += np.argmax(np.bincount(off - off.min())) + off.min()
    for _ in range(2):
        near = np.abs(y - np.polyval(fit, x)) <= 0.6 * pen
        if near.sum() < 10:
            break
        fit = np.polyfit(x[near], y[near], 2)
    return fit


def around_the_writing(labels: np.ndarray, boxes: np.ndarray, mass: np.ndarray, parts: np.ndarray) -> np.ndarray:
    """The `parts` (the heaviest, heaviest first: a frame or a line is never a speck) without what
    people draw around a number clear of it: a box or a ring around it, a line under or over it. A
    frame holds another part, at least a third as tall as it, wholly inside its box and clear of its
    ink (a digit's own pieces, such as a 7's bar, are crossed by it); such a line is flat (four
    times as wide as tall, half as tall as the tallest part at most) and runs under or over the
    middles of two parts heavy enough for digits (a tenth of the heaviest one that is not flat)."""
    if len(parts) < 2:
        return parts
    top, left, bottom, right = boxes[parts].T
    height, weight = bottom - top, mass[parts]
    # [i, j]: part j lies wholly inside part i's box, and is at least a third as tall.
    inside = (top[:, None] < top) & (bottom < bottom[:, None]) & (left[:, None] < left) & \
        (right < right[:, None]) & (height >= height[:, None] / 3)
    for i, j in zip(*np.nonzero(inside[:FRAMES])):  # and clear of its ink, which lies around it
        frame = labels[top[i]:bottom[i], left[i]:right[i]] == parts[i] + 1
        inner = (slice(top[j] - top[i], bottom[j] - top[i]), slice(left[j] - left[i], right[j] - left[i]))
        inside[i, j] = not frame[inner].any() and sides(frame, inner) >= 3
    flat = (right - left >= 4 * height) & (height <= height.max() / 2)  # never the tallest part
    heavy = ~flat & (weight >= 0.1 * weight[~flat].max())
    middle = (left + right) / 2
    spans = flat[:, None] & heavy & (left[:, None] < middle) & (middle < right[:, None])  # [i, j]: line i, part j
    around = inside[:FRAMES].any(1) | (spans.sum(1) >= 2)[:FRAMES]
    return np.concatenate([parts[:FRAMES][~around], parts[FRAMES:]])


def sides(frame: np.ndarray, inner: tuple[slice, slice]) -> int:
    """On how many of its four sides (above, below, left, right) the ink of `frame` lies beside the box
    `inner`: a box or a ring drawn around a digit lies on all four (on three where its pen left a
    gap), a long straight stroke that passes a digit (the stroke of a %, a digit's own bar) on two."""
    rows, columns = frame[inner[0]], frame[:, inner[1]]
    return int(columns[:inner[0].start].any()) + int(columns[inner[0].stop:].any()) + \
        int(rows[:, :inner[1].start].any()) + int(rows[:, inner[1].stop:].any())


def ring_around(mask: np.ndarray, pen: float, margin: int) -> np.ndarray:
    """The pixels [H, W] of a ring (or any closed frame) drawn around the writing in `mask` and
    touching it: the ink within a pen and a third of the paper outside it (the paper that reaches
    the picture's edge), where that is one outline holding the rest of the ink well inside it, as
    much as a third of its own at least and shorter than it by a seventh, around paper across a
    quarter of its box or more, clear of the picture's `margin`. A digit's stroke inside that
    touches the frame is a pen away from the outside: only a sliver of it goes. Digits alone are
    their own outlines: nothing is left."""
    rows, columns = np.nonzero(mask.any(1))[0], np.nonzero(mask.any(0))[0]
    box = slice(rows[0] - 1, rows[-1] + 2), slice(columns[0] - 1, columns[-1] + 2)  # the margin is paper
    least = 0.25 * (rows[-1] - rows[0] + 1) * (columns[-1] - columns[0] + 1)  # paper to enclose, at least
    if np.count_nonzero(hemmed_in(mask[box])) < least:
        return np.zeros_like(mask)  # little paper enclosed (most digits): no ring, and no need to look further
    # The paper outside: beyond the ink's box all of it; within, what joins the row or column of paper
    # just around the box (labelled in the box alone: a fraction of the picture, for the same answer).
    outside = np.ones_like(mask)
    outside[box] = reaching_the_edge(label_parts(~mask[box])[0])
    if (~mask & ~outside).sum() < least:
        return np.zeros_like(mask)
    near = within_reach(outside, math.ceil(1.3 * pen))
    labels, boxes = label_parts(mask & near)
    if len(boxes) == 0:
        return np.zeros_like(mask)
    heaviest = np.argmax(np.bincount(labels.ravel())[1:])
    frame, (top, left, bottom, right) = labels == heaviest + 1, boxes[heaviest]
    if min(top, left) <= margin + 1 or bottom >= mask.shape[0] - margin - 1 or right >= mask.shape[1] - margin - 1:
        return np.zeros_like(mask)  # along the picture's edges: the page's edge on a table, no ring
    y, x = coordinates(mask & ~near)
    if len(y) < 0.3 * frame.sum():
        return np.zeros_like(mask)
    within = ((y > top + pen) & (y < bottom - pen) & (x > left + pen) & (x < right - pen)).mean()
    enclosed = (~mask & ~outside)[top:bottom, left:right].mean()
    return frame if within >= 0.95 and enclosed >= 0.25 and bottom - top >= 1.15 * (y.max() - y.min() + 1) \
        else np.zeros_like(mask)


def hemmed_in(mask: np.ndarray) -> np.ndarray:
    """The paper of a mask [H, W] with ink on all four sides of it, in its row and in its column: all
    the paper that the ink encloses and more, found far faster (a bound, to say no quickly)."""
    height, width = mask.shape
    first = lambda m, axis: np.where(m.any(axis), m.argmax(axis), m.shape[axis])  # noqa: E731 (the first ink)
    left, right = first(mask, 1), width - 1 - first(mask[:, ::-1], 1)
    top, bottom = first(mask, 0), height - 1 - first(mask[::-1], 0)
    rows, columns = np.arange(height)[:, None], np.arange(width)
    return ~mask & (columns > left[:, None]) & (columns < right[:, None]) & (rows > top) & (rows < bottom)


def within_reach(region: np.ndarray, reach: int) -> np.ndarray:
    """The pixels [H, W] within about `reach` pixels of `region`, in every direction alike: grown by
    an octagon, where a square filter alone would reach half as far again along the diagonals."""
    # An octagon is a square grown by a diamond: the square's half of the reach in one filter, then
    # the diamond's a step to the 4 neighbours at a time. (Growing by one and then by the other, in
    # any order, reaches the same pixels.)
    near = grown(region, (reach + 1) // 2)
    for _ in range(reach // 2):
        step = near.copy()
        step[1:] |= near[:-1]
        step[:-1] |= near[1:]
        step[:, 1:] |= near[:, :-1]
        step[:, :-1] |= near[:, 1:]
        near = step
    return near
