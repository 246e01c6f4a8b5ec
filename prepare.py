"""Turn any picture of a digit or a number into MNIST-like 28x28 inputs, one per digit.

Read this file to learn why a model trained on MNIST needs its input prepared the way MNIST was
made. MNIST digits are light on a black background, fitted into a 20x20 box and centred by their
centre of mass in a 28x28 image. A digit drawn in a paint program or photographed on paper is dark
on light, large, off-centre, often in colour, on lined paper or on a transparent background;
squeezed to 28x28 as it is, it looks like nothing the model has seen. The steps, each a function:

  1. read the file, a large JPEG decoded smaller, and turn it into grey, a highlighter's colour taken
     out (images.py); writing small in a large picture (steps 2-3) is read again from a crop around
     it, larger, and so is a small picture of printed paper; a close-up of a page is read smaller (sizes.py);
  2. find the ink, and tell it from the paper: light, printed patterns, the page's back (paper.py), a desk (desk.py),
     lines (lines.py; a form's ticks, a box cropped along: printed.py), a line or a box drawn under or
     around the number (around.py);
  3. find the digits: connected parts of ink, pieces of one digit grouped together, specks and the
     table around the paper dropped, a line of writing photographed turned levelled (segment.py),
     separators (. , ' : - /), a %, parentheses and a sum's signs told apart (shapes.py, percent.py, separators.py),
     in reading order, a % sign alone no digit; a photo out of focus given steep edges (edge_width);
     each line of writing in turn, top to bottom, one beside the largest digit's only where all of
     it reads as digits (words.numbers_among);
  4. cut digits that touch, straight, slanted or bending, where the network reads the pieces best (touching.py),
     a digit with a broken stroke read whole, in two groups or one (broken.py), a group
     refused whole searched once more where the rest of the number reads surely (vouched_groups),
     and a $ or a # that touches the first digit cut off it (touching.sign_touching); a word beside
     a number, a form's label, left out, and the marks and spaces placed among the digits (words.py);
  5. prepare each digit exactly as MNIST did, its pen brought to about MNIST's width (to_mnist), and a
     digit written narrower than MNIST's also widened, where the network reads it surer so (surer).

predict.py classifies what this file prepares, and lends step 4 its network. A model trained on
Fashion-MNIST gets a photo of a garment or shoe prepared like those images instead (clothes.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np
import torch
from PIL import Image

import around
import broken
import segment
import separators
import shapes
import sizes
import touching
import words
from images import ImageError, finer, full_size, grey_at_working_size, upright
from paper import find_ink
from pixels import bounds, edge_width, grown, max_filter, min_filter, resize, sharpened, stroke_width

WIDE = 0.6  # a group of ink wider than this many times its height may hold digits that touch (a 1 run into a 6)
SOFT = 0.08  # of the digits' height: ink whose edges are this wide is a photo out of focus (sharpened)
# Many people write narrower than MNIST's writers did, and a digit squeezed sideways reads unsurely. A
# piece narrower than NARROWEST of its height is read widened to it as well (but not a 1, narrower than
# ONE_WIDE), and the network keeps whichever it reads surer: some of MNIST's own digits are that narrow.
NARROWEST = 0.6
ONE_WIDE = 0.35


@dataclass
class Item:
    """One digit (or garment) found in a picture: the model's 28x28 input and where it was."""
    pixels: torch.Tensor  # [28, 28] in [0, 1], light on black, as in MNIST
    box: tuple[int, int, int, int]  # left, top, right, bottom in the original picture's pixels

    # Passed between processes (predict.py's workers), a tensor goes through shared memory, with
    # messages of its own for each one; a digit's 28x28 pixels travel far faster as plain bytes.
    def __getstate__(self) -> dict:
        return {"pixels": self.pixels.numpy(), "box": self.box}

    def __setstate__(self, state: dict) -> None:
        self.pixels, self.box = torch.from_numpy(state["pixels"]), state["box"]


@dataclass
class Found:
    """Everything found in one picture: the digits, the separators, and what was taken for ink."""
    items: list[Item]  # the digits (or the one garment), left to right, line after line
    separators: list[tuple[int, str]]  # each separator's character, after how many of the digits ('\n' between lines)
    ink: torch.Tensor | None = None  # [H, W] at the working size: what was taken for ink
    paper: torch.Tensor | None = None  # [H, W]: lines and printed patterns taken for paper
    cuts: list[list[tuple[int, int]]] = field(default_factory=list)  # each cut between touching digits, as the
    # points (x, y) it passes in the picture's pixels, on `ink` (levelled, if the line was turned)
    scale: float = 1.0  # the picture's pixels per working-size pixel
    origin: tuple[int, int] = (0, 0)  # where `ink` begins in the picture's pixels: a crop of small writing


