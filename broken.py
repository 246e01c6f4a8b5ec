"""Digits whose stroke is broken: read as the whole digits they were.

Read this after touching.py. A pen that skips, a stroke lifted and begun again, or a faint stroke
that a photo shows only in part leaves a digit with a gap in it. The network was taught that parts
of digits are no digits (nondigits.pieces), so that a wrong cut between touching digits reads
badly; a broken digit looks like a part to it, and it is refused more often than a whole one.
Two cases, each settled by the network, as the cuts of touching.py are:

  1. broken_apart: the gap parts the digit into two groups of ink side by side (a 9's loop apart
     from its stem, a 2 in halves, a slanted 1 in two), each refused or read as a digit of its
     own. Two neighbours close together and together no wider than a digit are tried as one
     (prepare.digit_items joins them where the network reads the one as surely as they ask).
  2. mended: the gap stays inside one group (a 7's bar broken off at its corner, a 1 in two along
     its length). A refused digit is read again with its narrow gaps closed, and kept so only
     where the closing adds little ink (GAP) and the network is then sure of it (MENDED, more
     so of a 1, which an i closed looks like): a letter's or a doodle's openings are wider than a
     skipped stroke's gap, and where a closing fills its small loops, it adds much more ink.
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

import segment

BROKEN = 0.2  # of a digit's height: a gap narrower than this between two groups may be a broken stroke
APART = 0.8  # two neighbours each read at least this surely are two digits, never one broken apart
# A refused digit, its gaps closed, is taken as mended only where the closing adds little ink (a narrow
# gap's; a doodle's small loops and openings fill with more) and the network then reads it this surely:
# at the bar itself, doodles passed as digits too (docs/reading.md, "A stroke broken").
GAP = 0.1  # the most ink the closing may add, as a share of the digit's
MENDED = 0.7
# A letter i whose dot sits close above its stem is, closed, a 1 broken near its top, and the network
# reads it so: a 1 must be read surer than other digits to be taken as mended.
MENDED_ONE = 0.85

# What the network says of candidate digits [N, 28, 28] (predict.Reader.judge, lent by prepare.py): each
# one's best probability, whether it clears the "not a digit" bar, and the digit it is.
Judge = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor, torch.Tensor]]


def broken_apart(found: list[tuple[list, list, list]], digits: list[segment.Group], judge: Judge | None,
                 ) -> list[tuple[int, float]]:
    """Which neighbouring groups (k and k + 1, by index) may be one digit broken in two, and how surely
    the network must read them as one to join them: each read as one item, not both surely (APART),
    less than BROKEN of a digit's height apart or overlapping, together no wider than one digit may be.
    Where both are read as digits, the one must be read more surely than either; where one is refused,
    only as a digit (0 here): kept apart, the refused one would most often leave the number unread.
    `found` holds each group's items (prepare.Item) first."""
    near = [k for k, (a, b) in enumerate(zip(digits, digits[1:])) if len(found[k][0]) == len(found[k + 1][0]) == 1
            and b.left - a.right < BROKEN * max(a.height, b.height)
            and (union := segment.merged([a, b])).width <= 1.2 * union.height]
    if not judge or not near:  # the network is asked only where the shapes allow it
        return []
    ones = sorted({i for k in near for i in (k, k + 1)})
    confidence, is_digit, _ = judge(torch.stack([found[i][0][0].pixels for i in ones]))
    sure = dict(zip(ones, torch.where(is_digit, confidence, 0.0).tolist()))  # 0: refused
    pairs: list[tuple[int, float]] = []
    for k in near:
        least, most = sorted((sure[k], sure[k + 1]))
        if least < APART and (not pairs or pairs[-1][0] != k - 1):
            pairs.append((k, most if least > 0 else 0.0))
    return pairs


def closed(pixels: torch.Tensor) -> torch.Tensor:
    """Digits [N, 28, 28] with their gaps up to 2 pixels wide closed: each pixel the brightest in the
    3x3 square around it (a stroke grown by a pixel all round, over the gap), then the darkest
    (shrunk back, the gap staying filled: a grey-level "closing")."""
    grown = F.max_pool2d(pixels[:, None], 3, stride=1, padding=1)
    return -F.max_pool2d(-grown, 3, stride=1, padding=1)[:, 0]


def mended(pixels: list[torch.Tensor], judge: Judge | None) -> list[torch.Tensor]:
    """Each digit's 28x28 input, one that the network refuses replaced by itself with its gaps closed
    (`closed`) where that adds at most GAP to its ink and the network reads it MENDED surely or more
    (MENDED_ONE if a 1)."""
    if not judge or not pixels:
        return pixels
    refused = [i for i, ok in enumerate(judge(torch.stack(pixels))[1].tolist()) if not ok]
    if not refused:
        return pixels
    before = torch.stack([pixels[i] for i in refused])
    after = closed(before)
    added = ((after - before).sum((1, 2)) / before.sum((1, 2)).clamp(min=1e-6)).tolist()
    confidence, is_digit, digit = (values.tolist() for values in judge(after))
    pixels = list(pixels)
    for i, candidate, more, sure, ok, named in zip(refused, after, added, confidence, is_digit, digit):
        if ok and sure >= (MENDED_ONE if named == 1 else MENDED) and more <= GAP:
            pixels[i] = candidate
    return pixels
