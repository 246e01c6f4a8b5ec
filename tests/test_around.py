"""around.py on ink drawn here, pixel by pixel: a line under a number and a box around it, drawn
with the pen, touching the digits or clear of them. (Whole pictures, read by the network:
tests/test_numbers.py.)"""

import numpy as np
import torch
from PIL import Image, ImageDraw

import around
from pixels import label_parts, reaching_the_edge

PEN = 10  # pixels: the pen of every stroke drawn here, digits and lines alike


def ink_of(*shapes: tuple) -> torch.Tensor:
    """Light strokes on black, [240, 400]: each shape ('line', points) or ('ring', box), drawn with PEN."""
    image = Image.new("L", (400, 240), 0)
    draw = ImageDraw.Draw(image)
    for kind, where in shapes:
        if kind == "line":
            draw.line(where, fill=255, width=PEN)
        else:
            draw.ellipse(where, outline=255, width=PEN)
    return torch.from_numpy(np.asarray(image, dtype=np.float32) / 255)


def drawn(ink: torch.Tensor) -> torch.Tensor:
    return around.drawn_around(ink, margin=10)


# A number of three digits, 100 pixels tall: a 0, a 1 and another 0.
DIGITS = [("ring", (60, 50, 120, 150)), ("line", [(170, 50), (170, 150)]), ("ring", (220, 50, 280, 150))]
UNDER = ("line", [(40, 152), (310, 156)])  # touching the bottoms of all three


def test_a_line_drawn_under_a_number_and_touching_it_is_taken_out():
    digits, line = ink_of(*DIGITS) > 0.3, ink_of(UNDER) > 0.3
    taken = drawn(ink_of(*DIGITS, UNDER)).numpy()
    # All of the line where it runs alone, and of the digits a pixel or two where they touch it.
    assert taken[(line & ~digits).numpy()].mean() > 0.95
    assert (taken & ~line.numpy()).sum() < 0.01 * digits.sum()
    # A stroke that crosses the line (a 4's stem, a 7's) keeps its pixels on the line: it runs on below.
    stem = ("line", [(340, 60), (340, 190)])
    taken = drawn(ink_of(*DIGITS, UNDER, ("line", [(40, 152), (360, 158)]), stem)).numpy()
    assert not taken[140:170, 336:345].any()
    assert taken[150:160, 40:330].any()


def test_a_digit_s_own_long_strokes_stay():
    # A 7 with a bar half as long again as it is tall: its stem hangs below the bar, not above it.
    seven = ink_of(("line", [(50, 50), (200, 50)]), ("line", [(200, 50), (150, 150)]))
    assert not drawn(seven).any()
    # A flat 4: its bar runs through the middle of the rest.
    four = ink_of(("line", [(60, 40), (40, 110)]), ("line", [(40, 110), (220, 110)]), ("line", [(180, 40), (180, 160)]))
    assert not drawn(four).any()
    # The same number's line drawn short, or curved as the bottom of a digit: no line.
    assert not drawn(ink_of(*DIGITS, ("line", [(140, 154), (200, 154)]))).any()
    curve = ("line", [(40 + 27 * k, 150 + round(0.004 * (27 * k - 135) ** 2)) for k in range(11)])
    assert not drawn(ink_of(*DIGITS, curve)).any()
    # A line alone: no writing to take it from.
    assert not drawn(ink_of(UNDER)).any()


def test_a_box_drawn_around_a_number_and_touching_it_is_taken_out():
    box = ("line", [(40, 50), (300, 50), (300, 150), (40, 150), (40, 50)])  # touching every digit's top and bottom
    digits, frame = ink_of(*DIGITS) > 0.3, ink_of(box) > 0.3
    taken = drawn(ink_of(*DIGITS, box)).numpy()
    assert taken[(frame & ~digits).numpy()].mean() > 0.95  # all four sides
    assert (taken & ~frame.numpy()).sum() < 0.05 * digits.sum()
    # Two level lines alone, with something between them (an E, a Z): no box.
    e = ink_of(("line", [(100, 50), (100, 150)]), ("line", [(100, 50), (220, 50)]), ("line", [(100, 100), (200, 100)]),
               ("line", [(100, 150), (220, 150)]))
    z = ink_of(("line", [(100, 50), (220, 50)]), ("line", [(220, 50), (100, 150)]), ("line", [(100, 150), (220, 150)]))
    assert not drawn(e).any() and not drawn(z).any()


def test_a_ring_drawn_around_a_number_and_touching_it_is_taken_out():
    ring = ("ring", (30, 25, 310, 175))  # through the corners of the number's box: it touches its 0s
    digits, frame = ink_of(*DIGITS) > 0.3, ink_of(ring) > 0.3
    taken = drawn(ink_of(*DIGITS, ring)).numpy()
    assert taken[(frame & ~digits).numpy()].mean() > 0.95
    assert (taken & ~frame.numpy()).sum() < 0.05 * digits.sum()
    # Digits alone are their own outlines, and an 8's or a 0's loop holds no ink: nothing is a ring.
    assert not drawn(ink_of(*DIGITS)).any()
    assert not drawn(ink_of(("ring", (100, 30, 220, 110)), ("ring", (90, 100, 230, 200)))).any()
    # Nor the edge of a page on a table, which runs along the picture's edges, the margin inside.
    page = ("line", [(12, 12), (387, 12), (387, 227), (12, 227), (12, 12)])
    assert not drawn(ink_of(*DIGITS, page)).any()