# ---------------------------------------------------------------------------------------------
# 1. One digit, the way MNIST made it
# ---------------------------------------------------------------------------------------------

def to_mnist(ink: torch.Tensor, mask: torch.Tensor, widen: bool = False) -> torch.Tensor:
    """The digit `mask` marks in `ink` -> [28, 28] pixels in [0, 1], light digit on black, as in MNIST;
    `widen`: a narrow digit made NARROWEST wide (is_narrow)."""
    # Work on the digit and its surroundings only, with room for its soft edges and thickening.
    top, left, bottom, right = bounds(mask)
    wanted = 0.115 * max(bottom - top, right - left)  # MNIST's stroke width, for a digit this size
    room = 3 + round(wanted)
    window = slice(max(0, top - room), bottom + room), slice(max(0, left - room), right + room)
    ink, mask = ink[window], mask[window]
    # Only this digit's ink and its soft edges, not a neighbour's or a speck's (numpy: faster on a piece).
    ink = torch.from_numpy(ink.numpy() * grown(mask.numpy(), 2))

    # A thin pen on a large digit would shrink to faint lines a fraction of a pixel wide: thicken
    # strokes much thinner than MNIST's. A broad one (a marker, a finger) fills corners and loops,
    # and the network reads it unsurely: thin much broader strokes, within the box it drew.
    top, left, bottom, right = bounds(mask)
    width = stroke_width(mask)
    if width < 0.7 * wanted:
        grow = round(wanted - width) | 1  # an odd filter size; a max filter of size s adds s - 1
        ink = max_filter(ink, grow)
        top, left, bottom, right = bounds(max_filter(mask.float(), grow).bool())
    elif width > 1.6 * wanted:  # to a little over MNIST's width (why so: docs/reading.md, "Pens")
        ink = min_filter(ink, round(width - 1.2 * wanted) | 1)  # a min filter of size s takes s - 1 off
    digit = ink[top:bottom, left:right]  # cropped at full resolution, keeping the edges' grey levels
    if widen and digit.shape[1] < NARROWEST * digit.shape[0]:
        digit = resize(digit, digit.shape[0], round(NARROWEST * digit.shape[0]))
    return fit_and_centre(digit)


def is_narrow(mask: torch.Tensor) -> bool:
    """A digit narrower than most of MNIST's, and wider than a 1."""
    top, left, bottom, right = bounds(mask)
    return ONE_WIDE * (bottom - top) < right - left < NARROWEST * (bottom - top)


def fit_and_centre(digit: torch.Tensor) -> torch.Tensor:
    """A digit cropped to its ink [H, W] -> [28, 28]: its longer side fitted into 20 pixels, keeping the
    aspect ratio, and its centre of mass at the centre, as MNIST made its digits."""
    height, width = digit.shape
    scale = 20 / max(height, width)
    digit = resize(digit, max(1, round(height * scale)), max(1, round(width * scale))).clamp(0, 1)
    height, width = digit.shape
    values = digit.numpy()  # numpy: on 20x20 pixels its steps take a fraction of torch's time
    total = max(values.sum(), 1e-6)
    centre_y = (values.sum(1) * np.arange(height)).sum() / total
    centre_x = (values.sum(0) * np.arange(width)).sum() / total
    # MNIST's centres of mass sit at pixel 14 (counting from 0) in both directions.
    top = min(max(round(14 - centre_y), 0), 28 - height)
    left = min(max(round(14 - centre_x), 0), 28 - width)
    canvas = torch.zeros(28, 28)
    canvas[top:top + height, left:left + width] = digit
    return canvas


# ---------------------------------------------------------------------------------------------
# 2. A whole picture: its digits, left to right
# ---------------------------------------------------------------------------------------------

# What the network says of candidate digits [N, 28, 28] (predict.Reader.judge): each one's best
# probability, whether it clears the "not a digit" bar, and the digit it is.
Judge = broken.Judge


