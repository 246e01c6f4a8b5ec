"""predict.py on pictures stored as black and white dots: a 1-bit scan, a fax, Pillow's convert("1").

Such a picture has no greys: a grey pen, a pencil, a printed pattern or the lines of a notebook
become scattered black dots (dithering), and a grey stroke a sieve of them. images.undithered turns
the dots back into greys before anything is read. Every picture is made here, from MNIST's test
digits and the papers of tests/papers.py. Run with -s to see the figures.
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image, ImageDraw

import images
import papers
import pictures
from conftest import png, read_all
from test_numbers import numbers


def dithered(picture: Image.Image) -> Image.Image:
    """The picture as a 1-bit scanner stores it: each pixel black or white, greys as scattered dots
    (Pillow's Floyd-Steinberg dithering)."""
    return picture.convert("L").convert("1")


def test_dots_become_greys_and_black_and_white_strokes_stay_as_they_are(test_digits):
    # Bands of grey from white to black, dithered: each comes back as its own grey, smooth, where
    # its dots alone had only 0 and 1.
    shades = np.linspace(0, 1, 8)
    bands = np.repeat(np.repeat(shades, 40)[None, :], 120, axis=0)
    grey = images.to_grey(dithered(Image.fromarray((255 * bands).astype(np.uint8))))
    for k, shade in enumerate(shades):
        band = grey[20:100, 40 * k + 8:40 * k + 32]  # away from the neighbouring bands and the edges
        assert abs(band.mean().item() - shade) < 0.05
        assert band.std().item() < 0.15  # its dots alone: up to 0.5
    # Strokes in black and white, one pixel wide or broad, and digits cut out of MNIST's greys at one
    # level (a scanner that thresholds instead of dithering): the same picture, not blurred.
    page = Image.new("1", (300, 200), 1)
    draw = ImageDraw.Draw(page)
    draw.line([(20, 20), (150, 180), (160, 30), (280, 170)], fill=0, width=1)
    draw.ellipse((180, 20, 260, 120), outline=0, width=5)
    cut = [Image.fromarray(255 - digit).resize((140, 140), Image.BICUBIC).point(lambda v: 255 * (v > 128))
           for digit in test_digits[0][:20]]
    for picture in [page] + cut:
        as_it_is = torch.from_numpy(np.asarray(picture.convert("L"), dtype=np.float32) / 255)
        assert torch.equal(images.to_grey(picture), as_it_is)


def amount_scanned(digits: list[np.ndarray], labels: list[int], rng: np.random.Generator) -> Image.Image:
    """A cheque's amount (papers.amount_on_pattern: a grey ballpoint on a printed pattern) as a 1-bit scan."""
    return dithered(papers.amount_on_pattern(digits, labels, rng)[0])


def notebook_scanned(digits: list[np.ndarray], labels: list[int], rng: np.random.Generator) -> Image.Image:
    """A number on ruled or squared paper in uneven light, its lines of a printed colour, as a 1-bit scan."""
    paper = "ruled" if rng.random() < 0.5 else "squared"
    return dithered(papers.on_paper(pictures.separated_number(digits, rng), rng, paper))


def pencil_scanned(digits: list[np.ndarray], labels: list[int], rng: np.random.Generator) -> Image.Image:
    """A digit as a person writes it (pictures.person_like) in a pencil half as dark, as a 1-bit scan."""
    return dithered(Image.eval(pictures.person_like(digits[0], rng), lambda v: 255 - (255 - v) // 2))


def test_a_1_bit_scan_of_numbers_and_digits_is_read(test_digits, cnn_checkpoint):
    made = {"amounts 40-60 pixels high on a printed pattern": (amount_scanned, 100, 2, 6, 31),
            "numbers on notebook paper": (notebook_scanned, 60, 2, 5, 32),
            "digits in a pencil half as dark as MNIST's pen": (pencil_scanned, 100, 1, 1, 33)}
    files, truths, kinds = [], [], []
    for what, (write, count, low, high, seed) in made.items():
        for digits, labels, rng in numbers(test_digits, count, low, high, seed):
            files.append(png(write(digits, labels, rng)))
            truths.append("".join(map(str, labels)))
            kinds.append(what)
    results = read_all(cnn_checkpoint, files)
    read = {}
    for what in made:
        right = [r["prediction"] == t for r, t, k in zip(results, truths, kinds) if k == what]
        read[what] = 100 * float(np.mean(right))
        print(f"\n{len(right)} {what}, as a 1-bit scan: {read[what]:.1f}% read exactly", end="")
    # The networks of seeds 1-3 on an AMD Zen 4 read 98.0/97.0/97.0%, 98.3/98.3/98.3% and
    # 99.0/99.0/100.0%; with the dots taken as they were, 10-12%, 0-2% and 88-90% (docs/reading.md).
    assert read["amounts 40-60 pixels high on a printed pattern"] >= 90
    assert read["numbers on notebook paper"] >= 93
    assert read["digits in a pencil half as dark as MNIST's pen"] >= 96
