"""Several lines of writing in one picture: a list of numbers, one under another, on plain paper and
in a notebook. Each line is read, top to bottom: `prediction` and `text` hold a line break between
them, and predict.py prints each under the one before. Words, scribbles and a face's eyes beside a
number are left out. First segment.lines_of on boxes made here, then predict.py on pictures of
MNIST's digits and letters set in type."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
from PIL import Image

import papers
import pictures
import segment
from conftest import ROOT, png, read_all
from test_reading import CHARACTERS, letter_crop


def boxes(*tops_and_heights: tuple[int, int, int]) -> list[segment.Group]:
    """Groups as segment.group_parts gives them, largest first: (top, left, height) each, as wide as
    half their height."""
    return [segment.Group(top, left, top + height, left + height // 2, [k + 1], float(height ** 2))
            for k, (top, left, height) in enumerate(tops_and_heights)]


def test_lines_are_found_around_the_largest_digit_first():
    lower = boxes((100, 10, 50), (110, 60, 40), (0, 30, 45), (5, 80, 40), (50, 200, 10))
    lines = segment.lines_of(lower, [])
    # The largest digit's line first, its digits left to right; the 10-pixel scrap is no line to read.
    assert [[g.left for g in digits] for digits, _ in lines] == [[10, 60], [30, 80]]
    # A line much smaller than the first (segment.SMALLER) is not read at all.
    assert len(segment.lines_of(boxes((100, 10, 50), (0, 30, 20)), [])) == 1
    # However many rows of writing, at most MAX_LINES lines are read.
    rows = boxes(*[(60 * k, 10, 50) for k in range(30)])
    assert len(segment.lines_of(rows, [])) == segment.MAX_LINES


def test_a_digit_under_another_is_the_next_lines_not_a_piece_of_it():
    def grouped(*parts: tuple[int, int, int, int]) -> list[list[int]]:  # each part's top, left, bottom, right
        corners = np.array(parts)
        mass = ((corners[:, 2] - corners[:, 0]) * (corners[:, 3] - corners[:, 1])).astype(float)
        groups, _ = segment.group_parts(np.argsort(-mass, kind="stable"), corners, mass, 400)
        return sorted(sorted(group.parts) for group in groups)
    # Two digits 60 tall, one under the other, 20 apart (a list written close): two digits.
    assert grouped((0, 0, 60, 40), (80, 0, 140, 40)) == [[1], [2]]
    # An 8 or a 3 broken at its waist: two halves, 3 apart, one digit.
    assert grouped((0, 0, 28, 40), (31, 0, 60, 40)) == [[1, 2]]
    # A 5's flag, a small part over the rest: one digit.
    assert grouped((15, 0, 60, 40), (0, 5, 8, 40)) == [[1, 2]]
    # A 5's foot drawn apart, a stroke lying flat, shorter than the rest: one digit.
    assert grouped((0, 0, 86, 140), (101, 5, 145, 130)) == [[1, 2]]
    # Two lines of digits that touch, each line one wide part: two.
    assert grouped((0, 0, 60, 300), (80, 0, 140, 280)) == [[1], [2]]


def ink_rows(darkness: np.ndarray) -> np.ndarray:
    """A line of writing (darkness) cut to the rows that hold its ink."""
    rows = np.nonzero(darkness.max(1) > 0.05)[0]
    return darkness[rows[0]:rows[-1] + 1]


def stacked(rows: list[np.ndarray], height: float, rng: np.random.Generator) -> np.ndarray:
    """Lines of writing (darkness), one under another as in a list: 0.25-1.0 of the digits' `height`
    of paper between each one's ink and the next's, each begun up to a digit's height further right
    or left, a margin around them all."""
    rows = [ink_rows(row) for row in rows]
    gaps = [int(rng.uniform(0.25, 1.0) * height) for _ in rows[1:]] + [0]
    indents = [int(rng.uniform(0, height)) for _ in rows]
    margin = int(rng.integers(20, 40))
    canvas = np.zeros((2 * margin + sum(r.shape[0] for r in rows) + sum(gaps),
                       2 * margin + max(r.shape[1] + i for r, i in zip(rows, indents))), dtype=np.float32)
    y = margin
    for row, gap, indent in zip(rows, gaps, indents):
        canvas[y:y + row.shape[0], margin + indent:margin + indent + row.shape[1]] = row
        y += row.shape[0] + gap
    return canvas


def list_of_numbers(test_digits, rng: np.random.Generator) -> tuple[np.ndarray, float, str]:
    """Two or three numbers of 2-5 MNIST test digits, written apart by one hand, one under another:
    their darkness, the digits' height and the text they read."""
    digits, labels = test_digits
    height, rows, texts = float(rng.integers(45, 90)), [], []
    for _ in range(int(rng.integers(2, 4))):
        chosen = rng.choice(len(digits), int(rng.integers(2, 6)), replace=False)
        rows.append(pictures.separated_number([digits[i] for i in chosen], rng, height))
        texts.append("".join(str(labels[i]) for i in chosen))
    return stacked(rows, height, rng), height, "\n".join(texts)


