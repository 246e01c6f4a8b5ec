"""predict.py on numbers as people really write them: touching digits, notebook paper, forms, printed
patterns, small and faint writing; and the paper itself, which is never a digit. (The marks between
and after the digits, separators: test_separators.py; a % sign: test_percent.py; parentheses:
test_signs.py.)

Every picture is made here (tests/pictures.py, tests/papers.py) from MNIST's test digits and our
own pens and papers. Run with -s to see the figures.
"""

from __future__ import annotations

import io
import time

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

import images
import predict
import prepare
import papers
import pictures
from conftest import read_all, run_script


SLANT = 0.1  # how far each corner of a slanted photo's view moves, of the picture's size (papers.on_paper)


def numbers(test_digits, count: int, low: int, high: int, seed: int):
    """`count` random choices of `low` to `high` MNIST test digits: their images and their labels."""
    digits, labels = test_digits
    rng = np.random.default_rng(seed)
    for _ in range(count):
        chosen = rng.choice(len(digits), int(rng.integers(low, high + 1)), replace=False)
        yield [digits[i] for i in chosen], [int(labels[i]) for i in chosen], rng


def exact(results: list[dict], truths: list[str]) -> float:
    return 100 * float(np.mean([r["prediction"] == t for r, t in zip(results, truths)]))


def test_touching_and_overlapping_digits_are_cut_apart(test_digits, cnn_checkpoint):
    files, truths = [], []
    for digits, labels, rng in numbers(test_digits, 200, 2, 6, seed=20):
        files.append(pictures.jpeg(pictures.touching_number(digits, rng)))
        truths.append("".join(map(str, labels)))
    results = read_all(cnn_checkpoint, files)
    found = 100 * np.mean([len(r.get("digits", [])) == len(t) for r, t in zip(results, truths)])
    print(f"\n200 numbers of 2 to 6 touching or overlapping digits: {exact(results, truths):.1f}% read exactly, "
          f"the right count of digits in {found:.1f}%")
    # The aim is 90%. The AMD Zen 5's networks of seeds 1-3 read 92.0/91.5/93.0% (91.5/90.5/92.0%
    # before other digits vouched for two 1s that touch, prepare.vouched_groups); on other samples
    # of such numbers they fall short of it at times (docs/reading.md).
    assert exact(results, truths) >= 86


def test_two_1s_that_touch_are_cut_apart_beside_other_digits(test_digits, cnn_checkpoint):
    """Two 1s run together are one group that the network refuses whole, often too narrow to be
    searched for cuts, and split into 1s alone it costs as a letter's strokes would: the other
    digits of the number, read surely, vouch for them (prepare.vouched_groups)."""
    digits, labels = test_digits
    ones, others = np.nonzero(labels == 1)[0], np.nonzero(labels != 1)[0]
    rng = np.random.default_rng(5)
    files, truths = [], []
    for _ in range(100):
        rest = list(rng.choice(others, int(rng.integers(1, 4)), replace=False))
        at = int(rng.integers(0, len(rest) + 1))
        chosen = rest[:at] + list(rng.choice(ones, 2, replace=False)) + rest[at:]
        files.append(pictures.jpeg(pictures.touching_number([digits[i] for i in chosen], rng)))
        truths.append("".join(str(labels[i]) for i in chosen))
    results = read_all(cnn_checkpoint, files)
    print(f"\n100 touching numbers, two 1s side by side in each: {exact(results, truths):.1f}% read exactly")
    # The AMD Zen 5's networks of seeds 1-3 read 80/80/78% (66/64/66% before the other digits vouched).
    assert exact(results, truths) >= 74


def test_a_wide_single_digit_stays_one_digit(test_digits, cnn_checkpoint):
    digits, labels = test_digits
    wide = [i for i in range(len(digits)) if labels[i] in (0, 4, 7)][:90]
    files = []
    for i in wide:  # written flat: half as wide again as it is tall
        crop = Image.fromarray(255 - pictures.ink_crop(digits[i]))
        page = Image.new("L", (400, 200), 255)
        page.paste(crop.resize((300, 120), Image.BICUBIC), (50, 40))
        files.append(pictures.jpeg(page))
    results = read_all(cnn_checkpoint, files)
    one = 100 * np.mean([len(r.get("digits", [])) == 1 for r in results])
    right = exact(results, [str(labels[i]) for i in wide])
    print(f"\n90 zeros, fours and sevens written flat: {one:.1f}% found as one digit, {right:.1f}% read right")
    assert one >= 95


