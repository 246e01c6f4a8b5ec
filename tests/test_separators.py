"""The marks between and after a number's digits: thousands separators and decimal points, a date's
slashes and dashes, a time's colon, an amount's ending (1200/-, 1200=). None of them is a digit; the
line printed for a person shows them, and JSON's `prediction` holds the digits only. First
separators.py on marks drawn here pixel by pixel, then predict.py on whole numbers. (The % sign:
test_percent.py; parentheses: test_signs.py.)

Every picture is made here (tests/pictures.py, tests/papers.py) from MNIST's test digits and our
own pens. Run with -s to see the figures.
"""

from __future__ import annotations

import json
from typing import Callable

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFilter

import papers
import pictures
import predict
import prepare
import segment
import separators
import shapes
from conftest import read_all, run_predict
from test_numbers import exact, numbers
from test_reading import fonts


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
    """What separators.separator makes of a mark with this box in a line of digits from row 100 to row
    150, written with a 4-pixel pen."""
    return separators.separator(segment.Group(top, left, bottom, right, [1], 1.0), 100, 150, 4.0)


def test_a_comma_is_told_from_a_point_by_its_length():
    assert mark(140, 10, 150, 18) == "."  # a dot on the baseline, twice the pen
    assert mark(144, 10, 153, 19) == "."  # a round dot that sits a little low
    assert mark(142, 10, 164, 24) == ","  # a comma leaning 30 degrees: its box is not much taller than wide
    assert mark(142, 10, 164, 17) == ","  # an upright one
    assert mark(85, 10, 100, 16) == "'"  # high up: an apostrophe
    assert mark(130, 10, 162, 20) == ","  # a long comma, as tall as most of a digit, below the middle
    assert mark(110, 10, 158, 16) is None  # as tall, from higher up, sitting a little low: a 1


def test_a_comma_that_touches_a_digit_is_still_a_comma():
    def found(hang: tuple[int, int, int] | None = None, which: int = 1, low: int = 0) -> list[str]:
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
        return [mark for _, mark in separators.split_separators(labels, groups, [], 4.0)[1]]

    assert found() == []
    assert found((0, 5, 165)) == [","]  # a comma that touches the next digit at its bottom left
    assert found((35, 40, 165), which=0) == [","]  # or the digit before it, at its bottom right
    assert found((15, 25, 165)) == []  # a stroke hanging from a digit's middle: a 7's or a 9's tail
    assert found((0, 40, 160)) == []  # a whole digit that sits low
    assert found(low=6) == []  # a ring that sits a little low
    assert found((0, 5, 165), low=4) == [","]  # and one with a comma at its bottom left
    assert found((35, 40, 165), which=2) == []  # after the last digit: no separator
    # A box that reaches below its ink (parts are found on ink grown by a pixel or two): no comma, no error.
    labels = np.zeros((200, 220), dtype=np.int64)
    labels[100:150, 20:60] = 1
    assert separators.hanging_comma(labels, segment.Group(100, 20, 170, 60, [1], 1.0), 100.0, 150.0) is None


def test_a_scrap_of_a_stroke_is_no_separator():
    assert mark(140, 10, 150, 18) == "."  # a point on the baseline
    assert mark(128, 10, 138, 18) == ""  # a dot a quarter of a digit above it: a scrap that broke off a stroke
    assert mark(88, 10, 102, 17) == "'"  # a short stroke at the top: an apostrophe
    assert mark(94, 10, 102, 30) == ""  # a flat bar at the top: a scrap of a 3's or a 7's top
    assert mark(140, 10, 142, 12) == ""  # a speck of dirt, smaller than the pen
    assert mark(120, 10, 128, 30) == "-"  # a flat bar in the middle: a dash
    assert mark(128, 10, 134, 30) == "-"  # a flat bar a little below it: a dash as type sets it


