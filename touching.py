"""Digits that touch: cut them apart where the network reads the pieces best.

Read this after segment.py and separators.py, which find the groups of ink that may be digits.
People write numbers with digits that touch or overlap: a loop run into the next digit, two zeros
in one movement. No width rule can tell two touching digits from one wide digit (a flat 0, a 7 with
a long bar), so the network, lent by predict.py, decides:

  1. cut_columns: where a cut may go, the thin places of the ink (minima of its column profile)
     and the places where its outline dips into a join (outline_valleys);
  2. best_split: every stretch between two such places is a candidate digit, all read in one
     batch; dynamic programming (best_reading) picks the cuts whose pieces are read most surely,
     or keeps the group whole;
  3. split_touching: straight down, bending around the ink where digits overlap (gap_lines), or
     slanted as handwriting leans (shear, unshear), until one way reads its digits surely, more
     cuts where none parted a wide group, and never more candidate pieces than the picture's budget.
A $ or a # run into a number's first digit is no digit: sign_touching cuts it off first.

The network was taught that halves of digits and pairs of digits are no digits (nondigits.py), so
that a wrong cut reads badly and the right one well.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from pixels import bounds, label_parts

# What the network says of candidate digits (masks of ink): each one's best class's probability,
# whether that clears the "not a digit" bar, and the digit it is.
Judge = Callable[[list[torch.Tensor]], tuple[torch.Tensor, torch.Tensor, torch.Tensor]]

CUTS_PER_HEIGHT = 4  # places to try cutting touching digits, per digit height of their width: a bounded search
CLOSER_CUTS_PER_HEIGHT = 6  # where none of those parted a wide group: straight down only, to stay bounded
ONE = math.log(0.1)  # a piece read as a 1, cut from a group that is no digit, is doubtful: a letter's stroke is a 1
OTHER = 0.8  # ... unless a digit other than 1 is read at least this surely among the pieces
TALL_ONE = 0.75  # of the group's height: a 1 is as tall as the digits it touches, a joining stroke or a scrap is not
SURE = 0.5  # the least probability a piece of a split may be read with: the network was taught that parts of
# digits and pairs are no digits (nondigits.pieces, nondigits.pairs), so a wrong cut reads below it
REFUSED = 3.0  # what a piece below the "not a digit" bar costs per digit-height of its width (log probability)
# Handwriting leans, so the gap between two touching digits often does too: cuts are tried straight
# down and leaning about 14 degrees either way (a shift of a quarter of a pixel per row).
SLANTS = (0.0, 0.25, -0.25)
# Slanted cuts, and more cuts where none parted the group, are only tried in a group as wide as two
# digits: each try is one more chance for the pieces of a letter to pass as digits.
PAIR_WIDTH = 1.3  # in heights
# Where digits overlap, no straight line parts them, but one that bends around the ink may (gap_lines).
REACH = 0.25  # of a digit's height: how far a bending cut may stray from its column
BEND = 0.3  # what a bending cut pays per column it strays, per row, against 1 per pixel of ink it crosses
# A way to cut whose digits are read this surely (the geometric mean of their probabilities) is
# taken, and no other way is tried: another way that scores a little higher mostly reads two of its
# digits run together as one sure digit, and every way tried spends the picture's budget, which
# the next group of touching digits may need. Pieces that are all 1s and 7s must be read as surely
# together, or the group stays whole (split_touching): a letter's stems and arches read less surely.
GOOD = 0.7
MAX_JUDGED = 500  # candidate pieces the network may read in one picture: what keeps the search bounded


@dataclass
class Budget:
    """How many more candidate pieces the network may read in this picture."""
    left: int = MAX_JUDGED


def cut_columns(mask: torch.Tensor, per_height: int = CUTS_PER_HEIGHT) -> list[int]:
    """Where touching digits may be cut: the columns at each end of the ink, and between them those
    where it is thinnest (minima of the number of ink pixels in each column), `per_height` for each
    height of its width at most, the more of them the closer together; and the valleys of its outline."""
    top, left, bottom, right = bounds(mask)
    height = bottom - top
    profile = F.avg_pool1d(mask.sum(0).float()[None, None], 3, 1, 1, count_include_pad=False)[0, 0].tolist()
    edge = max(1, round(0.15 * height))
    minima = [c for c in range(left + edge, right - edge) if profile[c - 1] >= profile[c] <= profile[c + 1]]
    chosen: list[int] = []
    for column in sorted(minima, key=lambda c: profile[c]):  # the thinnest first
        if all(abs(column - other) >= 0.4 / per_height * height for other in chosen):
            chosen.append(column)
    chosen = chosen[:round(per_height * (right - left) / height)]
    for column in outline_valleys(mask[top:bottom, left:right]):
        if edge <= column < right - left - edge and all(abs(left + column - other) >= 0.05 * height
                                                          for other in chosen):
            chosen.append(left + column)
    return [left] + sorted(chosen) + [right]


def outline_valleys(mask: torch.Tensor) -> list[int]:
    """The columns of a mask cut to its ink where its top outline dips lowest, or its bottom outline
    rises highest, within a tenth of its height either side, by a twentieth of its height or more:
    where two digits touch, the outline runs down (or up) into the join, though the join itself
    may hold more ink than a digit's thin middle (an overlap, a loop run into the next digit)."""
    height, width = mask.shape
    rows = torch.arange(height)[:, None]
    # How far down the top outline is in each column, and how far up the bottom one is (from the
    # bottom); a column without ink counts as a dip all the way.
    depth = torch.where(mask, rows, height).amin(0)
    rise = torch.where(mask, height - 1 - rows, height).amin(0)
    reach = max(1, round(0.1 * height))
    valleys = torch.zeros(width, dtype=torch.bool)
    for outline in (depth.float(), rise.float()):
        highest = F.max_pool1d(outline[None, None], 2 * reach + 1, stride=1, padding=reach)[0, 0]
        lowest = -F.max_pool1d(-outline[None, None], 2 * reach + 1, stride=1, padding=reach)[0, 0]
        valleys |= (outline == highest) & (outline >= lowest + 0.05 * height)
    return torch.nonzero(valleys)[:, 0].tolist()


