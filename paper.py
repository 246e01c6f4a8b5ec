"""Telling ink from paper: what of a picture is pen strokes, and what is paper, light and print.

Read this file to learn how a photo or scan of writing becomes "ink", light strokes on black, with
everything else set to zero. People write on paper that is itself full of marks, and a model that
reads digits must never see them:

  1. uneven light and shadows: the paper's own brightness, estimated everywhere by a filter wider
     than any stroke and subtracted, and the ink weighed against the light the paper sends back, so
     that a stroke in a shadow is as strong as one in the light (remove_background); a shadow across
     the page may leave the picture mostly dark, yet the strokes still stand out darker than the
     paper around them, which tells dark ink from light (ink_light, darker_strokes), and a shadow as
     dark as the ink from the ink, or from a table (deep_shadow, desk.holds_writing);
  2. ruled lines, squared grids and margin lines: long, thin runs across the page, straight or bowed
     where the page bends, found by their length and straightness (lines.py) and removed where no pen
     stroke crosses them (printed.py);
  3. printed textures behind the writing (the wavy pattern of a cheque, a dotted screen): marks
     fainter than the pen that cover the paper far away from the strokes; what is no brighter than
     the brightest of them is print (texture_floor), and what is brighter is kept as it is, so that
     the strokes of a thin ballpoint, faint across most of their breadth, keep that breadth;
  4. the table around the page, in a photo, taken out first, the page's own background carried on
     under it (desk.py finds it);
  5. writing on the back of thin paper, showing through: faint blurred marks away from the strokes (show_through).

What is left is scaled so that a typical stroke has brightness one (typical, find_ink). prepare.py
then finds the digits in it; `--save-processed` shows what was taken for ink and what for paper.
The filters over squares of pixels used here are in pixels.py.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from images import ImageError
from desk import darkness, holds_writing, page_on_a_table, table_around
from pixels import (box_mean, edges, fill_in, grown, ink_quantile, label_parts, linear_quantile, max_filter, min_filter,
                    otsu, quantile, reaching_the_edge, resize, shrunk, stroke_width)
from printed import lines_to_remove


# ---------------------------------------------------------------------------------------------
# 1. Light and shadow
# ---------------------------------------------------------------------------------------------

def paper_window(small: torch.Tensor) -> int:
    """The width of the square that the paper around each pixel is judged over, in a picture shrunk to
    128 pixels: a quarter of it, odd, and well wider than a pen stroke."""
    return max(9, max(small.shape) // 4) | 1


def remove_background(pixels: torch.Tensor, table: torch.Tensor | None = None, dark_ink: bool = False,
                      ) -> torch.Tensor:
    """Subtract the (possibly uneven) background, so that only ink is left above zero; where the page
    lies on a `table` (a mask), the page's own background is carried on under it (table_around). For
    `dark_ink` on paper (turned light on dark here), light and shadow are weighed as the paper reflects them."""
    # A min filter wider than any stroke erases the ink and leaves the background, shadows
    # included; the max filter after it undoes the shrinking of bright areas ("opening").
    small = shrunk(pixels, 128)
    size = paper_window(small)
    if table is not None and table.numpy().any():
        small = fill_in(small, resize(table.float(), *small.shape) > 0.5 if small.shape != table.shape else table)
    background = max_filter(min_filter(small, size), size)
    # Smooth the estimate, so that no edge of the filter's squares shows up as a step in the result.
    # Over the filter's whole width, a shadow's sharp edge would be smoothed too: the lit paper carried
    # into the shadow, and the shadowed paper along the edge left as ink. So where the estimate is
    # paper, however shadowed, over a quarter of that width, never below the whole width's mean, and
    # never more than a twentieth of the way to the ink below the filter's own estimate, which follows
    # a shadow's edge; where it is nearly at the ink's level (0.6 of the way from the paper's), it holds
    # strokes wider than the filter (a tightly cropped digit's), and is smoothed over the whole width,
    # which spreads them thin.
    smooth, short = box_mean(background, size), box_mean(background, size // 4 | 1)
    paper_level = torch.tensor(linear_quantile(smooth.numpy().ravel(), 0.05))
    ink_level = torch.tensor(linear_quantile(small.numpy().ravel(), 0.99))
    # For dark ink on paper, levels are compared as ratios of the light the paper sends back (their
    # logarithms): a shadow takes a share of it (half, say), and ink leaves a fifth of it or less (no
    # darker ink counts as darker here), so that a shadow is far nearer the paper than the ink, even
    # where it is as dark as a ballpoint's blue.
    level = (lambda v: darkness(v, 0.2)) if dark_ink else (lambda v: v)  # noqa: E731
    at_paper = level(short) < level(paper_level) + 0.6 * (level(ink_level) - level(paper_level))
    if dark_ink:
        at_paper |= deep_shadow(small, short, at_paper, paper_level, ink_level)
    short = torch.maximum(short, background - 0.05 * (ink_level - paper_level))
    background = torch.where(at_paper, torch.maximum(short, smooth), smooth)
    full = lambda values: resize(values, *pixels.shape) if values.shape != pixels.shape else values  # noqa: E731
    ink = (pixels - full(background)).clamp(min=0)
    gain = shade_gain(background, at_paper) if dark_ink else None
    return ink if gain is None else ink * full(gain)


def deep_shadow(small: torch.Tensor, short: torch.Tensor, at_paper: torch.Tensor, paper_level: torch.Tensor,
                ink_level: torch.Tensor) -> torch.Tensor:
    """Where the background (`short`) of dark ink on paper, shrunk to `small`, lies in a shadow that
    takes more of the light than the ink's usual level leaves (not `at_paper`), and is paper all the
    same: a mask, empty where there is no such shadow."""
    # A shadow may take three quarters of the light, as much as a ballpoint's ink on the lit paper; the
    # ink in it is darker still, by as large a share of the light left. Compared with the ink as dark
    # as it is, the shadow is paper where it comes in from beyond the picture (a broad stroke lies in
    # it) and holds writing (a dark shirt photographed holds none).
    paper, ink = darkness(paper_level), darkness(ink_level)
    shadow = (~at_paper & (darkness(short) < paper + 0.6 * (ink - paper))).numpy()
    shadow = torch.from_numpy(reaching_the_edge(label_parts(shadow)[0]) if shadow.any() else shadow)
    return shadow if shadow.any() and holds_writing(darkness(small), shadow, at_paper) else torch.zeros_like(shadow)


def shade_gain(background: torch.Tensor, at_paper: torch.Tensor) -> torch.Tensor | None:
    """How much stronger the ink is made where the page lies in a shadow (the `background` of dark ink
    turned light on dark, where it is the paper), to be as strong as in the light; None where no part
    of the page is in a shadow (most pictures)."""
    # A shadow dims the ink with the paper, and a stroke in it is fainter by as much: weighed against
    # the light the paper sends back there, it is as strong as one in full light. At most 4 times as
    # strong (a shadow that leaves a quarter of the light): more also strengthens what the estimate
    # leaves along a shadow's edge.
    paper_light = (1 - background).clamp(min=0.01)  # black paper: no light to weigh against
    gain = torch.where(at_paper, linear_quantile(paper_light.numpy().ravel(), 0.95) / paper_light, 1).clamp(1, 4)
    # A shadow falls across the page from beyond the picture: a darker patch in the middle, all of it
    # inside the picture, is something dark photographed on the paper (a shirt, a shoe), not a shadow.
    shaded = (gain > 1.1).numpy()
    shadow = reaching_the_edge(label_parts(shaded)[0]) if shaded.any() else shaded
    return torch.where(torch.from_numpy(shadow), gain, 1) if shadow.any() else None


# ---------------------------------------------------------------------------------------------
# 2. Printed textures, and the back of the page
# ---------------------------------------------------------------------------------------------

def spread(marks: torch.Tensor) -> float:
    """The share of the cells of an 8 x 8 grid over a [H, W] mask that hold some of its marks."""
    return (F.adaptive_avg_pool2d(marks.float()[None, None], 8)[0, 0] > 0.01).float().mean().item()


def near_the_strokes(strong: torch.Tensor) -> torch.Tensor:  # where their soft edges may reach
    return max_filter(strong.float(), 2 * round(stroke_width(strong)) + 9) > 0


def texture_floor(ink: torch.Tensor, pen: float, margin: int) -> float:
    """The level of a printed texture under the writing, or 0 if there is none (all the ink, if there
    is no writing). A texture is many marks fainter than the pen, spread over the paper far from any
    stroke; the soft edges of strokes and a camera's noise are faint too, but lie along the strokes
    or are fainter still."""
    values = ink.numpy()  # numpy picks pixels several times faster than torch
    visible = values > 0.1 * pen
    if np.count_nonzero(visible) < 20:
        return 0.0
    level = otsu(values[visible])
    strong = values > level
    weak = torch.from_numpy(visible & ~strong)
    strong = torch.from_numpy(strong)
    if spread(weak) < 0.5:  # faint marks in few places: the soft edges of the strokes, not a texture
        return 0.0
    # Spread far from the strokes (beyond a stroke's soft edge), in most cells of an 8 x 8 grid: a
    # faint digit beside a dark one fills a few cells only. The print's own marks, out there, show
    # how bright it gets: up to its brightest marks (all but a thousandth), not up to Otsu's split
    # between print and pen, which a thin ballpoint's strokes, seldom bright across, straddle.
    far = weak & ~near_the_strokes(strong)
    if spread(far) >= 0.5:
        return min(level, torch.quantile(ink[far], 0.999).item())
    # Strong marks in every cell of the picture (inside the `margin` of paper added around it), with
    # faint ones: a printed pattern with nothing written on it, all of it print; or a number cropped so
    # tight that its strokes reach every cell. A pen's strokes are as broad as a tenth of a digit's
    # height, and the picture is hardly taller; a pattern's marks are fine, and no broader in a small
    # picture. Then Otsu's split lies between the print and the pen.
    inside = strong[margin:-margin, margin:-margin]
    if spread(inside) < 0.98:
        return 0.0
    broad = stroke_width(inside)
    return float(level) if broad > 2.5 and broad >= inside.shape[0] / 14 else float(ink.max())


def show_through(ink: torch.Tensor) -> torch.Tensor:
    """The writing on the back of thin paper that shows through it: a [H, W] mask, empty if there is none."""
    # Seen through the paper, the writing behind is a faint, blurred, mirrored copy: marks 0.4 as strong
    # as the pen or less, on the open paper away from the strokes (their soft edges lie along them; what
    # they enclose may be the inside of a solid thing, a bag's), a tenth as many as the strokes' or more.
    nothing, half = torch.zeros_like(ink, dtype=torch.bool), ink.numpy()[::2, ::2]
    strong = half > 0.5
    if not strong.any() or np.count_nonzero((half > 0.1) & (half <= 0.5) & ~near_the_strokes(
            torch.from_numpy(strong)).numpy()) < 0.02 * np.count_nonzero(strong):
        return nothing  # a first, cheap look at every other pixel: a drawing's soft edges all lie near its strokes
    strong, faint = ink > 0.5, (ink > 0.1) & (ink <= 0.5)
    far = faint & torch.from_numpy(reaching_the_edge(label_parts((~near_the_strokes(strong)).numpy())[0]))
    level = torch.quantile(ink[far], 0.95).item() if far.sum() >= 0.1 * strong.sum() else 1.0
    if level > 0.4:
        return nothing
    # Its parts go, up to a little above that level; but a part that rises higher beyond a stroke's soft
    # edge is writing as faint in places (under a glare), and stays whole.
    values, strong = ink.numpy(), (ink > 0.5).numpy()
    labels, _ = label_parts((values > 0.1) & ~grown(strong, 2))
    kept = np.zeros(labels.max() + 1, dtype=bool)
    kept[labels[(values > 1.2 * level) & ~grown(strong, round(stroke_width(ink > 0.5) / 2) + 2)]] = True
    return torch.from_numpy((labels > 0) & ~kept[labels] & (values <= 1.2 * level))


# ---------------------------------------------------------------------------------------------
# All together
# ---------------------------------------------------------------------------------------------

def typical(ink: torch.Tensor, lined: bool) -> torch.Tensor:
    """A stroke's typical brightness: the median of the pixels at least half as bright as the brightest. On
    `lined` paper, where a line darker than the pen adds to it at each crossing, the brightest 5% are left out."""
    # In numpy, which picks the pixels and their median several times faster than torch.
    values, top = ink.numpy(), ink.max().item()
    peak = quantile(values[values > top / 2], 0.5) if top > 0 else 0.0
    pen = quantile(values[values > linear_quantile(values[values > peak / 4], 0.95) / 2], 0.5) \
        if lined and peak > 0 else peak
    return torch.tensor(pen if pen < 0.8 * peak else peak)


def ink_light(pixels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, bool]:
    """Grey pixels [H, W] turned, if need be, so that the ink is light on dark paper, as in MNIST; the
    light side of Otsu's split (the ink, and a table around the page if there is one); and whether they
    were turned (dark ink on light paper)."""
    # Paper covers most of a picture of a digit, so if most of it is light, this is dark ink on paper:
    # invert it. A tightly cropped digit may hold as much ink as paper: its edge tells the paper's
    # shade. A page on a dark table has a dark edge and may be grey in a dim photo: still, half of the
    # picture or more is on the light side of Otsu's split (the table may fill nearly half of it),
    # where a digit drawn light on black leaves far less light. A shadow across the page can fool all
    # three: then the strokes tell, darker than the paper around them. A small page on a dark desk
    # leaves most of the photo dark, and its edge too: the writing it encloses tells.
    edge = torch.cat(edges(pixels))
    light = torch.from_numpy(pixels.numpy() > otsu(pixels[::2, ::2].flatten().numpy()))  # numpy compares faster
    if pixels.median() > 0.65 or edge.median() > 0.5 or light.float().mean() >= 0.5 or darker_strokes(pixels) \
            or page_on_a_table(pixels, light, edge.median()):
        return 1 - pixels, ~light, True
    return pixels, light, False


def darker_strokes(pixels: torch.Tensor) -> bool:
    """Whether a [H, W] picture's contrasts with their surroundings lean to the dark side: strokes of
    dark ink on paper, however the light falls. Strokes cover a small share of any neighbourhood, so a
    few pixels are far darker than their surroundings, and many (the paper beside them) a little
    lighter: the contrasts' skewness is clearly negative (below -1/2). A shadow's edge is as dark on
    one side of it as it is light on the other, and skews nothing. Contrasts are ratios of light
    (differences of logarithms): a stroke in a deep shadow is as dark beside its paper as in the light.
    Below a tenth of the light, shades count as one: the faint ringing around the strokes of a small
    picture read larger would otherwise count for as much as a stroke, on black."""
    small = shrunk(pixels, 128).double().clamp(min=0.1).log()
    contrast = small - box_mean(small, paper_window(small))
    return bool((contrast ** 3).mean() < -0.5 * (contrast ** 2).mean() ** 1.5)


def find_ink(pixels: torch.Tensor, margin: int, least: int = 20) -> tuple[torch.Tensor, torch.Tensor]:
    """Grey pixels [H, W] -> ink: light on black, paper removed, a typical stroke at full brightness,
    with `margin` pixels of blank paper added around, as MNIST leaves around every digit. Also
    returns what was taken for paper lines, texture or the table (a boolean mask), for a person to see.
    Where there are lines or a pattern, fewer than `least` pixels of ink left are no digit."""
    pixels, light, dark_ink = ink_light(pixels)
    # The paper is the dark side now: where a table is around it, its lines are only as long as it is.
    on_paper = (~light).float()
    page = (int((on_paper.mean(1) >= 0.5).sum()), int((on_paper.mean(0) >= 0.5).sum()))  # rows, columns: half paper
    # A table or a desk around the page is no paper, and would leave a strip of "ink" along the page's
    # edge where the background's estimate, smoothed, cannot follow its sharp edge: it is taken out first.
    table = table_around(pixels, light)
    # Paper added around lets the background of a tightly cropped digit be measured on all sides. It
    # goes on as it is at the edge (a shadow there is no ink); any ink it brings in is dropped.
    pad = lambda p: F.pad(p[None, None], (margin, margin, margin, margin), mode="replicate")[0, 0]  # noqa: E731
    pixels, table = pad(pixels), pad(table.float()) > 0
    ink = remove_background(pixels, table, dark_ink)
    # Whole-picture steps in numpy from here on: on this many pixels, several times faster than torch's.
    values = ink.numpy()  # the same pixels: what is set in one is set in the other
    values[table.numpy()] = 0
    values[:margin], values[-margin:], values[:, :margin], values[:, -margin:] = 0, 0, 0, 0
    if np.count_nonzero(values > 0.15) < 4:  # a few stray pixels of contrast are not a digit
        raise ImageError("no digit found: the image is blank or has almost no contrast")
    # Lines first: a faint grid would otherwise count as a texture, a dark one glue digits together.
    lines = lines_to_remove(values, values > 0.2 * ink_quantile(values, 0.995), margin, page)
    unlined = np.where(lines, 0, values)
    ink = torch.from_numpy(unlined)
    peak = typical(ink, False)  # the print's texture is weighed against the brightest strokes, crossings too
    floor = texture_floor(ink, peak.item(), margin)
    removed = torch.from_numpy(lines | ((unlined > (0.1 * peak).item()) & (unlined <= floor)) | table.numpy())
    # What is brighter than the print stays as bright as it is: less the print's level, a thin stroke would
    # be fainter still, and broken where it is faintest.
    kept = np.where(unlined > floor, unlined, 0)
    ink = torch.from_numpy(kept)
    # Writing is seldom much fainter than the print it was written on (a pencil may be a little):
    # what is left far fainter than the lines, or than the pattern, is the paper's own grain.
    faintest = max(0.15, 0.6 * float(np.median(values[lines])) if lines.any() else 0.0)
    if (lines.any() or floor > 0) and np.count_nonzero(kept > faintest) < least:
        raise ImageError("no digit found: only paper, lines or a printed pattern")
    if floor > 0 or lines.any():  # the typical brightness of a stroke, without the texture or the lines
        peak = typical(ink, lines.any())
    ink = (ink / peak).clamp(max=1)
    behind = show_through(ink)
    values = ink.numpy()  # faint noise becomes pure black
    return torch.from_numpy(np.where((values > 0.1) & ~behind.numpy(), values, 0)), removed | behind