def squeezed(digit: np.ndarray, times: float = 0.65) -> np.ndarray:
    """An MNIST digit as a narrower hand writes it: squeezed sideways to `times` its width."""
    return np.asarray(Image.fromarray(digit).resize((round(28 * times), 28), Image.BILINEAR))


def test_narrow_writing_is_read_widened(test_digits, cnn_checkpoint, monkeypatch):
    """Many people write narrower than MNIST's writers: a narrow piece is also read widened
    (prepare.NARROWEST), and the network keeps the reading it is surer of. Read as they are, such
    numbers fail a third of the time where their digits touch."""
    files, truths = {"apart": [], "touching": []}, []
    for digits, labels, rng in numbers(test_digits, 200, 2, 5, seed=28):
        narrow = [squeezed(digit) for digit in digits]
        files["apart"].append(pictures.jpeg(Image.fromarray((255 * (1 - pictures.separated_number(narrow, rng)))
                                                            .astype(np.uint8))))
        files["touching"].append(pictures.jpeg(pictures.touching_number(narrow, rng)))
        truths.append("".join(map(str, labels)))
    read = {way: exact(read_all(cnn_checkpoint, made), truths) for way, made in files.items()}
    monkeypatch.setattr(prepare, "NARROWEST", prepare.ONE_WIDE)  # no piece is narrow: none widened
    plain = {way: exact(read_all(cnn_checkpoint, made), truths) for way, made in files.items()}
    print(f"\n200 numbers written narrow (0.65 of MNIST's width): {read['apart']:.1f}% read exactly written apart, "
          f"{read['touching']:.1f}% touching; never widened: {plain['apart']:.1f}% and {plain['touching']:.1f}%")
    # The AMD EPYC Zen 5's networks of seeds 1-3 read 96.0/93.5/93.5% and 81.0/75.0/77.5%; never widened,
    # 92.0/87.5/89.5% and 67.5/62.5/69.5%.
    assert read["apart"] >= max(88, plain["apart"]) and read["touching"] >= max(65, plain["touching"] + 5)


def test_a_narrow_shape_alone_is_widened_only_to_be_read_surer():
    """prepare.surer with a judge of our own, surer of wider shapes: a narrow piece is read widened
    where that reads surer, except alone in its picture, where it may not turn a refused shape into
    a digit; a piece as wide as most digits is read as it is."""
    def judge(pixels: torch.Tensor):  # sure in proportion to the columns inked, a digit from 10 of 20 up
        surely = (pixels > 0.3).any(1).sum(1) / 20
        return surely, surely >= 0.5, torch.zeros(len(pixels), dtype=torch.long)

    def ring(width: int) -> torch.Tensor:  # a 0 drawn 40 pixels tall with a pen 4 pixels wide
        ink = torch.zeros(60, 60)
        ink[10:50, 10:10 + width], ink[14:46, 14:6 + width] = 1.0, 0.0
        return ink

    narrow = ring(18)  # 0.45 of its height: as narrow as prepare.is_narrow takes
    mnist = lambda mask, widen=False: prepare.to_mnist(narrow, mask, widen)  # noqa: E731
    (plain,), _ = prepare.surer([narrow > 0], mnist, judge, always=False, alone=True)
    (wide,), (surely, is_digit, _) = prepare.surer([narrow > 0], mnist, judge, always=False)
    refused = not judge(plain[None])[1].item()
    assert refused and torch.equal(plain, mnist(narrow > 0))  # alone: not widened into a digit
    assert is_digit.item() and surely.item() > judge(plain[None])[0].item()  # among others: widened
    broad = ring(30)  # 0.75 of its height
    (as_is,), judged = prepare.surer([broad > 0], lambda mask, widen=False: prepare.to_mnist(broad, mask, widen),
                                     judge, always=False)
    assert torch.equal(as_is, prepare.to_mnist(broad, broad > 0)) and judged is None


@pytest.mark.parametrize("paper, turned, slanted", [("ruled", 0, 0), ("squared", 0, 0), ("squared", 6, 0),
                                                     ("squared", 0, SLANT)])
