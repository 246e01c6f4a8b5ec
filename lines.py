"""Ruled lines, squared grids and margin lines: how long lines are found in the ink.

Read this file to learn how the lines printed on notebook paper and forms are found (printed.py
decides which are print and takes them out of the ink). A line is a long, thin run across the
page, level or tilted as in a photo, converging where the photo was taken at a slant, and bowed
where the page bends. Each is found by its length and straightness (a Hough transform:
horizontal_lines, lines_at_one_tilt), a bowed one by its straighter pieces; then followed, a column
at a time, to where it ends (followed), and drawn along its path (along_paths), with its strength,
thickness and length. Lines down the page are found as lines across the page turned.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from pixels import coordinates


def shifted(mask: np.ndarray, by: int) -> np.ndarray:
    """`mask` moved down by `by` rows (up if negative), with empty rows coming in."""
    out = np.zeros_like(mask)
    if by > 0:
        out[by:] = mask[:-by]
    else:
        out[:by] = mask[-by:]
    return out


@dataclass
class Lines:
    """The straight lines found in one direction: each one's strength, thickness and pixels."""
    strength: np.ndarray  # [count + 1]: the mean ink of each line where it runs alone (0: no line)
    thickness: np.ndarray  # [count + 1]: in pixels
    labels: np.ndarray  # [H, W]: which line each pixel lies on, 0 for none
    ruled: np.ndarray  # [count + 1]: one of three lines or more at one tilt, evenly spaced: printed paper
    length: np.ndarray  # [count + 1]: how many columns each line covers


# A photo of a page is seldom square to it: lines tilted by up to about 35 degrees are looked for,
# first among SLOPES on a quarter of the pixels, then closer around the best of them (FINE).
SLOPES = np.linspace(-0.7, 0.7, 36)
FINE = np.linspace(-0.02, 0.02, 5)
TILTS = 8  # searches for lines at another tilt: enough for the lines of a page photographed at a slant


BROADEST = 4  # pixels: the broadest line looked for (sizes.too_coarse reads a close-up smaller)


def thin(mask: np.ndarray, most: int = BROADEST) -> np.ndarray:
    """The pixels of `mask` [H, W] in columns of at most `most` set pixels in a row: a horizontal line's,
    not those of a stroke that crosses it."""
    start = mask.copy()
    for step in range(1, most + 1):
        start &= shifted(mask, -step)  # a pixel that starts most + 1 set pixels going down
    thick = start.copy()
    for step in range(1, most + 1):
        thick |= shifted(start, step)
    return mask & ~thick


def horizontal_lines(ink: np.ndarray, mask: np.ndarray, span: int) -> Lines:
    """The lines in `mask` [H, W], within 35 degrees of horizontal, that cover at least `span`
    columns: straight ones, then bowed ones (a page that bends in a photo), each followed to its ends."""
    thin_mask = thin(mask)
    straight = searched(ink, mask, thin_mask, span, span)
    # Bowed lines are looked for only beside straight ones: a page's lines come many together, and
    # most bow little. (Most drawings have neither.)
    if not (straight.strength > 0).any():
        return straight
    straight = replace(straight, labels=along_paths(straight, mask, followed(ink, straight, mask, thin_mask)))
    # A bowed line has straight pieces a third as long as a straight one: each is kept if, followed,
    # it runs across four fifths of the page (as a stroke drawn with a bend, a cat's mouth, does not),
    # found in at least half the columns it spans (not a few specks of the paper's grain, far apart).
    left = mask & (straight.labels == 0)
    first = len(straight.strength)
    pieces = searched(ink, left, thin_mask & left, span, span / 3)
    if not (pieces.strength > 0).any():  # none, as on most pages
        return straight
    both = joined([straight, pieces])
    points = followed(ink, both, mask, thin_mask, first)
    spans, covered = extent(points, len(both.length))
    bowed = np.arange(len(both.length)) >= first
    kept = ~bowed | (spans >= 2 * span) & (covered >= spans / 2)
    return replace(both, strength=np.where(kept, both.strength, 0), labels=along_paths(both, mask, points, kept),
                   length=np.where(bowed, covered, both.length))


def extent(points: tuple[np.ndarray, ...], count: int) -> tuple[np.ndarray, np.ndarray]:
    """How many columns each of `count` lines spans, from the first to the last of its `points` (line,
    column, row), across the gaps where strokes cross it; and in how many of them it was found."""
    line, column, _ = points
    left, right = np.full(count, np.iinfo(np.int64).max), np.full(count, -1)
    np.minimum.at(left, line, column)
    np.maximum.at(right, line, column)
    once = np.unique(np.stack([line, column]), axis=1)  # each column of each line once
    return np.maximum(right - left + 1, 0), np.bincount(once[0], minlength=count)