def test_an_amounts_ending_and_a_minus_sign_are_no_digits():
    # 11 and what a cheque's amount ends with, drawn with a 9-pixel pen, dark on white: a slash before
    # a dash or an = is no 1, and an = no digit; a slash alone after a number is left to the network.
    # A dash before the number is a minus sign; one far before it, nothing.
    def read(*strokes: tuple) -> tuple[int, list]:
        picture = Image.new("L", (420, 160), 255)
        pen = ImageDraw.Draw(picture)
        for stroke in [(100, 40, 100, 120), (180, 40, 180, 120), *strokes]:
            pen.line(stroke, fill=0, width=9)
        found = prepare.prepare_digits(picture)
        return len(found.items), found.separators

    slash, dash, point = (205, 122, 290, 40), (310, 80, 340, 80), (238, 116, 240, 118)  # the slash at 46 degrees
    equals = [(310, 68, 340, 68), (310, 94, 340, 94)]
    assert read(*equals) == (2, [(2, "=")])
    assert read(slash, dash) == (2, [(2, "/"), (2, "-")])
    assert read(slash, *equals) == (2, [(2, "/"), (2, "=")])
    assert read(point, (255, 80, 285, 80)) == (2, [(2, "."), (2, "-")])
    assert read(dash) == (2, [(2, "-")])
    assert read(slash)[0] == 3  # a 1 written far over, or no digit: the network says
    steep = (215, 122, 255, 40)  # 26 degrees, as a 1 may lean: a slash only before a lone dash or =
    assert read(steep, dash) == (2, [(2, "/"), (2, "-")])
    assert read(steep)[0] == 3 and read(steep, (268, 116, 270, 118), dash)[0] == 3  # 1 alone, 1.-
    assert read((55, 80, 80, 80)) == (2, [(0, "-")])
    assert read((5, 80, 30, 80)) == (2, [])
    assert separators.shown_after(["'", "."]) == [False, True]  # a full stop after a scrap
    assert separators.shown_after(["-", "/"]) == [False, False]  # no ending


def test_a_colon_is_two_dots_one_above_the_other():
    def separators_of(*dots: int) -> list:
        """What is found between two 1s (rows 40-120) with a dot at each of these rows between them."""
        picture = Image.new("L", (300, 160), 255)
        pen = ImageDraw.Draw(picture)
        for x in (100, 180):
            pen.line((x, 40, x, 120), fill=0, width=9)
        for y in dots:
            pen.ellipse((134, y - 6, 146, y + 6), fill=0)
        return prepare.prepare_digits(picture).separators

    assert separators_of(114, 78) == [(1, ":")]  # a point on the line, one about its middle
    assert separators_of(114) == [(1, ".")]
    assert separators_of(114, 100) == [(1, ".")]  # dotted twice, low: a full stop


def test_an_equals_sign_is_two_flat_bars_one_above_the_other():
    def mask(*bars: tuple) -> torch.Tensor:
        ink = torch.zeros(60, 80, dtype=torch.bool)
        for top, left, bottom, right in bars:
            ink[top:bottom, left:right] = True
        return ink

    assert shapes.is_equals(mask((10, 10, 16, 50), (30, 12, 36, 52)))
    assert shapes.is_equals(mask((10, 10, 16, 50), (30, 30, 36, 70)))  # half over each other
    assert not shapes.is_equals(mask((10, 10, 16, 50), (30, 40, 36, 70)))  # a quarter: two dashes
    assert not shapes.is_equals(mask((10, 10, 16, 50), (30, 12, 36, 52), (45, 10, 51, 50)))  # three
    assert not shapes.is_equals(mask((10, 10, 30, 30), (35, 10, 55, 30)))  # not flat: two blots


def read_with_separators(checkpoint, test_digits, count: int, low: int, high: int, seed: int,
                         write: Callable, what: str, marks: str) -> tuple[float, float]:
    """(digits read exactly, and with the separators too) in %, of `count` numbers of `low` to `high`
    digits, each pictured by `write(digits, labels, rng)` -> (picture, the text it shows); printed
    as "`count` `what`: ...% of the digits read exactly, ...% with `marks`"."""
    made = [(picture, labels, text) for digits, labels, rng in numbers(test_digits, count, low, high, seed)
            for picture, text in [write(digits, labels, rng)]]
    results = read_all(checkpoint, [pictures.jpeg(picture) for picture, _, _ in made])
    digits = exact(results, ["".join(map(str, labels)) for _, labels, _ in made])
    written = 100 * float(np.mean([r.get("text") == text for r, (_, _, text) in zip(results, made)]))
    print(f"\n{count} {what}: {digits:.1f}% of the digits read exactly, {written:.1f}% with {marks}")
    return digits, written


def test_amounts_on_a_printed_pattern_with_separators(test_digits, cnn_checkpoint):
    digits, written = read_with_separators(cnn_checkpoint, test_digits, 150, 2, 6, 22, papers.amount_on_pattern,
                                           "amounts 40-60 pixels high on a wavy or dotted pattern, with separators",
                                           "the separators too")
    # The aim is 90%. The networks of seeds 1-3 on an AMD Zen 4 read 97.3-98.0% of the digits and
    # 96.7-97.3% with their separators (88.0-88.7% before separators.mark_beside).
    assert digits >= 90 and written >= 92


