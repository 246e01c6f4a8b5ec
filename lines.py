"""Ruled lines, squared grids and margin lines: how long straight lines are found and told from ink.

Read this file to learn how the lines printed on notebook paper and forms are taken out of the ink
(paper.py calls lines_to_remove; prepare.py reads what is left). A line is a long, thin, straight run
across the page, level or tilted as in a photo, and converging where the photo was taken at a
slant. Each is found by its length and straightness (a Hough transform: horizontal_lines,
lines_at_one_tilt), then removed if it is fainter or thinner than the pen (or far longer than the
writing, as a form's line to write on or a margin line darker than a pencil), keeping every pixel
where a pen stroke crosses it: a pixel darker than the line's own print, or one with pen strokes on
both sides of the line (remove_lines). The short ticks that a form prints on its line between the
boxes for digits go with it (ticks). Lines down the page are found as lines across the page turned.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from pixels import label_parts, max_filter, stroke_width


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


def thin(mask: np.ndarray, most: int = 4) -> np.ndarray:
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
    """The straight lines in `mask` [H, W], within 35 degrees of horizontal, that cover at least
    `span` columns. A page photographed at a slant has lines that converge, each at a tilt of its
    own: once the lines at one tilt are found, the pixels left are searched again, until a search
    finds none (at most TILTS searches)."""
    thin_mask = thin(mask)
    found = [lines_at_one_tilt(ink, mask, thin_mask, span)]
    labels = found[0].labels
    while (found[-1].strength > 0).any() and len(found) < TILTS:
        left = mask & (labels == 0)
        more = lines_at_one_tilt(ink, left, thin_mask & left, span)
        # Its lines are numbered on after those found before, as the arrays are joined below.
        labels = np.where(more.labels > 0, more.labels + sum(len(f.strength) for f in found), labels)
        found.append(more)
    joined = lambda name: np.concatenate([getattr(f, name) for f in found])  # noqa: E731
    return Lines(joined("strength"), joined("thickness"), labels, joined("ruled"), joined("length"))


def piled(offsets: np.ndarray) -> np.ndarray:
    """How sharply the votes pile up at each tilt, given each pixel's offset at each tilt [tilts, pixels]:
    the sum of the squared votes at each offset. One bincount counts all tilts, each in a block of its own."""
    block = int(offsets.max()) + 1
    votes = np.bincount((offsets + block * np.arange(len(offsets))[:, None]).ravel(), minlength=block * len(offsets))
    return (votes.reshape(len(offsets), block).astype(float) ** 2).sum(1)


def lines_at_one_tilt(ink: np.ndarray, mask: np.ndarray, thin_mask: np.ndarray, span: int) -> Lines:
    """The straight lines at one tilt in `mask` [H, W], within 35 degrees of horizontal, that cover
    at least `span` columns, found among the pixels of `thin_mask`.

    Every thin pixel votes for the lines through it at each tilt in SLOPES (a Hough transform; a
    quarter of the pixels, then all of them at the tilts FINE around the best): the tilt whose
    votes pile up most sharply is the page's, and the offsets with many votes are its lines, each
    measured on its thin pixels (where no stroke crosses it).
    """
    height, width = mask.shape
    rows, cols = np.nonzero(thin_mask)
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
    is_line = (columns >= span) & (np.arange(count + 1) > 0)
    position = np.bincount(line, weights=offset(rows, cols, slope), minlength=count + 1) / np.maximum(pixels, 1)
    where = np.sort(position[is_line])
    gaps = np.diff(where)
    ruled = len(gaps) >= 2 and bool(np.all(np.abs(gaps - np.median(gaps)) <= 0.2 * np.median(gaps)))
    if ruled:  # then shorter pieces at the same tilt are ruled lines too: one leaving the picture at its edge
        is_line |= (columns >= span / 4) & (np.arange(count + 1) > 0)
    # Every pixel of the mask on a line or one pixel beside it, a crossing stroke's too, is labelled.
    all_rows, all_cols = np.nonzero(mask)
    at = offset(all_rows, all_cols, slope)
    which = np.max([line_of_offset[np.clip(at + d, 0, len(busy) - 1)] for d in (-1, 0, 1)], axis=0)
    labels = np.zeros(mask.shape, dtype=np.int64)
    labels[all_rows, all_cols] = np.where(is_line[which], which, 0)
    return Lines(np.where(is_line, strength, 0), pixels / np.maximum(columns, 1), labels, np.full(count + 1, ruled),
                 columns)


def remove_lines(ink: np.ndarray, lines: Lines, others: np.ndarray, pen: float, pen_width: float,
                 ruled_page: bool, full: int) -> np.ndarray:
    """The pixels of `lines` (horizontal) to remove from `ink` [H, W]: those of every line fainter or
    thinner than the pen, except where a pen stroke crosses it. `others` marks the ink that is no
    line; `ruled_page` says the paper is ruled in either direction; `full` is the page's width."""
    # Printed lines are fainter than a pen, or thinner, or ruled evenly across the page, or right across
    # it (ruled paper's margin; or, twice as long as the writing, one darker than a pencil), or three
    # times as long as the writing is tall (a form's line to write on): no digit's stroke is any of these.
    rows = np.nonzero(others.any(1))[0]
    tall = rows[-1] - rows[0] + 1
    writing = np.nonzero((others & (ink > 0.5 * pen)).sum(0) >= 2)[0]  # not the paper's grain
    along = writing[-1] - writing[0] + 1 if len(writing) else full
    fainter, thinner = lines.strength < 0.7 * pen, lines.thickness < 0.6 * pen_width
    right_across = (lines.length >= 0.9 * full) & (ruled_page | (lines.length >= 2 * along))
    # A line that the picture cuts at both ends is longer than it shows: half as long again as the writing.
    right_across |= edge_to_edge(lines.labels, len(lines.strength), full) & (lines.length >= 1.5 * along)
    printed = (lines.ruled | right_across | (lines.length >= 3 * tall)) & (lines.thickness <= 1.5 * pen_width)
    paper = (lines.strength > 0) & (fainter | thinner | printed)
    line = paper[lines.labels]
    # Where a stroke crosses a line, keep the line's pixels: those darker than the print halfway to
    # the pen (or clearly darker than the print, if the pen is no darker), and those with the
    # stroke's ink just above and just below.
    print_ = lines.strength[lines.labels]
    darker = ink > (print_ + np.maximum(pen, 2 * print_)) / 2
    above = np.zeros_like(line)
    below = np.zeros_like(line)
    for step in range(1, 6):
        above |= shifted(others, step)
        below |= shifted(others, -step)
    return line & ~darker & ~(above & below)


