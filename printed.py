"""Which of the lines found in the ink are the paper's print, and what of them to take out.

Read this file to learn how the lines that lines.py finds are told from the pen's strokes. A
printed line is fainter or thinner than the pen, or one of the page's evenly ruled lines, or far
longer than the writing (a form's line to write on, a margin line darker than a pencil): it is
removed, keeping every pixel where a pen stroke crosses it, a pixel darker than the line's own
print or one with pen strokes on both sides of the line (remove_lines). The short ticks that a form
prints on its line between the boxes for digits go with it (ticks), and so does a box printed around
the writing where the picture was cropped along it, a thin line along the picture's edge
(along_the_edges). paper.py calls lines_to_remove; prepare.py reads what is left.
"""

from __future__ import annotations

import numpy as np
import torch

from lines import Lines, horizontal_lines, shifted
from pixels import coordinates, label_parts, max_filter, stroke_width


def lines_to_remove(ink: np.ndarray, mask: np.ndarray, margin: int, page: tuple[int, int] | None = None,
                    ) -> np.ndarray:
    """The pixels of ruled lines, grid lines and margin lines in `ink` [H, W], to be set to paper;
    `page` is the paper's (height, width) where it does not fill the picture (a page on a table). First
    a box's side where the picture was cropped to the box, which may be too short to be found as a line
    and would join the digits that touch it to the page's edge."""
    box = along_the_edges(mask, margin)
    return box | ruled_and_printed(ink, mask & ~box, margin, page)


def ruled_and_printed(ink: np.ndarray, mask: np.ndarray, margin: int, page: tuple[int, int] | None,
                      ) -> np.ndarray:
    """The pixels of the lines that lines.py finds in `ink` [H, W] (where `mask` is set) that are print."""
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


def along_the_edges(mask: np.ndarray, margin: int) -> np.ndarray:
    """The pixels of thin lines printed along the picture's edges, in a mask [H, W] with `margin` pixels
    of paper added around: the box printed around a form's field or a cheque's amount, which the crop
    cut along. In a picture no taller than the writing its sides are no longer than a digit is tall,
    and are not found as lines; a digit that touches one is joined to it, and runs along the edge.
    Such a line is rows (or columns) inked along nine tenths of the picture or more, in from its edge by
    two at most, with the rows on either side inked along less than half, no thicker than half a pen
    stroke: a stroke written along the edge of a picture cropped tight (a 1) is as thick as the pen.
    Where a stroke crosses the line, with ink on both sides, its pixels stay."""
    inside = mask[margin:mask.shape[0] - margin, margin:mask.shape[1] - margin]
    found = np.zeros_like(mask)
    if inside.size == 0 or ((inside.mean(1) < 0.9).all() and (inside.mean(0) < 0.9).all()):
        return found  # no row or column inked right across, as in most pictures
    thinnest = max(1, int(stroke_width(torch.from_numpy(inside)) / 2))
    out = found[margin:mask.shape[0] - margin, margin:mask.shape[1] - margin]  # a view: lines land in `found`
    for turn in (0, 1):  # rows, then columns turned into rows
        rows, lines = np.rot90(inside, turn), np.rot90(out, turn)
        inked = np.concatenate([[0.0], rows.mean(1), [0.0]])  # beyond the picture: paper
        full = inked >= 0.9
        starts, stops = np.nonzero(full[1:] & ~full[:-1])[0] + 1, np.nonzero(full[:-1] & ~full[1:])[0] + 1
        for start, stop in zip(starts, stops):  # in `inked`, one row more at the top than in `rows`
            near = start <= 3 or stop >= len(inked) - 3
            if near and stop - start <= thinnest and inked[start - 1] < 0.5 and inked[stop] < 0.5:
                # (a stroke that crosses it aslant has ink on both sides within a few rows of it)
                above = rows[max(0, start - 3 - thinnest):start - 1].any(0)
                below = rows[stop - 1:stop + 1 + thinnest].any(0)
                lines[start - 1:stop - 1] = rows[start - 1:stop - 1] & ~(above & below)
    return found


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
    # The stroke's ink: what is no line, and where it crosses a line beside this one (a margin line
    # beside a grid line) the pixels that it darkens there, or those of lines that are kept.
    stroke = others | ((lines.labels > 0) & (darker | ~line))
    above = np.zeros_like(line)
    below = np.zeros_like(line)
    reach = np.maximum(5, np.round(lines.thickness) + 4)[lines.labels]  # a few pixels beyond a broad line
    for step in range(1, int(reach.max()) + 1):
        above |= shifted(stroke, step) & (reach >= step)
        below |= shifted(stroke, -step) & (reach >= step)
    # Where a line bows a little, its band of pixels is broader than the line: the stroke's ink is
    # looked for beyond the band, wherever in it a pixel lies.
    for _ in range(int(reach.max())):
        above |= shifted(above & line, 1) & line
        below |= shifted(below & line, -1) & line
    return line & ~darker & ~(above & below)


def edge_to_edge(labels: np.ndarray, count: int, full: int) -> np.ndarray:
    """For each of `count` lines (numbered in `labels` [H, W], 0 for none), whether both its ends come
    within 3 pixels of the picture's edge, `full` pixels wide inside the margin around it: a line the
    picture cuts at both ends, as a margin line that a turned photo cuts at a side and at the bottom."""
    height, width = labels.shape
    margin = (width - full) // 2
    rows, cols = coordinates(labels)
    key = cols * height + rows  # in the order of columns: its leftmost and rightmost pixels are its ends
    first, last = np.full(count, np.iinfo(np.int64).max), np.full(count, -1)
    np.minimum.at(first, labels[rows, cols], key)
    np.maximum.at(last, labels[rows, cols], key)
    at_edge = lambda k: (np.minimum(k // height, width - 1 - k // height) <= margin + 3) | \
        (np.minimum(k % height, height - 1 - k % height) <= margin + 3)  # noqa: E731
    return (last >= 0) & at_edge(first) & at_edge(np.maximum(last, 0))


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
