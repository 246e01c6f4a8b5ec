"""The paper under the writing, for the reading tests: notebook pages, forms and cheques.

Each function puts writing (made by pictures.py from MNIST test digits) on paper as a phone or a
scanner sees it: ruled or squared notebook paper with lines of a printed colour, photographed in
uneven light, turned or at a slant, bent, a shadow or a glare on it, a highlighter across the
writing, out of focus, saved small; a note or a card lying on a desk; thin paper scanned, the
writing on its back showing through; a form's comb field; a cheque's printed security pattern; a
board written on in chalk. Like pictures.py, none of it comes from the code that is tested.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageFilter

from pictures import scaled_crops, write


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


def shadow_across(page: Image.Image, rng: np.random.Generator, taken: tuple[float, float] = (0.35, 0.55),
                  ) -> Image.Image:
    """The page with a shadow across it, as a phone or a hand held over it casts: the light less by a
    share in `taken` (35-55%) on one side of a straight edge at any angle, its penumbra (from 10% to
    90% of the shade) 2-13% of the picture across."""
    pixels = np.asarray(page).astype(np.float32)
    height, width = pixels.shape[:2]
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, 2 * math.pi)
    beyond = (x / width - rng.uniform(0.3, 0.7)) * math.cos(angle) + (y / height - 0.5) * math.sin(angle)
    light = 1 - rng.uniform(*taken) / (1 + np.exp(np.clip(-beyond / rng.uniform(0.005, 0.03), -60, 60)))
    return Image.fromarray((pixels * light[..., None]).clip(0, 255).astype(np.uint8))


def bent(page: Image.Image, rng: np.random.Generator) -> Image.Image:
    """The page bent as a notebook's page bends under a phone: its lines bowed, each column of the
    picture moved up or down by up to 3-8% of its height, most at a point in its middle half, and
    nothing at the farther side."""
    pixels = np.asarray(page).astype(np.float32)
    height, width = pixels.shape[:2]
    x = np.linspace(-1, 1, width)
    top = rng.uniform(-0.5, 0.5)
    bow = 1 - ((x - top) / (1 + abs(top))) ** 2
    source = np.arange(height)[:, None] + rng.choice([-1, 1]) * rng.uniform(0.03, 0.08) * height * bow
    source = source.clip(0, height - 1)  # the rows at the top or bottom edge carried on beyond it
    above = np.floor(source).astype(int)
    below, share = np.minimum(above + 1, height - 1), (source - above)[..., None]
    columns = np.arange(width)[None, :]
    moved = pixels[above, columns] * (1 - share) + pixels[below, columns] * share
    return Image.fromarray(moved.clip(0, 255).astype(np.uint8))


def glare(page: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A phone's flash or a lamp reflected off glossy paper: a bright spot in the picture's middle
    part, where paper and ink alike are washed 50-70% of the way to white at its centre, fading out
    over a fifth of the picture."""
    pixels = np.asarray(page).astype(np.float32)
    height, width = pixels.shape[:2]
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    across, down = rng.uniform(0.1, 0.2) * width, rng.uniform(0.15, 0.25) * height
    middle = rng.uniform(0.2, 0.8) * width, rng.uniform(0.2, 0.8) * height
    spot = np.exp(-((x - middle[0]) / across) ** 2 - ((y - middle[1]) / down) ** 2)
    washed = pixels + (255 - pixels) * rng.uniform(0.5, 0.7) * spot[..., None]
    return Image.fromarray(washed.clip(0, 255).astype(np.uint8))


def small(page: Image.Image, rng: np.random.Generator) -> Image.Image:
    """The page in a picture 2-3 times smaller, as a crop of a photo is saved, or a thumbnail."""
    times = rng.uniform(2, 3)
    return page.resize((max(1, round(page.width / times)), max(1, round(page.height / times))), Image.BILINEAR)


