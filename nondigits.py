"""What a digit is not: letters, symbols, doodles and scribbles drawn with a pen, for training.

Read this file to learn "outlier exposure". A classifier trained on digits alone has never been
told that anything else exists, so it names a digit for whatever it is shown, a letter A or a
smiley, often with high confidence. Shown images that are not digits during training, with the
target "every class equally likely", it learns to be unsure on them; predict.py then says "not a
digit" when the model's best probability falls below a bar calibrated on real digits.

Each image here is drawn the way a person draws with a pen: a letter, a symbol or a doodle made of
strokes, a random scribble or blot, or a solid patch of uneven shade (what a photo of an object or
a noisy picture leaves after predict.py's preparation), a little wobbly, slanted and turned; then
fitted into 28x28 as MNIST was (longer side 20 pixels, centred by mass). Shapes that a digit can
look like (O, I, S, Z, B, G, a plain circle) are left out. The tests check the model on other
non-digits: letters set in fonts, doodles drawn differently, photos of clothes, noise.

Two more kinds are made from training digits, for predict.py's cutting of touching digits (see
touching.split_touching), which lets the network judge where to cut: two digits run together
(pairs), which must not be read as one digit, and parts of digits (pieces), which must not be read
as a whole one, so that a cut in the wrong place reads badly. And one kind of digit: digits cut
out of touching pairs (cut_from_pairs), which must read as surely as whole ones. Drawing them all
takes seconds, so a run keeps what it drew beside the data for the runs after (kept).

    python nondigits.py          # writes checkpoints/nondigits.png, a sheet of examples
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw

import common
import files
import pixels
import prepare
import report
import touching


def arc(cx: float, cy: float, rx: float, ry: float, start: float, end: float, steps: int = 12) -> list:
    """Points along an ellipse from angle `start` to `end` (degrees, clockwise from 3 o'clock, y down)."""
    return [(cx + rx * math.cos(math.radians(a)), cy + ry * math.sin(math.radians(a)))
            for a in np.linspace(start, end, steps)]


# Each shape is a list of strokes; each stroke a list of (x, y) points in a unit square, y downwards.
SHAPES = {
    "A": [[(0, 1), (0.5, 0), (1, 1)], [(0.25, 0.55), (0.75, 0.55)]],
    "C": [arc(0.55, 0.5, 0.45, 0.5, 40, 320)],
    "D": [[(0.1, 0), (0.1, 1)], [(0.1, 0)] + arc(0.3, 0.5, 0.6, 0.5, -90, 90) + [(0.1, 1)]],
    "E": [[(0.9, 0), (0.1, 0), (0.1, 1), (0.9, 1)], [(0.1, 0.5), (0.7, 0.5)]],
    "F": [[(0.9, 0), (0.1, 0), (0.1, 1)], [(0.1, 0.5), (0.7, 0.5)]],
    "H": [[(0.1, 0), (0.1, 1)], [(0.9, 0), (0.9, 1)], [(0.1, 0.5), (0.9, 0.5)]],
    "K": [[(0.1, 0), (0.1, 1)], [(0.9, 0), (0.1, 0.6)], [(0.35, 0.45), (0.9, 1)]],
    "L": [[(0.1, 0), (0.1, 1), (0.8, 1)]],
    "M": [[(0, 1), (0.1, 0), (0.5, 0.7), (0.9, 0), (1, 1)]],
    "N": [[(0.1, 1), (0.1, 0), (0.9, 1), (0.9, 0)]],
    "P": [[(0.1, 1), (0.1, 0)], [(0.1, 0)] + arc(0.35, 0.27, 0.5, 0.27, -90, 90) + [(0.1, 0.54)]],
    "R": [[(0.1, 1), (0.1, 0)], [(0.1, 0)] + arc(0.35, 0.27, 0.5, 0.27, -90, 90) + [(0.1, 0.54), (0.9, 1)]],
    "T": [[(0, 0), (1, 0)], [(0.5, 0), (0.5, 1)]],
    "U": [[(0.1, 0)] + arc(0.5, 0.6, 0.4, 0.4, 180, 0) + [(0.9, 0)]],
    "V": [[(0, 0), (0.5, 1), (1, 0)]],
    "W": [[(0, 0), (0.25, 1), (0.5, 0.3), (0.75, 1), (1, 0)]],
    "X": [[(0, 0), (1, 1)], [(1, 0), (0, 1)]],
    "Y": [[(0, 0), (0.5, 0.5), (1, 0)], [(0.5, 0.5), (0.5, 1)]],
    "a": [arc(0.45, 0.6, 0.4, 0.4, 0, 360), [(0.85, 0.2), (0.85, 1)]],
    "e": [[(0.1, 0.55), (0.9, 0.55)] + arc(0.5, 0.55, 0.4, 0.45, 0, -300)],
    "h": [[(0.1, 0), (0.1, 1)], [(0.1, 0.6)] + arc(0.5, 0.6, 0.4, 0.3, 180, 360) + [(0.9, 1)]],
    "k": [[(0.1, 0), (0.1, 1)], [(0.8, 0.35), (0.1, 0.75)], [(0.35, 0.6), (0.85, 1)]],
    "m": [[(0, 1), (0, 0.3)], [(0, 0.5)] + arc(0.25, 0.5, 0.25, 0.2, 180, 360) + [(0.5, 1)],
          [(0.5, 0.5)] + arc(0.75, 0.5, 0.25, 0.2, 180, 360) + [(1, 1)]],
    "n": [[(0.1, 1), (0.1, 0.3)], [(0.1, 0.55)] + arc(0.5, 0.55, 0.4, 0.3, 180, 360) + [(0.9, 1)]],
    "r": [[(0.2, 1), (0.2, 0.2)], [(0.2, 0.55)] + arc(0.55, 0.5, 0.35, 0.25, 180, 300)],
    "t": [[(0.4, 0), (0.4, 0.9), (0.7, 1)], [(0.1, 0.3), (0.8, 0.3)]],
    "w": [[(0, 0.3), (0.25, 1), (0.5, 0.5), (0.75, 1), (1, 0.3)]],
    "x": [[(0.1, 0.3), (0.9, 1)], [(0.9, 0.3), (0.1, 1)]],
    "+": [[(0.5, 0), (0.5, 1)], [(0, 0.5), (1, 0.5)]],
    "=": [[(0, 0.3), (1, 0.3)], [(0, 0.7), (1, 0.7)]],
    "#": [[(0.35, 0), (0.25, 1)], [(0.75, 0), (0.65, 1)], [(0, 0.35), (1, 0.35)], [(0, 0.7), (1, 0.7)]],
    "*": [[(0.5, 0), (0.5, 1)], [(0.07, 0.25), (0.93, 0.75)], [(0.93, 0.25), (0.07, 0.75)]],
    "?": [arc(0.5, 0.28, 0.4, 0.28, 180, 420) + [(0.5, 0.72)], [(0.5, 0.92), (0.5, 1)]],
    "!": [[(0.5, 0), (0.5, 0.7)], [(0.5, 0.92), (0.5, 1)]],
    "%": [[(0.9, 0), (0.1, 1)], arc(0.2, 0.18, 0.17, 0.17, 0, 360), arc(0.8, 0.82, 0.17, 0.17, 0, 360)],
    "&": [[(1, 1), (0.25, 0.35)] + arc(0.4, 0.2, 0.2, 0.2, 150, 390) + [(0.1, 0.75)]
          + arc(0.35, 0.75, 0.25, 0.25, 180, 90 - 360) + [(0.85, 0.55)]],
    "@": [arc(0.5, 0.5, 0.18, 0.22, 0, 360), arc(0.5, 0.5, 0.5, 0.5, 10, 330)],
    "<": [[(1, 0), (0, 0.5), (1, 1)]],
    ">": [[(0, 0), (1, 0.5), (0, 1)]],
    "arrow": [[(0, 0.5), (1, 0.5)], [(0.65, 0.15), (1, 0.5), (0.65, 0.85)]],
    "up": [[(0.5, 1), (0.5, 0)], [(0.15, 0.35), (0.5, 0), (0.85, 0.35)]],
    "tick": [[(0, 0.55), (0.35, 1), (1, 0)]],
    "square": [[(0, 0), (1, 0), (1, 1), (0, 1), (0, 0)]],
    "triangle": [[(0.5, 0), (1, 1), (0, 1), (0.5, 0)]],
    "house": [[(0.1, 0.45), (0.1, 1), (0.9, 1), (0.9, 0.45), (0.1, 0.45), (0.5, 0), (0.9, 0.45)]],
    "star": [[(0.5, 0), (0.8, 1), (0, 0.35), (1, 0.35), (0.2, 1), (0.5, 0)]],
    "heart": [[(0.5, 1)] + arc(0.27, 0.3, 0.25, 0.25, 135, -180 + 360) + arc(0.73, 0.3, 0.25, 0.25, 180, 405)
              + [(0.5, 1)]],
    "smiley": [arc(0.5, 0.5, 0.5, 0.5, 0, 360, 24), [(0.33, 0.33), (0.35, 0.38)], [(0.67, 0.33), (0.65, 0.38)],
               arc(0.5, 0.55, 0.28, 0.22, 20, 160)],
    "sun": [arc(0.5, 0.5, 0.25, 0.25, 0, 360)] + [[(0.5 + 0.33 * math.cos(a), 0.5 + 0.33 * math.sin(a)),
                                                   (0.5 + 0.5 * math.cos(a), 0.5 + 0.5 * math.sin(a))]
                                                  for a in np.linspace(0, 2 * math.pi, 8, endpoint=False)],
    "spiral": [[(0.5 + 0.05 * t * math.cos(t), 0.5 + 0.05 * t * math.sin(t)) for t in np.linspace(0, 10, 40)]],
    "crossed box": [[(0, 0), (1, 0), (1, 1), (0, 1), (0, 0), (1, 1)], [(1, 0), (0, 1)]],
}


def scribble(rng: np.random.Generator) -> list:
    """A random line that wanders through six to nine points: nothing a digit is made of."""
    return [[tuple(p) for p in rng.random((int(rng.integers(6, 10)), 2))]]


def blot(rng: np.random.Generator) -> list:
    """The outline of an irregular patch of ink, to be drawn filled."""
    angles = np.sort(rng.random(int(rng.integers(5, 9)))) * 2 * math.pi
    radius = rng.uniform(0.75, 1.0, len(angles))  # roundish: a thin patch would look like a 1
    points = [(0.5 + 0.5 * r * math.cos(a), 0.5 + 0.5 * r * math.sin(a)) for r, a in zip(radius, angles)]
    return [points + points[:1]]


def patch(rng: np.random.Generator) -> list:
    """The outline of a rectangle of any proportions: a box, a label, a photo of a thing."""
    width, height = rng.uniform(0.3, 1, 2)
    return [[(0, 0), (width, 0), (width, height), (0, height), (0, 0)]]


def render(strokes: list, rng: np.random.Generator, filled: bool = False, textured: bool = False) -> np.ndarray:
    """Strokes in a unit square -> a 28x28 float array, drawn with a wobbly pen, MNIST's way.

    `filled` fills each stroke's outline with ink; `textured` varies the ink's shade across the
    picture, like the folds of a shirt or a pattern in a photo.
    """
    strokes = [np.array(s, dtype=np.float64) for s in strokes]
    # A hand-drawn look: turn, slant and stretch the whole shape, then nudge every point a little.
    angle, slant = math.radians(rng.uniform(-15, 15)), rng.uniform(-0.25, 0.25)
    stretch = rng.uniform(0.7, 1.3)
    matrix = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]]) \
        @ np.array([[stretch, slant], [0, 1]])
    strokes = [(s - 0.5) @ matrix.T + rng.normal(0, 0.025, s.shape) for s in strokes]
    # Fit the longer side into 80 pixels of a 112-pixel canvas: 20 of 28 once shrunk four times.
    points = np.concatenate(strokes)
    low, high = points.min(0), points.max(0)
    scale = 80 / max((high - low).max(), 1e-6)
    canvas = Image.new("L", (112, 112), 0)
    draw = ImageDraw.Draw(canvas)
    width = int(rng.integers(7, 13))  # a pen 1.75 to 3 pixels wide once shrunk, like MNIST's strokes
    for stroke in strokes:
        xy = [tuple(p) for p in (stroke - (low + high) / 2) * scale + 56]
        if filled:
            draw.polygon(xy, fill=255)
        draw.line(xy, fill=255, width=width, joint="curve")
        for x, y in (xy[0], xy[-1]):  # round ends, as a pen leaves them
            draw.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=255)
    pixels = np.asarray(canvas.resize((28, 28), Image.BOX), dtype=np.float32) / 255
    if textured:
        shade = Image.fromarray(rng.uniform(0.2, 1, (int(rng.integers(3, 12)),) * 2).astype(np.float32))
        pixels *= np.asarray(shade.resize((28, 28), Image.Resampling.BICUBIC)).clip(0.1, 1)
    # Move the centre of mass to the centre, as MNIST did, as far as the margins allow.
    shifts = []
    for profile in (pixels.sum(1), pixels.sum(0)):  # ink per row, then per column
        ink = np.nonzero(profile)[0]
        wanted = round(14 - (profile @ np.arange(28)) / profile.sum())
        shifts.append(int(np.clip(wanted, -ink[0], 27 - ink[-1])))
    return np.roll(pixels, shifts, axis=(0, 1))


