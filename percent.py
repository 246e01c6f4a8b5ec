"""The % sign: written after a number, in one stroke or in three, or set in type; or alone.

Read this after shapes.py, whose is_percent says whether one mask of ink is a % by its two small
rings of paper, one high on its left and one low on its right. A % is written in strokes apart as
often as in one: its rings are then marks of their own beside the last digit, found and joined to it
(joined_percent), and taken loosely, as type sets a %, wider and with larger rings (ring_apart). A %
written alone, with no digit to read, is told before the line is levelled (percent_alone).
separators.py asks these as it tells a number's marks from its digits.
"""

from __future__ import annotations

import numpy as np
import torch

from pixels import enclosed
from segment import Group, mask_of, merged, replaced
from shapes import is_percent


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


def joined_percent(labels: np.ndarray, groups: list[Group], specks: list[Group], tallest: int,
                   ) -> tuple[list[Group], list[Group]]:
    """The groups and specks, with a % sign after the number made one group where it was drawn in
    strokes apart: its small rings, marks of their own beside the last tall stroke of the line,
    joined with it where together they pass is_percent (loosely: strokes apart are no digits)."""
    tall = [g for g in groups if g.height >= 0.6 * tallest]
    last = max(tall, key=lambda g: g.right)
    before = max((g.right for g in tall if g.right <= last.left), default=-1)  # the digit before it
    if before < 0:  # a % follows a number: a digit stands wholly before its stroke
        return groups, specks
    reach = 0.5 * last.height
    # A written %'s rings are small; type sets them larger, up to 0.75 of the digits' height, where
    # only a ring counts (a digit that small, beside the last one, might be read as a part of it).
    rings = [g for g in groups + specks if g is not last and (g.left + g.right) / 2 > before
             and g.left >= last.left - reach and g.right <= last.right + reach
             and (g.height < 0.6 * tallest or g.height < 0.75 * tallest and len(enclosed(mask_of(labels, g))) == 1)]
    if not rings:
        return groups, specks
    marks = [last, *rings]
    joined = merged(marks)
    if not is_percent(mask_of(labels, joined), loose=True):
        return groups, specks
    return replaced(groups, specks, marks, joined)


def ring_apart(labels: np.ndarray, group: Group) -> bool:
    """Whether a group is strokes apart, as is_percent takes them loosely: three parts or more, or two
    where one is a small ring alone (type sets a %'s stroke touching one ring and clear of the other)."""
    if len(group.parts) != 2:
        return len(group.parts) >= 3
    masks = [labels[group.top:group.bottom, group.left:group.right] == part for part in group.parts]
    return any(mask.any(1).sum() < 0.7 * group.height and len(enclosed(torch.from_numpy(mask))) == 1
               for mask in masks)
