"""segment.py on ink drawn here, pixel by pixel: which parts are the table, which make one digit,
and which marks are separators. (Whole pictures, read by the network: test_numbers.py and
test_reading.py.)"""

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw, ImageFont

import prepare
import segment
from images import ImageError


def parts_of(ink: torch.Tensor, margin: int = 20):
    """The parts of `ink` that off_the_edges keeps, with their boxes (a pixel wider all round than
    the ink: find_parts grows it by one to join broken strokes)."""
    labels, boxes, mass = segment.find_parts(ink)
    return labels, boxes, mass, segment.off_the_edges(labels, boxes, mass, margin)


def test_a_corner_of_the_table_is_dropped_and_a_digit_at_the_edge_kept():
    # A page photographed turned on a dark table: a solid corner of the table comes into the
    # picture, near its edge but along little of it, and a soft shade along the page's edge, much
    # fainter than the pen. A 1 cut by the picture's edge is as near.
    ink = torch.zeros(200, 200)
    y, x = torch.meshgrid(torch.arange(200), torch.arange(200), indexing="ij")
    ink[x + y < 50] = 1                           # the table's corner, top left
    ink[60:140, 100:106] = 1                      # a 1 in the middle
    ink[120:200, 180:186] = 1                     # a 1 cut by the bottom edge
    ink[40:100, 192:197] = 0.45                   # the soft shade along the page's edge, at the right
    labels, boxes, mass, kept = parts_of(ink)
    assert sorted(boxes[k, 1] for k in kept) == [99, 179]
    ink[40:100, 192:197] = 1                      # a stroke as dark as the others there is kept
    labels, boxes, mass, kept = parts_of(ink)
    assert sorted(boxes[k, 1] for k in kept) == [99, 179, 191]
    ink[x + y < 50] = 0
    ink[40:100, 192:197] = 0
    ink[5:45, 5:11] = 1                           # a stroke there instead of the table is kept
    labels, boxes, mass, kept = parts_of(ink)
    assert sorted(boxes[k, 1] for k in kept) == [4, 99, 179]


def test_a_scrap_of_a_line_far_above_a_digit_is_no_part_of_it():
    # What is left of a notebook's line, a third of a digit's height above it, made the digit as
    # tall as that, and the digits beside it too short for digits. A 5's flag as far is its own.
    ink = torch.zeros(200, 200)
    ink[60:160, 96:104] = 1                       # a 1, 100 pixels tall
    ink[28:30, 95:101] = 1                        # a scrap of a line, 30 pixels above it
    labels, boxes, mass, kept = parts_of(ink)
    groups, specks = segment.group_parts(kept, boxes, mass, 200)
    assert [(g.top, g.bottom) for g in groups] == [(59, 161)] and len(specks) == 1
    ink[28:30, 95:101] = 0
    ink[26:32, 95:125] = 1                        # a flag, heavier
    labels, boxes, mass, kept = parts_of(ink)
    groups, specks = segment.group_parts(kept, boxes, mass, 200)
    assert [(g.top, g.bottom) for g in groups] == [(25, 161)]


def test_a_full_stop_dotted_twice_is_one_full_stop():
    # Two specks after a number printed "11.." where a person reads "11."; a full stop between the
    # digits and one after them stay two.
    for dots, expected in [([230], [(2, ".")]), ([230, 260], [(2, ".")]), ([140, 230], [(1, "."), (2, ".")])]:
        picture = Image.new("L", (420, 160), 255)
        pen = ImageDraw.Draw(picture)
        pen.line((100, 40, 100, 120), fill=0, width=9)
        pen.line((180, 40, 180, 120), fill=0, width=9)
        for x in dots:
            pen.ellipse((x - 6, 112, x + 6, 124), fill=0)
        found = prepare.prepare_digits(picture)
        assert len(found.items) == 2 and found.separators == expected, (dots, found.separators)


def mark(top: int, left: int, bottom: int, right: int) -> str | None:
    """What segment.separator makes of a mark with this box in a line of digits from row 100 to row
    150, written with a 4-pixel pen."""
    return segment.separator(segment.Group(top, left, bottom, right, [1], 1.0), 100, 150, 4.0)