def joined(found: list[Lines]) -> Lines:
    """The lines of several searches as one, each search's numbered on after the one before."""
    labels, count = found[0].labels, len(found[0].strength)
    for more in found[1:]:
        labels = np.where(more.labels > 0, more.labels + count, labels)
        count += len(more.strength)

    def all_of(name: str) -> np.ndarray:
        return np.concatenate([getattr(f, name) for f in found])
    return Lines(all_of("strength"), all_of("thickness"), labels, all_of("ruled"), all_of("length"))


def searched(ink: np.ndarray, mask: np.ndarray, thin_mask: np.ndarray, span: int, least: float) -> Lines:
    """The lines at each tilt in `mask` [H, W] that cover at least `least` columns. A page
    photographed at a slant has lines that converge, each at a tilt of its own: once the lines at one
    tilt are found, the pixels left are searched again, until a search finds none (at most TILTS searches)."""
    found = [lines_at_one_tilt(ink, mask, thin_mask, span, least)]
    while (found[-1].strength > 0).any() and len(found) < TILTS:
        left = mask & (joined(found).labels == 0)
        found.append(lines_at_one_tilt(ink, left, thin_mask & left, span, least))
    return joined(found)


def piled(offsets: np.ndarray) -> np.ndarray:
    """How sharply the votes pile up at each tilt, given each pixel's offset at each tilt [tilts, pixels]:
    the sum of the squared votes at each offset. One bincount counts all tilts, each in a block of its own."""
    block = int(offsets.max()) + 1
    votes = np.bincount((offsets + block * np.arange(len(offsets))[:, None]).ravel(), minlength=block * len(offsets))
    return (votes.reshape(len(offsets), block).astype(float) ** 2).sum(1)