def test_numbers_on_notebook_paper(test_digits, cnn_checkpoint, paper, turned, slanted):
    # The aims are 95% and 98%. Seeds 1-3 read 97.3-99.3% of the numbers and 98.7-99.3% of the digits:
    # these bars leave room for another seed, or another processor's slightly different network.
    # The photo turned by 6 degrees: 96.7-98.7% of the numbers and 96.7-98.7% of the digits; taken
    # at a slant, the grid's lines converging, 97.3-98.0% and 98.0-98.7% (94.0-95.3% and 98.0% before
    # the lines were followed to their ends; 80.0-82.7% and 96.0-97.3% when lines were looked for at
    # one tilt only).
    bars = {"numbers": 88, "single digits": 92} if turned or slanted else {"numbers": 93, "single digits": 96}
    for low, high, name in ((2, 5, "numbers"), (1, 1, "single digits")):
        files, truths = [], []
        for digits, labels, rng in numbers(test_digits, 150, low, high, seed=21 + high):
            angle = turned * rng.choice([-1, 1]) if turned else 0  # the camera turned one way or the other
            page = papers.on_paper(pictures.separated_number(digits, rng), rng, paper, turned=angle, slanted=slanted)
            files.append(pictures.jpeg(page))
            truths.append("".join(map(str, labels)))
        results = read_all(cnn_checkpoint, files)
        how = f", the photo turned by {turned} degrees" if turned else ", the photo taken at a slant" if slanted else ""
        print(f"\n150 {name} on {paper} paper, lines crossing them, in uneven light{how}: "
              f"{exact(results, truths):.1f}% read exactly")
        assert exact(results, truths) >= bars[name]


def test_a_faint_pencil_on_a_darker_grid_reads_as_a_dark_pen(test_digits, cnn_checkpoint):
    # A pencil may write lighter than the paper's lines. Where a stroke crosses a line the two add up,
    # and those crossings had set how bright a stroke is: the pencil's digits came out grey, unsure.
    # And a red margin line darker than the pencil was left as ink, read as a 1. Seeds 1-3 read 94% in
    # the pencil and 92-95% in the pen (82-83% in the pencil before either, 87-88% with the first alone,
    # 92-93% before a pencil's stroke across the margin line beside a grid line was kept).
    files = {"dark": [], "faint": []}
    truths = []
    for k, (digits, labels, rng) in enumerate(numbers(test_digits, 100, 2, 5, seed=27)):
        written, faint = pictures.separated_number(digits, rng), rng.uniform(0.35, 0.55)
        for pen, strength in (("dark", 1.0), ("faint", faint)):  # the same page under each
            files[pen].append(pictures.jpeg(papers.on_paper(written * strength, np.random.default_rng(k), "squared")))
        truths.append("".join(map(str, labels)))
    read = {pen: exact(read_all(cnn_checkpoint, made), truths) for pen, made in files.items()}
    print(f"\n100 numbers on squared paper in a pencil 0.35-0.55 as dark as a pen: {read['faint']:.1f}% read "
          f"exactly; in the pen: {read['dark']:.1f}%")
    assert read["faint"] >= read["dark"] - 6  # room for another seed or processor; the code before: 9-10 below


def test_numbers_in_a_forms_comb_fields(test_digits, cnn_checkpoint):
    """A form's printed line with ticks between the cells: neither the line nor its ticks are digits,
    whether printed in a colour, in grey, or in black as thick as the pen."""
    colours = {"blue": (80, 110, 220), "red": (230, 120, 120), "grey": (140, 140, 140), "black": (25, 25, 25)}
    files, truths = [], []
    for k, (digits, labels, rng) in enumerate(numbers(test_digits, 100, 3, 6, seed=26)):
        files.append(pictures.jpeg(papers.form_field(digits, rng, list(colours.values())[k % 4])))
        truths.append("".join(map(str, labels)))
    results = read_all(cnn_checkpoint, files)
    each = {name: exact(results[k::4], truths[k::4]) for k, name in enumerate(colours)}
    print(f"\n100 numbers in a form's comb fields: {exact(results, truths):.1f}% read exactly ("
          + ", ".join(f"{name} print {right:.0f}%" for name, right in each.items()) + ")")
    assert exact(results, truths) >= 85 and min(each.values()) >= 76


