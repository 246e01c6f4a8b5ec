"""predict.py on what people actually write: numbers, digits at the picture's edge, and non-digits.

Every picture here is made by the test itself, from MNIST's test digits, Fashion-MNIST's test
items, fonts and a pen drawn with Pillow. None of the non-digits is made the way nondigits.py draws
the training ones: the letters come from fonts, the doodles from other code with other pens (a
smiley is among both, drawn differently). Run with -s to see the figures.
"""

from __future__ import annotations

import io
import json
import math

import numpy as np
from PIL import Image, ImageDraw, ImageFont

import common
import predict
import prepare
from conftest import read_all, run_predict
import pictures


def test_numbers_are_read_digit_by_digit(test_digits, cnn_checkpoint):
    digits, labels = test_digits
    rng = np.random.default_rng(1)
    # Every test digit once before any twice: a few odd digits, drawn again and again, would decide
    # the figure.
    order, at = np.concatenate([rng.permutation(len(digits)) for _ in range(2)]), 0
    files, truths = [], []
    for n in range(300):
        count = int(rng.integers(2, 7))
        chosen, at = order[at:at + count], at + count
        picture = pictures.number_picture([digits[i] for i in chosen], rng)
        files.append(pictures.jpeg(picture) if n % 2 == 0 else pictures.as_transparent_png(picture))
        truths.append("".join(str(labels[i]) for i in chosen))
    results = read_all(cnn_checkpoint, files)
    exact = 100 * np.mean([r["prediction"] == t for r, t in zip(results, truths)])
    found = 100 * np.mean([len(r.get("digits", [])) == len(t) for r, t in zip(results, truths)])
    print(f"\n300 numbers of 2 to 6 MNIST digits (JPEG and transparent PNG): {exact:.1f}% read exactly, "
          f"the right count of digits found in {found:.1f}%")
    assert found >= 98
    assert exact >= 93  # seeds 1-3 read 96.0-98.0%: about one digit in 100 is misread or refused, and misses its number


def test_a_number_photographed_turned_is_levelled(test_digits, cnn_checkpoint):
    # A phone held at an angle: the line of writing turned by 20 to 35 degrees either way. MNIST's
    # digits are upright, so turned digits are misread; the line is levelled first.
    digits, labels = test_digits
    rng = np.random.default_rng(3)
    pages, truths = [], []
    for _ in range(100):
        chosen = rng.choice(len(digits), int(rng.integers(2, 6)), replace=False)
        darkness = pictures.separated_number([digits[i] for i in chosen], rng)
        page = Image.fromarray((255 * (1 - darkness)).astype(np.uint8))
        pages.append(page.rotate(rng.uniform(20, 35) * rng.choice([-1, 1]), Image.BICUBIC, expand=True, fillcolor=255))
        truths.append("".join(str(labels[i]) for i in chosen))
    results = read_all(cnn_checkpoint, [pictures.jpeg(page) for page in pages])
    exact = 100 * np.mean([r["prediction"] == t for r, t in zip(results, truths)])
    print(f"\n100 numbers turned by 20 to 35 degrees: {exact:.1f}% read exactly")
    assert exact >= 85
    # Each digit's box is in the picture as it was given, around ink, and the boxes go left to right.
    for page, result in zip(pages, results):
        boxes = [digit["box"] for digit in result.get("digits", [])]
        assert all(np.asarray(page.crop(box)).min() < 100 for box in boxes)
        assert [box[0] for box in boxes] == sorted(box[0] for box in boxes)