def test_a_comma_is_told_from_a_point_by_its_length():
    assert mark(140, 10, 150, 18) == "."  # a dot on the baseline, twice the pen
    assert mark(144, 10, 153, 19) == "."  # a round dot that sits a little low
    assert mark(142, 10, 164, 24) == ","  # a comma leaning 30 degrees: its box is not much taller than wide
    assert mark(142, 10, 164, 17) == ","  # an upright one
    assert mark(85, 10, 100, 16) == "'"  # high up: an apostrophe
    assert mark(130, 10, 162, 20) == ","  # a long comma, as tall as most of a digit, below the middle
    assert mark(110, 10, 158, 16) is None  # as tall, from higher up, sitting a little low: a 1


def test_a_comma_that_touches_a_digit_is_still_a_comma():
    def marks(hang: tuple[int, int, int] | None = None, which: int = 1, low: int = 0) -> list[str]:
        """The separators of three digits (rings 40 pixels wide, 20 apart) in a line from row 100 to
        150, digit `which` sitting `low` pixels lower; `hang` adds ink to it, from its column a to b,
        from row 140 down to row c."""
        labels = np.zeros((200, 220), dtype=np.int64)
        groups = []
        for k in range(3):
            left, down = 20 + 60 * k, low if k == which else 0
            labels[100 + down:150 + down, left:left + 40] = k + 1
            labels[104 + down:146 + down, left + 4:left + 36] = 0
            groups.append(segment.Group(100 + down, left, 150 + down, left + 40, [k + 1], 1.0))
        if hang:
            a, b, groups[which].bottom = hang
            labels[140:groups[which].bottom, 20 + 60 * which + a:20 + 60 * which + b] = which + 1
        return [mark for _, mark in segment.split_separators(labels, groups, [], 4.0)[1]]

    assert marks() == []
    assert marks((0, 5, 165)) == [","]  # a comma that touches the next digit at its bottom left
    assert marks((35, 40, 165), which=0) == [","]  # or the digit before it, at its bottom right
    assert marks((15, 25, 165)) == []  # a stroke hanging from a digit's middle: a 7's or a 9's tail
    assert marks((0, 40, 160)) == []  # a whole digit that sits low
    assert marks(low=6) == []  # a ring that sits a little low
    assert marks((0, 5, 165), low=4) == [","]  # and one with a comma at its bottom left
    assert marks((35, 40, 165), which=2) == []  # after the last digit: no separator
    # A box that reaches below its ink (parts are found on ink grown by a pixel or two): no comma, no error.
    labels = np.zeros((200, 220), dtype=np.int64)
    labels[100:150, 20:60] = 1
    assert segment.hanging_comma(labels, segment.Group(100, 20, 170, 60, [1], 1.0), 100.0, 150.0) is None


def test_a_scrap_of_a_stroke_is_no_separator():
    assert mark(140, 10, 150, 18) == "."  # a point on the baseline
    assert mark(128, 10, 138, 18) == ""  # a dot a quarter of a digit above it: a scrap that broke off a stroke
    assert mark(88, 10, 102, 17) == "'"  # a short stroke at the top: an apostrophe
    assert mark(94, 10, 102, 30) == ""  # a flat bar at the top: a scrap of a 3's or a 7's top
    assert mark(140, 10, 142, 12) == ""  # a speck of dirt, smaller than the pen
    assert mark(120, 10, 128, 30) == "-"  # a flat bar in the middle: a dash