def grainy(page: Image.Image, rng: np.random.Generator) -> Image.Image:
    """The page photographed in dim light by a camera that does not smooth its noise away: the light a
    quarter to half of what it was, and each pixel's colours off by a random amount (a standard
    deviation of 3-6% of white), about a tenth of the contrast left between ink and paper."""
    dim = np.asarray(page, dtype=np.float32) / 255 * rng.uniform(0.25, 0.45)
    noisy = dim + rng.normal(0, rng.uniform(0.03, 0.06), dim.shape)
    return Image.fromarray((noisy.clip(0, 1) * 255).astype(np.uint8))


HIGHLIGHTERS = [(255, 245, 90), (255, 160, 205), (165, 250, 130), (140, 225, 255), (255, 190, 90)]


def highlighted(page: Image.Image, rng: np.random.Generator) -> Image.Image:
    """The page with a highlighter's band across the writing: its transparent colour (yellow, pink,
    green, blue or orange) over 30-60% of the height, its edges a little slanted and soft, its ink
    laid down a little unevenly along the stroke; the paper, the lines and the pen under it dimmed by it."""
    pixels = np.asarray(page, dtype=np.float32) / 255
    height, width = pixels.shape[:2]
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    top = rng.uniform(0.1, 0.4) * height + rng.uniform(-0.03, 0.03) * (x - width / 2)
    bottom = top + rng.uniform(0.3, 0.6) * height
    left, right = rng.uniform(0, 0.2) * width, rng.uniform(0.8, 1) * width
    soft = lambda d: 1 / (1 + np.exp(np.clip(-d / 0.7, -50, 50)))  # noqa: E731 (an edge about two pixels wide)
    band = soft(y - top) * soft(bottom - y) * soft(x - left) * soft(right - x)
    band *= 1 - 0.15 * rng.random() * (0.5 + 0.5 * np.sin(2 * math.pi * x / rng.uniform(30, 80)))  # streaks
    colour = np.array(HIGHLIGHTERS[rng.integers(len(HIGHLIGHTERS))], dtype=np.float32) / 255
    pixels = pixels * (1 - band[..., None] * (1 - colour))
    return Image.fromarray((pixels.clip(0, 1) * 255).astype(np.uint8))


def out_of_focus(page: Image.Image, spread: float) -> Image.Image:
    """The page photographed out of focus: each point of it spread into a blur `spread` pixels wide
    (the standard deviation of a Gaussian), as a lens that focused behind the page spreads it."""
    return page.filter(ImageFilter.GaussianBlur(spread))


