"""The marks around a number's digits: which of the groups segment.py found are separators, no digits.

Read this after segment.py, which groups the ink into digits and specks, shapes.py, which measures one
mark's shape, and percent.py. People write more than digits in a number: thousands separators and decimal
points (. , '), a date's dashes and slashes (- /), a time's colon, a minus sign before it, a full stop
after it, a % sign after it in one stroke or three, parentheses around it or a part of it, the signs of a
sum or a product (12+5=17, 6x7=42), a $, a € or a £ before a price or after it, a # before a number, and
on a cheque an ending that nothing can be added to (1200.- 1200/- 1200=). None of them is a digit, and
none may turn a number into "not a number"; predict.py prints them where they stood and gives the digits
alone to JSON's `prediction`. Each is told by its size and place in the line (separator), a slash by
leaning far over (is_slash) or, in a date or an amount's ending, by where it stands (date_slashes,
ending_slash), a % by its two small rings (is_percent, percent.py), an = by its two flat bars (is_equals,
joined_equals), a + and an x by their two crossed bars (is_plus, is_times), a $ by its S crossed by a bar
or two, a € by its C crossed by two bars, a £ by its stem between a hook, a bar and a base, and a # by its
two bars crossed by two strokes, first in the line (a $ or a # after a space too, a label before it), a
currency sign last too, and a $ or a # alone (is_dollar, is_euro, is_pound, is_hash, sign_alone), a colon
by its two dots (colons), parentheses by their bows, in pairs or a tall ) after the digits (brackets), a
comma that touches a digit by hanging below the line (hanging_comma), an apostrophe by standing beside it
(mark_beside); split_separators puts them together, and shown_after says which marks after the last digit
are shown. A space (12 345) is told by the gap alone (segment.spaces); words.py places the marks among the
digits.
"""

from __future__ import annotations

import itertools
import math
from typing import Callable

import numpy as np
import torch

from percent import joined_percent, percent_alone, ring_apart
from pixels import label_parts
from segment import TYPED_SPACE, Group, mask_of, merged, replaced, spaces
from shapes import (bow, is_dollar, is_equals, is_euro, is_hash, is_percent, is_plus, is_pound, is_slash, is_times,
                    lean)


BOW = 0.1  # a parenthesis bows by a tenth of its height or more (shapes.bow)
TALLER = 1.05  # a parenthesis is written taller than the digits it closes


def separator(group: Group, top: float, bottom: float, pen: float) -> str | None:
    """What a mark much smaller than the digits between `top` and `bottom` is: '.', ',', "'", '-';
    '' for a scrap that is no separator (a speck of dirt smaller than the pen, a scrap of a digit's
    stroke that broke off); None for something else, which may be a digit."""
    size = bottom - top
    # A long comma may be as tall as most of a digit, but it starts below the line's middle.
    hangs = group.top > top + 0.5 * size and group.bottom > bottom + 0.1 * size
    tallest, widest = (0.8, 0.4) if hangs else (0.5, 0.8)  # of the digits' height
    if max(group.width, group.height) < 0.6 * pen:
        return ""
    if group.height > tallest * size or group.width > widest * size:
        return None
    middle = (group.top + group.bottom) / 2 - top
    flat = group.width > 1.5 * group.height
    if middle > 0.6 * size:  # low: a comma if it hangs below the line, a point if it sits on it
        # A comma is a stroke, longer than the pen is wide (and often leaning), that hangs below.
        long = group.height > 1.6 * group.width or group.height > 3 * pen
        if long and group.bottom > bottom + 0.1 * size:
            return ","
        # A point is written on the baseline; a dot a quarter of a digit above it is a scrap of a stroke,
        # and a flat bar there a dash as type sets it, a little below the digits' middle (555-0142).
        return "." if middle > 0.75 * size else "-" if flat else ""
    if middle < 0.4 * size:  # high: an apostrophe is a short stroke down (or leaning), never a flat bar
        return "'" if not flat else ""
    return "-" if flat else None


def sign_alone(labels: np.ndarray, boxes: np.ndarray, parts: np.ndarray) -> str | None:
    """The sign that is all the writing, with no digit to read: a % (percent_alone), or one part,
    give or take specks less than a fifth as tall, that is a $ or a # (which the network, that has
    never seen one, reads as a 5 or as 74)."""
    if percent_alone(labels, boxes, parts):
        return "%"
    heights = boxes[parts, 2] - boxes[parts, 0]
    if len(parts) == 0 or (heights >= 0.2 * heights.max()).sum() != 1:
        return None
    top, left, bottom, right = boxes[parts[heights.argmax()]].tolist()
    return dollar_or_hash(torch.from_numpy(labels[top:bottom, left:right] == parts[heights.argmax()] + 1))