def test_a_percent_sign_is_told_from_digits_with_two_loops():
    def mask(*shapes: tuple) -> torch.Tensor:
        """Strokes 6 pixels wide, ('ring', box) or ('line', points), cropped to their ink."""
        image = Image.new("1", (200, 120), 0)
        draw = ImageDraw.Draw(image)
        for kind, where in shapes:
            if kind == "ring":
                draw.ellipse(where, outline=1, width=6)
            else:
                draw.line(where, fill=1, width=6)
        ink = np.array(image, dtype=bool)  # a copy: torch takes it as it is
        rows, columns = ink.any(1).nonzero()[0], ink.any(0).nonzero()[0]
        return torch.from_numpy(ink[rows[0]:rows[-1] + 1, columns[0]:columns[-1] + 1])

    percent = mask(("ring", (10, 10, 40, 45)), ("ring", (50, 75, 80, 110)), ("line", [(75, 10), (15, 110)]))
    assert segment.is_percent(percent)
    # An 8: its loops one above the other. A 9 run into a 6: loops as far apart, but side by side, and
    # each half as tall as the digits. A 0, a slash and a 0 (a date): loops as tall as the digits.
    eight = mask(("ring", (20, 10, 60, 55)), ("ring", (15, 55, 65, 110)))
    nine_six = mask(("ring", (10, 10, 60, 60)), ("line", [(60, 35), (55, 110)]), ("ring", (60, 60, 110, 110)),
                    ("line", [(62, 85), (100, 10)]))
    dates = mask(("ring", (10, 10, 50, 110)), ("line", [(90, 10), (60, 110)]), ("ring", (100, 10, 140, 110)))
    assert not any(segment.is_percent(m) for m in (eight, nine_six, dates))


def test_a_percent_sign_in_three_strokes_is_one_mark():
    # A 1 and a 0, then a % whose rings stand clear of its stroke: three marks of their own, which
    # read as an apostrophe and a full stop before (segment.joined_percent makes them one), or whose
    # stroke was taken for a box drawn around the upper ring (around.sides). Dark on white.
    def picture(*shapes: tuple) -> Image.Image:
        image = Image.new("L", (420, 200), 255)
        draw = ImageDraw.Draw(image)
        for kind, where in shapes:
            draw.ellipse(where, outline=0, width=7) if kind == "ring" else draw.line(where, fill=0, width=7)
        return image

    ten = [("line", [(60, 50), (55, 150)]), ("ring", (100, 50, 160, 150))]
    apart = [("ring", (200, 50, 230, 85)), ("line", [(285, 50), (245, 150)]), ("ring", (265, 115, 295, 150))]
    touching = [("ring", (200, 50, 232, 85)), ("line", [(290, 50), (215, 150)]), ("ring", (262, 115, 294, 150))]
    for percent in (apart, touching):
        found = prepare.prepare_digits(picture(*ten, *percent))
        assert len(found.items) == 2 and found.separators == [(2, "%")]



def test_a_percent_sign_alone_is_no_digit():
    # Alone, a % lies on a slant and was levelled as a turned line, its rings read as 010; typeset,
    # its rings are larger and closer together than is_percent takes after digits. Now three parts,
    # two of them rings, passing is_percent loosely, are a % (segment.percent_alone). A 9 whose
    # stroke is broken off beside a 6 makes three parts with two loops, but a 6's loop and stroke
    # are one part, no ring.
    def picture(*shapes: tuple, font: str = "") -> Image.Image:
        image = Image.new("L", (300, 240), 255)
        draw = ImageDraw.Draw(image)
        if font:
            draw.text((150, 120), "%", font=ImageFont.truetype(font, 170), fill=0, anchor="mm")
        for kind, where in shapes:
            draw.ellipse(where, outline=0, width=8) if kind == "ring" else draw.line(where, fill=0, width=8)
        return image

    written = [("ring", (80, 40, 130, 100)), ("line", [(210, 40), (100, 200)]), ("ring", (170, 140, 220, 200))]
    for percent in (picture(*written), picture(font="DejaVuSans.ttf"), picture(font="DejaVuSerif.ttf")):
        with pytest.raises(ImageError, match="only a % sign"):
            prepare.prepare_digits(percent)
    nine_six = picture(("ring", (90, 40, 140, 110)), ("line", [(152, 70), (146, 200)]),
                       ("ring", (170, 130, 220, 200)), ("line", [(172, 165), (210, 40)]))
    assert len(prepare.prepare_digits(nine_six).items) >= 2