def digit_items(ink: torch.Tensor, labels: np.ndarray, digits: list[segment.Group], marks: list,
                judge: Judge | None, box: Callable, budget: touching.Budget,
                ) -> tuple[list[Item], list[list[tuple[int, int]]], list]:
    """Each group of ink -> its digits, MNIST-like, with their boxes in the picture (`box` takes one
    there), a group as wide as two digits cut apart where `judge` reads the pieces best; the cuts;
    and the marks cut off digits that they touched (a date's slash, a $ or a # before the first), as
    (segment.Group, mark). The `budget` bounds the search for cuts in the whole picture."""
    found = [group_items(ink, labels, group, marks, judge, box, budget, alone=len(digits) == 1, first=k == 0)
             for k, group in enumerate(digits)]
    # Two neighbours that are one digit broken apart (a pen that skipped) are joined (broken_apart).
    for k, confidence in reversed(broken.broken_apart(found, digits, judge)):
        joined = segment.merged(digits[k:k + 2])
        one = group_items(ink, labels, joined, marks, None, box, budget, alone=False)  # read whole, not cut
        one[0][0].pixels = broken.mended([one[0][0].pixels], judge)[0]  # its gap closed, if that reads surely
        union, is_digit, _ = judge(one[0][0].pixels[None])
        if is_digit.item() and union.item() >= max(touching.SURE, confidence):
            digits, found = digits[:k] + [joined] + digits[k + 2:], found[:k] + [one] + found[k + 2:]
    # A group refused whole, where the rest of the number reads surely, is cut once more (vouched_groups).
    for k in vouched_groups(found, digits, judge):
        found[k] = group_items(ink, labels, digits[k], marks, judge, box, budget, alone=False, vouched=True,
                               first=k == 0)
    # A group read whole and refused, a gap in its stroke, is read with the gap closed where that reads surely
    # (broken.mended); not a piece cut off a group: the search for cuts has judged those as they are.
    whole = [one[0][0] for one in found if len(one[0]) == 1]
    for item, pixels in zip(whole, broken.mended([item.pixels for item in whole], judge)):
        item.pixels = pixels
    items, cuts, cut_off = ([thing for one in found for thing in one[i]] for i in range(3))
    return items, cuts, cut_off


def group_items(ink: torch.Tensor, labels: np.ndarray, group: segment.Group, marks: list, judge: Judge | None,
                box: Callable, budget: touching.Budget, alone: bool, vouched: bool = False, first: bool = False,
                ) -> tuple[list, list, list]:
    """One group of ink -> its digits, cuts and marks, as digit_items gives them; `vouched`: cut
    it even if narrow, another digit of the picture vouching for the 1s in it (vouched_groups);
    `first`: the line's first group, where a $ or a # may have touched the first digit."""
    pad = 3 + group.height // 4  # room for to_mnist's soft edges and thickening
    top, left = max(0, group.top - pad), max(0, group.left - pad)
    window = ink[top:group.bottom + pad, left:group.right + pad]
    mask = segment.mask_of(labels, group, pad)
    for mark, _ in marks:  # a comma or an apostrophe touching the digit (separators.py) is no part of it
        if not mark.parts:
            mask[max(0, mark.top - top):max(0, mark.bottom - top),
                 max(0, mark.left - left):max(0, mark.right - left)] = False
    made: dict[tuple, torch.Tensor] = {}  # each piece MNIST-like once: the search for cuts meets many again

    def mnist(piece: torch.Tensor, widen: bool = False) -> torch.Tensor:  # as to_mnist makes it
        key = (piece.shape, piece.numpy().tobytes(), widen)
        return made[key] if key in made else made.setdefault(key, to_mnist(window, piece, widen))
    pieces, lines = [mask], []
    if judge and (group.width > WIDE * group.height or vouched):  # narrower, it hardly holds two digits but 1s
        pieces, lines = touching.split_touching(mask, lambda masks: surer(masks, mnist, judge)[1], budget,
                                                vouched, separators.dollar_or_hash if first else None)
    # A $ or a # that touched the first digit is cut off it (touching.sign_touching), and a mark.
    sign = separators.dollar_or_hash(pieces[0]) if first and len(pieces) > 1 else None
    off = [(pieces.pop(0), sign)] if sign else []
    # A date's slash that touched a digit is cut off with it, and reads as a 1 at times: a piece
    # leaning as far as a slash is one (shapes.is_slash), as it is where it stands alone.
    leaning = [len(pieces) > 1 and shapes.is_slash(piece) for piece in pieces]
    if all(leaning):  # slashes alone: let the network say what they are
        leaning = [False] * len(pieces)
    # Each piece as the network will read it: a narrow one widened where it reads surer so.
    readable = surer(pieces, mnist, judge, always=False, alone=alone)[0]
    placed = lambda piece: [a + b for a, b in zip((top, left, top, left), bounds(piece))]  # noqa: E731 (box in ink)
    items = [Item(pixels, box(*placed(piece))) for piece, slash, pixels in zip(pieces, leaning, readable) if not slash]
    off += [(piece, "/") for piece, slash in zip(pieces, leaning) if slash]
    cuts = [[box(y, left + x, y, left + x, None)[:2] for y, x in enumerate(line.tolist(), top)
             if group.top <= y < group.bottom] for line in lines]  # each cut's point in every row of the group
    marks = [(segment.Group(*placed(piece), [], 0.0), mark) for piece, mark in off]
    return items, cuts, marks