def before_a_number(mask: torch.Tensor) -> str | None:
    """'$', '€', '£' or '#' where a mark is one of the signs written before a number's digits
    (is_dollar, is_euro, is_pound, is_hash); None for anything else."""
    return dollar_or_hash(mask) or currency(mask)


def dollar_or_hash(mask: torch.Tensor) -> str | None:
    """'$' or '#' where a mark is one of these signs, which are also looked for where a cut may part a
    sign from the first digit it touches (touching.sign_touching), and alone (sign_alone). A # is asked
    first: its two upright strokes stand out as a $'s two bars do, and its flat bars may pass for an
    S's arcs. A € or a £ is looked for in neither: the left of a 0 cut apart is a C, and a blot of ink
    on its side may pass for the bars; and alone, it would cost every picture of one digit the time."""
    return "#" if is_hash(mask) else "$" if is_dollar(mask) else None


def after_a_number(mask: torch.Tensor) -> str | None:
    """'€', '£' or '$' where a mark is a currency sign written after a price's digits, as much of the
    world writes it (12,50 €); None for anything else."""
    return currency(mask) or ("$" if is_dollar(mask) else None)


def currency(mask: torch.Tensor) -> str | None:
    """'€' or '£' where a mark is one of these currency signs (is_euro, is_pound); None for anything
    else (a $ is asked for with a #, in dollar_or_hash)."""
    return "€" if is_euro(mask) else "£" if is_pound(mask) else None


def split_separators(labels: np.ndarray, groups: list[Group], specks: list[Group], pen: float,
                     ) -> tuple[list[Group], list[tuple[Group, str]]]:
    """The digits of a line, and the marks among them ('.', ',', "'", ':', '-', '/', '+', 'x', '=') with their
    characters, a sign or a parenthesis before them, and a '%', a parenthesis or an amount's ending
    after them (shown_after)."""
    tallest = max(g.height for g in groups)
    groups, specks = joined_equals(*joined_percent(labels, groups, specks, tallest), tallest)
    full = [g for g in groups if g.height >= 0.6 * tallest]  # the line's digits, by their size
    top, bottom = float(np.median([g.top for g in full])), float(np.median([g.bottom for g in full]))
    groups, specks, times = colons(groups, specks, top, bottom)
    digits, marks = [], [(colon, ":") for colon in times]
    rightmost = max(groups, key=lambda g: g.right)
    for group, before in zip(groups, signs_before(groups)):
        mark = mark_of(labels, group, tallest, full, top, bottom, pen, before, group is rightmost)
        if mark is None:
            digits.append(group)
        elif mark:  # and a scrap ('') is neither
            marks.append((group, mark))
    marks += [(speck, mark) for speck in specks if (mark := separator(speck, top, bottom, pen))]
    if not digits:  # marks alone: read them as they are, and let the network say what they are
        return groups, []
    parentheses = brackets(labels, digits)
    taken = {id(g) for g, _ in parentheses}
    digits = [g for g in digits if id(g) not in taken]
    marks += parentheses
    # A date's slash stands between its digits: a stroke leaning as far before or after the number is
    # a 1 written far over, or no digit at all, for the network to say; only a dash or an = after it
    # makes it an amount's ending (1200/-). A % follows a number: among its digits or before them, it
    # is no % (12%34 is no number), and the network says what it is.
    first, last = min(g.left for g in digits), max(g.right for g in digits)
    dash = min((g.left for g, m in marks if m in "-=" and g.left >= last), default=-math.inf)  # 1200/- 1200/=
    back = {id(g) for g, m in marks if (m == "%" and g.left < last)
            or (m == "/" and not first < g.left < g.right <= last and not last <= g.left < dash)}
    kept = back | {id(g) for g in digits}
    digits = [g for g in groups if id(g) in kept]  # in the line's order
    marks = [(g, m) for g, m in marks if id(g) not in back]
    slashes = date_slashes(labels, digits, [g for g, m in marks if m == "/"]) + ending_slash(labels, digits, marks)
    digits = [g for g in digits if id(g) not in {id(s) for s in slashes}]
    marks += [(g, "/") for g in slashes]
    first, last = min(g.left for g in digits), max(g.right for g in digits)
    for g in [g for g in digits if g.height >= 0.6 * tallest and len(full) > 1]:  # marks that touch a digit
        comma, apostrophe = hanging_comma(labels, g, top, bottom), mark_beside(labels, g, top, bottom, pen)
        marks += [(comma, ",")] if comma and first < comma.left and comma.right < last else []
        marks += [(apostrophe, "'")] if apostrophe else []
    return digits, shown_marks(marks, first, last, tallest)