def as_picture(darkness: np.ndarray) -> Image.Image:
    return Image.fromarray((255 * (1 - darkness)).astype(np.uint8))


def read_lists(checkpoint, made: list[tuple[Image.Image, str]], what: str) -> float:
    """The % of pictures whose every line was read exactly, in order, printed as `what`."""
    results = read_all(checkpoint, [pictures.jpeg(picture) for picture, _ in made])
    exact = 100 * float(np.mean([r["text"] == text for r, (_, text) in zip(results, made)]))
    first = 100 * float(np.mean([(r["text"] or "").split("\n")[0] == text.split("\n")[0]
                                 for r, (_, text) in zip(results, made)]))
    print(f"\n{len(made)} {what}: {exact:.1f}% read exactly, line by line; the first line right in {first:.1f}%")
    return exact


def test_a_list_of_numbers_is_read_line_by_line(test_digits, cnn_checkpoint):
    # Only the line of the largest digit was read, and the others left out without a word: none of
    # these read whole. A list is read line by line, top to bottom.
    rng = np.random.default_rng(50)
    made = [(as_picture(darkness), text) for darkness, _, text in (list_of_numbers(test_digits, rng)
                                                                    for _ in range(60))]
    assert read_lists(cnn_checkpoint, made, "lists of 2-3 numbers of 2-5 digits, one under another") >= 85


def test_a_list_in_a_notebook_is_read_line_by_line(test_digits, cnn_checkpoint):
    # The same lists written in a notebook, its ruled or squared lines crossing the digits.
    rng = np.random.default_rng(51)
    made = []
    for _ in range(60):
        darkness, height, text = list_of_numbers(test_digits, rng)
        paper = str(rng.choice(["ruled", "squared"]))
        made.append((papers.on_paper(darkness, rng, paper, spacing=int(rng.uniform(0.45, 0.8) * height)), text))
    assert read_lists(cnn_checkpoint, made, "lists of numbers in a notebook, lines crossing them") >= 80


def test_words_beside_a_number_are_left_out(test_digits, cnn_checkpoint):
    # A line is read besides the largest digit's only where the network takes all of it for digits,
    # and the largest digit's line gives way where it is mostly no digits: a word set in type above or
    # below a number, lighter or bolder than the pen, is left out.
    digits, labels = test_digits
    rng = np.random.default_rng(52)
    made = []
    for _ in range(60):
        height = float(rng.integers(45, 90))
        chosen = rng.choice(len(digits), int(rng.integers(2, 6)), replace=False)
        number = pictures.separated_number([digits[i] for i in chosen], rng, height)
        letters = [letter_crop(CHARACTERS[i], height * rng.uniform(0.6, 0.9), rng)
                   for i in rng.integers(0, 32, rng.integers(2, 6))]  # no symbols
        word = pictures.write(letters, [int(0.2 * height)] * (len(letters) - 1), height, 20, rng)
        rows = [word, number] if rng.random() < 0.5 else [number, word]
        made.append((as_picture(stacked(rows, height, rng)), "".join(str(labels[i]) for i in chosen)))
    results = read_all(cnn_checkpoint, [pictures.jpeg(picture) for picture, _ in made])
    alone = 100 * float(np.mean([r["prediction"] == text for r, (_, text) in zip(results, made)]))
    print(f"\n60 numbers with a word above or below them: {alone:.1f}% read as the number alone")
    assert alone >= 85


def test_predict_prints_each_line_under_the_one_before(test_digits, cnn_checkpoint, tmp_path):
    darkness, _, text = list_of_numbers(test_digits, np.random.default_rng(4))
    (tmp_path / "list.png").write_bytes(png(as_picture(darkness)))
    command = [sys.executable, "predict.py", "--checkpoint", str(cnn_checkpoint), str(tmp_path / "list.png")]
    reading = json.loads(subprocess.run(command + ["--json"], cwd=ROOT, capture_output=True, text=True,
                                        timeout=300).stdout)
    assert reading["prediction"].count("\n") == reading["text"].count("\n") == text.count("\n") == 2
    assert len(reading["digits"]) == len(reading["prediction"].replace("\n", ""))
    # For a person: the file's name once, then each line of writing under the one before.
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    lead = f"{tmp_path / 'list.png'}: "
    printed = result.stdout.splitlines()
    assert printed[0].startswith(lead) and all(row.startswith(" " * len(lead)) for row in printed[1:])
    assert [row[len(lead):].split("  (")[0] for row in printed] == reading["text"].split("\n")