def edge_to_edge(labels: np.ndarray, count: int, full: int) -> np.ndarray:
    """For each of `count` lines (numbered in `labels` [H, W], 0 for none), whether both its ends come
    within 3 pixels of the picture's edge, `full` pixels wide inside the margin around it: a line the
    picture cuts at both ends, as a margin line that a turned photo cuts at a side and at the bottom."""
    height, width = labels.shape
    margin = (width - full) // 2
    rows, cols = np.nonzero(labels)
    key = cols * height + rows  # in the order of columns: its leftmost and rightmost pixels are its ends
    first, last = np.full(count, np.iinfo(np.int64).max), np.full(count, -1)
    np.minimum.at(first, labels[rows, cols], key)
    np.maximum.at(last, labels[rows, cols], key)
    at_edge = lambda k: (np.minimum(k // height, width - 1 - k // height) <= margin + 3) | \
        (np.minimum(k % height, height - 1 - k % height) <= margin + 3)  # noqa: E731
    return (last >= 0) & at_edge(first) & at_edge(np.maximum(last, 0))


def lines_to_remove(ink: np.ndarray, mask: np.ndarray, margin: int, page: tuple[int, int] | None = None,
                    ) -> np.ndarray:
    """The pixels of ruled lines, grid lines and margin lines in `ink` [H, W], to be set to paper;
    `page` is the paper's (height, width) where it does not fill the picture (a page on a table)."""
    height, width = mask.shape
    page_height, page_width = page or (height - 2 * margin, width - 2 * margin)
    # A line crosses much of the page, and is longer than a digit could be drawn in a small one.
    across = horizontal_lines(ink, mask, max(40, int(0.4 * page_width)))
    down = horizontal_lines(ink.T.copy(), mask.T.copy(), max(40, int(0.4 * page_height)))
    if not (across.strength > 0).any() and not (down.strength > 0).any():
        return np.zeros_like(mask)  # no line at all, as in most drawings: nothing to weigh or remove
    others = mask & (across.labels == 0) & (down.labels.T == 0)
    pen_pixels = ink[others]
    pen = float(np.median(pen_pixels[pen_pixels > pen_pixels.max() / 2])) if others.any() else 0.0
    strengths = np.concatenate([across.strength[across.strength > 0], down.strength[down.strength > 0]])
    # Nothing but lines, and the paper's grain, far fainter than their print (writing is at least as
    # dark as the print it is written on): an empty page if there are several lines, else a lone 1 or 7.
    if pen < 0.5 * np.median(strengths):
        return mask if len(strengths) >= 2 else np.zeros_like(mask)
    pen_width = stroke_width(torch.from_numpy(others))
    ruled = across.ruled.any() or down.ruled.any()
    lines = remove_lines(ink, across, others, pen, pen_width, ruled, width - 2 * margin) | \
        remove_lines(ink.T.copy(), down, others.T.copy(), pen, pen_width, ruled, height - 2 * margin).T
    return lines | ticks(ink, mask & ~lines, lines, pen, pen_width)


def ticks(ink: np.ndarray, rest: np.ndarray, lines: np.ndarray, pen: float, pen_width: float) -> np.ndarray:
    """The pixels of printed ticks on the `lines` to be removed, among the ink `rest` [H, W] left
    beside them: a form's comb, short strokes standing on its line between the boxes for digits.

    A tick touches a line, is straight along a row or a column, at least 8 pixels long, and as thin
    as the line, or as faint as its print, or one of three or more of the same length and width: a
    pen's strokes (a 1 written on the line) wobble, are as dark and as broad as the pen, and differ.
    """
    if not lines.any() or not rest.any():
        return np.zeros_like(rest)
    labels, boxes = label_parts(rest)
    parts = np.arange(1, len(boxes) + 1)
    near = max_filter(torch.from_numpy(lines).float(), 3).numpy() > 0
    size = np.bincount(labels.ravel(), minlength=len(parts) + 1)[1:]
    mean = np.bincount(labels.ravel(), weights=ink.ravel(), minlength=len(parts) + 1)[1:] / size
    upright = boxes[:, 2] - boxes[:, 0] >= boxes[:, 3] - boxes[:, 1]
    long = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    short = np.minimum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    thickness, line_width = size / long, stroke_width(torch.from_numpy(lines))
    # Standing on a line, narrow and long: what a crossing stroke leaves beside a line is shorter.
    on_a_line = np.isin(parts, labels[near & rest])
    straight = on_a_line & (short <= 2 * line_width + 2) & (long >= np.maximum(3 * short, 8))
    thin = (thickness <= max(1.5 * line_width, line_width + 1)) & (thickness < 0.6 * pen_width)
    print_ = float(np.median(ink[lines]))
    faint = (mean < (print_ + pen) / 2) & (mean < 0.8 * pen)
    alike = alike_marks(long, thickness, upright, straight)
    return np.isin(labels, parts[straight & (thin | faint | (alike >= 3))])


def alike_marks(long: np.ndarray, thickness: np.ndarray, upright: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """For each mark, how many of the `chosen` ones run the same way, as long to a tenth (and a pixel)
    and as thick to a pixel. Sorted by direction, thickness and length, each count is two binary
    searches: a picture of thousands of marks costs no more than a sort."""
    key = (np.round(thickness) + 1000 * upright) * 1e6  # lengths stay far below a million pixels
    values = np.sort((key + long)[chosen])
    count = np.zeros(len(long), dtype=np.int64)
    for other in (key - 1e6, key, key + 1e6):  # thicker or thinner by a pixel, or as thick
        count += np.searchsorted(values, other + 1.1 * long + 1, "right") - \
            np.searchsorted(values, other + 0.9 * long - 1, "left")
    return count