def signs_before(groups: list[Group]) -> list[Callable[[torch.Tensor], str | None] | None]:
    """For each of a line's groups, what tells it as a sign before a number, if anything: every such
    sign first in the line (before_a_number); a $ or a # first after a space, where a word before the
    number stands that words.py leaves out (Price $12), not a € or a £, for which a typed t or f passes."""
    ordered = sorted(groups, key=lambda g: g.left)
    spaced = [ordered[k] for k, _ in spaces([(g.left, g.top, g.right, g.bottom) for g in ordered], set(), TYPED_SPACE)]
    return [before_a_number if g is ordered[0] else dollar_or_hash if any(g is s for s in spaced) else None
            for g in groups]


def mark_of(labels: np.ndarray, group: Group, tallest: int, full: list[Group], top: float, bottom: float,
            pen: float, before: Callable[[torch.Tensor], str | None] | None, last: bool) -> str | None:
    """What one group of a line is: a mark's character, '' for a scrap, or None for a digit (or what the
    network is to say). Slashes, % signs, $, € and # are told by their shapes only beside other digits
    (`full`), a sign before the number only where `before` looks for one (first in the line, or after
    a space), a currency sign after it only `last`; alone, the network says what they are, or
    sign_alone does."""
    mark = separator(group, top, bottom, pen) if group.height < 0.8 * tallest else None
    mark = sign(labels, group, mark, full, top, bottom)
    if mark is not None or len(full) < 2:
        return mark
    mask = mask_of(labels, group)
    if is_slash(mask):
        return "/"
    if is_percent(mask, loose=ring_apart(labels, group)):
        return "%"
    if before and (mark := before(mask)):  # a $, a € or a £ before a price, a # before a number
        return mark
    return after_a_number(mask) if last else None  # a € after a price (12,50 €)


def sign(labels: np.ndarray, group: Group, mark: str | None, full: list[Group], top: float, bottom: float,
         ) -> str | None:
    """A sum's sign, where a group is one: an =, a + or an x; else `mark`, what separator made of it.
    `full`: the line's digits, between `top` and `bottom`."""
    if mark in (None, "-") and len(group.parts) == 2 and is_equals(mask_of(labels, group)):
        return "="  # two bars, each a part of its own (a wide = is flat, as a dash is)
    # A + or an x is smaller than the digits around it and stands across the line's middle, clear of
    # the baseline; a 4 can look like a +, but it is as tall as the digits, or sits on the line.
    size = bottom - top
    middle = (group.top + group.bottom) / 2 - top
    floats = group.height <= 0.8 * size and 0.25 < middle / size < 0.75 and group.bottom < bottom - 0.1 * size
    if mark is None and any(g is not group for g in full) and floats:
        return "+" if is_plus(mask_of(labels, group)) else "x" if is_times(mask_of(labels, group)) else None
    return mark


def shown_marks(marks: list[tuple[Group, str]], first: int, last: int, reach: float) -> list[tuple[Group, str]]:
    """Which `marks` go with a number whose digits span the columns from `first` to `last`: those
    between its digits, and after them those that shown_after shows; before them an opening
    parenthesis, a currency sign or a #, and a minus or a plus sign that begins less than `reach` before the
    first digit (-5)."""
    opening = [(g, m) for g, m in marks if m in "($€£#" and g.left < first]  # first in the line (brackets, mark_of)
    minus = sorted(((g, m) for g, m in marks if m in "-+" and first - reach < g.left and g.right <= first),
                   key=lambda mark: mark[0].left)
    between = [(g, m) for g, m in marks if first < g.left and g.right <= last]
    after = sorted(((g, m) for g, m in marks if first < g.left and g.right > last), key=lambda mark: mark[0].left)
    shown = [mark for mark, show in zip(after, shown_after([m for _, m in after])) if show]
    return opening + minus[-1:] + between + shown


