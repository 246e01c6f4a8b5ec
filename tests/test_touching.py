"""touching.py on shapes drawn here, pixel by pixel, with a judge of our own that reads only a whole
shape as a digit, so that the network plays no part: where cuts are tried, and which are chosen.
(Whole pictures of touching digits, read by the network: test_numbers.py.)"""

import torch

import touching


def judge_of(shapes: list[torch.Tensor], most: float = 1.0, least: float = 0.0):
    """A judge that reads a piece surely as a digit where it holds at least `most` of one shape's
    ink and no more than `least` of it besides; any other piece, as no digit."""
    def judge(masks):
        whole = torch.tensor([any((m & s).sum() >= most * s.sum() and (m & ~s).sum() <= least * s.sum()
                                  for s in shapes) for m in masks])
        return torch.where(whole, 0.9, 0.1), whole, torch.zeros(len(masks), dtype=torch.bool)
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
    (x_top, x_bottom), = cuts
    assert x_top > x_bottom and 28 <= (x_top + x_bottom) / 2 <= 36  # leaning as the blocks do, between them
    assert torch.equal(touching.unshear(touching.shear(mask, touching.shifts(40, 0.25)), touching.shifts(40, 0.25), 80),
                       mask)
    monkeypatch.setattr(touching, "SLANTS", (0.0,))  # straight cuts only
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