def test_dates_and_phone_numbers(test_digits, cnn_checkpoint):
    digits, written = read_with_separators(cnn_checkpoint, test_digits, 100, 4, 7, 23, pictures.date_or_phone,
                                           "dates and phone numbers (slashes, dashes)", "the separators too")
    assert digits >= 85 and written >= 75


def date_by_hand(digits: list[np.ndarray], labels: list[int], rng: np.random.Generator) -> tuple[Image.Image, str]:
    """A date as people write it (1/5/26, 12/05/2026), its slashes as tall as the digits and leaning
    25-40 degrees from upright, less than date_or_phone's; dark on white. For 4 to 8 digits."""
    formats = [f for f in [(1, 1, 2), (1, 2, 2), (2, 1, 2), (2, 2, 2), (1, 1, 4), (1, 2, 4), (2, 1, 4), (2, 2, 4)]
               if sum(f) == len(digits)]
    day, month, year = formats[rng.integers(len(formats))]
    height = float(rng.integers(45, 90))
    crops = pictures.scaled_crops(digits, height, rng)
    leans = np.tan(np.radians(rng.uniform(25, 40, 2))) * height
    gaps = [int(rng.uniform(0.15, 0.4) * height) for _ in crops[1:]]
    for after, lean in zip([day - 1, day + month - 1], leans):
        gaps[after] = int(0.5 * height + lean)  # room for the slash, a fifth of a digit's height clear each side
    darkness = pictures.write(crops, gaps, height, 20, rng)
    image = Image.fromarray((255 * darkness).astype(np.uint8))
    baseline, pen = 20 + int(1.2 * height), max(2, round(0.12 * height))
    for after, lean in zip([day - 1, day + month - 1], leans):
        x = 20 + sum(c.shape[1] for c in crops[:after + 1]) + sum(gaps[:after]) + 0.25 * height
        ImageDraw.Draw(image).line((x, baseline + 0.05 * height, x + lean, baseline - height), fill=255, width=pen)
    text = "".join(map(str, labels))
    return Image.fromarray(255 - np.asarray(image)), f"{text[:day]}/{text[day:day + month]}/{text[day + month:]}"


def test_a_date_whose_slashes_lean_as_a_1_may_is_a_date(test_digits, cnn_checkpoint):
    # A slash leaning less than 40 degrees was a 1 (12/05/26 as 1210526): MNIST's 1s lean as far. Two
    # leaning strokes that part the digits as a date's are its slashes (separators.date_slashes).
    # Before it, none of these read (seeds 1-3 on an AMD processor; docs/reading.md).
    digits, written = read_with_separators(cnn_checkpoint, test_digits, 100, 4, 8, 29, date_by_hand,
                                           "dates written by hand, slashes leaning 25-40 degrees", "the slashes too")
    assert digits >= 90 and written >= 90


def test_an_amount_ended_as_on_a_cheque(test_digits, cnn_checkpoint):
    # Amounts on cheques are ended so that nothing can be added after them: 1200.- 1200,- 1200/-
    # 1200= 1200/=. The slash was read as a 1 (a stroke leaning after a number) and the = as a
    # symbol that made the amount "not a number": before separators.shown_after and joined_equals,
    # 67.5% of these read, none with its ending (seeds 1-3 on an AMD processor; docs/reading.md).
    digits, written = read_with_separators(cnn_checkpoint, test_digits, 120, 2, 6, 26, pictures.with_ending,
                                           "amounts ended .- ,- /- = /= or -", "the ending too")
    assert digits >= 95 and written >= 95


def test_a_time_of_day_shows_its_colon(test_digits, cnn_checkpoint):
    # A colon's dots were a full stop and a scrap: 12:30 was shown as 12.30 (none of these with its
    # colon before separators.colons, seeds 1-3 on an AMD processor; docs/reading.md).
    digits, written = read_with_separators(cnn_checkpoint, test_digits, 60, 3, 4, 27, pictures.time_of_day,
                                           "times of day (7:45, 12:30)", "the colon")
    assert digits >= 85 and written >= 85


def test_a_minus_sign_is_shown_before_the_number(test_digits, cnn_checkpoint):
    # A dash before a number was dropped, as anything before it is (-5 shown as 5); JSON's
    # `prediction` holds the digits alone, as for any separator.
    digits, written = read_with_separators(cnn_checkpoint, test_digits, 60, 1, 4, 28, pictures.signed,
                                           "numbers after a minus sign (-5, -273)", "the minus sign")
    assert digits >= 90 and written >= 90