def chalk_board(darkness: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """Writing (darkness in [0, 1]) in chalk on a green or a black board, photographed: light strokes on
    dark, the chalk skipping on the board's grain, a faint haze of dust where it was wiped, uneven light."""
    darkness = np.pad(darkness, int(0.3 * darkness.shape[0]))  # the board around the writing
    height, width = darkness.shape
    board = np.array([0.16, 0.24, 0.2]) if rng.random() < 0.5 else np.array([0.13, 0.13, 0.14])
    chalk = np.array([0.9, 0.9, 0.86])
    wiped = Image.fromarray(rng.random((6, 6)).astype(np.float32)).resize((width, height), Image.BICUBIC)
    dust = 0.2 * np.clip(np.asarray(wiped) - 0.4, 0, 1)  # clouds at most an eighth of the way to the chalk
    strength = darkness * rng.uniform(0.55, 1, darkness.shape)
    rgb = board * (1 - dust[..., None]) + chalk * dust[..., None]
    rgb = rgb * (1 - strength[..., None]) + chalk * strength[..., None]
    rgb = rgb * lighting((height, width), rng)[..., None] + rng.normal(0, 0.015, rgb.shape)
    return Image.fromarray((rgb.clip(0, 1) * 255).astype(np.uint8))


def seen_through(front: np.ndarray, behind: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """Writing (darkness in [0, 1]) scanned on thin paper, with `behind` (other writing, any size) on the
    back of the page showing through: mirrored, spread by the paper into a blur 1-2.5% of the picture's
    height wide, shifted, and 15-35% as dark as the pen, on a paper a little off white."""
    height, width = front.shape
    back = Image.fromarray((behind * 255).astype(np.uint8)).transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    spread = rng.uniform(0.01, 0.025) * height
    back = back.resize((width, height), Image.BICUBIC).filter(ImageFilter.GaussianBlur(spread))
    shift = int(rng.integers(-height // 3, height // 3 + 1)), int(rng.integers(-width // 4, width // 4 + 1))
    back = np.roll(np.asarray(back, dtype=np.float32) / 255, shift, (0, 1)) * rng.uniform(0.15, 0.35)
    darkness = 1 - (1 - front) * (1 - back)  # the two darken the paper together where they cross
    ink = np.array(INK_COLOURS[rng.integers(len(INK_COLOURS))], dtype=np.float32) / 255
    rgb = np.ones((height, width, 3), dtype=np.float32) * rng.uniform(0.9, 1)
    rgb = rgb * (1 - darkness[..., None]) + ink * darkness[..., None]
    rgb += rng.normal(0, 0.01, rgb.shape)
    return Image.fromarray((rgb.clip(0, 1) * 255).astype(np.uint8))


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


NOTE_COLOURS = [(250, 235, 110), (255, 200, 210), (190, 235, 170), (170, 215, 245), (255, 190, 120), (250, 248, 240)]
DESK_COLOURS = [(150, 110, 70), (200, 170, 130), (90, 90, 95), (120, 80, 50), (235, 235, 232), (250, 250, 250)]


def note_on_a_desk(darkness: np.ndarray, rng: np.random.Generator) -> tuple[Image.Image, int]:
    """Ink written on a square note (a sticky note or a card, of a colour), photographed lying on a
    desk that shows all around it, the note turned and casting a soft shadow, in uneven light. Returns
    the picture and which of DESK_COLOURS the desk is."""
    height, width = darkness.shape
    side = int(max(height, width) * rng.uniform(1.05, 1.3))
    note = np.ones((side, side, 3), dtype=np.float32) * np.array(NOTE_COLOURS[rng.integers(len(NOTE_COLOURS))]) / 255
    ink = np.array(INK_COLOURS[rng.integers(len(INK_COLOURS))], dtype=np.float32) / 255
    top, left = (side - height) // 2, (side - width) // 2
    written = note[top:top + height, left:left + width]
    note[top:top + height, left:left + width] = written * (1 - darkness[..., None]) + ink * darkness[..., None]
    turned = rng.uniform(-12, 12)
    note_image = Image.fromarray((note * 255).astype(np.uint8)).rotate(turned, Image.BICUBIC, expand=True)
    shape = Image.new("L", (side, side), 255).rotate(turned, Image.BICUBIC, expand=True)  # where the note is
    photo_height, photo_width = int(side * rng.uniform(1.2, 1.8)), int(side * rng.uniform(1.3, 2.2))
    x = (photo_width - note_image.width) // 2 + int(rng.integers(-photo_width // 10, photo_width // 10 + 1))
    y = (photo_height - note_image.height) // 2
    shadow = Image.new("L", (photo_width, photo_height), 0)
    shadow.paste(shape, (x + int(rng.integers(2, 7)), y + int(rng.integers(2, 7))))
    shade = np.asarray(shadow.filter(ImageFilter.GaussianBlur(rng.uniform(2, 6))), dtype=np.float32) / 255
    desk = int(rng.integers(len(DESK_COLOURS)))
    rgb = np.ones((photo_height, photo_width, 3), dtype=np.float32) * np.array(DESK_COLOURS[desk]) / 255
    photo = Image.fromarray((rgb * (1 - 0.35 * shade[..., None]) * 255).astype(np.uint8))
    photo.paste(note_image, (x, y), shape)
    rgb = np.asarray(photo, dtype=np.float32) / 255 * lighting((photo_height, photo_width), rng)[..., None]
    rgb += rng.normal(0, 0.015, rgb.shape)
    return Image.fromarray((rgb.clip(0, 1) * 255).astype(np.uint8)), desk


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
                      marks: bool = True) -> tuple[Image.Image, str]:
    """An amount as written on a cheque: 40-60 pixels high, a grey ballpoint, on a printed pattern;
    with `marks`, a thousands separator or a decimal point ('.', ',' or "'") and at times a trailing
    full stop. Returns the picture and the text a person reads (with the separators)."""
    height = float(rng.integers(40, 61))
    crops = scaled_crops(digits, height, rng)
    n = len(digits)
    mark = str(rng.choice([".", ",", "'"]))
    separators = {n - 4: mark} if n >= 4 else {0: mark} if n >= 2 else {}
    if rng.random() < 0.3:
        separators[n - 1] = "."
    separators = separators if marks else {}
    gaps = [int(rng.uniform(0.1, 0.4) * height) for _ in crops[1:]]
    darkness = write(crops, gaps, height, int(rng.integers(10, 30)), rng, separators)
    darkness *= rng.uniform(0.65, 0.9)  # a ballpoint, not black
    paper = np.maximum(security_pattern(darkness.shape, rng), 0)
    colour = np.array([0.55, 0.7, 0.85]) if rng.random() < 0.5 else np.array([0.75, 0.6, 0.5])
    rgb = np.ones(darkness.shape + (3,)) * (1 - paper[..., None]) + colour * paper[..., None]
    rgb = rgb * (1 - darkness[..., None]) + np.array([0.1, 0.12, 0.3]) * darkness[..., None]
    text = "".join(str(label) + separators.get(i, "") for i, label in enumerate(labels))
    return Image.fromarray((rgb.clip(0, 1) * 255).astype(np.uint8)), text


def boxed_amount(digits: list[np.ndarray], rng: np.random.Generator) -> Image.Image:
    """An amount as a scanner crops it from a cheque: 40-60 pixels high, a grey ballpoint on the
    printed pattern, digits written apart or touching, the picture cut 0-4 pixels beyond the ink,
    and the box printed around the amount cut along: a line 1-2 pixels thin along one or two edges,
    0-2 pixels in, in grey or in the pattern's colour."""
    height = float(rng.integers(40, 61))
    crops = scaled_crops(digits, height, rng)
    touching = rng.random() < 0.5
    gaps = [int(-rng.uniform(0, 0.2) * min(a.shape[1], b.shape[1]) if touching else rng.uniform(0.05, 0.3) * height)
            for a, b in zip(crops, crops[1:])]
    darkness = write(crops, gaps, height, 20, rng) * rng.uniform(0.65, 0.9)
    pattern = security_pattern(darkness.shape, rng)
    colour = np.array([0.55, 0.7, 0.85]) if rng.random() < 0.5 else np.array([0.75, 0.6, 0.5])
    rgb = (1 - pattern[..., None]) + colour * pattern[..., None]
    rgb = rgb * (1 - darkness[..., None]) + np.array([0.1, 0.12, 0.3]) * darkness[..., None]
    rows, cols = np.nonzero(darkness > 0.3)
    spare = rng.integers(0, 5, 4)
    rgb = rgb[max(0, rows.min() - spare[0]):rows.max() + 1 + spare[1],
              max(0, cols.min() - spare[2]):cols.max() + 1 + spare[3]]
    tone, width = (np.array([0.3, 0.3, 0.35]) if rng.random() < 0.5 else 0.7 * colour), int(rng.integers(1, 3))
    for side in rng.choice(4, int(rng.integers(1, 3)), replace=False):  # top, bottom, left, right
        turned = np.rot90(rgb, (0, 2, 3, 1)[side])  # a view: that side on top
        inset = int(rng.integers(0, 3))
        turned[inset:inset + width] = np.minimum(turned[inset:inset + width], tone)
    return Image.fromarray((rgb.clip(0, 1) * 255).astype(np.uint8))