def without_scraps(mask: torch.Tensor, left: int | torch.Tensor, right: int | torch.Tensor) -> torch.Tensor:
    """The ink of `mask` from column `left` up to column `right` (a column, or one for each row: a cut
    that bends), without the scraps that a cut leaves of a neighbour: parts that touch the cut and
    hold less than a sixth of the piece's ink."""
    # In numpy, since this runs for every candidate piece, and on arrays this small each numpy step
    # takes a fraction of a torch one's time.
    rows = np.arange(mask.shape[0])
    left, right = np.zeros_like(rows) + np.asarray(left), np.zeros_like(rows) + np.asarray(right)
    start, end = int(left.min()), int(right.max())  # only these columns are looked at, for speed
    columns = np.arange(start, end)
    piece = mask.numpy()[:, start:end] & (columns >= left[:, None]) & (columns < right[:, None])
    on_cut = np.zeros_like(piece)  # the first and last column of the piece in each row
    on_cut[rows, np.clip(right - 1 - start, 0, end - start - 1)] = True
    if start > 0:  # at column 0 there was nothing to cut
        on_cut[rows, np.clip(left - start, 0, end - start - 1)] = True
    labels, _ = label_parts(piece)
    size = np.bincount(labels.ravel())[1:]
    touching_cut = np.zeros(len(size), dtype=bool)
    touching_cut[labels[on_cut & piece] - 1] = True
    scraps = touching_cut & (size < size.sum() / 6)
    if scraps.any() and not scraps.all():
        piece &= ~np.isin(labels, 1 + np.nonzero(scraps)[0])
    whole = np.zeros(mask.shape, dtype=bool)  # the columns outside: no ink
    whole[:, start:end] = piece
    return torch.from_numpy(whole)


