"""Pictures of digits and numbers as people make them, from MNIST test digits: for the reading tests.

Each function draws one kind of writing that predict.py must read: numbers whose digits touch or
overlap, numbers written apart with separators, dates and phone numbers, small faint numbers,
digits drawn as a person would, and one writer's own hand. The paper under it (notebook pages,
forms, cheques' patterns) is papers.py's. Every one of them is made here, with our own pens;
none comes from the code that is tested.
"""

from __future__ import annotations

import io
import itertools

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFilter


def ink_crop(digit: np.ndarray) -> np.ndarray:
    """An MNIST digit cropped to its ink."""
    rows, cols = np.nonzero(digit > 30)
    return digit[rows.min():rows.max() + 1, cols.min():cols.max() + 1]


def jpeg(image: Image.Image, quality: int = 85) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def large_photo_of_ten() -> Image.Image:
    """A 10 written large across a 7000x5000 picture, as a phone's camera may save it."""
    picture = Image.new("RGB", (7000, 5000), "white")
    draw = ImageDraw.Draw(picture)
    draw.line((2000, 1500, 2000, 3800), fill="black", width=250)
    draw.ellipse((3000, 1500, 4600, 3800), outline="black", width=250)
    return picture


def scaled_crops(digits: list[np.ndarray], height: float, rng: np.random.Generator) -> list[np.ndarray]:
    """Each digit's ink as darkness in [0, 1], about `height` pixels tall, sizes varying a little."""
    crops = []
    for digit in digits:
        crop = Image.fromarray(ink_crop(digit))
        scale = height / 20 * rng.uniform(0.9, 1.1)  # MNIST digits are 20 pixels tall
        size = (max(1, round(crop.width * scale)), max(1, round(crop.height * scale)))
        crops.append(np.asarray(crop.resize(size, Image.BICUBIC), dtype=np.float32).clip(0, 255) / 255)
    return crops


def write(crops: list[np.ndarray], gaps: list[int], height: float, margin: int,
          rng: np.random.Generator, separators: dict[int, str] | None = None) -> np.ndarray:
    """Darkness [H, W] in [0, 1] of the digits written left to right, `gaps[i]` pixels before digit
    i + 1 (negative: they overlap); `separators[i]` ('.', ',', "'", ':', '-', '=', '/', '(', ')', '+',
    'x', '$', ' ', or several) is drawn after digit i, `separators[-1]` before the first."""
    separators = separators or {}
    marks = len("".join(separators.values()))
    width = 2 * margin + sum(c.shape[1] for c in crops) + sum(gaps) + int(height * 1.4) * marks
    canvas = np.zeros((2 * margin + int(1.5 * height), max(width, 2 * margin + 1)), dtype=np.float32)
    baseline = margin + int(1.2 * height)
    pen = max(2, round(0.12 * height))
    x = margin
    if -1 in separators:
        x = draw_separator(canvas, separators[-1], x, baseline, height, pen, rng) + int(0.15 * height)
    for i, crop in enumerate(crops):
        y = baseline - crop.shape[0] + int(rng.uniform(-0.08, 0.08) * height)  # a wobbly baseline
        y = max(0, y)  # a mark taller than the line's room stands at the picture's top, not cut off there
        region = canvas[y:y + crop.shape[0], x:x + crop.shape[1]]
        np.maximum(region, crop[:region.shape[0], :region.shape[1]], out=region)
        x += crop.shape[1]
        if i in separators:
            x += int(0.12 * height)
            x = draw_separator(canvas, separators[i], x, baseline, height, pen, rng)
            x += int(0.12 * height)
        elif i < len(gaps):
            x += gaps[i]
    return canvas


