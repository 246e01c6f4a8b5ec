"""A line's words: where its marks and spaces stand among the digits, and which words are the number;
and which lines of a picture's writing are numbers to read (numbers_among).

Read this after separators.py, which says what each mark is; prepare.py asks this file, for each
line of writing, which of its digits to read and after which digit each mark goes. A gap as wide as
a digit is tall, far wider than the others, parts a line into words (segment.spaces): two groups of one
number (12 345), or a number and a word beside it, which type sets closer. A form prints its labels
beside the fields that a person writes in (Date, No., Total:), a price tag its currency, a door its
Room; photographed with the number, their letters are cut and read as digits like everything else on
the line, and the number becomes "not a number", or grows digits that no one wrote (Total: 486 read
as 12 486). So a word before or after the writing is left out where it is printed less than half as
tall, as a line that small is (without_print), or, beside a group that reads wholly as digits, where
the network has no idea what one of its parts is (NO_IDEA). A word that is neither stays, and the
line is read whole: a number with one doubtful digit must not lose it and pass for a shorter one.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from segment import SMALLER, SPACE, TYPED_SPACE, Group, spaces
from separators import shown_after

# The network answers what it was taught is no digit (nondigits.py) with every class about equally
# likely, a tenth each: a part whose likeliest class is no likelier than twice that reads as no digit
# at all, where a doubtful digit stands nearer the bar. One such part makes a group of them a word.
NO_IDEA = 0.2


def without_words(items: list, judge: Callable | None, placed: list[tuple[int, str]]) -> list:
    """The `items` of a line (each with its 28x28 `pixels` and its `box` in the picture, left to right)
    without the words written before or after a group of them that reads wholly as digits, where the
    network has no idea of a part of each (NO_IDEA). `judge` is the network's, `placed` the line's
    marks and spaces (placed_separators). Words between two numbers stay: such a line is no number
    beside a label."""
    # A word's own full stop or colon (No. 5, Total: 12) stands in the space after it, and so does a
    # sign before the number (Price $12); a slash or a dash joins what it stands between (a date, 12/5).
    joined = {after for after, mark in placed if mark not in " .,:'$€£#"}
    boxes = [item.box for item in items]
    if judge is None or not spaces(boxes, joined, TYPED_SPACE):  # one word, read whole
        return items
    confidence, is_digit, digit = judge(torch.stack([item.pixels for item in items]))
    # Words apart by a full space first, then by type's. At type's, only a word of two parts or more
    # goes: a single part that the network has no idea of may be two digits run together, set apart.
    for least in (SPACE, TYPED_SPACE):
        starts = [0] + [after for after, _ in spaces(boxes, joined, least)] + [len(items)]
        runs = [range(start, end) for start, end in zip(starts, starts[1:])]
        # A number: digits only, not all 1s (a word's upright strokes read as 1s, as numbers_among
        # says of a line).
        number = [k for k, run in enumerate(runs) if all(is_digit[i] for i in run) and any(digit[i] != 1 for i in run)]
        beside = [run for k, run in enumerate(runs) if number and not number[0] <= k <= number[-1]]
        if beside and all(any(confidence[i] < NO_IDEA for i in run) and (least == SPACE or len(run) > 1)
                          for run in beside):
            return [items[i] for run in runs[number[0]:number[-1] + 1] for i in run]
    return items


def without_print(items: list) -> list:
    """The `items` without those before or after the line's full-sized ones that are printed less
    than half as tall (SMALLER, as segment.lines_of leaves out a line) and stand a digit's height
    apart from them or more: a form's label beside the number written in it."""
    heights = [item.box[3] - item.box[1] for item in items]
    full = [k for k, height in enumerate(heights) if height >= SMALLER * max(heights, default=0)]
    if not full:
        return items
    tall = float(np.median([heights[k] for k in full]))
    first, last = full[0], full[-1]
    if first > 0 and items[first].box[0] - items[first - 1].box[2] < 0.8 * tall:
        first = 0
    if last < len(items) - 1 and items[last + 1].box[0] - items[last].box[2] < 0.8 * tall:
        last = len(items) - 1
    return items[first:last + 1]


def placed_separators(items: list, marks: list[tuple[Group, str]], box: Callable) -> list[tuple[int, str]]:
    """Each mark after how many of the line's `items` (its digits, left to right), in order (`box`
    takes a mark's group to the picture, where the digits' boxes are). Marks of one kind between the
    same digits are one (a full stop dotted twice); only marks between digits count, a sign or a
    parenthesis before the first, and after the last one those that shown_after shows; and a space
    where the digits stand far apart."""
    middles = [(item.box[0] + item.box[2]) / 2 for item in items]
    placed = sorted((sum(m < x for m in middles), x, mark) for g, mark in marks
                    for x in [box(g.top, g.left, g.bottom, g.right)[0]])
    between = [(after, mark) for after, _, mark in placed
               if 0 < after < len(items) or after == 0 and mark in "-+($€£#"]
    gaps = spaces([item.box for item in items], {after for after, _ in between})
    between = sorted(between + gaps, key=lambda mark: mark[0])
    last = [mark for after, _, mark in placed if after == len(items)]
    ending = [(len(items), mark) for mark, shown in zip(last, shown_after(last)) if shown]
    return list(dict.fromkeys(between + ending))  # in order, each once


def numbers_among(lines: list[tuple[list, list, list]], judge: Callable | None) -> list:
    """Which lines of writing to read (each its items first): the first, the largest digit's, and
    each other that the network takes wholly for digits, not all 1s. Where the first is a row of
    shapes (two or more) no more than half of which read as digits, it gives way to those (a word
    written large above a number); one shape does not (a car's body, its wheels read as 00). Words,
    scribbles and a face's eyes beside a number are left out so, as a page's margin is; without the
    network, the first alone."""
    if judge is None:
        return lines[:1]
    shares, numbers = [], []  # how much of each line reads as digits; the other lines that are numbers
    for k, (items, _, _) in enumerate(lines):
        if not items:  # marks alone
            shares.append(0.0)
            continue
        _, is_digit, digit = judge(torch.stack([item.pixels for item in items]))
        shares.append(is_digit.float().mean().item())
        if k and bool(is_digit.all()) and bool((digit != 1).any()):
            numbers.append(lines[k])
    return numbers if numbers and len(lines[0][0]) > 1 and shares[0] <= 0.5 else lines[:1] + numbers
