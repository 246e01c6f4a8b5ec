"""touching.py on shapes drawn here, pixel by pixel, with a judge of our own that reads only a whole
shape as a digit, so that the network plays no part: where cuts are tried, and which are chosen.
(Whole pictures of touching digits, read by the network: test_numbers.py.)"""

import itertools
import math

import numpy as np
import pytest
import torch

import prepare
import segment
import touching


def judge_of(shapes: list[torch.Tensor], most: float = 1.0, least: float = 0.0):
    """A judge that reads a piece surely as a digit (a 4) where it holds at least `most` of one
    shape's ink and no more than `least` of it besides; any other piece, as no digit."""
    def judge(masks):
        whole = torch.tensor([any((m & s).sum() >= most * s.sum() and (m & ~s).sum() <= least * s.sum()
                                  for s in shapes) for m in masks])
        return torch.where(whole, 0.9, 0.1), whole, torch.full((len(masks),), 4)
    return judge


def test_digits_that_lean_over_each_other_are_cut_on_a_slant(monkeypatch):
    """Two leaning blocks whose columns overlap: no straight cut parts them, a slanted one does."""
    y, x = torch.meshgrid(torch.arange(40), torch.arange(80), indexing="ij")
    lean = x + 0.25 * (y - 20)  # leaning forward, as handwriting does: the top to the right
    blocks = [(lean >= 10) & (lean < 30), (lean >= 34) & (lean < 54)]
    mask = blocks[0] | blocks[1]
    assert (blocks[0].any(0) & blocks[1].any(0)).sum() >= 4  # their columns overlap
    judge = judge_of(blocks)

    pieces, cuts = touching.split_touching(mask, judge, touching.Budget())
    assert len(pieces) == 2 and all(torch.equal(p, b) for p, b in zip(pieces, blocks))
    line, = cuts
    x_top, x_bottom = line[0], line[-1]  # the blocks' first and last rows
    assert x_top > x_bottom and 28 <= (x_top + x_bottom) / 2 <= 36  # leaning as the blocks do, between them
    assert torch.equal(touching.unshear(touching.shear(mask, touching.shifts(40, 0.25)), touching.shifts(40, 0.25), 80),
                       mask)
    monkeypatch.setattr(touching, "SLANTS", (0.0,))  # straight cuts only
    assert len(touching.split_touching(mask, judge, touching.Budget())[0]) == 1


def test_digits_whose_gap_bows_are_cut_along_it(monkeypatch):
    """Two blocks joined by a small bridge, the gap between them bowing by 3 columns: a cut straight
    down or slanted takes a sliver of one into the other; one that bends around the ink does not."""
    y, x = torch.meshgrid(torch.arange(40), torch.arange(70), indexing="ij")
    gap = 38 + (3 * torch.sin(math.pi * y / 39)).round()
    blocks = [(x >= 10) & (x < gap - 1), (x > gap) & (x < 62)]
    mask = blocks[0] | blocks[1] | ((x >= gap - 1) & (x <= gap) & (y >= 18) & (y < 22))
    judge = judge_of(blocks, most=0.99, least=0.02)

    pieces, cuts = touching.split_touching(mask, judge, touching.Budget())
    assert len(pieces) == 2 and all((p & b).sum() >= 0.99 * b.sum() for p, b in zip(pieces, blocks))
    line, = touching.gap_lines(mask, [39], 40)
    assert line[20] > line[0] and line[20] > line[-1]  # bowed as the gap is
    monkeypatch.setattr(touching, "BEND", 100.0)  # straying costs more than any ink: straight cuts only
    assert len(touching.split_touching(mask, judge, touching.Budget())[0]) == 1


