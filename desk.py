"""The table or the desk around a page, in a photo: what of the picture lies beyond the paper.

Read this file after paper.py, which calls it before it tells ink from paper. A page photographed
lying on a table shows the table along the picture's edges; left in, the background's estimate
(paper.remove_background) cannot follow the page's sharp edge, and leaves a strip of "ink" along it:

  - a dark table, nearly as dark as the ink, with a sharp edge, on the light side of the picture once
    the ink is turned light on dark, and nothing written on it (dark_table; a deep shadow across the
    page is as dark and as sharp, but holds writing: holds_writing; a bold 1 down the side of a
    number cropped tight is too, but stands in line with the digits beside it);
  - a desk lighter than the pen (a wooden desk under a note), where nothing is written on it, as far as
    no sharp step in shade parts it from the picture's edge, with the page's edge and its shadow
    (table_around, beyond_the_page);
  - a small page on a dark desk that fills most of the photo: the writing it encloses is darker than
    the desk, which tells the paper's side (page_on_a_table, for paper.ink_light).
"""

from __future__ import annotations

import numpy as np
import torch

from pixels import (bounds, edges, grown, in_line, label_parts, max_filter, min_filter, reaching_the_edge, resize,
                    shrunk)


def table_around(pixels: torch.Tensor, light: torch.Tensor) -> torch.Tensor:
    """Where a [H, W] picture shows the table around the page (a mask, empty if it does not), given
    its `light` side, ink and table: the paper is the other side (find_ink turned the picture so)."""
    if along_an_edge(light) and (table := dark_table(pixels, light, pixels[~light].median())).any():
        return table
    # A desk lighter than the pen (wood) lies on the paper's side of Otsu's split, or that split parts
    # the page from the desk rather than the ink from the paper. The ink is then what stands out far
    # more than any surface from the picture's usual shade, the paper what lies among the writing (its
    # strokes' soft edges left out), and the desk what is along the picture's edge, darker than that.
    height, width = pixels.shape
    middle = pixels[height // 3:-(height // 3) or None, width // 3:-(width // 3) or None].flatten()
    page = middle.kthvalue(max(1, len(middle) // 10)).values  # the paper, however much ink is there
    if all(abs(edge.median() - page) < 0.06 for edge in edges(pixels)):
        return torch.zeros_like(light)  # the picture's edges are of the paper's shade (most pictures)
    pen = torch.quantile(pixels[::2, ::2].flatten(), 0.999)
    writing = pixels > (pixels.median() + pen) / 2
    if not writing.any():
        return torch.zeros_like(light)
    top, left, bottom, right = bounds(writing)
    between = ~torch.from_numpy(grown(writing.numpy(), 2))[top:bottom, left:right]
    if not between.any():
        return torch.zeros_like(light)
    paper = pixels[top:bottom, left:right][between].median()
    border = max(edge.median() for edge in edges(pixels))  # the darkest edge
    desk = writing | (pixels > (paper + border) / 2)
    if border < paper + 0.1 or not along_an_edge(desk):
        return torch.zeros_like(light)  # no desk darker than the page
    return dark_table(pixels, desk, paper)


def along_an_edge(mask: torch.Tensor) -> bool:
    """Whether a [H, W] mask runs along half of one of the picture's edges or more."""
    return any(edge.float().mean() > 0.5 for edge in edges(mask))


def dark_table(pixels: torch.Tensor, light: torch.Tensor, paper: torch.Tensor) -> torch.Tensor:
    """The table in a [H, W] picture whose `light` side holds it, the `paper` of this shade, as
    table_around gives it."""
    # The light side worn away by 2% of the picture's size from every side: what runs along more than
    # half of one of the picture's edges then is the table (or the page's shade), grown back.
    r = max(2, round(0.02 * min(light.shape)))
    labels, boxes = label_parts(min_filter(light.float(), 2 * r + 1).bool().numpy())
    along = np.flatnonzero(np.any([np.bincount(edge, minlength=len(boxes) + 1)[1:] > len(edge) / 2
                                   for edge in edges(labels)], 0))
    # But in a picture cropped tight to a number, a bold digit at its side (a 1) runs along that edge
    # too: one in line with another part left (a bold digit beside it, in_line) is no table.
    along = along[~in_line(boxes, along, np.setdiff1d(np.arange(len(boxes)), along))]
    core = torch.from_numpy(np.isin(labels, 1 + along))
    if not core.any():
        return core
    level = pixels[core].median()
    table = (max_filter(core.float(), 2 * r + 1) > 0) & (pixels > (level + paper) / 2)
    # A table is nearly as dark as the darkest ink, and its edge is sharp: two pixels inside it are far
    # darker than two pixels outside. The page's shade is fainter than the pen, and fades gently. A
    # lighter table (a wooden desk under a note) is one too where nothing is written on it: a shadow
    # across the page may be as dark as that, but holds writing.
    inner = table & ~(min_filter(table.float(), 5) > 0)
    outer = (max_filter(table.float(), 5) > 0) & ~table
    darkest, pen = torch.quantile(pixels[::2, ::2].flatten(), torch.tensor([0.99, 0.999]))
    bare = (pixels[core] > (level + pen) / 2).float().mean() < 0.002
    if level - paper < (0.15 * (pen - paper) if bare else 0.6 * (darkest - paper)) or not outer.any() or \
            pixels[inner].mean() - pixels[outer].mean() < 0.6 * (level - paper):
        return torch.zeros_like(core)
    depth = shrunk(darkness(pixels), 128)
    if holds_writing(depth, resize(core.float(), *depth.shape) > 0.5, resize(table.float(), *depth.shape) < 0.5):
        return torch.zeros_like(core)  # a deep shadow across the page, as dark and as sharp
    if bare:  # light and shade may vary across a lighter table as much as it differs from the page
        table |= beyond_the_page(pixels, pixels > (level + pen) / 2, paper.item(), (level - paper).item() / 4)
    return max_filter(table.float(), 5) > 0  # with the page's blurred edge


def darkness(pixels: torch.Tensor, least: float = 0.02) -> torch.Tensor:
    """How dark each pixel of a picture of dark ink turned light on dark is, as a share of the light
    it sends back: minus the logarithm of that light (below `least`, a camera tells no shades apart)."""
    return -torch.log((1 - pixels).clamp(min=least))


def holds_writing(depth: torch.Tensor, inside: torch.Tensor, page: torch.Tensor) -> bool:
    """Whether strokes stand out of the `inside` of a [h, w] picture's `depth` (its darkness) as the
    writing stands out of the `page` (both masks): a deep shadow across the page holds writing; a
    table, or something dark photographed on the paper (a shirt), holds none."""
    # As shares of the light, a stroke in a shadow stands out of it as far as a stroke on the lit paper
    # does; the grain of a table, or its noise, far less. The strokes are what stands out of its
    # surroundings in a picture shrunk to 128 pixels: a stroke's width or two.
    strokes = depth - max_filter(min_filter(depth, 5), 5)
    inside = min_filter(inside.float(), 5) > 0
    if not inside.any() or not page.any():
        return False
    return bool((strokes[inside] > 0.25 * strokes[page].max()).float().mean() >= 0.01)


def beyond_the_page(pixels: torch.Tensor, writing: torch.Tensor, paper: float, step: float) -> torch.Tensor:
    """A surface of another shade than the `paper` around the page (a desk), with the page's edge and a
    shadow the page casts on it: all of the picture that touches its edge without crossing a sharp
    `step` in shade, comes nowhere near the `writing` (a mask), and is far from the paper's shade."""
    # Light and shade vary slowly across a desk, and from one pixel to the next far less than at the
    # page's edge: the parts of the picture (shrunk to 128 pixels) between such steps are each of one
    # surface. A desk's may be as light in one corner as the page is in another.
    small = shrunk(pixels, 128)
    walls, values = (max_filter(small, 3) - min_filter(small, 3) > step).numpy(), small.numpy()
    labels, _ = label_parts(~walls)
    shade = np.bincount(labels.ravel(), values.ravel()) / np.maximum(np.bincount(labels.ravel()), 1)
    beyond = np.abs(shade - paper) > 2 * step
    # The page holds the writing: the `writing` given, and whatever stands out of its surroundings as
    # strongly as a stroke, which finds the strokes in a shadow or a glare too.
    strokes = values - max_filter(min_filter(small, 7), 7).numpy()
    writing = (shrunk(writing.float(), 128).numpy() > 0.25) | (strokes > 0.5 * strokes.max())
    beyond[np.unique(labels[grown(writing, 2)])] = False  # the page itself
    # A printed line parts the paper into cells, which may differ from the paper by the writing as much
    # as a desk does where the light is uneven, but hardly from the cells beside them: right across a
    # desk's steps the shade is the page's, far from the desk's right inside them.
    for label in [label for label in np.unique(np.concatenate(edges(labels))) if label and beyond[label]]:
        part = labels == label
        across = grown(part, 4) & ~part & ~walls
        inside = part & grown(across, 4)
        beyond[label] &= across.any() and abs(np.median(values[across]) - np.median(values[inside])) >= 2 * step
    reached = reaching_the_edge(labels) & beyond[labels]
    for _ in range(5):  # the steps along the page's edge: the edge itself, and the shadow beside it
        reached |= grown(reached, 1) & walls
    return resize(torch.from_numpy(reached).float(), *pixels.shape) > 0.5


def page_on_a_table(pixels: torch.Tensor, light: torch.Tensor, edge: torch.Tensor) -> bool:
    """Whether the `light` side of a [H, W] picture is a page (a note, a card) lying on a darker table
    that fills most of the photo, written on in a pen darker still; `edge`: the picture's edges' shade."""
    # Strokes drawn light on dark enclose only the dark around them (a 0's loop), no darker than
    # anywhere else: MNIST's are black inside their loops and along their edges alike. Writing on a
    # page is enclosed by the paper, and is darker than the table that shows along the picture's
    # edge. The light side must be solid, too: worn away by a twentieth of the picture's size from
    # every side, a twentieth of the picture is left (of an MNIST digit, hardly ever).
    dark = ~light.numpy()
    labels, _ = label_parts(dark)
    enclosed = torch.from_numpy(dark & ~reaching_the_edge(labels))
    if enclosed.sum() < 0.001 * enclosed.numel():
        return False
    solid = min_filter(light.float(), 2 * max(2, round(0.05 * min(pixels.shape))) + 1).mean() >= 0.05
    return bool(solid and torch.quantile(pixels[enclosed], 0.2) < edge - 0.05)  # the pen's darker part
