"""Ruled lines, squared grids and margin lines: how long straight lines are found in the ink.

Read this file to learn how the lines printed on notebook paper and forms are found (printed.py
decides which are print and takes them out of the ink). A line is a long, thin, straight run
across the page, level or tilted as in a photo, and converging where the photo was taken at a
slant. Each is found by its length and straightness (a Hough transform: horizontal_lines,
lines_at_one_tilt), with its strength, thickness and length. Lines down the page are found as
lines across the page turned.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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