def shown_after(after: list[str]) -> list[bool]:
    """Which of the marks after a number's last digit, left to right, are shown with it: a full stop,
    a % sign, a closing parenthesis and a currency sign; and all of them where they end as an amount on
    a cheque may (.- ,- /- = /=), a dash or an = last, after a point, a comma or a slash."""
    ending = bool(after) and after[-1] in "-=" and all(m in ".,/" for m in after[:-1])
    return [ending or m in ".%)$€£" for m in after]


def brackets(labels: np.ndarray, digits: list[Group]) -> list[tuple[Group, str]]:
    """A pair of parentheses around some of the `digits` (in the line's order), as in (12) or a phone
    number's (555) 123-4567: the first group bowed like a ( (shapes.bow), and the first after it bowed
    like a ) and about as tall, a digit at least between them. Or a ) alone after the digits, as a
    list numbers its lines (1), 12)): bowed so, taller than each of them by TALLER, and no row of it
    much wider than the others. Any other bowed stroke alone is left to the network: a narrow 6
    bows like a (, a narrow 7 like a ), but such a 7 has its flat bar and stands no taller than its
    neighbours, and a pair is far rarer than either."""
    opening, last = digits[0], digits[-1]
    if len(digits) >= 3 and bow(mask_of(labels, opening)) >= BOW:
        closing = next((g for g in digits[2:] if 0.75 < g.height / opening.height < 1.33
                        and bow(mask_of(labels, g)) <= -BOW), None)
        if closing:
            return [(opening, "("), (closing, ")")]
    if len(digits) < 2 or last.height <= TALLER * max(g.height for g in digits[:-1]):
        return []
    mask = mask_of(labels, last)
    widths = mask.sum(1)[mask.any(1)].float()  # a pen's breadth in each row, wider where it curves
    return [(last, ")")] if widths.max() <= 2.5 * widths.median() and bow(mask) <= -BOW else []


def date_slashes(labels: np.ndarray, digits: list[Group], slashes: list[Group]) -> list[Group]:
    """Which of the `digits` (in the line's order) are a date's slashes (12/5/2026) that lean less than
    is_slash asks of a stroke on its own: people write them leaning 20 to 40 degrees, as some write
    their 1s. Of the straight strokes leaning 20 degrees or more, and the `slashes` found already,
    the two that part the digits as a date's day, month and year do (one or two groups of ink, one or
    two, two to four), the pair whose lesser lean is greatest where several could. (Three digits
    with two 1s between them are no date: 31415 stays a number; nor is a year written first, which
    would take more numbers of slanted 1s for dates.)"""
    if len(digits) + len(slashes) < 6:  # too few for a date's four digits and two slashes: spare the leans
        return []
    leaning = [(lean(mask_of(labels, g)), g) for g in digits]
    leaning = sorted([(angle, g) for angle, g in leaning if angle >= 20], key=lambda a: -a[0])[:6]  # bounded
    best, most = [], 0.0
    for pair in itertools.combinations([(90.0, g) for g in slashes] + leaning, 2):
        strokes, least = [g for _, g in pair], min(angle for angle, _ in pair)
        a, b = sorted(g.left for g in strokes)
        day, month, year = [sum(low < g.left < high for g in digits if g not in strokes)
                            for low, high in [(-1, a), (a, b), (b, math.inf)]]
        date = 1 <= day <= 2 and 1 <= month <= 2 and 2 <= year <= 4
        if date and all(g in strokes for g in slashes) and least > most:  # two slashes in a date, no more
            best, most = [g for g in strokes if g not in slashes], least
    return best


def ending_slash(labels: np.ndarray, digits: list[Group], marks: list[tuple[Group, str]]) -> list[Group]:
    """The last of the `digits` where it is the slash of an amount's ending written steep (1200/-): a
    straight stroke leaning 20 degrees or more (is_slash asks 40 of a stroke on its own), after a
    digit at least, with a dash or an = after it and no other mark."""
    stroke = max(digits, key=lambda g: g.right)
    after = [m for g, m in marks if g.left >= (stroke.left + stroke.right) / 2]
    return [stroke] if len(digits) > 1 and after in (["-"], ["="]) and lean(mask_of(labels, stroke)) >= 20 else []


def joined_equals(groups: list[Group], specks: list[Group], tallest: int) -> tuple[list[Group], list[Group]]:
    """The groups and specks, with an = sign made one group where its bars are too far apart for
    group_parts to join them: small flat marks, one above the other, close."""
    bars = [g for g in groups + specks if g.height < 0.3 * tallest and g.width >= 2 * g.height]
    for pair in stacked(bars, 0.3 * tallest):
        groups, specks = replaced(groups, specks, pair, merged(pair))
    return groups, specks