def test_json_of_a_number_has_each_digit_and_its_box(test_digits, cnn_checkpoint, tmp_path):
    digits, labels = test_digits
    picture = pictures.number_picture([digits[i] for i in (0, 1, 2)], np.random.default_rng(2))
    path = tmp_path / "number.png"
    picture.save(path)
    result = run_predict("--checkpoint", str(cnn_checkpoint), "--json", "--save-processed", str(tmp_path / "seen"),
                         str(path))
    assert result.returncode == 0, result.stderr
    reading = json.loads(result.stdout)
    assert reading["prediction"] == "".join(str(labels[i]) for i in (0, 1, 2))
    assert len(reading["digits"]) == 3
    assert math.isclose(reading["probability"], math.prod(d["probability"] for d in reading["digits"]), rel_tol=1e-3)
    lefts = [d["box"][0] for d in reading["digits"]]
    assert lefts == sorted(lefts)
    for d in reading["digits"]:
        left, top, right, bottom = d["box"]
        assert 0 <= left < right <= picture.width and 0 <= top < bottom <= picture.height
        # The box holds ink: the picture is darker inside it than the paper.
        assert np.asarray(picture.crop(d["box"])).min() < 100
        assert len(d["top"]) == 3 and d["top"][0]["class"] == d["class"]
    seen = sorted(p.name for p in (tmp_path / "seen").iterdir())
    assert seen == ["number-0.png", "number-1.png", "number-2.png", "number-boxes.png", "number-ink.png"]
    boxes = Image.open(tmp_path / "seen" / "number-boxes.png")
    assert boxes.size == picture.size and boxes.mode == "RGB"
    # The text line shows the number and each digit's probability.
    line = run_predict("--checkpoint", str(cnn_checkpoint), str(path)).stdout
    assert line.startswith(f"{path}: {reading['prediction']}  (") and line.count("%") == 3


def test_person_like_single_digits_are_rarely_refused(test_digits, cnn_checkpoint):
    digits, labels = test_digits
    rng = np.random.default_rng(0)
    drawn = [pictures.person_like(digit, rng) for digit in digits]
    files = [pictures.jpeg(d) if i % 2 == 0 else pictures.as_transparent_png(d) for i, d in enumerate(drawn)]
    results = read_all(cnn_checkpoint, files)
    refused = 100 * np.mean([r["prediction"] is None for r in results])
    right = 100 * np.mean([r["prediction"] == str(label) for r, label in zip(results, labels)])
    reader = predict.load_reader(cnn_checkpoint)
    clean = 100 * np.mean(predict.probabilities(reader, [prepare.Item(common.torch.from_numpy(d / 255).float(),
                                                                      (0, 0, 28, 28)) for d in digits])
                          .argmax(1).numpy() == labels)
    plain = 100 * np.mean(predict.probabilities(reader, [prepare.Item(pictures.plain_resize(Image.open(io.BytesIO(f))),
                                                                      (0, 0, 28, 28)) for f in files])
                          .argmax(1).numpy() == labels)
    print(f"\n{len(files)} person-like single digits: {right:.2f}% read right (clean {clean:.2f}%, "
          f"plain resize {plain:.2f}%), {refused:.2f}% answered 'not a digit'")
    assert refused <= 1.0
    assert right >= clean - 1.5
    assert plain < 50  # what the preparation is for