def test_digits_are_cut_where_the_outline_dips_though_the_ink_is_thick_there(monkeypatch):
    """A 7 whose long bar is thinner than anything else, run into a 0 at its stem: the bar's columns
    are the thinnest, and take up all the places to cut that the ink's thinness offers, while the
    stem, where the 0 touches it, is the thickest column. The 0's outline dips there."""
    y, x = torch.meshgrid(torch.arange(44), torch.arange(90), indexing="ij")
    seven = ((y < 4) & (x >= 5) & (x < 41)) | ((x >= 36) & (x < 41))
    distance = ((x - 60) ** 2 + (y - 22) ** 2).float().sqrt()
    zero = (distance <= 21) & (distance >= 16) & ~seven
    mask = seven | zero
    assert mask.sum(0)[36:41].min() == mask.sum(0).max()  # the stem is the thickest column
    judge = judge_of([seven, zero], most=0.85, least=0.1)

    pieces, cuts = touching.split_touching(mask, judge, touching.Budget())
    assert len(pieces) == 2 and cuts[0][0] in range(40, 43)  # at the join
    monkeypatch.setattr(touching, "outline_valleys", lambda mask: [])  # the thinnest columns alone
    assert all(abs(column - 41) > 3 for column in touching.cut_columns(mask))
    assert len(touching.split_touching(mask, judge, touching.Budget())[0]) == 1


def judge_readings(readings: list[tuple[list[torch.Tensor], float, int]]):
    """A judge that reads a piece as each reading's (probability, digit) where the piece holds
    nearly all the ink of that reading's shapes and hardly any other; any other piece, as no digit."""
    def judge(masks):
        answers = []
        for m in masks:
            found = (0.1, False, 0)
            for shapes, probability, digit in readings:
                inside = torch.stack(shapes).any(0)
                if (m & inside).sum() >= 0.9 * inside.sum() and (m & ~inside).sum() <= 0.1 * inside.sum():
                    found = (probability, True, digit)
            answers.append(found)
        confidence, is_digit, digit = zip(*answers)
        return torch.tensor(confidence), torch.tensor(is_digit), torch.tensor(digit)
    return judge