def test_small_and_faint_numbers_read_as_well_as_large_ones(test_digits, cnn_checkpoint):
    small, large, truths = [], [], []
    for digits, labels, rng in numbers(test_digits, 150, 2, 5, seed=24):
        small.append(pictures.jpeg(pictures.small_and_faint(digits, rng), quality=60))
        large.append(pictures.jpeg(Image.fromarray((255 * (1 - pictures.separated_number(digits, rng, 90.0)))
                                                   .astype(np.uint8))))
        truths.append("".join(map(str, labels)))
    small_right, large_right = exact(read_all(cnn_checkpoint, small), truths), exact(read_all(cnn_checkpoint, large),
                                                                                    truths)
    print(f"\n150 numbers 30-60 pixels high, grey ballpoint on grey paper, JPEG quality 60: {small_right:.1f}% "
          f"read exactly; the same numbers 90 pixels high in black on white: {large_right:.1f}%")
    assert small_right >= large_right - 3


def test_a_box_a_ring_or_a_line_drawn_around_a_number_is_no_digit(test_digits, cnn_checkpoint):
    """People box an answer, ring a number or underline a total, with the pen they wrote it with.
    Clear of the digits, the mark is left out, and the number reads as it does without it. (Before,
    a box or a ring made one group with every digit inside it, and a line with the digits above it:
    0, 0 and 10% of these read, seed 1.) A box, a line or a ring drawn by hand that runs into the
    digits is taken out of them (before: none boxed, 12-13% underlined and 3% ringed read, seeds 1-3)."""
    marks = ["box", "ring", "under", "touching box", "touching under", "touching ring"]
    files, truths = {mark: [] for mark in [None] + marks}, []
    hand = np.random.default_rng(42)  # for the touching marks: the other pictures stay as they were
    for digits, labels, rng in numbers(test_digits, 60, 2, 5, seed=41):
        darkness = pictures.separated_number(digits, rng)
        files[None].append(pictures.jpeg(Image.fromarray((255 * (1 - darkness)).astype(np.uint8))))
        for mark in marks[:3]:
            files[mark].append(pictures.jpeg(pictures.marked(darkness, rng, mark)))
        for mark in marks[3:]:
            files[mark].append(pictures.jpeg(pictures.marked(darkness, hand, mark.split()[1], touching=True)))
        truths.append("".join(map(str, labels)))
    read = {mark: exact(read_all(cnn_checkpoint, pictures_), truths) for mark, pictures_ in files.items()}
    print(f"\n60 numbers read {read[None]:.1f}% as they are; {read['box']:.1f}% with a box, {read['ring']:.1f}% "
          f"with a ring, {read['under']:.1f}% underlined; {read['touching box']:.1f}% in a box, "
          f"{read['touching under']:.1f}% over a line, {read['touching ring']:.1f}% in a ring that touch the digits")
    assert min(read[mark] for mark in marks[:3]) >= read[None] - 5
    assert min(read[mark] for mark in marks[3:]) >= read[None] - 15


def test_paper_alone_is_no_digit(cnn_checkpoint):
    """A page of ruled or squared paper, or a printed pattern, without writing: nothing to read."""
    rng = np.random.default_rng(25)
    blank = np.zeros((300, 400), dtype=np.float32)
    pages = [papers.on_paper(blank, rng, paper, spacing=int(rng.integers(25, 45)))
             for paper in ("ruled", "squared") for _ in range(5)]
    pages += [Image.fromarray((255 * (1 - papers.security_pattern((200, 500), rng))).astype(np.uint8))
              for _ in range(5)]
    refused = 0
    for page in pages:
        try:
            found = predict.load_reader(cnn_checkpoint).prepare(images.read_image(io.BytesIO(pictures.jpeg(page))))
        except images.ImageError:
            refused += 1
            continue
        assert not found.items, "paper was read as a digit"
    print(f"\n{len(pages)} empty pages: {refused} answered 'no digit found', the rest found nothing either")
    assert refused == len(pages)