def test_digits_touching_the_edge_are_read_as_well(test_digits, cnn_checkpoint):
    digits, labels = test_digits
    rng = np.random.default_rng(3)
    files = []
    for digit in digits[:500]:  # cropped to the ink, as a tight crop or a phone photo the digit fills
        crop = Image.fromarray(255 - pictures.ink_crop(digit))
        size = int(rng.integers(100, 300))
        files.append(pictures.jpeg(crop.resize((max(1, crop.width * size // crop.height), size), Image.BICUBIC)))
    results = read_all(cnn_checkpoint, files)
    right = 100 * np.mean([r["prediction"] == str(label) for r, label in zip(results, labels[:500])])
    margin = [pictures.jpeg(pictures.person_like(d, np.random.default_rng(i))) for i, d in enumerate(digits[:500])]
    with_margin = 100 * np.mean([r["prediction"] == str(label)
                                 for r, label in zip(read_all(cnn_checkpoint, margin), labels[:500])])
    print(f"\n500 digits touching the picture's edges: {right:.2f}% read right; with a margin {with_margin:.2f}%")
    assert right >= with_margin - 1.5


# ---------------------------------------------------------------------------------------------
# Non-digits
# ---------------------------------------------------------------------------------------------

# Letters and symbols that no digit looks like (not O, I, l, S, Z, B, G, b, g, q, ...).
CHARACTERS = "ACDEFHKMNPRTUVWXYacefhkmnprtuvwxy+=#*?%&@<>"
FONT_FILES = ["DejaVuSans.ttf", "DejaVuSerif.ttf", "DejaVuSans-Bold.ttf", "DejaVuSansMono.ttf",
              "LiberationSerif-Italic.ttf", "LiberationSans-Regular.ttf"]


def fonts(size: int) -> list:
    found = []
    for name in FONT_FILES:
        try:
            found.append(ImageFont.truetype(name, size))
        except OSError:  # not installed on this machine
            pass
    return found or [ImageFont.load_default(size=size)]  # Pillow's own font, always there


def letter_picture(character: str, font, rng: np.random.Generator) -> Image.Image:
    canvas = Image.new("L", (300, 300), 255)
    ImageDraw.Draw(canvas).text((150, 150), character, font=font, fill=int(rng.integers(0, 80)), anchor="mm")
    return canvas.rotate(rng.uniform(-10, 10), fillcolor=255, resample=Image.BICUBIC)


def doodle(kind: str, rng: np.random.Generator) -> Image.Image:
    """A doodle on white paper, drawn with a round pen of random width."""
    size = 300
    canvas = Image.new("L", (size, size), 255)
    draw = ImageDraw.Draw(canvas)
    pen = int(rng.integers(4, 14))
    j = lambda v: v + rng.uniform(-8, 8)  # noqa: E731, a shaky hand
    if kind == "smiley":
        draw.ellipse((50, 50, 250, 250), outline=0, width=pen)
        draw.ellipse((j(100), j(100), j(120), j(125)), fill=0)
        draw.ellipse((j(180), j(100), j(200), j(125)), fill=0)
        draw.arc((90, 120, 210, 210), 20, 160, fill=0, width=pen)
    elif kind == "tree":
        draw.polygon([(150, j(30)), (j(60), 200), (j(240), 200)], outline=0, width=pen)
        draw.rectangle((135, 200, 165, 270), outline=0, width=pen)
    elif kind == "flower":
        for a in range(0, 360, 60):
            x, y = 150 + 60 * math.cos(math.radians(a)), 130 + 60 * math.sin(math.radians(a))
            draw.ellipse((x - 35, y - 35, x + 35, y + 35), outline=0, width=pen)
        draw.line((150, 190, 150, 290), fill=0, width=pen)
    elif kind == "cloud":
        for x, y, r in ((100, 160, 50), (160, 130, 60), (215, 165, 45)):
            draw.arc((j(x - r), j(y - r), x + r, y + r), 150, 360, fill=0, width=pen)
        draw.line((60, 200, 250, 200), fill=0, width=pen)
    elif kind == "fish":
        draw.ellipse((40, 100, 210, 200), outline=0, width=pen)
        draw.polygon([(205, 150), (j(270), 90), (j(270), 210)], outline=0, width=pen)
        draw.ellipse((80, 130, 95, 145), fill=0)
    elif kind == "zigzag":
        draw.line([(30 + 40 * i, 100 if i % 2 else 200) for i in range(7)], fill=0, width=pen, joint="curve")
    elif kind == "wave":
        draw.line([(20 + 4 * i, 150 + 50 * math.sin(i / 8)) for i in range(65)], fill=0, width=pen)
    elif kind == "grid":
        for v in (90, 150, 210):
            draw.line((j(v), 40, j(v), 260), fill=0, width=pen)
            draw.line((40, j(v), 260, j(v)), fill=0, width=pen)
    elif kind == "cat":
        draw.ellipse((60, 90, 240, 250), outline=0, width=pen)
        draw.line([(80, 120), (j(90), 40), (140, 95)], fill=0, width=pen)
        draw.line([(160, 95), (j(210), 40), (220, 120)], fill=0, width=pen)
        draw.line((150, 180, 60, 170), fill=0, width=pen // 2 + 1)
        draw.line((150, 180, 240, 170), fill=0, width=pen // 2 + 1)
    elif kind == "car":
        draw.rectangle((40, 140, 260, 200), outline=0, width=pen)
        draw.polygon([(90, 140), (j(120), 90), (j(200), 90), (220, 140)], outline=0, width=pen)
        draw.ellipse((70, 185, 120, 235), outline=0, width=pen)
        draw.ellipse((180, 185, 230, 235), outline=0, width=pen)
    return canvas.rotate(rng.uniform(-15, 15), fillcolor=255)


DOODLES = ["smiley", "tree", "flower", "cloud", "fish", "zigzag", "wave", "grid", "cat", "car"]


def noise_picture(rng: np.random.Generator) -> Image.Image:
    kind = rng.integers(3)
    if kind == 0:  # television static
        pixels = rng.integers(0, 256, (200, 200))
    elif kind == 1:  # blotches: smoothed noise
        pixels = np.asarray(Image.fromarray(rng.integers(0, 256, (20, 20)).astype(np.uint8))
                            .resize((200, 200), Image.BICUBIC))
    else:  # pepper on paper
        pixels = np.where(rng.random((200, 200)) < 0.03, 0, 255)
    return Image.fromarray(pixels.astype(np.uint8))


def test_non_digits_are_answered_not_a_digit(cnn_checkpoint, fashion_dir):
    rng = np.random.default_rng(4)
    kinds: dict[str, list[Image.Image]] = {"letters and symbols in fonts": [], "doodles": [],
                                           "photos of clothes": [], "noise": []}
    for font in fonts(200):
        kinds["letters and symbols in fonts"] += [letter_picture(c, font, rng) for c in CHARACTERS]
    kinds["doodles"] = [doodle(DOODLES[i % len(DOODLES)], rng) for i in range(100)]
    items = common.read_dataset("fashion-mnist", fashion_dir, train=False)[0][:100].numpy()
    kinds["photos of clothes"] = [pictures.shop_photo(item, rng) for item in items]
    kinds["noise"] = [noise_picture(rng) for _ in range(60)]

    refused_all = []
    lines = []
    for kind, images in kinds.items():
        results = read_all(cnn_checkpoint, [pictures.jpeg(image) for image in images])
        refused = [r["prediction"] is None for r in results]
        refused_all += refused
        lines.append(f"  {kind}: {100 * np.mean(refused):.1f}% of {len(images)}")
    total = 100 * np.mean(refused_all)
    print(f"\n'not a digit' for {len(refused_all)} non-digits: {total:.1f}%\n" + "\n".join(lines))
    assert total >= 80


def letter_crop(character: str, height: float, rng: np.random.Generator) -> np.ndarray:
    """A letter or symbol in one of the fonts, as darkness cropped to its ink, about as tall as digits
    written `height` pixels tall (pictures.scaled_crops)."""
    canvas, choices = Image.new("L", (300, 300), 0), fonts(120)
    font = choices[int(rng.integers(len(choices)))]
    ImageDraw.Draw(canvas).text((150, 150), character, font=font, fill=255, anchor="mm")
    canvas = canvas.crop(canvas.point(lambda v: 255 * (v > 40)).getbbox())
    scale = height / canvas.height * rng.uniform(0.8, 1.0)
    size = (max(1, round(canvas.width * scale)), max(1, round(canvas.height * scale)))
    return np.asarray(canvas.resize(size, Image.BICUBIC), dtype=np.float32) / 255


def test_a_word_or_a_number_with_a_letter_in_it_is_no_number(cnn_checkpoint, test_digits):
    # One doubtful part among sure digits is named from a lower bar (predict.IN_A_NUMBER): that must
    # not turn words, or numbers with a letter or a symbol among their digits, into numbers.
    rng = np.random.default_rng(40)
    letters = CHARACTERS[:32]  # no symbols
    files, kinds = [], []
    for kind in ["word"] * 100 + ["number with a letter"] * 150:
        height = float(rng.integers(45, 100))
        if kind == "word":
            crops = [letter_crop(letters[i], height, rng) for i in rng.integers(0, len(letters), rng.integers(3, 7))]
        else:
            chosen = rng.choice(len(test_digits[0]), int(rng.integers(2, 5)), replace=False)
            crops = pictures.scaled_crops([test_digits[0][i] for i in chosen], height, rng)
            place, character = int(rng.integers(len(crops) + 1)), CHARACTERS[rng.integers(len(CHARACTERS))]
            crops.insert(place, letter_crop(character, height, rng))
            if (place, character) in [(0, "#"), (len(crops) - 1, "%")]:  # #12 and 12% are numbers
                kind = "number with a sign"
        gaps = [int(rng.uniform(0.15, 0.5) * height) for _ in crops[1:]]
        darkness = pictures.write(crops, gaps, height, 20, rng)
        files.append(pictures.jpeg(Image.fromarray((255 * (1 - darkness)).astype(np.uint8))))
        kinds.append(kind)
    results = read_all(cnn_checkpoint, files)
    refused = {kind: 100 * np.mean([r["prediction"] is None for r, k in zip(results, kinds) if k == kind])
               for kind in ("word", "number with a letter")}
    print(f"\n100 words of 3-6 letters in fonts: {refused['word']:.1f}% answered 'not a number'; "
          f"{kinds.count('number with a letter')} numbers of 2-4 digits with a letter or symbol among them: "
          f"{refused['number with a letter']:.1f}%")
    # Seeds 1-3 on the AMD EPYC Zen 4: 100% each, and 78.6/80.0/82.1% (80.0/81.4/83.4% before words
    # typed beside a number were left out, words.TYPED_SPACE: 99= now reads 99, U14 reads 4; 86.7-90.7%
    # on the Zen 4's networks of an earlier version, 90.7-92.0% with one bar for every part).
    assert refused["word"] >= 95
    assert refused["number with a letter"] >= 75


def test_letters_with_arches_are_not_cut_into_1s_and_7s(cnn_checkpoint):
    # An m, an n or an h is one piece of ink, which predict.py searches for touching digits: a stem
    # reads as a 1 and an arch as a 7 (an m as 177). Such pieces must read surely (touching.GOOD).
    rng = np.random.default_rng(41)
    words = ["m", "n", "h", "mm", "nn", "hm", "nun", "min", "him", "hum", "mnm", "inn", "lm", "nm", "hmm", "mini"]
    files = []
    for font in fonts(120):
        for word in words:
            canvas = Image.new("L", (120 * max(3, len(word)), 300), 255)
            ImageDraw.Draw(canvas).text((canvas.width // 2, 150), word, font=font, fill=int(rng.integers(0, 80)),
                                        anchor="mm")
            files.append(pictures.jpeg(canvas.rotate(rng.uniform(-8, 8), fillcolor=255, resample=Image.BICUBIC)))
    read = [r["prediction"] for r in read_all(cnn_checkpoint, files)]
    refused = 100 * np.mean([p is None for p in read])
    print(f"\n{len(files)} words of m, n, h and i in fonts: {refused:.1f}% answered 'not a number'; read as "
          f"numbers: {' '.join(sorted(p for p in read if p is not None))}")
    # Seeds 1-3 on an AMD processor: 83.3/74.0/88.5% (75.0/62.5/84.4% before); most of the rest, an
    # arch that the network reads surely as a 7.
    assert refused >= 72


def test_not_a_digit_is_an_answer_not_an_error(cnn_checkpoint):
    # The README's letter A: how many letters are refused is measured above, this is how it is said.
    result = run_predict("--checkpoint", str(cnn_checkpoint), "docs/examples/A.png")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("docs/examples/A.png: not a digit (best guess ")
    reading = json.loads(run_predict("--checkpoint", str(cnn_checkpoint), "--json", "docs/examples/A.png").stdout)
    assert reading["prediction"] is None and reading["digits"][0]["is_digit"] is False
