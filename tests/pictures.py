"""Pictures of digits and numbers as people make them, from MNIST test digits: for the reading tests.

Each function draws one kind of picture that predict.py must read: numbers whose digits touch or
overlap, numbers on ruled or squared notebook paper photographed in uneven light, amounts written
on a printed security pattern with thousands separators, and small faint numbers. Every one of
them is made here, with our own pens and papers; none comes from the code that is tested.
"""

from __future__ import annotations

import io
import math

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
    i + 1 (negative: they overlap); `separators[i]` ('.', ',', "'", '-', '/') is drawn after digit i."""
    separators = separators or {}
    width = 2 * margin + sum(c.shape[1] for c in crops) + sum(gaps) + int(height * 1.4) * len(separators)
    canvas = np.zeros((2 * margin + int(1.5 * height), max(width, 2 * margin + 1)), dtype=np.float32)
    baseline = margin + int(1.2 * height)
    pen = max(2, round(0.12 * height))
    x = margin
    for i, crop in enumerate(crops):
        y = baseline - crop.shape[0] + int(rng.uniform(-0.08, 0.08) * height)  # a wobbly baseline
        region = canvas[y:y + crop.shape[0], x:x + crop.shape[1]]
        np.maximum(region, crop[:region.shape[0], :region.shape[1]], out=region)
        x += crop.shape[1]
        if i in separators:
            x += int(0.12 * height)
            x = draw_separator(canvas, separators[i], x, baseline, height, pen)
            x += int(0.12 * height)
        elif i < len(gaps):
            x += gaps[i]
    return canvas


def draw_separator(canvas: np.ndarray, mark: str, x: int, baseline: int, height: float, pen: int) -> int:
    """Draw a separator with a round pen at x on the baseline; returns where it ends."""
    image = Image.fromarray((canvas * 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    r = pen / 2 + 0.5
    if mark == ".":
        draw.ellipse((x, baseline - 2 * r, x + 2 * r, baseline), fill=255)
        end = x + 2 * r
    elif mark == ",":
        draw.line((x + pen, baseline - pen, x, baseline + 0.25 * height), fill=255, width=pen)
        end = x + pen
    elif mark == "'":
        draw.line((x + pen, baseline - height, x, baseline - 0.7 * height), fill=255, width=pen)
        end = x + pen
    elif mark == "-":
        draw.line((x, baseline - 0.5 * height, x + 0.4 * height, baseline - 0.5 * height), fill=255, width=pen)
        end = x + 0.4 * height
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


def lighting(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """How bright the light falls on a page in a phone photo: a slope, a soft shadow, a vignette."""
    height, width = shape
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, 2 * math.pi)
    slope = (x / width * math.cos(angle) + y / height * math.sin(angle))
    light = 1 - 0.25 * rng.random() * (slope - slope.min())
    cx, cy = rng.uniform(0, width), rng.uniform(0, height)
    shadow = np.exp(-(((x - cx) / (0.4 * width)) ** 2 + ((y - cy) / (0.4 * height)) ** 2))
    light -= 0.2 * rng.random() * shadow
    vignette = ((x / width - 0.5) ** 2 + (y / height - 0.5) ** 2)
    return (light - 0.3 * rng.random() * vignette).clip(0.45, 1)


LINE_COLOURS = [(120, 160, 220), (150, 180, 230), (160, 160, 160), (110, 120, 140), (120, 190, 200),
                (200, 120, 200), (130, 130, 130)]
INK_COLOURS = [(20, 30, 110), (25, 25, 30), (40, 40, 60), (10, 40, 140)]


def on_paper(darkness: np.ndarray, rng: np.random.Generator, paper: str, spacing: int | None = None,
             turned: float = 0.0, slanted: float = 0.0) -> Image.Image:
    """Ink (darkness in [0, 1]) written on notebook paper, `paper` 'ruled' or 'squared', with thin lines
    of a printed colour or grey, a red margin line at times, photographed in uneven light (and with
    the camera `turned` by so many degrees, or held `slanted` to the page, the page filling the photo)."""
    if turned or slanted:  # a larger page, turned or seen at a slant, and its middle cut out
        pad, (height, width) = int(0.15 * max(darkness.shape)), darkness.shape
        page = on_paper(np.pad(darkness, pad), rng, paper, spacing).rotate(turned, Image.BICUBIC)
        if not slanted:
            return page.crop((pad, pad, pad + width, pad + height))
        # Seen at a slant, one side of the page is nearer the camera than the other, and lines that
        # are parallel on it converge in the photo: each corner of the view moves out by up to
        # `slanted` of the picture's size, and what lies between them is stretched to fill the photo.
        corners = np.array([(0, 0), (0, height), (width, height), (width, 0)], dtype=float)  # as QUAD takes them
        outward = np.sign(corners - (width / 2, height / 2)) * (width, height)
        corners += pad + slanted * rng.uniform(0, 1, (4, 2)) * outward
        return page.transform((width, height), Image.Transform.QUAD, corners.ravel().tolist(), Image.BICUBIC)
    height, width = darkness.shape
    # Lines closer than a digit is tall (a written line is 1.5 digits tall): they cross the digits.
    spacing = spacing or int(rng.uniform(0.45, 0.8) * height / 1.5)
    colour = np.array(LINE_COLOURS[rng.integers(len(LINE_COLOURS))], dtype=np.float32) / 255
    thickness = int(rng.integers(1, 3))
    lines = np.zeros((height, width), dtype=np.float32)
    tilt = rng.uniform(-0.03, 0.03)  # the page a little turned in the photo
    y0, x0 = rng.integers(0, spacing), rng.integers(0, spacing)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    along = (y - tilt * x - y0) % spacing
    lines[along < thickness] = 1
    if paper == "squared":
        across = (x + tilt * y - x0) % spacing
        lines[across < thickness] = 1
    rgb = np.ones((height, width, 3), dtype=np.float32)
    rgb = rgb * (1 - lines[..., None]) + colour * lines[..., None]
    if rng.random() < 0.3:  # the red margin line, left of the writing
        margin_x = int(rng.integers(2, max(3, width // 6)))
        rgb[:, margin_x:margin_x + thickness + 1] = np.array([0.85, 0.35, 0.35])
    ink = np.array(INK_COLOURS[rng.integers(len(INK_COLOURS))], dtype=np.float32) / 255
    rgb = rgb * (1 - darkness[..., None]) + ink * darkness[..., None]
    rgb *= lighting((height, width), rng)[..., None]
    rgb += rng.normal(0, 0.015, rgb.shape)
    return Image.fromarray((rgb.clip(0, 1) * 255).astype(np.uint8))


def form_field(digits: list[np.ndarray], rng: np.random.Generator, print_colour: tuple[int, int, int]) -> Image.Image:
    """Digits written one to a cell of a form's comb field: a printed line to write on, with short ticks
    standing on it between the cells, in `print_colour`, photographed in uneven light, as JPEG."""
    height = float(rng.integers(36, 80))
    crops = scaled_crops(digits, height, rng)
    cell, thickness, margin = int(rng.uniform(1.05, 1.4) * height), int(rng.integers(1, 4)), 20
    tick, baseline = int(rng.uniform(0.25, 0.6) * cell), margin + int(1.3 * height)
    lines = np.zeros((baseline + margin + 10, 2 * margin + len(crops) * cell + thickness), dtype=np.float32)
    lines[baseline:baseline + thickness, margin:margin + len(crops) * cell + thickness] = 1
    for k in range(len(crops) + 1):
        lines[baseline - tick:baseline, margin + k * cell:margin + k * cell + thickness] = 1
    darkness = np.zeros_like(lines)
    for k, crop in enumerate(crops):  # in the middle of its cell, give or take a little
        x = margin + k * cell + max(0, (cell - crop.shape[1]) // 2 + int(rng.integers(-3, 4)))
        y = baseline - crop.shape[0] + int(rng.integers(-4, 5))
        region = darkness[y:y + crop.shape[0], x:x + crop.shape[1]]
        np.maximum(region, crop[:region.shape[0], :region.shape[1]], out=region)
    rgb = 1 - lines[..., None] * (1 - np.array(print_colour, dtype=np.float32) / 255)
    ink = np.array(INK_COLOURS[rng.integers(len(INK_COLOURS))], dtype=np.float32) / 255
    rgb = rgb * (1 - darkness[..., None]) + ink * darkness[..., None]
    rgb *= lighting(lines.shape, rng)[..., None]
    return Image.fromarray(((rgb + rng.normal(0, 0.015, rgb.shape)).clip(0, 1) * 255).astype(np.uint8))


def separated_number(digits: list[np.ndarray], rng: np.random.Generator, height: float | None = None) -> np.ndarray:
    """Darkness of digits written apart, as in a notebook."""
    height = height or float(rng.integers(45, 100))
    crops = scaled_crops(digits, height, rng)
    gaps = [int(rng.uniform(0.15, 0.5) * height) for _ in crops[1:]]
    return write(crops, gaps, height, int(rng.integers(15, 40)), rng)


def security_pattern(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """The printed pattern behind a cheque's amount: fine wavy lines, or dots, in a light colour (darkness)."""
    height, width = shape
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    strength = rng.uniform(0.15, 0.35)
    if rng.random() < 0.6:  # guilloche-like waves
        period, amplitude, spacing = rng.uniform(20, 60), rng.uniform(2, 6), rng.uniform(4, 8)
        phase = (y + amplitude * np.sin(2 * math.pi * x / period)) % spacing
        pattern = (phase < 1.2).astype(np.float32)
        if rng.random() < 0.5:
            phase2 = (y - amplitude * np.sin(2 * math.pi * x / period + 1)) % spacing
            pattern = np.maximum(pattern, (phase2 < 1.2).astype(np.float32))
    else:  # a dotted screen
        step = rng.uniform(3.5, 6)
        pattern = (((x % step) < 1.5) & ((y % step) < 1.5)).astype(np.float32)
    return strength * pattern