def ended_steep(digits: list[np.ndarray], labels: list[int], rng: np.random.Generator) -> tuple[Image.Image, str]:
    """An amount ended with a slash as steep as date_by_hand's and a dash or an = (1200/-, 1200/=)."""
    height = float(rng.integers(45, 90))
    crops = pictures.scaled_crops(digits, height, rng)
    lean = float(np.tan(np.radians(rng.uniform(25, 40))) * height)
    darkness = pictures.write(crops, [int(rng.uniform(0.15, 0.4) * height) for _ in crops[1:]], height, 20, rng)
    image = Image.fromarray((255 * np.pad(darkness, ((0, 0), (0, int(lean + height))))).astype(np.uint8))
    baseline, pen = 20 + int(1.2 * height), max(2, round(0.12 * height))
    x = np.nonzero(darkness.max(0) > 0.3)[0].max() + 0.25 * height
    ImageDraw.Draw(image).line((x, baseline + 0.05 * height, x + lean, baseline - height), fill=255, width=pen)
    darkness, ending = np.array(image, dtype=np.float32) / 255, "/=" if rng.random() < 0.5 else "/-"
    pictures.draw_separator(darkness, ending[1], int(x + lean + 0.25 * height), baseline, height, pen)
    return Image.fromarray((255 * (1 - darkness)).astype(np.uint8)), "".join(map(str, labels)) + ending


def test_an_amount_ended_with_a_steep_slash(test_digits, cnn_checkpoint):
    # A slash leaning less than 40 degrees before the dash was a 1 (1200/- as 12001); the last stroke
    # before a lone dash or = that leans 20 degrees or more is the slash (separators.ending_slash).
    # Before it, none of these read (seeds 1-3 on an AMD processor; docs/reading.md).
    digits, written = read_with_separators(cnn_checkpoint, test_digits, 100, 2, 5, 41, ended_steep,
                                           "amounts ended /- or /=, the slash leaning 25-40 degrees", "the ending too")
    assert digits >= 90 and written >= 90


def test_a_comma_that_touches_a_digit_is_taken_out_of_it():
    picture = Image.new("L", (260, 200), 255)
    draw = ImageDraw.Draw(picture)
    for k in range(3):  # three rings 40 pixels wide, 50 high, 20 apart, from row 60 to row 110
        draw.ellipse((30 + 60 * k, 60, 70 + 60 * k, 110), outline=0, width=5)
    draw.line((84, 128, 94, 100), fill=0, width=5)  # a comma that runs into the middle ring at its bottom left
    found = prepare.prepare_digits(picture)
    assert found.separators == [(1, ",")]
    assert [item.box[3] <= 116 for item in found.items] == [True] * 3  # none holds the tail, down to row 130


def test_an_apostrophe_written_close_beside_a_digit_is_still_an_apostrophe():
    def found(*strokes: tuple[int, int, int, int], blur: float = 0) -> list[tuple[int, str]]:
        """The separators of three square 0s 40 pixels wide and 20 apart (rows 60-110, the middle one in
        columns 90-130), with strokes (x0, y0, x1, y1) of a 5-pixel pen, blurred as a scan may be."""
        picture = Image.new("L", (260, 200), 255)
        draw = ImageDraw.Draw(picture)
        for k in range(3):
            draw.rectangle((30 + 60 * k, 60, 70 + 60 * k, 110), outline=0, width=5)
        for stroke in strokes:
            draw.line(stroke, fill=0, width=5)
        return prepare.prepare_digits(picture.filter(ImageFilter.GaussianBlur(blur))).separators

    # A pixel or two from the middle 0: the ink, grown by a pixel to find its parts, joins them.
    assert found((86, 54, 82, 72)) == [(1, "'")]
    assert found((87, 54, 83, 72)) == [(1, "'")]
    assert found((85, 54, 81, 72), blur=1) == [(1, "'")]
    assert found((138, 54, 134, 72)) == [(2, "'")]  # beside the 0 before it, on its right
    assert found() == []
    assert found((86, 78, 82, 96)) == []  # a stroke beside the 0 at its middle: no apostrophe
    assert found((75, 60, 87, 60)) == []  # a flat bar at the top: a scrap of a digit's stroke
    assert found((79, 56, 87, 62)) == []  # no taller than wide: the tip of a 7's bar, broken off