def colons(groups: list[Group], specks: list[Group], top: float, bottom: float,
           ) -> tuple[list[Group], list[Group], list[Group]]:
    """The groups and specks without the colons of a time (12:30), and the colons, each one group: two
    small dots one above the other, the lower one low in the line between `top` and `bottom`, the
    higher one about its middle (a full stop with a speck high above it is no colon)."""
    size = bottom - top
    dots = [g for g in groups + specks if max(g.width, g.height) <= 0.3 * size and g.width <= 2 * g.height
            and g.height <= 2 * g.width]
    found = [pair for pair in stacked(dots, 0.5 * size)
             if pair[1].bottom > top + 0.75 * size and top + 0.25 * size < (pair[0].top + pair[0].bottom) / 2]
    apart = {id(g) for pair in found for g in pair}
    return ([g for g in groups if id(g) not in apart], [g for g in specks if id(g) not in apart],
            [merged(pair) for pair in found])


def stacked(marks: list[Group], reach: float) -> list[list[Group]]:
    """Pairs of `marks` that stand one above the other, less than `reach` apart, the columns of one
    over half of the other's at least; each mark in one pair at most."""
    pairs, taken = [], set()
    marks = sorted(marks, key=lambda g: g.top)
    for i, upper in enumerate(marks):
        for lower in marks[i + 1:]:
            if lower.top - upper.bottom >= reach:  # and so are all after it: bounded by the marks in reach
                break
            overlap = min(upper.right, lower.right) - max(upper.left, lower.left)
            if lower.top > upper.bottom and overlap >= 0.5 * min(upper.width, lower.width) \
                    and not taken & {id(upper), id(lower)}:
                pairs.append([upper, lower])
                taken |= {id(upper), id(lower)}
    return pairs


def mark_beside(labels: np.ndarray, digit: Group, top: float, bottom: float, pen: float) -> Group | None:
    """The box of an apostrophe written so close beside a digit that the two count as one part, or None:
    a piece of the digit's ink apart from the rest (parts are found on ink grown by a pixel, which joins
    them), at its left or right, whose box holds none of the rest, a stroke down (taller than wide, two
    pens or more) that separator() calls an apostrophe. The tip of a 7's bar, broken off, is no taller
    than wide. The box holds no part: prepare.py takes the apostrophe out of the digit."""
    labelled, boxes = label_parts(mask_of(labels, digit).numpy())
    if len(boxes) < 2:  # one piece of ink: nothing stands beside it
        return None
    for k, (y0, x0, y1, x1) in enumerate(boxes.tolist()):
        rest = (labelled != 0) & (labelled != k + 1)
        piece = Group(digit.top + y0, digit.left + x0, digit.top + y1, digit.left + x1, [], 0.0)
        columns = rest.any(0).nonzero()[0]
        beside = x1 <= columns[0] or x0 > columns[-1]
        stroke = piece.height > piece.width and piece.height >= 2 * pen
        if beside and stroke and not rest[y0:y1, x0:x1].any() and separator(piece, top, bottom, pen) == "'":
            return piece
    return None


def hanging_comma(labels: np.ndarray, digit: Group, top: float, bottom: float) -> Group | None:
    """The box of a comma that touches a digit, or None: the digit's ink that hangs well below the
    line, narrow, at one of its sides, where a comma written between two digits touches one of them.
    The box holds no part: prepare.py takes the comma out of the digit."""
    size = bottom - top
    if digit.bottom <= bottom + 0.1 * size:
        return None
    mask = mask_of(labels, digit)
    # Digits sit a little above or below the line, commas hang well below it. Where a digit sits low,
    # its own bottom lies below the line too, beside the comma: look again, further down.
    for depth in (0.05, 0.12):
        below = round(bottom + depth * size)
        columns = mask[max(0, below - digit.top):].any(0).nonzero()[:, 0]
        if len(columns) == 0:  # the box reaches a little further than the ink: parts are found on grown ink
            return None
        left, right = columns[0].item(), columns[-1].item() + 1
        if (right <= 0.35 * digit.width or left >= 0.65 * digit.width) and right - left <= 0.35 * size:
            return Group(below, digit.left + left, digit.bottom, digit.left + right, [], 0.0)
    return None