def blocks(*spans: tuple[int, int], height: int = 40) -> list[torch.Tensor]:
    """Solid blocks as tall as the picture, between the given columns, and a thin line (2 pixels) at
    half height that joins them all."""
    y, x = torch.meshgrid(torch.arange(height), torch.arange(spans[-1][1] + 4), indexing="ij")
    shapes = [(x >= left) & (x < right) for left, right in spans]
    join = (y >= height // 2) & (y < height // 2 + 2) & (x >= spans[0][0]) & (x < spans[-1][1])
    return shapes + [join & ~torch.stack(shapes).any(0)]


def test_a_1_is_cut_off_its_neighbour_where_another_digit_is_read_surely(monkeypatch):
    """A digit, a 1 and a digit, touching: the 1 and the last digit together read as one doubtful
    digit (as a 1 run into a 6 may), each alone surely. The sure digits beside the 1 vouch for it."""
    first, one, last, join = blocks((2, 22), (28, 33), (39, 59))
    mask = first | one | last | join
    judge = judge_readings([([first], 0.9, 4), ([one], 0.9, 1), ([last], 0.9, 4), ([one, last], 0.6, 4)])
    pieces, _ = touching.split_touching(mask, judge, touching.Budget())
    assert len(pieces) == 3
    monkeypatch.setattr(touching, "OTHER", 1.01)  # no digit ever sure enough: the 1 costs ONE
    assert len(touching.split_touching(mask, judge, touching.Budget())[0]) == 2


def test_the_first_way_that_reads_its_digits_surely_is_taken(monkeypatch):
    """Two digits side by side, joined by a stroke, as wide as two digits: cut straight down, both
    read surely, so that no cut bending or slanted is tried, and more of the picture's budget is
    left for other groups."""
    first, second, join = blocks((2, 32), (38, 68))
    mask = first | second | join
    judge = judge_readings([([first], 0.9, 4), ([second], 0.9, 4)])
    budget = touching.Budget()
    assert len(touching.split_touching(mask, judge, budget)[0]) == 2
    monkeypatch.setattr(touching, "GOOD", 1.01)  # no reading sure enough: every way is tried
    every_way = touching.Budget()
    assert len(touching.split_touching(mask, judge, every_way)[0]) == 2
    assert touching.MAX_JUDGED - every_way.left >= 3 * (touching.MAX_JUDGED - budget.left)


def test_a_letter_cut_into_1s_is_kept_whole(monkeypatch):
    """Strokes that each read as a 1, as an m's do, joined into a group that is no digit: cut apart,
    they would read 111; nothing but 1s vouches for them, so the group stays whole (and is refused)."""
    *strokes, join = blocks((2, 8), (22, 28), (42, 48))
    mask = torch.stack(strokes).any(0) | join
    judge = judge_readings([([stroke], 0.9, 1) for stroke in strokes])
    assert len(touching.split_touching(mask, judge, touching.Budget())[0]) == 1
    monkeypatch.setattr(touching, "ONE", 0.0)  # were a 1 as good as any digit
    assert len(touching.split_touching(mask, judge, touching.Budget())[0]) == 3


def test_a_letter_cut_into_1s_and_7s_is_kept_whole_unless_they_read_surely():
    """Three strokes joined, as an m's stem and arches: cut apart, the first reads as a 1, the others
    as 7s, and a 7 read surely (touching.OTHER) vouches for the 1. But 1s and 7s alone, read less
    surely together than GOOD, are no split of a group that is no digit; with another digit, they are."""
    *strokes, join = blocks((2, 8), (22, 28), (42, 48))
    mask = torch.stack(strokes).any(0) | join

    def pieces(probabilities: tuple[float, ...], digits: tuple[int, ...]) -> int:
        judge = judge_readings([([s], p, d) for s, p, d in zip(strokes, probabilities, digits)])
        return len(touching.split_touching(mask, judge, touching.Budget())[0])
    assert pieces((0.9, 0.9, 0.9), (1, 7, 7)) == 3
    assert pieces((0.6, 0.85, 0.6), (1, 7, 7)) == 1  # an m read as 177: together less sure than GOOD
    assert pieces((0.6, 0.85, 0.6), (1, 7, 3)) == 3


def test_two_1s_refused_whole_are_cut_apart_only_where_another_digit_vouches_for_them():
    """Two strokes joined, each a sure 1, the whole no digit: kept whole (an n is no 11) unless a
    digit elsewhere in the picture vouches for them. prepare.vouched_groups chooses the groups to
    cut so: refused whole, wider than a 1 and as tall as the digits, beside a sure digit not a 1."""
    *strokes, join = blocks((2, 8), (14, 20))  # 0.45 of its height wide: narrower than prepare.WIDE
    mask = strokes[0] | strokes[1] | join
    judge = judge_readings([([stroke], 0.9, 1) for stroke in strokes])
    assert len(touching.split_touching(mask, judge, touching.Budget())[0]) == 1
    assert len(touching.split_touching(mask, judge, touching.Budget(), vouched=True)[0]) == 2

    def chosen(other: tuple[float, bool, int], width: int = 18, height: int = 40) -> list[int]:
        """What vouched_groups picks where a 30-wide group reads as `other` (probability, whether a
        digit, which) beside a group `width` by `height`, refused whole."""
        groups = [segment.Group(0, 0, 40, 30, [1], 1.0), segment.Group(0, 40, height, 40 + width, [2], 1.0)]
        found = [([prepare.Item(torch.full((28, 28), float(k)), (0, 0, 1, 1))], [], []) for k in range(2)]
        answers = torch.tensor([other, (0.1, False, 0)])  # looked up by the pixels' value
        judge = lambda pixels: tuple(answers[pixels[:, 0, 0].long(), i].clone() for i in range(3))  # noqa: E731
        return prepare.vouched_groups(found, groups, judge)

    assert chosen((0.9, True, 4)) == [1]
    assert chosen((0.6, True, 4)) == []  # not read surely
    assert chosen((0.9, True, 1)) == []  # a 1: strokes vouching for strokes
    assert chosen((0.9, True, 4), height=20) == []  # half as tall as the digit: an n
    assert chosen((0.9, True, 4), width=10) == []  # as narrow as one 1


def test_a_stroke_that_joined_two_digits_is_no_1(monkeypatch):
    """Two digits joined by a stroke of the pen, from the first one's top down to the second, as in
    a number written in one movement. Cut off alone, the stroke reads surely as a 1; but a 1 is as
    tall as the digits it touches, and the stroke spans less than half their height."""
    y, x = torch.meshgrid(torch.arange(40), torch.arange(56), indexing="ij")
    first, last = (x >= 2) & (x < 22), (x >= 32) & (x < 52)
    stroke = ((y - 8 - (x - 22) * 1.6).abs() <= 1.5) & (x >= 22) & (x < 32)
    mask = first | last | stroke

    def judge(masks):
        """Each block alone is a sure digit (a less sure one with most of the stroke on it), most of
        the stroke alone a sure 1, anything else no digit."""
        answers = []
        for m in masks:
            on_first, on_last, on_stroke = ((m & s).sum() / s.sum() for s in (first, last, stroke))
            if on_stroke >= 0.7 and max(on_first, on_last) < 0.05:
                answers.append((0.95, True, 1))
            elif max(on_first, on_last) >= 0.95 and min(on_first, on_last) < 0.05:
                answers.append((0.95 if on_stroke < 0.3 else 0.7, True, 4))
            else:
                answers.append((0.1, False, 0))
        confidence, is_digit, digit = zip(*answers)
        return torch.tensor(confidence), torch.tensor(is_digit), torch.tensor(digit)

    assert len(touching.split_touching(mask, judge, touching.Budget())[0]) == 2
    monkeypatch.setattr(touching, "TALL_ONE", 0.0)  # were a 1 of any height a 1
    assert len(touching.split_touching(mask, judge, touching.Budget())[0]) == 3


def test_a_cut_keeps_its_columns_and_drops_only_small_scraps_of_a_neighbour():
    mask = torch.zeros(40, 60, dtype=torch.bool)
    mask[5:35, 10:14] = True                       # a digit's upright stroke
    mask[5:8, 14:30] = True                        # its bar, crossing the cut at column 25
    mask[20:23, 22:30] = True                      # a neighbour's scrap, cut off from it at column 25
    piece = touching.without_scraps(mask, 0, 25)
    expected = mask.clone()
    expected[:, 25:] = False
    expected[20:23, 22:25] = False                 # the scrap touches the cut and is small: gone
    assert torch.equal(piece, expected)
    # A cut that bends, one column for each row: only the ink between the two lines is kept.
    left, right = torch.full((40,), 12), torch.arange(40) // 2 + 14
    piece = touching.without_scraps(mask, left, right)
    columns = torch.arange(60)
    between = (columns >= left[:, None]) & (columns < right[:, None])
    expected = mask & between
    expected[20:23, 22:] = False                   # the scrap, cut at column 24 or 25 of its rows
    assert torch.equal(piece, expected)


def test_a_bending_cut_is_the_way_down_that_costs_least():
    """gap_lines against every way down a small mask: each pixel of ink crossed costs 1, each column
    away from the start BEND a row; from row to row a cut moves a column at most, within its reach."""
    rng = np.random.default_rng(0)
    for _ in range(30):
        mask = torch.from_numpy(rng.random((6, 9)) < 0.4)
        start = int(rng.integers(0, 9))
        reach = max(1, round(touching.REACH * 8))  # the reach of a digit 8 pixels high

        def cost(way):
            return sum(float(mask[y, x]) + touching.BEND * abs(x - start) for y, x in enumerate(way))

        ways = [[start + d for d in offsets] for offsets in itertools.product(range(-reach, reach + 1), repeat=6)
                if all(abs(a - b) <= 1 for a, b in zip(offsets, offsets[1:]))
                and all(0 <= start + d < 9 for d in offsets)]
        line, = touching.gap_lines(mask, [start], 8)
        assert line.tolist() in ways and cost(line.tolist()) == pytest.approx(min(map(cost, ways)))


def test_the_network_is_asked_once_about_each_input():
    # A group read whole in the search for cuts is read again later (prepare.read_once): the answers
    # are the judge's own, each input asked about once.
    asked = []

    def judge(pixels):
        asked.append(len(pixels))
        total = pixels.sum((1, 2))
        return total / 1000, total > 392, (total * 10).long() % 10
    once = prepare.read_once(judge)
    a, b = torch.rand(2, 28, 28, generator=torch.Generator().manual_seed(0))
    first, second = once(torch.stack([a, b, a])), once(torch.stack([b, a]))
    assert asked == [2]  # a and b, once each
    for ours, theirs in zip(first + second, judge(torch.stack([a, b, a])) + judge(torch.stack([b, a]))):
        assert torch.equal(ours, theirs)