def test_a_slash_cut_off_the_digit_it_touches_is_a_separator(cnn_checkpoint):
    picture = Image.new("L", (360, 200), 255)
    draw = ImageDraw.Draw(picture)
    for x in (30, 90, 230):  # three rings 40 pixels wide, 50 high, from row 60 to row 110
        draw.ellipse((x, 60, x + 40, 110), outline=0, width=5)
    draw.line((112, 112, 172, 58), fill=0, width=5)  # a date's slash, run into the middle ring at its bottom right
    found = predict.load_reader(cnn_checkpoint).prepare(picture)
    assert len(found.cuts) == 1  # the ring and the slash were cut apart
    assert len(found.items) == 3 and found.separators == [(2, "/")]  # and the slash is a separator, not a 1
    cut, = found.cuts  # drawn through each row of the ink, as it bends or leans
    assert len(cut) >= 50 and cut[0][1] <= 60 and cut[-1][1] >= 110
    blue = (np.asarray(predict.ink_picture(found)) == (0, 90, 255)).all(-1)
    assert blue.sum() >= len(cut)


def test_a_stroke_leaning_like_a_slash_before_or_after_a_number_is_read_as_a_digit(cnn_checkpoint):
    # A date's slash stands between digits; a stroke leaning as far before or after the number is a 1
    # written far over (MNIST has a few), and was dropped as a slash outside the number.
    picture = Image.new("L", (420, 200), 255)
    draw = ImageDraw.Draw(picture)
    for x in (20, 320):  # leaning 48 degrees, as the slash above
        draw.line((x, 112, x + 60, 58), fill=0, width=5)
    for x in (110, 180, 250):  # three rings 40 pixels wide, 50 high, from row 60 to row 110
        draw.ellipse((x, 60, x + 40, 110), outline=0, width=5)
    found = predict.load_reader(cnn_checkpoint).prepare(picture)
    assert len(found.items) == 5 and found.separators == []
    assert found.items[0].box[0] < 30 and found.items[-1].box[0] > 310  # the leaning strokes, first and last


def test_the_line_shows_the_separators_and_json_the_digits(test_digits, cnn_checkpoint, tmp_path):
    digits, labels = test_digits
    chosen = [i for i in range(100) if labels[i] != 1][:5]  # no 1s, which a slash could be mistaken for
    picture = Image.fromarray((255 * (1 - pictures.write(
        pictures.scaled_crops([digits[i] for i in chosen], 80, np.random.default_rng(0)), [20] * 4, 80, 30,
        np.random.default_rng(0), {1: "."}))).astype(np.uint8))
    path = tmp_path / "amount.png"
    picture.save(path)
    truth = "".join(str(labels[i]) for i in chosen)
    result = run_predict("--checkpoint", str(cnn_checkpoint), "--json", "--save-processed", str(tmp_path / "seen"),
                         str(path))
    reading = json.loads(result.stdout)
    assert reading["prediction"] == truth and reading["text"] == truth[:2] + "." + truth[2:]
    assert len(reading["digits"]) == 5
    line = run_predict("--checkpoint", str(cnn_checkpoint), str(path)).stdout
    assert line.startswith(f"{path}: {truth[:2]}.{truth[2:]}  (")
    # What was taken for ink is saved beside the inputs, at the size the picture was searched at.
    ink = Image.open(tmp_path / "seen" / "amount-ink.png")
    assert max(ink.size) == min(512, max(picture.size)) and ink.mode == "RGB"
    assert abs(ink.width / ink.height - picture.width / picture.height) < 0.02


def test_a_dash_set_in_type_is_shown(cnn_checkpoint):
    """A phone number and a date typed with dashes, in test_reading's fonts: type sets a dash a little
    below the digits' middle, where a dot would be a scrap of a stroke."""
    made = []
    for size in (24, 48, 96):
        for font in fonts(size):
            for text in ("555-0142", "2026-12-08"):
                page = Image.new("L", (int(font.getlength(text)) + 2 * size, 2 * size), 250)
                ImageDraw.Draw(page).text((size, size // 2), text, font=font, fill=20)
                made.append((pictures.jpeg(page), text))
    results = read_all(cnn_checkpoint, [picture for picture, _ in made])
    shown = 100 * np.mean([r["text"] == text for r, (_, text) in zip(results, made)])
    print(f"\n{len(made)} phone numbers and dates typed with dashes: {shown:.1f}% shown with them")
    assert shown >= 90