def amount_on_pattern(digits: list[np.ndarray], labels: list[int], rng: np.random.Generator,
                      ) -> tuple[Image.Image, str]:
    """An amount as written on a cheque: 40-60 pixels high, a thousands separator or a decimal point
    ('.', ',' or "'") and at times a trailing full stop, a grey ballpoint, on a printed pattern.
    Returns the picture and the text a person reads (with the separators)."""
    height = float(rng.integers(40, 61))
    crops = scaled_crops(digits, height, rng)
    n = len(digits)
    mark = str(rng.choice([".", ",", "'"]))
    separators = {n - 4: mark} if n >= 4 else {0: mark} if n >= 2 else {}
    if rng.random() < 0.3:
        separators[n - 1] = "."
    gaps = [int(rng.uniform(0.1, 0.4) * height) for _ in crops[1:]]
    darkness = write(crops, gaps, height, int(rng.integers(10, 30)), rng, separators)
    darkness *= rng.uniform(0.65, 0.9)  # a ballpoint, not black
    paper = np.maximum(security_pattern(darkness.shape, rng), 0)
    colour = np.array([0.55, 0.7, 0.85]) if rng.random() < 0.5 else np.array([0.75, 0.6, 0.5])
    rgb = np.ones(darkness.shape + (3,)) * (1 - paper[..., None]) + colour * paper[..., None]
    rgb = rgb * (1 - darkness[..., None]) + np.array([0.1, 0.12, 0.3]) * darkness[..., None]
    text = "".join(str(label) + separators.get(i, "") for i, label in enumerate(labels))
    return Image.fromarray((rgb.clip(0, 1) * 255).astype(np.uint8)), text


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