def vouched_groups(found: list[tuple[list[Item], list, list]], digits: list[segment.Group], judge: Judge | None,
                   ) -> list[int]:
    """Which groups (by index) to cut once more, a digit elsewhere vouching for their 1s. Two 1s
    that touch make one group that the network refuses whole, often too narrow to be searched
    (WIDE), and a split of it that reads only 1s pays touching.ONE for each, lest a letter's strokes
    pass as 1s. Where another group holds a digit other than a 1 read surely, a group that stayed
    whole and was refused is searched again without that cost, if it is wider than a 1 (ONE_WIDE)
    and as tall as the digits (touching.TALL_ONE of the tallest): a lower-case n beside them is not."""
    items = [(k, item) for k, (its_items, _, _) in enumerate(found) for item in its_items]
    if not judge or len(digits) < 2 or not items:
        return []
    judged = judge(torch.stack([item.pixels for _, item in items]))
    confidence, is_digit, named = (values.tolist() for values in judged)
    sure = {k for (k, _), c, ok, digit in zip(items, confidence, is_digit, named)
            if ok and c >= touching.OTHER and digit != 1}
    refused = {k for (k, _), ok in zip(items, is_digit) if not ok}
    tallest = max(group.height for group in digits)
    return [k for k, group in enumerate(digits) if len(found[k][0]) == 1 and k in refused and sure - {k}
            and group.width > ONE_WIDE * group.height and group.height >= touching.TALL_ONE * tallest]


def surer(masks: list[torch.Tensor], mnist: Callable, judge: Judge | None, always: bool = True,
          alone: bool = False) -> tuple[list[torch.Tensor], tuple | None]:
    """Each piece MNIST-like (`mnist`, as to_mnist), a narrow one (is_narrow) widened where the network
    reads it surer so, and what it says of each: judged `always`, or only where a piece is narrow (else None).
    A picture's one group of ink, `alone`, is widened only where it is a digit either way: alone, a
    narrow shape that the network refuses is more often a letter or a thing than a narrow digit."""
    pixels = [mnist(mask) for mask in masks]
    narrow = [i for i, mask in enumerate(masks) if is_narrow(mask)]
    if judge is None or not (always or narrow):
        return pixels, None
    wide = [mnist(masks[i], widen=True) for i in narrow]
    confidence, is_digit, digit = (values.clone() for values in judge(torch.stack(pixels + wide)))
    for k, i in enumerate(narrow, len(masks)):
        if confidence[k] > confidence[i] and (is_digit[i] or not alone):
            pixels[i] = wide[k - len(masks)]
            confidence[i], is_digit[i], digit[i] = confidence[k], is_digit[k], digit[k]
    return pixels, tuple(values[:len(masks)] for values in (confidence, is_digit, digit))