def ink_of(digit: torch.Tensor, height: int | None = None) -> torch.Tensor:
    """A digit [28, 28] cropped to its ink, and resized to `height` pixels if given."""
    rows, cols = (digit > 0.1).nonzero().T
    ink = digit[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    if height is None:
        return ink
    width = max(1, round(ink.shape[1] * height / ink.shape[0]))
    return F.interpolate(ink[None, None], size=(height, width), mode="bilinear", antialias=True)[0, 0].clamp(0, 1)


def side_by_side(left: torch.Tensor, right: torch.Tensor, gap: int, uniform: Callable[[], float]) -> torch.Tensor:
    """Two digits' ink on one line, `gap` pixels apart (less than 0: overlapping), each at a slightly
    different height."""
    canvas = torch.zeros(max(left.shape[0], right.shape[0]) + 6, left.shape[1] + gap + right.shape[1])
    for ink, x in ((left, 0), (right, left.shape[1] + gap)):
        y = int(uniform() * (canvas.shape[0] - ink.shape[0] + 1))
        place = canvas[y:y + ink.shape[0], x:x + ink.shape[1]]
        place.copy_(torch.maximum(place, ink))
    return canvas


def joined(canvas: torch.Tensor, start: int, end: int, uniform: Callable[[], float]) -> torch.Tensor:
    """A stroke of the pen from the ink at column `start` to the ink at column `end`, as in a number
    written in one movement."""
    rows = [(canvas[:, x:x + 3].amax(1) > 0.5).nonzero()[:, 0] for x in (start - 3, end)]
    if not all(len(r) for r in rows):
        return canvas
    y0, y1 = (int(r[int(uniform() * len(r))]) for r in rows)
    picture = Image.fromarray((canvas * 255).byte().numpy())
    ImageDraw.Draw(picture).line((start - 2, y0, end + 1, y1), fill=255, width=3)
    return torch.from_numpy(np.asarray(picture, dtype=np.float32) / 255)


def pair(digits: torch.Tensor, a: int, b: int, uniform: Callable[[], float]) -> tuple[torch.Tensor, int, int]:
    """Digits `a` and `b` written as people write touching digits: about the same height, side by
    side, overlapping by up to a quarter of the narrower one's width, or joined by a stroke of the
    pen. Returns the picture, and the columns between which the first one ends and the second begins."""
    left = ink_of(digits[a], round(40 * (0.9 + 0.2 * uniform())))
    right = ink_of(digits[b], round(40 * (0.9 + 0.2 * uniform())))
    if uniform() < 0.3:
        canvas = joined(side_by_side(left, right, 6, uniform), left.shape[1], left.shape[1] + 6, uniform)
        return canvas, left.shape[1], left.shape[1] + 6
    overlap = int(uniform() * 0.25 * min(left.shape[1], right.shape[1]))
    return side_by_side(left, right, -overlap, uniform), left.shape[1] - overlap, left.shape[1]


def pairs(digits: torch.Tensor, count: int, seed: int) -> torch.Tensor:
    """`count` pictures of two digits run together [count, 28, 28], fitted into one digit's place.
    predict.py cuts touching digits where the network reads the pieces best: it must not read two
    digits as one. `digits` are training digits [N, 28, 28] in [0, 1]."""
    generator = torch.Generator().manual_seed(seed)
    uniform = lambda: torch.rand((), generator=generator).item()  # noqa: E731
    images = []
    for a, b in torch.randint(len(digits), (count, 2), generator=generator).tolist():
        images.append(prepare.fit_and_centre(ink_of(pair(digits, a, b, uniform)[0])))
    return torch.stack(images)


def cut_from_pairs(digits: torch.Tensor, labels: torch.Tensor, count: int, seed: int,
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """`count` digits cut out of touching pairs [count, 28, 28], and their labels: what predict.py
    gets when it cuts in the right place, a scrap of the neighbour left on, or a sliver of the digit
    lost where they overlapped. These are digits, not non-digits: the network learns to read them
    as surely as whole ones, so that the right cut is the one it reads best."""
    generator = torch.Generator().manual_seed(seed + 2)
    uniform = lambda: torch.rand((), generator=generator).item()  # noqa: E731
    images, targets = [], []
    for a, b in torch.randint(len(digits), (count, 2), generator=generator).tolist():
        canvas, first_ends, second_begins = pair(digits, a, b, uniform)
        low, high = sorted((first_ends, second_begins))
        # Anywhere between the two, give or take 3 pixels (of a digit's 40): cuts are not exact, and a
        # stroke that joins two digits is left whole on either one at times, as predict.py's cuts leave it.
        cut = min(max(round(low - 3 + uniform() * (high - low + 6)), 1), canvas.shape[1] - 1)
        first = uniform() < 0.5  # the digit left of the cut, or the one right of it
        mask = touching.without_scraps(canvas > 0.3, *((0, cut) if first else (cut, canvas.shape[1])))
        piece = canvas * mask
        images.append(prepare.fit_and_centre(ink_of(piece if mask.sum() >= 8 else digits[a if first else b])))
        targets.append(labels[a if first else b])
    return torch.stack(images), torch.stack(targets)


def pieces(digits: torch.Tensor, labels: torch.Tensor, count: int, seed: int) -> torch.Tensor:
    """`count` parts of digits [count, 28, 28]: a third to three fifths of a digit's width, cut off
    at its left or its right, as a wrong cut between touching digits leaves them. The network learns
    that half a digit is no digit, so that cuts in the wrong place read badly. Not of 1s, whose
    parts are 1s."""
    generator = torch.Generator().manual_seed(seed + 1)
    uniform = lambda: torch.rand((), generator=generator).item()  # noqa: E731
    chosen = (labels != 1).nonzero()[:, 0]
    images = []
    for i in chosen[torch.randint(len(chosen), (count,), generator=generator)].tolist():
        ink = ink_of(digits[i])
        width = max(1, round((0.3 + 0.3 * uniform()) * ink.shape[1]))
        part = ink[:, :width] if uniform() < 0.5 else ink[:, -width:]
        images.append(prepare.fit_and_centre(ink_of(part) if (part > 0.1).any() else ink))
    return torch.stack(images)


def draw(count: int, seed: int) -> torch.Tensor:
    """`count` non-digit images [count, 28, 28] in [0, 1]: the same ones for the same seed, on any machine."""
    rng = np.random.default_rng(seed)
    shapes = list(SHAPES.values())
    images = []
    for _ in range(count):
        kind = rng.random()
        if kind < 0.6:  # mostly letters, symbols and doodles: what people write besides digits
            images.append(render(shapes[int(rng.integers(len(shapes)))], rng))
        elif kind < 0.75:
            images.append(render(scribble(rng), rng))
        elif kind < 0.85:
            images.append(render(blot(rng), rng, filled=True))
        else:  # solid things, as a photo of an object or a noisy picture leaves them
            images.append(render(patch(rng) if rng.random() < 0.5 else blot(rng), rng, filled=True, textured=True))
    return torch.from_numpy(np.stack(images))


def kept(data_dir: str | Path | None, name: str, sources: list[torch.Tensor],
         draw: Callable[[], dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """What draw() returns (pictures as "images", in [0, 1]), drawn once and kept in data_dir/drawn/
    for the runs after, which read it in milliseconds instead of drawing it for seconds. It is kept
    under a hash of all it depends on besides `name` (what, how many, the seed): the `sources` it
    is drawn from (the training digits), and the code that draws it (this file, what it uses, and
    the file that holds draw()), so that a change to any of them draws afresh.
    Pictures are kept as bytes, and used as bytes even when just drawn: the same, drawn or read."""
    digest = hashlib.sha256(torch.__version__.encode())
    for code in (__file__, prepare.__file__, touching.__file__, pixels.__file__, draw.__code__.co_filename):
        digest.update(Path(code).read_bytes())
    for tensor in sources:
        digest.update(tensor.cpu().contiguous().numpy())
    path = Path(data_dir) / "drawn" / f"{name}-{digest.hexdigest()[:16]}.pt" if data_dir else None

    def draw_as_bytes() -> dict[str, torch.Tensor]:
        return {key: value.mul(255).round_().byte() if key == "images" else value for key, value in draw().items()}

    def usable(made: dict[str, torch.Tensor]) -> bool:  # pictures as this function keeps them
        return "images" in made and made["images"].dtype == torch.uint8 and made["images"].shape[1:] == (28, 28)
    made = files.kept(path, draw_as_bytes, usable)
    return made | {"images": made["images"].float() / 255}


def main(argv: list[str] | None = None) -> None:
    report.sheet_command(argv, "non-digits", "checkpoints/nondigits.png", lambda seed: (draw(100, seed), [""] * 100))


if __name__ == "__main__":
    common.run(main)
