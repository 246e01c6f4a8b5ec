"""predict.py on the marks between and after a number's digits: thousands separators and decimal
points, a date's slashes and dashes, a % sign. None of them is a digit; the line printed for a
person shows them, and JSON's `prediction` holds the digits only.

Every picture is made here (tests/pictures.py, tests/papers.py) from MNIST's test digits and our
own pens. Run with -s to see the figures.
"""

from __future__ import annotations

import functools
import json
from typing import Callable

import numpy as np
import pytest
from PIL import Image, ImageDraw

import papers
import pictures
import predict
import prepare
from conftest import read_all, run_predict
from test_numbers import exact, numbers
from test_reading import letter_crop


def read_with_separators(checkpoint, test_digits, count: int, low: int, high: int, seed: int,
                         write: Callable) -> tuple[float, float]:
    """(digits read exactly, and with the separators too) in %, of `count` numbers of `low` to `high`
    digits, each pictured by `write(digits, labels, rng)` -> (picture, the text it shows)."""
    made = [(picture, labels, text) for digits, labels, rng in numbers(test_digits, count, low, high, seed)
            for picture, text in [write(digits, labels, rng)]]
    results = read_all(checkpoint, [pictures.jpeg(picture) for picture, _, _ in made])
    digits = exact(results, ["".join(map(str, labels)) for _, labels, _ in made])
    written = 100 * float(np.mean([r.get("text") == text for r, (_, _, text) in zip(results, made)]))
    return digits, written


def test_amounts_on_a_printed_pattern_with_separators(test_digits, cnn_checkpoint):
    digits, written = read_with_separators(cnn_checkpoint, test_digits, 150, 2, 6, 22, papers.amount_on_pattern)
    print(f"\n150 amounts 40-60 pixels high on a wavy or dotted pattern, with separators: "
          f"{digits:.1f}% of the digits read exactly, {written:.1f}% with the separators too")
    # The aim is 90%. The networks of seeds 1-3 on an AMD processor read 96.0-98.0% of the digits and
    # 91.3-92.7% with their separators.
    assert digits >= 88
    assert written >= 84


@pytest.mark.parametrize("apart", [False, True])
def test_a_percent_sign_after_a_number_is_no_digit(test_digits, cnn_checkpoint, apart):
    # Read as digits, a % drawn after a number whose stroke touches a ring added an 8 or a 96 to it (7%
    # as 78, 51% as 5196); segment.is_percent tells it by its two small rings, one high on the left
    # and one low on the right. Its stroke was taken for a box around a ring that stood clear of it
    # (around.sides), and rings clear of the stroke are marks of their own (segment.joined_percent).
    # Seeds 1-3 (Intel networks): 98.3/98.3% each, apart 95.0/95.0% (before: 95.0/71.7%, apart 60.0/53.3%).
    digits, written = read_with_separators(cnn_checkpoint, test_digits, 60, 1, 4, 45,
                                           functools.partial(pictures.with_percent, apart=apart))
    print(f"\n60 numbers followed by a % sign{' in three strokes' if apart else ''}: {digits:.1f}% of the digits "
          f"read exactly, {written:.1f}% with the %")
    assert digits >= 88 and written >= 85


def printed_percent(digits: list[np.ndarray], labels: list[int], rng: np.random.Generator) -> tuple[Image.Image, str]:
    """A number followed by a % sign set in one of test_reading's fonts, as a form prints it."""
    height = float(rng.integers(45, 90))
    crops = pictures.scaled_crops(digits, height, rng) + [letter_crop("%", height, rng)]
    darkness = pictures.write(crops, [int(rng.uniform(0.15, 0.4) * height) for _ in crops[1:]], height, 20, rng)
    return Image.fromarray((255 * (1 - darkness)).astype(np.uint8)), "".join(map(str, labels)) + "%"


def test_a_percent_sign_set_in_type_after_a_number_is_no_digit(test_digits, cnn_checkpoint):
    # A typeset % is wider than a written one, its rings larger and closer: in three parts apart,
    # segment takes it as percent_alone does (is_percent, loose). Seeds 1-3 on an AMD processor:
    # 65.0% with the % for each (before: 13.3%); most of the rest, fonts whose % is wider still, or
    # whose rings are as tall as most of a digit.
    digits, written = read_with_separators(cnn_checkpoint, test_digits, 60, 1, 3, 46, printed_percent)
    print(f"\n60 numbers followed by a % sign set in type: {digits:.1f}% of the digits read exactly, "
          f"{written:.1f}% with the %")
    assert written >= 55


def test_dates_and_phone_numbers(test_digits, cnn_checkpoint):
    digits, written = read_with_separators(cnn_checkpoint, test_digits, 100, 4, 7, 23, pictures.date_or_phone)
    print(f"\n100 dates and phone numbers (slashes, dashes): {digits:.1f}% of the digits read exactly, "
          f"{written:.1f}% with the separators too")
    assert digits >= 85
    assert written >= 75


def test_a_comma_that_touches_a_digit_is_taken_out_of_it():
    picture = Image.new("L", (260, 200), 255)
    draw = ImageDraw.Draw(picture)
    for k in range(3):  # three rings 40 pixels wide, 50 high, 20 apart, from row 60 to row 110
        draw.ellipse((30 + 60 * k, 60, 70 + 60 * k, 110), outline=0, width=5)
    draw.line((84, 128, 94, 100), fill=0, width=5)  # a comma that runs into the middle ring at its bottom left
    found = prepare.prepare_digits(picture)
    assert found.separators == [(1, ",")]
    assert [item.box[3] <= 116 for item in found.items] == [True] * 3  # none holds the tail, down to row 130


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