def test_a_frame_and_a_line_under_the_writing_are_left_out():
    # Boxes are (top, left, bottom, right). Three digits; a box drawn around the first two, a line
    # under all three; and, in a second picture, digits run together with a form's line into one
    # long part, which is as tall as the writing: no line under it, and kept.
    boxes = np.array([[10, 10, 110, 200], [30, 30, 90, 80], [30, 110, 90, 160], [30, 230, 90, 280],
                      [100, 20, 106, 300]])
    labels = np.zeros((120, 320), dtype=np.int64)
    for k, (top, left, bottom, right) in enumerate(boxes):  # each part's ink along its box's edges
        labels[top:bottom, [left, right - 1]] = labels[[top, bottom - 1], left:right] = k + 1
    mass = np.array([900.0, 500.0, 450.0, 480.0, 400.0])
    assert sorted(around.around_the_writing(labels, boxes, mass, np.argsort(-mass)).tolist()) == [1, 2, 3]
    labels[60, 10:200] = 1  # its ink crosses the parts inside: a digit's stroke through its own piece (a 7's bar)
    assert sorted(around.around_the_writing(labels, boxes, mass, np.argsort(-mass)).tolist()) == [0, 1, 2, 3]
    joined = np.array([[30, 10, 110, 500], [28, 520, 90, 570], [95, 600, 100, 640]])
    kept = around.around_the_writing(np.zeros((120, 700), np.int64), joined, np.array([3000.0, 500.0, 20.0]),
                                      np.arange(3))
    assert sorted(kept.tolist()) == [0, 1, 2]
    # A long stroke leaning across the box of a part clear of its ink (a % sign's stroke beside its
    # ring) lies on two of its sides only: no frame.
    leaning = np.zeros((120, 200), dtype=np.int64)
    for row in range(10, 111):
        leaning[row, 150 - (row - 10) * 9 // 10:153 - (row - 10) * 9 // 10] = 1
    leaning[15:52, [65, 89]] = leaning[[15, 51], 65:90] = 2
    parts = np.array([[10, 60, 111, 153], [15, 65, 52, 90]])
    assert sorted(around.around_the_writing(leaning, parts, np.array([300.0, 120.0]), np.arange(2))) == [0, 1]
    assert around.around_the_writing(labels, boxes, mass, np.arange(1)).tolist() == [0]  # one part: as it is
    assert around.around_the_writing(labels, boxes, mass, np.arange(0)).tolist() == []


def test_within_reach_grows_a_region_by_an_octagon():
    # The plain definition: a step to the 8 neighbours and a step to the 4 in turn, `reach` steps in all.
    def stepwise(region: np.ndarray, reach: int) -> np.ndarray:
        near = region.copy()
        for step in range(reach):
            padded = np.pad(near, 1)
            shifts = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if step % 2 == 0 or dy * dx == 0]
            near = np.any([padded[1 + dy:padded.shape[0] - 1 + dy, 1 + dx:padded.shape[1] - 1 + dx]
                           for dy, dx in shifts], axis=0)
        return near
    rng = np.random.default_rng(0)
    for density in (0.002, 0.02, 0.2):
        region = rng.random((47, 83)) < density
        for reach in (0, 1, 2, 5, 8, 13):
            assert np.array_equal(around.within_reach(region, reach), stepwise(region, reach))
    single = np.zeros((41, 41), dtype=bool)
    single[20, 20] = True  # one pixel grown by 8: 8 along a row, 6 rows and 6 columns along a diagonal
    grown = around.within_reach(single, 8)
    assert grown[20, 28] and not grown[20, 29] and grown[26, 26] and not grown[27, 27]


def test_hemmed_in_holds_all_the_paper_the_ink_encloses():
    # The definition: the paper that does not reach the mask's edge (label_parts); hemmed_in, a bound
    # for a quick no, holds all of it. A ring: its inside, and nothing outside it.
    rng = np.random.default_rng(0)
    for density in (0.1, 0.3, 0.6):
        for _ in range(20):
            mask = np.pad(rng.random((30, 40)) < density, 1)
            enclosed = ~mask & ~reaching_the_edge(label_parts(~mask)[0])
            assert not (enclosed & ~around.hemmed_in(mask)).any()
    ring = ink_of(("ring", (60, 50, 300, 200))).numpy() > 0.3
    inside = ~ring & ~reaching_the_edge(label_parts(~ring)[0])
    assert inside.sum() > 500 and np.array_equal(around.hemmed_in(ring), inside)
