"""What a mark looks like: the shapes that tell a number's marks from its digits, one mask at a time.

Read this after segment.py, which finds the groups of ink; separators.py, next, says which of them
are marks by where they stand as well. Each function here looks at one group's ink alone (a boolean
mask, True where the ink is) and measures a shape people write around digits but that digits seldom
have: a straight stroke leaning far over (a slash), two flat bars one above the other (an =), two
bars crossed (a +, or turned, an x), two small rings (a %), one narrow stroke bowed like a
parenthesis, an S crossed by an upright bar or two (a $), a C crossed by two flat bars (a €), a stem
with a hook, a bar and a base (a £), two bars crossed by two upright strokes (a #). Each is a few
whole-mask operations: the spread of the ink's pixels, the rows that hold ink, the paper its strokes
enclose.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from pixels import coordinates, enclosed, stroke_width, turned


def is_slash(mask: torch.Tensor) -> bool:
    """Whether a mark is one straight stroke leaning far over, like / (fewer than 1 in 100 of MNIST's
    ones lean more than 40 degrees)."""
    return lean(mask) > 40


def lean(mask: torch.Tensor) -> float:
    """How many degrees a mark leans from upright where it is one straight stroke; 0 where it is not."""
    y, x = coordinates(mask.numpy())
    if len(x) < 10:
        return 0.0
    # The direction in which the ink spreads most (the covariance's main axis), and how much more.
    spread, axes = np.linalg.eigh(np.cov(np.stack([x, y])))
    if spread[1] <= 30 * max(spread[0], 1e-6):
        return 0.0
    return math.degrees(math.atan2(abs(axes[0, 1]), abs(axes[1, 1])))


def is_equals(mask: torch.Tensor) -> bool:
    """Whether a mark is an = sign: two flat bars, one above the other, paper between them, much of
    one above much of the other."""
    rows = mask.any(1).int()
    starts = (rows.diff(prepend=rows[:1] * 0) == 1).nonzero()[:, 0].tolist()  # where a band of ink begins
    if len(starts) != 2:
        return False
    spans = []
    for band in (mask[:starts[1]], mask[starts[1]:]):
        ys, xs = band.any(1).nonzero()[:, 0], band.any(0).nonzero()[:, 0]
        if xs[-1] - xs[0] + 1 < 2 * (ys[-1] - ys[0] + 1):  # a bar is flat, even written a little aslant
            return False
        spans.append((xs[0].item(), xs[-1].item() + 1))
    (left1, right1), (left2, right2) = spans
    return min(right1, right2) - max(left1, left2) >= 0.5 * min(right1 - left1, right2 - left2)


def is_percent(mask: torch.Tensor, loose: bool = False) -> bool:
    """Whether a mark is a % sign: no wider than tall, with two small rings of paper enclosed by its
    ink, one high on its left and one low on its right, far apart. Digits that touch can enclose two
    such loops (a 9 run into a 6), but side by side they are wider, and a digit's loop is about half
    its height; a faint stroke broken along its length encloses a sliver, not a ring. `loose`: as type
    sets a %, wider, its rings larger and closer; only for strokes apart (digits that touch are one)."""
    height, width = mask.shape
    if width > (1.3 if loose else 1.1) * height:
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


def is_plus(mask: torch.Tensor) -> bool:
    """Whether a mark is a + sign: a flat bar and an upright one that cross near their middles, each
    across most of the mark, and no other stroke (a 4's arm, a 9's loop, a crossed 7's top)."""
    mask = cropped(mask)
    height, width = mask.shape
    if not 0.6 * height <= width <= 1.7 * height or height < 6:
        return False
    # The bars: the rows that hold most ink, and the columns that do.
    rows, columns = mask.sum(1), mask.sum(0)
    flat, upright = (rows >= 0.6 * rows.max()).nonzero()[:, 0], (columns >= 0.6 * columns.max()).nonzero()[:, 0]
    # Each bar is a pen's stroke, not most of the mark, and they cross in the mark's middle, so that
    # each reaches well beyond the other on both sides.
    if len(flat) > 0.35 * height or len(upright) > 0.35 * width:
        return False
    row, column = flat.float().mean().item(), upright.float().mean().item()
    if not (0.3 * height <= row <= 0.7 * height and 0.3 * width <= column <= 0.7 * width):
        return False
    return only_the_bar(mask, row, len(flat), column) and only_the_bar(mask.T, column, len(upright), row)


def is_times(mask: torch.Tensor) -> bool:
    """Whether a mark is a multiplication sign, an x: a + turned by 45 degrees."""
    return is_plus(turned(cropped(mask), 45)[0])


def only_the_bar(mask: torch.Tensor, row: float, breadth: int, column: float) -> bool:
    """Whether every row of a mark away from its flat bar (`breadth` rows about `row`) crosses one
    stroke alone, a pen's breadth, near `column`: the upright bar, and nothing else. (For the flat
    bar, the same of the mark turned: is_plus passes it transposed.)"""
    height, width = mask.shape
    away = mask[(torch.arange(height) - row).abs() > breadth / 2 + height / 10]
    if len(away) < 0.3 * height or (runs(away) != 1).float().mean() > 0.1:
        return False
    if away.sum(1).float().median() > 0.35 * width:  # a pen's stroke, no blob
        return False
    far = (torch.arange(width) - column).abs() > 0.3 * max(height, width)  # from the upright bar
    return (away & far).sum() <= 0.05 * away.sum()


def is_dollar(mask: torch.Tensor) -> bool:
    """Whether a mark is a $ sign: an S crossed by an upright bar, or by two side by side, whose ends
    stand out above and below it (crossed_s)."""
    mask = cropped(mask)
    height, width = mask.shape
    if height < 12 or not 0.3 * height <= width <= 0.9 * height:
        return False
    pen = stroke_width(mask)
    (one_top, two_top), (one_bottom, two_bottom) = bar_ends(mask, pen), bar_ends(mask.flip(0), pen)
    return crossed_s(mask, pen, one_top, one_bottom, 1) or crossed_s(mask, pen, two_top, two_bottom, 2)


def crossed_s(mask: torch.Tensor, pen: float, top_end: tuple, bottom_end: tuple, bars: int) -> bool:
    """Whether a mark cropped to its ink is an S crossed by `bars` upright bars whose ends, as bar_ends
    finds them, stand out above and below it, one over the other. Each end is narrow strokes, a pen
    wide, for a twentieth to a third of the mark's height, the longer at most twice the shorter (a 4's
    or a 9's stem gives a digit one such end, a 6's another, seldom both); between them the S: its
    top and bottom arcs reach across the bars, and its upper bow lies left of them and its lower bow
    right, each the only ink in a tenth of the rows (a 0 with a tail at both ends has ink on both
    sides in every row)."""
    height, width = mask.shape
    (top, above, spread), (bottom, below, _) = top_end, bottom_end
    if min(top, bottom) < max(2, 0.05 * height) or max(top, bottom) > min(0.3 * height, 2 * min(top, bottom)):
        return False  # a bar stands out about as far at both ends, a 7's or a 4's stem further than its top
    if not (0.2 * width <= above <= 0.8 * width and 0.2 * width <= below <= 0.8 * width):
        return False
    if abs(above - below) > 0.45 * width:  # a bar leans as far as writing does, not as a 4's arm
        return False
    # The bars' middle column in each row of the S, on the line through their two ends (they may lean).
    body = mask[top:height - bottom]
    rows = torch.arange(top, height - bottom).float()[:, None]
    bar = above + (below - above) * (rows - top / 2) / (height - (top + bottom) / 2)
    # Left and right of the bars: half a pen beyond one bar's edge, or a pixel beyond the outer edges
    # of two (the S's arcs reach little further than two bars set apart).
    columns, reach = torch.arange(width).float(), (pen if bars == 1 else 0.5 * pen + 1) + spread
    left, right = (body & (columns < bar - reach)).any(1), (body & (columns > bar + reach)).any(1)
    half, fifth = len(body) // 2, max(1, len(body) // 5)
    bows = (left & ~right)[:half].sum() >= 0.1 * len(body) and (right & ~left)[half:].sum() >= 0.1 * len(body)
    return bool(bows and (left & right)[:fifth].any() and (left & right)[-fifth:].any())


def bar_ends(mask: torch.Tensor, pen: float) -> list[tuple[int, float, float]]:
    """How many rows from the top of a mark hold one narrow stroke alone (no wider than 1.6 times
    `pen`), the column of its middle there and 0; and how many hold two side by side (as much ink as
    two such strokes, within 5 pens and 0.75 of the mark's width, and a row or a few of one where one
    ends higher than the other), the column of their middle and how far each lies from it."""
    crossed, mask = runs(mask).numpy(), mask.numpy()
    columns = np.arange(mask.shape[1])
    left = np.where(mask, columns, mask.shape[1]).min(1)
    right = np.where(mask, columns, -1).max(1)
    one = (crossed == 1) & (right - left + 1 <= 1.6 * pen)
    two = (crossed == 2) & (mask.sum(1) <= 3.2 * pen) & (right - left + 1 <= min(5 * pen, 0.75 * mask.shape[1]))
    ends = []
    for counted, measured in ((one, one), (one | two, two)):
        count = len(counted) if counted.all() else int(np.argmin(counted))  # the rows before the first not counted
        kept = measured[:count]
        if kept.sum() < (1 if measured is one else 2):  # two bars: side by side in two rows at least
            ends.append((0, 0.0, 0.0))
            continue
        middle = float((left + right)[:count][kept].astype(np.float32).mean()) / 2
        apart = float((right - left)[:count][kept].astype(np.float32).mean()) / 2 - 0.5 * pen if measured is two \
            else 0.0
        ends.append((count, middle, apart))
    return ends


def is_euro(mask: torch.Tensor) -> bool:
    """Whether a mark is a euro sign: a C, open on the right, crossed by two flat bars that stand out
    of its left side, as it is written before or after a price. Looked at upright (upright), as it
    would be written without a slant. No digit is a C: a 6, a 0 or an 8 encloses paper; a 5's or a
    3's strokes lie right of the middle in some row; and a 4's one bar, a crossed 7's top or a 2's
    base is not two bars standing out of a side about the mark's middle."""
    mask = cropped(upright(cropped(mask)))
    height, width = mask.shape
    if height < 12 or not 0.45 * height <= width <= 1.2 * height or enclosed(mask):
        return False
    pen, rows, columns = stroke_width(mask), torch.arange(height), torch.arange(width)
    left = torch.where(mask, columns, width).min(1).values
    right = torch.where(mask, columns, -1).max(1).values
    # The bars: the two bands of rows whose ink begins furthest left, each a pen's stroke or so, flat
    # (a long run of ink from its left end), about the middle of the mark.
    furthest = (left <= left.min() + max(1, 0.03 * width)).int()
    edges = furthest.diff(prepend=furthest[:1] * 0, append=furthest[:1] * 0)
    bands = list(zip((edges == 1).nonzero()[:, 0].tolist(), (edges == -1).nonzero()[:, 0].tolist()))
    if len(bands) != 2 or any(stop - start > max(2 * pen, 0.15 * height) for start, stop in bands):
        return False
    from_left = [sorted(int(mask[row, left[row]:].int().cumprod(0).sum()) for row in range(*band)) for band in bands]
    if any(lengths[len(lengths) // 2] < max(0.4 * width, 2 * pen) for lengths in from_left):  # most of its rows
        return False
    upper, lower = (sum(band) / 2 for band in bands)
    if upper < 0.25 * height or lower > 0.8 * height or lower - upper < pen:
        return False
    # Away from the bars, the C's side begins further right (they stand out of it), between them too.
    bars = torch.zeros(height, dtype=torch.bool)
    for start, stop in bands:
        bars |= (rows >= start - pen / 2) & (rows < stop + pen / 2)
    side = left.min() + max(2, 0.04 * width)
    between = (rows > upper) & (rows < lower)
    if (left[~bars] < side).any() or not (left[between] >= side).any():
        return False
    # A C: its side runs down the left; about its middle, away from the bars, nothing lies far right
    # but a bar's own ink (a 6 whose loop is broken open has its loop there); its two ends reach out there.
    if (left[(rows >= 0.15 * height) & (rows < 0.85 * height)] > 0.45 * width).any():
        return False
    gap = torch.where(~mask & (columns >= left[:, None]), columns, width).min(1).values  # where a row's first run ends
    beyond = mask & (columns >= gap[:, None]) & (columns >= 0.8 * width)  # far right, and not a bar's own ink
    if beyond[(rows >= 0.35 * height) & (rows < 0.65 * height) & ~bars].any():
        return False
    ends = [(right[rows < 0.25 * height] >= 0.67 * width).any(), (right[rows >= 0.75 * height] >= 0.67 * width).any()]
    return bool(all(ends))


def is_pound(mask: torch.Tensor) -> bool:
    """Whether a mark is a pound sign: an upright stem with a hook at its top that turns to the right,
    a flat base under it that reaches further right, and a bar across the stem a little below its
    middle that stands out of it on the left; under the bar, the stem alone down to the base. Looked
    at upright (upright). A 2's base has a hook above it, but its stroke runs down to the left and no
    bar crosses it; a 6's loop and a 4's arm lie where a £ has its stem alone; a 1's foot has no bar."""
    mask = cropped(upright(cropped(mask)))
    height, width = mask.shape
    loops = enclosed(mask)  # none but a small one low down, where a £'s foot may close one
    if height < 12 or not 0.4 * height <= width <= 1.1 * height or \
            any(bottom - top > 0.2 * height or top < 0.6 * height for top, _, bottom, _ in loops):
        return False
    pen, rows, columns = stroke_width(mask), torch.arange(height), torch.arange(width)
    left = torch.where(mask, columns, width).min(1).values
    right = torch.where(mask, columns, -1).max(1).values
    if pen > 0.18 * height:  # strokes as broad as a blot's: a digit written heavily (or a £ in bold type)
        return False
    first = torch.where(~mask & (columns >= left[:, None]), columns, width).min(1).values - left  # a row's first run
    base = (rows >= 0.8 * height) & (runs(mask) == 1) & (right - left + 1 >= 0.65 * width)
    # The bar: the one band of rows about the middle whose first run crosses more than the stem.
    middle = (rows >= 0.32 * height) & (rows < 0.75 * height)
    wide = (middle & (first > 2 * pen)).int()
    edges = wide.diff(prepend=wide[:1] * 0, append=wide[:1] * 0)
    bars = list(zip((edges == 1).nonzero()[:, 0].tolist(), (edges == -1).nonzero()[:, 0].tolist()))
    if not base.any() or len(bars) != 1 or bars[0][1] - bars[0][0] > max(2 * pen, 0.15 * height):
        return False
    start, stop = bars[0]
    stem = middle & ~((rows >= start - pen / 4) & (rows < stop + pen / 4))
    below = (rows >= stop + pen / 4) & (rows < 0.75 * height)
    if not 0.35 * height <= (start + stop) / 2 <= 0.75 * height or stem.sum() < 0.15 * height or not below.any() \
            or (runs(mask[below]) != 1).float().mean() > 0.1 or (right - left + 1)[below].max() > 2 * pen:
        return False
    middles = (left + first / 2)[stem]  # the stem's middle in each of its rows: upright, not a 2's stroke
    if middles.max() - middles.min() > 1.5 * pen:
        return False
    centre = middles.median().item()
    stands_out = left[start:stop].min() <= left[stem].float().median() - max(2, 0.04 * width)
    crosses = (left + first)[start:stop].max() >= (left + first)[stem].float().median() + pen / 2
    hook = (right[rows < 0.3 * height] >= centre + 0.2 * width).any()
    return bool(centre <= 0.6 * width and stands_out and crosses and hook and right[base].max() >= centre + 0.3 * width)


def is_hash(mask: torch.Tensor) -> bool:
    """Whether a mark is a # sign: two flat bars, one in each half of it, each one stroke across most
    of its width, crossed by two upright strokes (often leaning) that stand out above the upper bar
    and below the lower one, so that the rows away from the bars cross two strokes. A 0's or an 8's
    arcs run across it at its top and bottom with nothing beyond them, a 4 has one bar, and a 2
    written with a loop crosses itself low, both such rows in its lower half."""
    mask = cropped(mask)
    height, width = mask.shape
    if height < 12 or not 0.5 * height <= width <= 1.5 * height:
        return False
    crossed, mask = runs(mask).numpy(), mask.numpy()  # numpy: every picture of one digit is asked
    columns = np.arange(width)
    spans = np.where(mask, columns, -1).max(1) - np.where(mask, columns, width).min(1) + 1
    flat = ((crossed == 1) & (spans >= 0.6 * width)).astype(int)
    edges = np.diff(flat, prepend=0, append=0)
    starts, stops = np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist()
    if len(starts) != 2 or (starts[0] + stops[0]) / 2 > 0.5 * height or (starts[1] + stops[1]) / 2 < 0.5 * height:
        return False  # one bar in each half
    above, between, below = crossed[:starts[0]], crossed[stops[0]:starts[1]], crossed[stops[1]:]
    if min(len(above), len(between), len(below)) < 0.08 * height:
        return False
    two = [float((rows == 2).astype(np.float32).mean()) for rows in (above, between, below)]
    return min(two[0], two[2]) >= 0.7 and two[1] >= 0.5  # a leaning stroke meets a bar in a slant


def bow(mask: torch.Tensor) -> float:
    """How far a mark's middle lies to the left of its two ends, in its heights, where it is one narrow
    curved stroke: positive for a (, negative for a ), about 0 for a straight stroke or anything else.
    About 1 in 50 of MNIST's 1s bow by a tenth of their height, most of them like a (; narrow 6s and 7s
    may, which is why separators.brackets asks for a pair."""
    mask = cropped(mask)
    height, width = mask.shape
    rows = mask.sum(1)
    if height < 10 or width > 0.6 * height or (rows > 0).sum() < 0.9 * height:
        return 0.0
    # One stroke: a row crosses it once, a column at most twice (a 3's or a 6's crosses it three times).
    if (runs(mask) > 1).float().mean() > 0.1 or (runs(mask.T) > 2).float().mean() > 0.1:
        return 0.0
    # The stroke's middle in each row, and the parabola through them: the middle's bow is its bend.
    y = torch.linspace(-1, 1, height)[rows > 0]
    x = ((mask.float() * torch.arange(width)).sum(1) / rows.clamp(min=1))[rows > 0] / height
    powers = torch.stack([torch.ones_like(y), y, y * y], 1)
    fit = torch.linalg.lstsq(powers, x[:, None]).solution[:, 0]
    if (powers @ fit - x).square().mean().sqrt() > 0.04:  # not one smooth curve: a digit's turns
        return 0.0
    return fit[2].item()


def upright(mask: torch.Tensor) -> torch.Tensor:
    """A mark sheared so that its ink no longer slants: each row moved sideways by as much as the
    ink's columns lean with its rows (the slope of a least-squares line through them), 45 degrees at
    most: writing leans less, and so the mask grows by its height at most."""
    y, x = mask.nonzero().T
    if len(y) < 2:
        return mask
    dy = y.float() - y.float().mean()
    slope = min(1.0, max(-1.0, ((x.float() - x.float().mean()) @ dy / (dy @ dy).clamp(min=1)).item()))
    shifts = torch.round(-slope * (torch.arange(mask.shape[0]) - y.float().mean())).long()
    shifts -= shifts.min()
    sheared = torch.zeros(mask.shape[0], mask.shape[1] + int(shifts.max()), dtype=torch.bool)
    sheared[y, x + shifts[y]] = True
    return sheared


def runs(mask: torch.Tensor) -> torch.Tensor:
    """How many separate runs of ink each row of a mask holds (a pinhole a pixel wide parts none)."""
    mask = mask.numpy()  # numpy: on masks this small, its steps take a fraction of torch's time
    filled = mask.copy()
    filled[:, 1:-1] |= mask[:, :-2] & mask[:, 2:]
    return torch.from_numpy(filled[:, :1].sum(1) + (filled[:, 1:] & ~filled[:, :-1]).sum(1))


def cropped(mask: torch.Tensor) -> torch.Tensor:
    """A mask cut to the rows and columns that hold ink (a group's box reaches a little beyond it)."""
    marked = mask.numpy()
    rows, columns = np.flatnonzero(marked.any(1)), np.flatnonzero(marked.any(0))
    if len(rows) == 0:
        return mask
    return mask[rows[0]:rows[-1] + 1, columns[0]:columns[-1] + 1]