def lines_at_one_tilt(ink: np.ndarray, mask: np.ndarray, thin_mask: np.ndarray, span: int,
                      least: float | None = None) -> Lines:
    """The straight lines at one tilt in `mask` [H, W], within 35 degrees of horizontal, that cover
    at least `span` columns (or `least`: pieces of bowed lines), found among the pixels of `thin_mask`.

    Every thin pixel votes for the lines through it at each tilt in SLOPES (a Hough transform; a
    quarter of the pixels, then all of them at the tilts FINE around the best): the tilt whose
    votes pile up most sharply is the page's, and the offsets with many votes are its lines, each
    measured on its thin pixels (where no stroke crosses it).
    """
    height, width = mask.shape
    rows, cols = coordinates(thin_mask)
    none = Lines(np.zeros(1), np.zeros(1), np.zeros(mask.shape, dtype=np.int64), np.zeros(1, bool), np.zeros(1))
    if len(rows) < span:
        return none
    pad = height + int(SLOPES.max() * width / 2) + 1  # offsets from 0 on, whatever the tilt
    offset = lambda r, c, s: np.round(r - s * (c - width / 2)).astype(int) + pad  # noqa: E731
    # The tilt whose votes pile up most, among SLOPES on a quarter of the pixels, then FINE around it on all.
    coarse = SLOPES[np.argmax(piled(offset(rows[::4], cols[::4], SLOPES[:, None])))]
    slope = (coarse + FINE)[np.argmax(piled(offset(rows, cols, (coarse + FINE)[:, None])))]
    votes = np.bincount(offset(rows, cols, slope), minlength=2 * pad)
    # Neighbouring offsets with votes make one line, a pixel or a few thick.
    busy = votes >= max(3, 0.15 * span)
    if busy[pad:pad + height].mean() > 0.5:  # votes at most heights: a printed texture, not lines
        return none
    line_of_offset = np.cumsum(np.diff(np.concatenate([[0], busy.astype(np.int8)])) == 1) * busy
    count = int(line_of_offset.max())
    line = line_of_offset[offset(rows, cols, slope)]
    columns = np.bincount(np.unique(line * width + cols) // width, minlength=count + 1)
    pixels = np.bincount(line, minlength=count + 1)
    strength = np.bincount(line, weights=ink[rows, cols], minlength=count + 1) / np.maximum(pixels, 1)
    is_line = (columns >= (least or span)) & (np.arange(count + 1) > 0)
    position = np.bincount(line, weights=offset(rows, cols, slope), minlength=count + 1) / np.maximum(pixels, 1)
    gaps = np.diff(np.sort(position[is_line & (columns >= span)]))  # between the full-length lines
    ruled = len(gaps) >= 2 and bool(np.all(np.abs(gaps - np.median(gaps)) <= 0.2 * np.median(gaps)))
    if ruled:  # then shorter pieces at the same tilt may be ruled lines too
        is_line |= (columns >= span / 4) & (np.arange(count + 1) > 0) & \
            in_the_ruling(position, position[is_line & (columns >= span)], line, cols)
    # Every pixel of the mask on a line or one pixel beside it, a crossing stroke's too, is labelled.
    all_rows, all_cols = coordinates(mask)
    at = offset(all_rows, all_cols, slope)
    which = np.max([line_of_offset[np.clip(at + d, 0, len(busy) - 1)] for d in (-1, 0, 1)], axis=0)
    labels = np.zeros(mask.shape, dtype=np.int64)
    labels[all_rows, all_cols] = np.where(is_line[which], which, 0)
    return Lines(np.where(is_line, strength, 0), pixels / np.maximum(columns, 1), labels, np.full(count + 1, ruled),
                 columns)


def in_the_ruling(position: np.ndarray, full: np.ndarray, line: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """For each line at one tilt (its mean `position` across it), whether a piece of it may be one of
    a ruled page's lines, whose `full`-length ones stand evenly apart: it runs out of the picture (as
    far as any ink does, `cols` of each thin pixel on `line`), cut short by the photo's edge; or it
    stands where the ruling puts a line, a whole number of steps from the nearest full-length one. A
    digit's straight stroke written along a line lies a fraction of a step from it."""
    step = np.median(np.diff(np.sort(full)))
    apart = np.abs(position[:, None] - full[None, :]).min(1) / step
    in_step = (apart >= 0.8) & (np.abs(apart - np.round(apart)) <= 0.2)
    first, last = np.full(len(position), cols.max() + 1), np.zeros(len(position), dtype=int)
    np.minimum.at(first, line, cols)
    np.maximum.at(last, line, cols)
    return in_step | (first <= cols.min() + 3) | (last >= cols.max() - 3)


def ends(labels: np.ndarray, thin_mask: np.ndarray, count: int, first: int, reach: int = 20,
         ) -> tuple[np.ndarray, ...]:
    """Where to start following both ends of each of `count` lines in `labels` [H, W], from the
    `first` on: which line, the way out (-1: left, 1: right), the slope there (fitted to its thin
    pixels within `reach` columns of the end), and a row and column half of that back inside it,
    where the straight search may have left pixels of a line that bows away."""
    width = labels.shape[1]
    rows, cols = coordinates((labels > 0) & thin_mask)
    key = labels[rows, cols] * width + cols
    size = (count, width)
    pixels = np.bincount(key, minlength=count * width).reshape(size)
    row = np.bincount(key, weights=rows, minlength=count * width).reshape(size) / np.maximum(pixels, 1)
    has = pixels > 0
    line = np.nonzero(has.any(1) & (np.arange(count) >= first))[0]
    left, right = has[line].argmax(1), width - 1 - has[line, ::-1].argmax(1)
    which = np.concatenate([line, line])
    at = np.concatenate([left, right])
    way = np.repeat([-1, 1], len(line))
    # A straight line through the line's mean rows in the columns near its end (least squares).
    x = np.arange(width)[None, :] - at[:, None]
    w = (has[which] & (np.abs(x) <= reach)).astype(float)
    y = row[which]
    sw, sx, sy = w.sum(1), (w * x).sum(1), (w * y).sum(1)
    sxx, sxy = (w * x * x).sum(1), (w * x * y).sum(1)
    slope = np.divide(sw * sxy - sx * sy, sw * sxx - sx ** 2, out=np.zeros(len(sw)), where=sw * sxx - sx ** 2 > 0)
    back = -way * np.tile(np.minimum(reach // 2, right - left), 2)
    return which, way, slope, (sy - slope * sx) / sw + slope * back, at + back


REACH = np.arange(-4, 5)  # rows: the most a line is looked for away from where it should be
BEND = 0.4  # the most a followed line's slope strays from where it started: a page bows, a drawn ring turns


def followed(ink: np.ndarray, lines: Lines, mask: np.ndarray, thin_mask: np.ndarray, first: int = 0,
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where each of the `lines` from the `first` on lies (line, column, row: points to draw its path
    through): on its own thin pixels of `thin_mask` [H, W], and on those that continue it beyond
    both its ends, followed a column at a time. A page that bends in a photo bows its lines: a
    straight search finds only their straightest part, and the rest would be left as ink, joined to
    the digits it reaches. Lines numbered before `first` are not followed onto; those from `first` on
    (pieces of bowed lines) may be: pieces of one line."""
    labels, strength = lines.labels, lines.strength
    if not (strength[first:] > 0).any():  # no line to follow, as in most drawings
        return (np.zeros(0, dtype=int),) * 3
    # Which line may step on each pixel: any (-1, a thin pixel of no line, or of a piece), only its
    # own, or none (0: no thin pixel).
    free = (labels == 0) | ((labels >= first) & (first > 0))
    followable = np.where(thin_mask, np.where(free, -1, labels), 0)
    rows, columns = coordinates((labels > 0) & (labels >= first) & thin_mask)
    found = walked(ink, followable, mask, strength, ends(labels, thin_mask, len(strength), first))
    line, column, row = (np.concatenate(values) for values in zip((labels[rows, columns], columns, rows), *found))
    return line, column, row


def walked(ink: np.ndarray, followable: np.ndarray, mask: np.ndarray, strength: np.ndarray,
           start: tuple[np.ndarray, ...]) -> list[tuple[np.ndarray, ...]]:
    """Where each end of a line, from its `start` (ends), found its line, a column at a time: on each
    step, the line, column and row of those that did. An end stops at the picture's edge, where it
    found nothing for a quarter of the picture or nothing at all of `mask` [H, W] for 10 columns, or
    where it turned by more than BEND."""
    which, way, slope, row, column = start
    height, width = mask.shape
    straight = slope.copy()
    # A line is followed on pixels as dark as its print, not along a darker stroke beside it (a digit's
    # foot on the line); across a stroke or a grid line it goes on as it went.
    lightest, darkest = strength[which][:, None] / 1.5 - 0.05, 1.5 * strength[which][:, None] + 0.05
    found_row, found_column = row.copy(), column.copy()  # where each end last found its line
    missed, blank = np.zeros(len(which), dtype=int), np.zeros(len(which), dtype=int)
    steps = []
    for _ in range(width):  # bounded: every end moves a column each step
        column = column + way
        live = (column >= 0) & (column < width) & (missed <= max(10, width // 4)) & (blank <= 10) & \
            (np.abs(slope - straight) <= BEND)
        if not live.any():
            break
        row = row + slope * way
        # Within a pixel of where the line should be, or farther after a long gap (it went on bending).
        at = np.clip(np.round(row).astype(int)[:, None] + REACH, 0, height - 1)
        inside = np.clip(column, 0, width - 1)[:, None]
        near = np.abs(REACH) <= 1 + missed[:, None] // 5
        mine = (followable[at, inside] == -1) | (followable[at, inside] == which[:, None])
        hit = live[:, None] & near & mine & (ink[at, inside] >= lightest) & (ink[at, inside] <= darkest)
        found = hit.any(1)
        new_row = (at * hit).sum(1) / np.maximum(hit.sum(1), 1)
        # The slope follows the line as it bends, the more the farther it was last found: rows are whole
        # pixels, and a step of a pixel up or down in one column says little.
        far = np.maximum(np.abs(column - found_column), 1)
        slope += found * np.minimum(0.5, far / 10) * ((new_row - found_row) / far * way - slope)
        row = np.where(found, new_row, row)
        found_row, found_column = np.where(found, row, found_row), np.where(found, column, found_column)
        missed = np.where(found, 0, missed + 1)
        blank = np.where(mask[at, inside].any(1), 0, blank + 1)
        steps.append((which[found], column[found], row[found]))
    return steps


def along_paths(lines: Lines, mask: np.ndarray, points: tuple[np.ndarray, ...], kept: np.ndarray | None = None,
                ) -> np.ndarray:
    """The labels [H, W] of the `lines` (those `kept`), and the pixels of `mask` within half its
    thickness and a pixel of each one's path: the mean row of its `points` (line, column, row) in
    each column, straight across the columns between (where strokes cross it), and on as far as its
    labels went (where a stroke crosses its end). A bowed line's path strays from a straight band."""
    labels = lines.labels if kept is None else np.where(kept[lines.labels], lines.labels, 0)
    labels = labels.copy()
    if not len(points[0]):
        return labels
    width = mask.shape[1]
    key, at = np.unique(points[0] * width + points[1], return_inverse=True)
    mean = np.bincount(at, weights=points[2]) / np.bincount(at)
    rows, columns = coordinates(lines.labels)
    left, right = np.full(len(lines.strength), width), np.zeros(len(lines.strength), dtype=int)
    np.minimum.at(left, lines.labels[rows, columns], columns)
    np.maximum.at(right, lines.labels[rows, columns], columns)
    for line in np.unique(key // width):
        if kept is not None and not kept[line]:
            continue
        mine = key // width == line
        path = np.arange(min(key[mine].min() % width, left[line]), max(key[mine].max() % width, right[line]) + 1)
        middle = np.interp(path, key[mine] % width, mean[mine])
        reach = lines.thickness[line] / 2 + 1
        for shift in range(-int(reach) - 1, int(reach) + 2):
            rows = np.round(middle).astype(int) + shift
            on = (np.abs(rows - middle) <= reach) & (rows >= 0) & (rows < mask.shape[0])
            on[on] &= mask[rows[on], path[on]] & (labels[rows[on], path[on]] == 0)
            labels[rows[on], path[on]] = line
    return labels