def read_once(judge: Judge) -> Judge:
    """`judge`, asking the network once about each input however often the steps ask: a group read
    whole in the search for cuts is read again to mend its gaps, to vouch for others, to tell words."""
    known: dict[bytes, tuple[float, bool, int]] = {}  # each input's (confidence, is_digit, digit)

    def judge_once(pixels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        keys = [digit.numpy().tobytes() for digit in pixels]
        if new := {key: digit for key, digit in zip(keys, pixels) if key not in known}:
            known.update(zip(new, zip(*(values.tolist() for values in judge(torch.stack(list(new.values())))))))
        confidence, is_digit, digit = zip(*(known[key] for key in keys))
        return torch.tensor(confidence), torch.tensor(is_digit), torch.tensor(digit)
    return judge_once


def prepare_digits(image: Image.Image, judge: Judge | None = None, zoom: bool = True) -> Found:
    """Any picture of a digit or a number -> one MNIST-like Item per digit, left to right, and the
    separators between them. With `judge`, digits that touch are cut apart where it reads them best."""
    judge = read_once(judge) if judge and zoom else judge  # a second reading (zoom off) shares the first's
    image = upright(image)
    pixels = grey_at_working_size(image, tints=True)
    margin = max(2, round(0.1 * max(pixels.shape)))
    # Writing small on a large page is a few faint pixels here: let less count, and read it again larger.
    ink, paper = find_ink(pixels, margin, least=5 if zoom and image.width >= sizes.CLOSER * pixels.shape[1] else 20)
    drawn = around.drawn_around(ink, margin)  # a line under the number, a box or a ring around it
    ink, paper = torch.where(drawn, 0, ink), paper | drawn
    ink_parts = labels, boxes, mass, parts = segment.parts_of(ink, margin)
    if zoom and (crop := sizes.zoomed(image, pixels.shape, margin, *segment.writing(boxes, mass, parts))):
        return moved(prepare_digits(crop[0], judge, zoom=False), *crop[1])
    if zoom and sizes.too_fine(pixels, ink, paper):  # a small picture of a notebook or a form
        return prepare_digits(finer(image, min(2.0, sizes.LEAST_SIZE / max(pixels.shape))), judge, zoom=False)
    if zoom and (times := sizes.too_coarse(ink, margin)) < 1:  # a close-up of a notebook: its lines broad
        return prepare_digits(finer(image, times), judge, zoom=False)
    if sign := separators.sign_alone(labels, boxes, parts):  # before levelling: a % alone lies on a slant
        raise ImageError(f"no digit found: only a {sign} sign")
    ink, paper, (labels, boxes, mass, parts), back = segment.levelled(ink, paper, ink_parts, margin)
    lines = [separators.split_separators(labels, *line, stroke_width(ink > 0.3))
             for line in segment.lines_of(*segment.group_parts(parts, boxes, mass, max(labels.shape)))]
    if lines[0][0] and edge_width(ink, float(np.median([group.height for group in lines[0][0]]))) > SOFT:
        ink = sharpened(ink)  # out of focus
    width, height = full_size(image)
    scale = max(width, height) / max(pixels.shape)  # from working-size pixels back to the picture's

    def box(top: int, left: int, bottom: int, right: int, turn=back) -> tuple[int, int, int, int]:
        """A box in working-size pixels with the margin, levelled -> (left, top, right, bottom) around
        it in the picture's pixels (`turn` takes a point back to the picture as it was turned)."""
        if turn:
            corners = [turn(x, y) for x in (left, right) for y in (top, bottom)]
            left, right = min(x for x, _ in corners), max(x for x, _ in corners)
            top, bottom = min(y for _, y in corners), max(y for _, y in corners)
        top, left, bottom, right = (v - margin for v in (top, left, bottom, right))
        return (max(0, int(left * scale)), max(0, int(top * scale)),
                min(width, round(right * scale)), min(height, round(bottom * scale)))

    items, marks, cuts = read_lines(ink, labels, lines, judge, box)
    inner = (slice(margin, -margin), slice(margin, -margin))
    return Found(items, marks, ink[inner], paper[inner], cuts, scale)


def read_lines(ink: torch.Tensor, labels: np.ndarray, lines: list, judge: Judge | None, box: Callable,
               ) -> tuple[list[Item], list[tuple[int, str]], list]:
    """The digits of each line of writing worth reading (words.numbers_among), top to bottom, without the
    words beside a number (words.py), with their separators, a line break between lines, and the cuts."""
    budget = touching.Budget()  # one for the whole picture: what bounds its search
    read = []
    for digits, marks in lines:
        items, cuts, cut_off = digit_items(ink, labels, digits, marks, judge, box, budget)
        items = words.without_print(items)  # a form's label beside the number, say
        items = words.without_words(items, judge, words.placed_separators(items, marks + cut_off, box))
        read.append((items, words.placed_separators(items, marks + cut_off, box), cuts))
    read = words.numbers_among(read, judge) if len(read) > 1 else read
    read.sort(key=lambda line: min((item.box[1] for item in line[0]), default=0))
    items, marks, cuts = [], [], []
    for its_items, its_marks, its_cuts in read:
        marks += [(len(items), "\n")] if items else []
        marks += [(after + len(items), mark) for after, mark in its_marks]
        items, cuts = items + its_items, cuts + its_cuts
    return items, marks, cuts


def moved(found: Found, x: int, y: int) -> Found:
    """What was found in a crop of a picture, placed where the crop begins in it (x, y)."""
    items = [Item(item.pixels, (item.box[0] + x, item.box[1] + y, item.box[2] + x, item.box[3] + y))
             for item in found.items]
    cuts = [[(cx + x, cy + y) for cx, cy in cut] for cut in found.cuts]
    return replace(found, items=items, cuts=cuts, origin=(x, y))