def test_a_notebook_photo_shows_the_lines_it_removed(test_digits, cnn_checkpoint, tmp_path):
    digits, labels = test_digits
    rng = np.random.default_rng(26)
    photo = papers.on_paper(pictures.separated_number([digits[i] for i in range(3)], rng, 80.0), rng, "squared")
    found = predict.load_reader(cnn_checkpoint).prepare(photo)
    assert found.paper.sum() > 0.5 * found.paper.shape[1]  # at least a line's worth of paper removed
    picture = np.asarray(predict.ink_picture(found))
    pink = (picture[..., 0] == 255) & (picture[..., 1] == 170)
    assert pink.sum() == int((found.paper & (found.ink == 0)).sum())


@pytest.mark.parametrize("kind", ["dots", "grid", "noise", "specks", "rings", "combs"])
def test_any_picture_is_read_in_bounded_time(cnn_checkpoint, kind):
    """Pictures made to cost the most: thousands of parts, a grid of lines, noise, scattered specks,
    and a row of rings run together: many places to cut."""
    size = 512
    page = Image.new("L", (size, size), 255)
    draw = ImageDraw.Draw(page)
    rng = np.random.default_rng(27)
    # Dots and specks of 2x2 pixels: pixels alone, a 1-bit scan's greys, are averaged away (images.undithered).
    if kind == "dots":  # a dot every 6 pixels: 7,000 parts
        for y in range(0, size, 6):
            for x in range(0, size, 6):
                draw.rectangle((x, y, x + 1, y + 1), fill=0)
    elif kind == "grid":
        for v in range(0, size, 9):
            draw.line((v, 0, v, size), fill=0)
            draw.line((0, v, size, v), fill=0)
    elif kind == "rings":  # the longest search for cuts we know that stays within the budget
        for x in range(20, size - 80, 48):
            draw.ellipse((x, 226, x + 60, 286), outline=0, width=5)
    elif kind == "combs":  # lines with ticks standing on them every 3-5 pixels: 3,000 marks to compare
        for y in range(20, size, 20):
            draw.line((0, y, size, y), fill=0)
            for x in np.cumsum(rng.integers(3, 6, size // 3)):
                draw.line((int(x), y - 10, int(x), y), fill=0)
        draw.ellipse((200, 200, 300, 330), outline=0, width=7)  # and something written
    elif kind == "noise":
        page = Image.fromarray(rng.integers(0, 256, (size, size)).astype(np.uint8))
    else:
        specks = np.where(rng.random((size // 2, size // 2)) < 0.05, 0, 255).astype(np.uint8)
        page = Image.fromarray(specks.repeat(2, 0).repeat(2, 1))
    reader = predict.load_reader(cnn_checkpoint)
    start = time.perf_counter()
    try:
        found = reader.prepare(page)
        predict.read(reader, kind, found, predict.probabilities(reader, found.items))
    except images.ImageError:
        pass
    seconds = time.perf_counter() - start
    print(f"\n{kind}: {seconds:.2f} s")
    assert seconds < 2.5  # about a second at most on a 2-core machine; generous, so as not to flake


def test_a_huge_picture_is_shrunk_while_it_is_read(cnn_checkpoint, tmp_path):
    """49 million pixels, with transparency: shrunk by Pillow before any conversion, and never copied
    whole to be turned upright; memory is measured in a process of its own."""
    big = Image.new("RGBA", (7000, 7000), (255, 255, 255, 0))
    ImageDraw.Draw(big).line((1000, 1000, 6000, 6000), fill=(0, 0, 0, 255), width=300)
    big.save(tmp_path / "big.png")
    small = Image.new("L", (100, 100), 255)
    ImageDraw.Draw(small).line((30, 20, 70, 20, 45, 80), fill=0, width=8)  # a 7
    small.save(tmp_path / "small.png")
    code = ("import resource, sys, time, images, predict; reader = predict.load_reader(sys.argv[1]); "
            "start = time.perf_counter(); reader.prepare(images.read_image(sys.argv[2])); "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, time.perf_counter() - start)")
    used = {}
    for name in ("small", "big"):
        result = run_script("-c", code, str(cnn_checkpoint), str(tmp_path / f"{name}.png"))
        assert result.returncode == 0, result.stderr
        used[name] = [float(v) for v in result.stdout.split()]
    megabytes, seconds = used["big"][0] - used["small"][0], used["big"][1]
    print(f"\na 7000x7000 transparent PNG: {megabytes:.0f} MB more than a small picture, read in {seconds:.1f} s")
    assert megabytes < 500  # the decoded picture alone is 196 MB
    assert seconds < 10