def sign_touching(mask: torch.Tensor, sign: Callable[[torch.Tensor], str | None],
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None:
    """A $ or a # written so close before a number that it touches the first digit: the ink of the
    sign that `sign` names left of a cut bending around the ink, the cut, and the rest of the group's
    ink; None where there is none."""
    top, left, bottom, right = bounds(mask)
    height = bottom - top
    # A $ is 0.3 to 0.9 times as wide as it is tall, and may stand taller than the digits: its cut lies
    # 0.3 to 1.1 of the group's height from its left. A bending cut from every tenth of that height.
    columns = list(range(left + round(0.3 * height), min(right, left + round(1.1 * height)), max(1, height // 10)))
    for cut in gap_lines(mask, columns, height) if columns else []:  # (one bending past all the ink parts nothing)
        if sign(piece := without_scraps(mask, 0, cut)) and (rest := without_scraps(mask, cut, mask.shape[1])).any():
            return piece, cut, rest
    return None


def split_touching(mask: torch.Tensor, judge: Judge, budget: Budget, vouched: bool = False,
                   sign: Callable[[torch.Tensor], str | None] | None = None,
                   ) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """A group of ink that may hold several touching digits -> one mask per digit, left to right,
    and each cut between them as the column it takes in every row of the mask; `vouched`: a digit
    elsewhere in the picture vouches for the 1s cut from it (see scores); `sign`: what names a $ or
    a # that may touch the first digit (sign_touching), cut off first, the first mask.

    The cuts are tried straight down, bending around the ink (gap_lines) and, in a group as wide as
    two digits, slanted (SLANTS), until one way reads its digits surely (GOOD): a slanted cut is a
    straight one in the group sheared by that slant, whose pieces are sheared back before the
    network reads them. Where no cut parts such a group, more are tried, closer together. A search
    that would read more pieces than the picture's `budget` has left is not made. Pieces that are
    all 1s and 7s, cut from a group that is no digit, are kept only where they read surely (GOOD).
    """
    # A group that the network reads surely as one digit is one: it was taught that two digits run
    # together are no digit. Only the others are worth the search.
    confidence, is_digit, _ = judge([mask])
    if is_digit.item() and confidence.item() >= 0.8:
        return [mask], []
    if sign and (signed := sign_touching(mask, sign)):
        pieces, cuts = split_touching(signed[2], judge, budget, vouched)
        if judge(pieces)[1].all():  # the rest reads as digits: it was no digit's stroke taken for a sign
            return [signed[0]] + pieces, [signed[1]] + cuts
    penalise_ones = not is_digit.item() and not vouched  # see scores
    top, left, bottom, right = bounds(mask)
    wide = right - left >= PAIR_WIDTH * (bottom - top)
    # Cuts that bend are tried where a group is as wide as two digits or a doubtful digit: in a
    # narrow group that is no digit (a letter), they find pieces that pass as digits (an n as 17).
    bending = [(0.0, True)] if wide or is_digit.item() else []
    ways = [(0.0, False)] + bending + [(slant, False) for slant in SLANTS[1:] if wide]  # (slant, bending)
    pieces, cuts = split_each_way(mask, judge, budget, penalise_ones, ways, CUTS_PER_HEIGHT)
    if len(pieces) == 1 and wide and not is_digit.item():
        pieces, cuts = split_each_way(mask, judge, budget, penalise_ones, ways[:1], CLOSER_CUTS_PER_HEIGHT)
    # A letter with stems and arches, cut apart, reads as 1s and 7s: each stem a 1, each arch with
    # the stroke it comes down in a 7 (an m as 177, an n as 17). Such pieces, from a group that is
    # no digit, must read surely together; digits that touch mostly do, once cut in the right place.
    # (The chosen pieces are read once more, in one small batch, rather than carried out of the search.)
    if len(pieces) > 1 and not is_digit.item():
        probability, _, digit = judge(pieces)
        if set(digit.tolist()) <= {1, 7} and probability.log().mean().exp().item() < GOOD:
            return [mask], []
    return pieces, cuts


def split_each_way(mask: torch.Tensor, judge: Judge, budget: Budget, penalise_ones: bool,
                   ways: list[tuple[float, bool]], per_height: int) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """The best of best_split's ways to cut the group, each at a slant and bending or not, tried in
    turn until one reads its digits surely (GOOD), the cuts as split_touching gives them."""
    best = (-math.inf, [mask], [])
    for slant, bending in ways:
        shift = shifts(mask.shape[0], slant)
        unsheared = lambda m: unshear(m, shift, mask.shape[1])  # noqa: E731
        score, pieces, lines = best_split(shear(mask, shift), lambda masks: judge([unsheared(m) for m in masks]),
                                          budget, penalise_ones, per_height, bending)
        if score > best[0]:
            best = (score, [unsheared(p) for p in pieces], [line - torch.tensor(shift) for line in lines])
        if len(pieces) > 1 and score >= len(pieces) * math.log(GOOD):  # see GOOD
            break
    return best[1], best[2]


def gap_lines(mask: torch.Tensor, columns: list[int], height: int) -> torch.Tensor:
    """Each of `columns` as a cut from the top row to the bottom one that bends around the ink [cuts,
    rows]: from row to row it may move one column either way, up to REACH of a `height` from where
    it began, and the way that crosses the least ink is taken (dynamic programming), each pixel of
    ink costing 1 and each column away from the start BEND a row, so that it bends only to miss ink."""
    # In numpy: a step for every row of the mask, on arrays this small, takes a fraction of torch's time.
    rows, width = mask.shape
    reach = max(1, round(REACH * height))
    offsets = np.arange(-reach, reach + 1)
    at = np.array(columns)[:, None] + offsets  # [cuts, offsets]: the columns each cut may pass
    bend = np.float32(BEND) * np.abs(offsets).astype(np.float32)
    cost = mask.numpy()[:, at.clip(0, width - 1)].astype(np.float32) + bend  # [rows, cuts, offsets]
    cost = np.where((at >= 0) & (at < width), cost, np.float32(np.inf))
    # The least cost of a way down to each place in each row (with a place of no way either side of
    # the reach): the least of the three places above it that it may come from, plus its own.
    total = np.full((rows, len(columns), len(offsets) + 2), np.inf, dtype=np.float32)
    total[0, :, 1:-1] = cost[0]
    for row in range(1, rows):
        above = total[row - 1]
        least = np.minimum(np.minimum(above[:, :-2], above[:, 1:-1]), above[:, 2:])
        np.add(least, cost[row], out=total[row, :, 1:-1])
    # Back up from the bottom row, each time to the least of the three places above (the left first in a tie).
    place, cut, three = total[-1, :, 1:-1].argmin(1), np.arange(len(columns)), np.arange(3)
    way = [place]
    for row in range(rows - 2, -1, -1):
        place = place - 1 + total[row][cut[:, None], place[:, None] + three].argmin(1)
        way.append(place)
    return torch.from_numpy(at[cut[:, None], np.stack(way[::-1], 1)])


def shifts(height: int, slant: float) -> list[int]:
    """How far right each of `height` rows moves when a mask is sheared by `slant` (pixels per row,
    the top moving most for a positive slant): never left, so that nothing falls off."""
    moves = [round(-slant * (y - (height - 1) / 2)) for y in range(height)]
    return [move - min(moves) for move in moves]


def shear(mask: torch.Tensor, shift: list[int]) -> torch.Tensor:
    """Each row of `mask` moved right by its shift, on a canvas wide enough to hold them all."""
    height, width = mask.shape
    columns = torch.tensor(shift)[:, None] + torch.arange(width)
    return torch.zeros(height, width + max(shift), dtype=mask.dtype).scatter_(1, columns, mask)


def unshear(mask: torch.Tensor, shift: list[int], width: int) -> torch.Tensor:
    """What shear() undoes: each row moved back left, the canvas cut back to `width` columns."""
    if not any(shift):  # a straight cut: nothing moved (and every candidate piece comes through here)
        return mask[:, :width]
    return mask.gather(1, torch.tensor(shift)[:, None] + torch.arange(width))


def best_split(mask: torch.Tensor, judge: Judge, budget: Budget, penalise_ones: bool, per_height: int,
               bending: bool = False) -> tuple[float, list[torch.Tensor], list[torch.Tensor]]:
    """The best way to cut the group straight down, or `bending` around the ink: its score, its
    pieces and the cuts, each as the column it takes in every row.

    Every stretch between two possible cuts is a candidate digit, and the network reads them all in
    one batch: `judge` gives each one's best class's probability, whether that clears the "not a
    digit" bar, and whether it is a 1. The best way to cut is then found by dynamic programming
    (best_reading). A single wide digit (a flat 0) stays whole, since its halves are not read as surely.
    """
    height = bounds(mask)[2] - bounds(mask)[0]
    cuts = cut_columns(mask, per_height)
    lines = torch.tensor(cuts)[:, None].expand(-1, mask.shape[0])
    if bending and len(cuts) > 2:  # the ends of the ink stay where they are
        lines = torch.cat([lines[:1], gap_lines(mask, cuts[1:-1], height), lines[-1:]])
    whole = (0, len(cuts) - 1)
    stretches = [(i, j) for i in range(len(cuts)) for j in range(i + 1, len(cuts))
                 if cuts[j] - cuts[i] <= 1.6 * height or (i, j) == whole]  # no wider than a digit, or all of it
    if len(stretches) > budget.left:
        return -math.inf, [mask], []
    budget.left -= len(stretches)
    pieces = {(i, j): piece for i, j in stretches if (piece := without_scraps(mask, lines[i], lines[j])).sum() >= 8}
    if not pieces:
        return -math.inf, [mask], []
    score, ones, others = scores(pieces, judge(list(pieces.values())), cuts, height)
    total, path = best_reading(len(cuts), score, ones if penalise_ones else set(), others)
    return total, [pieces[step] for step in path], [lines[i] for i, _ in path[1:]]


def scores(pieces: dict[tuple[int, int], torch.Tensor], judged: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
           cuts: list[int], height: int) -> tuple[dict[tuple[int, int], float], set, set]:
    """What each candidate piece (i, j), from cut i to cut j, adds to a reading that holds it (its
    log probability), for the pieces that may stand in one; those read as 1s; and those read surely
    as another digit, from what the network said of them (`judged`, as `judge` gives it).

    The whole group is one digit, or no digit at all (which costs by its width, so that a long
    group of touching digits is not kept whole because each of its pieces would cost as much).
    A split must read every piece surely enough: the network was taught that parts of digits are
    no digit. A stroke cut off a letter looks like a 1, and a letter cut apart reads as 1s and
    nothing else (an n as 11, a w as 1111): where the whole group is no digit, a piece read as a 1
    costs more (ONE) in a split without another digit read surely (best_reading). Where the group
    is a doubtful digit, such as a 4 with a 1 run into it, it does not, nor where split_touching's
    caller found another digit read surely beside the group (two 1s that touch, in 1411). And a
    piece read as a 1 must be nearly as tall as the group: a stroke that joined two digits, cut off
    alone, reads as a 1 too.
    """
    whole = (0, len(cuts) - 1)
    score, ones, others = {}, set(), set()
    for (i, j), c, ok, digit in zip(pieces, *(values.tolist() for values in judged)):
        is_one = digit == 1
        if (i, j) == whole:
            score[i, j] = math.log(max(c, 1e-9)) if ok else -REFUSED * (cuts[j] - cuts[i]) / height
        elif ok and c >= SURE and not (is_one and piece_height(pieces[i, j]) < TALL_ONE * height):
            score[i, j] = math.log(c)
            if is_one:
                ones.add((i, j))
            elif c >= OTHER:
                others.add((i, j))
    return score, ones, others


def piece_height(piece: torch.Tensor) -> int:
    """How many rows a piece's ink spans."""
    top, _, bottom, _ = bounds(piece)
    return bottom - top


def best_reading(cuts: int, score: dict[tuple[int, int], float], ones: set, others: set,
                 ) -> tuple[float, list[tuple[int, int]]]:
    """The best-scoring way from the first cut to the last, as the pieces (i, j) it is made of, by
    dynamic programming: the best reading up to each cut is the best one up to an earlier cut, plus
    one piece. A way's pieces in `ones` cost ONE more each, unless it also holds one in `others`
    (another digit, read surely, vouches for them). No way at all scores -inf."""
    def value(way: list[tuple[int, int]], vouched: bool) -> float:
        return sum(score[piece] for piece in way) + (0.0 if vouched else ONE * sum(piece in ones for piece in way))

    # The best way up to each cut, kept apart by whether it holds a piece in `others` (vouched).
    best: dict[tuple[int, bool], list[tuple[int, int]]] = {(0, False): []}
    for j in range(1, cuts):
        for (i, vouched), way in list(best.items()):  # a copy: the loop adds ways that end at j
            if i < j and (i, j) in score:
                longer, vouched = way + [(i, j)], vouched or (i, j) in others
                if (j, vouched) not in best or value(longer, vouched) > value(best[j, vouched], vouched):
                    best[j, vouched] = longer
    ends = [(value(best[key], key[1]), best[key]) for key in ((cuts - 1, False), (cuts - 1, True)) if key in best]
    return max(ends, key=lambda end: end[0], default=(-math.inf, []))