def draw_separator(canvas: np.ndarray, mark: str, x: int, baseline: int, height: float, pen: int,
                   rng: np.random.Generator | None = None, bars: int = 1) -> int:
    """Draw a separator with a round pen at x on the baseline, or several one after another (a
    parenthesis bowed as `rng` draws it, a $ with one upright bar or two); returns where it ends."""
    if len(mark) > 1:
        for one in mark:
            x = draw_separator(canvas, one, x, baseline, height, pen, rng, bars) + int(0.12 * height)
        return x
    image = Image.fromarray((canvas * 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    r = pen / 2 + 0.5
    if mark in ".:":  # a point on the baseline, and for a colon one more about the line's middle
        for y in ([0] if mark == "." else [0, 0.5 * height]):
            draw.ellipse((x, baseline - y - 2 * r, x + 2 * r, baseline - y), fill=255)
        end = x + 2 * r
    elif mark == ",":
        draw.line((x + pen, baseline - pen, x, baseline + 0.25 * height), fill=255, width=pen)
        end = x + pen
    elif mark == "'":
        draw.line((x + pen, baseline - height, x, baseline - 0.7 * height), fill=255, width=pen)
        end = x + pen
    elif mark in "-=":  # one bar across the line's middle, or two
        for y in ([0.5] if mark == "-" else [0.38, 0.62]):
            draw.line((x, baseline - y * height, x + 0.4 * height, baseline - y * height), fill=255, width=pen)
        end = x + 0.4 * height
    elif mark in "()":  # an arc a little taller than the digits, its middle bowed out by 0.12 to 0.3 of it
        tall = 1.2 * height
        sag = tall * (rng.uniform(0.12, 0.3) if rng else 0.2)
        radius = (tall ** 2 / 4 + sag ** 2) / (2 * sag)
        ys = np.linspace(-tall / 2, tall / 2, 25)
        bowed = radius - np.sqrt(radius ** 2 - ys ** 2)  # 0 in the middle, sag at the ends
        xs = x + pen / 2 + (bowed if mark == "(" else sag - bowed)
        draw.line(list(zip(xs, baseline - 0.5 * height + ys)), fill=255, width=pen, joint="curve")
        end = x + sag + pen
    elif mark == "+":  # a flat bar and an upright one, half the digits' height, crossing at the line's middle
        size, middle = 0.5 * height, baseline - 0.5 * height
        draw.line((x + pen / 2, middle, x + pen / 2 + size, middle), fill=255, width=pen)
        draw.line((x + pen / 2 + size / 2, middle - size / 2, x + pen / 2 + size / 2, middle + size / 2), fill=255,
                  width=pen)
        end = x + size + pen
    elif mark == "x":  # a multiplication sign: two strokes crossing, as wide and tall as the + above
        size, middle = 0.45 * height, baseline - 0.5 * height
        left, right = x + pen / 2, x + pen / 2 + size
        draw.line((left, middle - size / 2, right, middle + size / 2), fill=255, width=pen)
        draw.line((left, middle + size / 2, right, middle - size / 2), fill=255, width=pen)
        end = x + size + pen
    elif mark == "$":  # an S about as tall as the digits, leaning as writing does, an upright bar through it
        wide, tall, lean = height * rng.uniform(0.45, 0.65), height * rng.uniform(0.85, 1.0), rng.uniform(-0.1, 0.25)
        out = height * rng.uniform(0.1, 0.25)  # how far the bar stands out above and below the S

        def at(across: float, down: float) -> tuple[float, float]:  # a point of the S, each from 0 to 1
            return x + pen + across * wide + lean * (1 - down) * tall, baseline - (1 - down) * tall

        begin, finish = rng.uniform(10, 50), rng.uniform(-190, -130)  # where its ends turn in
        upper = [at(0.5 + 0.5 * np.cos(a), 0.25 - 0.25 * np.sin(a)) for a in np.radians(np.linspace(begin, 270, 20))]
        lower = [at(0.5 + 0.5 * np.cos(a), 0.75 - 0.25 * np.sin(a)) for a in np.radians(np.linspace(90, finish, 25))]
        draw.line(upper + lower, fill=255, width=pen, joint="curve")
        ends = [(-out / tall, 0.0), (1.0, 1 + out / tall)] if rng.random() < 0.3 else [(-out / tall, 1 + out / tall)]
        apart = max(pen / wide, rng.uniform(0.12, 0.2)) if bars == 2 else 0.0  # two bars, a pen between them
        for (start, stop), across in itertools.product(ends, [0.5] if bars == 1 else [0.5 - apart, 0.5 + apart]):
            draw.line((at(across, start), at(across, stop)), fill=255, width=pen)  # through the S, or out of it
        end = x + 2 * pen + wide + max(lean, 0) * tall
    elif mark == " ":  # a space
        end = x + 0.2 * height
    else:  # a slash, leaning well over, as tall as the digits
        draw.line((x, baseline + 0.05 * height, x + 1.1 * height, baseline - 1.05 * height), fill=255, width=pen)
        end = x + 1.1 * height
    canvas[:] = np.asarray(image, dtype=np.float32) / 255
    return int(end)


def touching_number(digits: list[np.ndarray], rng: np.random.Generator) -> Image.Image:
    """Digits whose neighbours touch or overlap by up to a fifth of a digit's width, or that a pen
    stroke joins, dark on white paper."""
    height = float(rng.integers(50, 110))
    crops = scaled_crops(digits, height, rng)
    joined = rng.random() < 0.3
    gaps = [int(-rng.uniform(0.0, 0.2) * min(a.shape[1], b.shape[1])) if not joined else int(0.15 * height)
            for a, b in zip(crops, crops[1:])]
    canvas = write(crops, gaps, height, int(rng.integers(15, 50)), rng)
    if joined:  # written in one movement: a short stroke from each digit's right to the next one's left
        image = Image.fromarray((canvas * 255).astype(np.uint8))
        draw = ImageDraw.Draw(image)
        pen = max(2, round(0.08 * height))
        x = int(np.nonzero(canvas.max(0) > 0.5)[0].min())
        for crop, gap in zip(crops, gaps):
            x += crop.shape[1]
            left = np.nonzero(canvas[:, max(0, x - 4):x].max(1) > 0.5)[0]
            right = np.nonzero(canvas[:, x + gap:x + gap + 4].max(1) > 0.5)[0]
            if len(left) and len(right):  # where the two come closest, the lowest such place
                distance = np.abs(left[:, None] - right[None, :]) - 0.01 * (left[:, None] + right[None, :])
                i, j = np.unravel_index(np.argmin(distance), distance.shape)
                draw.line((x - 3, int(left[i]), x + gap + 2, int(right[j])), fill=255, width=pen)
            x += gap
        canvas = np.asarray(image, dtype=np.float32) / 255
    return Image.fromarray((255 * (1 - canvas)).astype(np.uint8))


def separated_number(digits: list[np.ndarray], rng: np.random.Generator, height: float | None = None) -> np.ndarray:
    """Darkness of digits written apart, as in a notebook."""
    height = height or float(rng.integers(45, 100))
    crops = scaled_crops(digits, height, rng)
    gaps = [int(rng.uniform(0.15, 0.5) * height) for _ in crops[1:]]
    return write(crops, gaps, height, int(rng.integers(15, 40)), rng)


def marked(darkness: np.ndarray, rng: np.random.Generator, mark: str, touching: bool = False) -> Image.Image:
    """Writing (darkness) as a person marks it out, with the same pen: a `mark` 'box' or 'ring' drawn
    around it, or a line 'under' it, clear of the digits or, `touching`, running into them. Dark on
    white."""
    rows, cols = np.nonzero(darkness > 0.3)
    height = rows.max() - rows.min()
    pen = max(2, round(0.1 * height))
    room = rng.uniform(-0.02, 0.08) * height if touching else rng.uniform(0.15, 0.3) * height
    box = np.array([cols.min(), rows.min(), cols.max(), rows.max()]) + np.array([-1, -1, 1, 1]) * room
    if mark == "ring":  # an ellipse in a box 1.5 times as large (1.4: through the corners of the writing's)
        box = box + np.array([-1, -1, 1, 1]) * (0.2 if touching else 0.25) * np.tile(box[2:] - box[:2], 2)
    pad = int(max(0, -box.min()) + pen + 0.3 * height)  # paper all round
    picture = Image.fromarray((255 * (1 - np.pad(darkness, pad))).astype(np.uint8))
    draw, (left, top, right, bottom) = ImageDraw.Draw(picture), (box + pad).tolist()
    if mark == "ring":
        draw.ellipse((left, top, right, bottom), outline=0, width=pen)
    elif not touching:
        if mark == "box":
            draw.rectangle((left, top, right, bottom), outline=0, width=pen)
        else:
            draw.line((left, bottom, right, bottom + rng.uniform(-0.1, 0.1) * height), fill=0, width=pen)
    else:  # as a hand draws it: each line bowed by up to 1.5% of its length, a line under tilted a little
        corners = [(left, bottom), (right, bottom + rng.uniform(-0.1, 0.1) * height)] if mark == "under" else \
            [(left, top), (right, top), (right, bottom), (left, bottom), (left, top)]
        along, points = np.linspace(0, 1, 20)[:, None], []
        for start, end in zip(np.array(corners[:-1]), np.array(corners[1:])):
            length = np.hypot(*(end - start))
            across = np.array([start[1] - end[1], end[0] - start[0]]) / length  # at right angles to it
            bow = rng.uniform(-0.015, 0.015) * length * 4 * along * (1 - along)
            points += [tuple(p) for p in start + along * (end - start) + bow * across]
        draw.line(points, fill=0, width=pen, joint="curve")
    return picture


def small_and_faint(digits: list[np.ndarray], rng: np.random.Generator) -> Image.Image:
    """A number 30-60 pixels high in grey ballpoint on grey paper."""
    darkness = separated_number(digits, rng, height=float(rng.integers(30, 61)))
    paper, ink = rng.uniform(0.6, 0.8), rng.uniform(0.25, 0.4)
    grey = paper - (paper - ink) * darkness + rng.normal(0, 0.01, darkness.shape)
    return Image.fromarray((grey.clip(0, 1) * 255).astype(np.uint8))


def date_or_phone(digits: list[np.ndarray], labels: list[int], rng: np.random.Generator) -> tuple[Image.Image, str]:
    """Digits in groups joined by dashes (a phone number) or slashes (a date), dark on white."""
    height = float(rng.integers(45, 90))
    crops = scaled_crops(digits, height, rng)
    mark = "-" if rng.random() < 0.5 else "/"
    separators = {i: mark for i in range(1, len(digits) - 1, 2)}
    gaps = [int(rng.uniform(0.15, 0.4) * height) for _ in crops[1:]]
    darkness = write(crops, gaps, height, int(rng.integers(15, 40)), rng, separators)
    text = "".join(str(label) + separators.get(i, "") for i, label in enumerate(labels))
    return Image.fromarray((255 * (1 - darkness)).astype(np.uint8)), text


def time_of_day(digits: list[np.ndarray], labels: list[int], rng: np.random.Generator) -> tuple[Image.Image, str]:
    """A time of day, its minutes after a colon (7:45, 12:30), dark on white."""
    height = float(rng.integers(45, 90))
    crops = scaled_crops(digits, height, rng)
    gaps = [int(rng.uniform(0.15, 0.4) * height) for _ in crops[1:]]
    darkness = write(crops, gaps, height, int(rng.integers(15, 40)), rng, {len(crops) - 3: ":"})
    text = "".join(map(str, labels))
    return Image.fromarray((255 * (1 - darkness)).astype(np.uint8)), text[:-2] + ":" + text[-2:]


def signed(digits: list[np.ndarray], labels: list[int], rng: np.random.Generator,
           sign: str = "-") -> tuple[Image.Image, str]:
    """A number with a minus sign before it (-5, -273), or the `sign` '+' (+49) or '$' ($25), dark on
    white."""
    height = float(rng.integers(45, 90))
    crops = scaled_crops(digits, height, rng)
    gaps = [int(rng.uniform(0.15, 0.4) * height) for _ in crops[1:]]
    darkness = write(crops, gaps, height, int(rng.integers(15, 40)), rng, {-1: sign})
    return Image.fromarray((255 * (1 - darkness)).astype(np.uint8)), sign + "".join(map(str, labels))


def with_ending(digits: list[np.ndarray], labels: list[int], rng: np.random.Generator) -> tuple[Image.Image, str]:
    """An amount ended as on a cheque, so that nothing can be written after it: a point, a comma or a
    slash and a dash, or an = (1200.- 1200,- 1200/- 1200= 1200/= 1200-), dark on white."""
    height = float(rng.integers(45, 90))
    crops = scaled_crops(digits, height, rng)
    ending = str(rng.choice([".-", ",-", "/-", "=", "/=", "-"]))
    gaps = [int(rng.uniform(0.15, 0.4) * height) for _ in crops[1:]]
    darkness = write(crops, gaps, height, int(rng.integers(15, 40)), rng, {len(crops) - 1: ending})
    return Image.fromarray((255 * (1 - darkness)).astype(np.uint8)), "".join(map(str, labels)) + ending


def person_like(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """An MNIST digit redrawn as a person would make it: dark on white, large, thicker or thinner, off-centre."""
    size = int(rng.integers(200, 400))
    big = Image.fromarray(255 - digit).resize((size, size), Image.BICUBIC)
    stroke = int(rng.choice([0, 3, 5, 7]))
    if stroke:  # a min filter spreads the dark ink (a thicker pen), a max filter thins it
        big = big.filter(ImageFilter.MinFilter(stroke) if rng.random() < 0.6 else ImageFilter.MaxFilter(stroke))
    canvas = Image.new("L", (size + int(rng.integers(50, 400)), size + int(rng.integers(50, 300))), 255)
    canvas.paste(big, (int(rng.integers(0, canvas.width - size)), int(rng.integers(0, canvas.height - size))))
    return canvas


def as_transparent_png(image: Image.Image) -> bytes:
    """Dark blue ink whose opacity is the darkness of the drawing, on a fully transparent background."""
    rgba = Image.new("RGBA", image.size, (20, 30, 120, 0))
    rgba.putalpha(Image.eval(image, lambda v: 255 - v))
    buffer = io.BytesIO()
    rgba.save(buffer, "PNG")
    return buffer.getvalue()


def plain_resize(image: Image.Image) -> torch.Tensor:
    """What most tutorials do: greyscale, squeeze to 28x28, nothing else."""
    pixels = np.asarray(image.convert("L").resize((28, 28), Image.BILINEAR), dtype=np.float32) / 255
    return torch.from_numpy(pixels)


def shop_photo(item: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """A Fashion-MNIST image as a shop photo: the item dark on white, enlarged, with a margin, in colour."""
    size = int(rng.integers(200, 400))
    big = Image.fromarray(255 - item).resize((size, size), Image.BICUBIC)
    canvas = Image.new("L", (int(size * rng.uniform(1.1, 1.6)), int(size * rng.uniform(1.1, 1.6))), 255)
    canvas.paste(big, (int(rng.integers(0, canvas.width - size)), int(rng.integers(0, canvas.height - size))))
    return Image.merge("RGB", [canvas, canvas, canvas.point(lambda v: round(v * 0.9 + 20))])  # a bluish tint


def number_picture(digits: list[np.ndarray], rng: np.random.Generator) -> Image.Image:
    """MNIST digits written side by side as a person writes a number: dark on light, uneven sizes,
    gaps and baseline."""
    height = int(rng.integers(50, 130))  # of a typical digit, in pixels
    crops = []
    for digit in digits:
        crop = Image.fromarray(255 - ink_crop(digit))
        scale = height / 20 * rng.uniform(0.85, 1.15)  # MNIST digits are 20 pixels tall
        crops.append(crop.resize((max(1, round(crop.width * scale)), max(1, round(crop.height * scale))),
                                 Image.BICUBIC))
    gaps = [int(rng.uniform(0.15, 0.6) * height) for _ in crops]
    margin = int(rng.integers(20, 80))
    width = 2 * margin + sum(c.width for c in crops) + sum(gaps[1:])
    canvas = Image.new("L", (width, 2 * margin + int(1.4 * height)), 255)
    x = margin
    for crop, gap in zip(crops, gaps):
        y = margin + int(rng.uniform(0, 0.3) * height)  # a wobbly baseline
        canvas.paste(Image.fromarray(np.minimum(np.asarray(canvas.crop((x, y, x + crop.width, y + crop.height))),
                                                np.asarray(crop))), (x, y))
        x += crop.width + gap
    return canvas


# One writer's digits, far from MNIST's: drawn as a calculator shows them, from seven straight
# strokes (a to g, clockwise from the top, g across the middle), corners in a unit box.
SEGMENTS = {"a": ((0, 0), (1, 0)), "b": ((1, 0), (1, 0.5)), "c": ((1, 0.5), (1, 1)), "d": ((0, 1), (1, 1)),
            "e": ((0, 0.5), (0, 1)), "f": ((0, 0), (0, 0.5)), "g": ((0, 0.5), (1, 0.5))}
MY_HAND = {0: "abcdef", 1: "bc", 2: "abged", 3: "abgcd", 4: "fgbc", 5: "afgcd", 6: "afedcg", 7: "abc",
           8: "abcdefg", 9: "gfabcd"}


def my_hand(digit: int, rng: np.random.Generator, height: int = 120) -> Image.Image:
    """A digit as one writer writes it: MY_HAND's straight strokes, half as wide as tall, leaning
    back (to the left), with a broad pen; each stroke a little different each time. Black on white."""
    slant, pen = rng.uniform(0.2, 0.35), max(4, round(height * rng.uniform(0.08, 0.11)))
    picture = Image.new("L", (round(height * 1.5), round(height * 1.5)), 255)
    draw = ImageDraw.Draw(picture)
    for segment in MY_HAND[digit]:
        points = np.array(SEGMENTS[segment], dtype=float)
        points += 0.06 * (points - points.mean(0)) + rng.normal(0, 0.03, (2, 2))  # a little long: strokes meet
        x = height * (0.35 + 0.55 * points[:, 0] + slant * points[:, 1])  # leaning back: feet to the right
        y = height * (0.25 + points[:, 1])
        draw.line(list(zip(x.tolist(), y.tolist())), fill=0, width=pen)
    return picture
