"""pixels.py's tools against the plain definitions they make fast."""

import math
from collections import deque

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from pixels import (bounds, box_mean, coordinates, fill_in, grown, ink_quantile, label_parts, linear_quantile,
                    max_filter, min_filter, otsu, quantile, reaching_the_edge, stroke_width, turned)


@pytest.mark.parametrize("shape", [(1, 1), (5, 3), (40, 90), (128, 128)])
@pytest.mark.parametrize("size", [1, 3, 5, 15, 33])
def test_filters_give_what_each_square_holds(shape, size):
    image = torch.rand(shape, generator=torch.Generator().manual_seed(size))
    # Every window of `size` pixels, taken whole, along rows and then columns.
    padded = F.pad(image[None, None], (size // 2,) * 4, value=-math.inf)[0, 0]
    squares = padded.unfold(0, size, 1).unfold(1, size, 1)
    assert torch.equal(max_filter(image, size), squares.amax((-1, -2)))
    assert torch.equal(min_filter(-image, size), -squares.amax((-1, -2)))
    mean = F.avg_pool2d(image[None, None], size, stride=1, padding=size // 2, count_include_pad=False)[0, 0]
    assert torch.allclose(box_mean(image, size), mean, atol=1e-5)
    mask = image > 0.8  # a boolean mask grown in numpy, as the max filter grows it
    assert np.array_equal(grown(mask.numpy(), size // 2), (max_filter(mask.float(), size) > 0).numpy())


def flood_fill(mask: np.ndarray) -> list[set]:
    """The connected parts of `mask`, diagonal neighbours touching, one pixel at a time."""
    seen, parts = np.zeros_like(mask), []
    for start in zip(*np.nonzero(mask)):
        if seen[start]:
            continue
        part, queue = set(), deque([start])
        seen[start] = True
        while queue:
            y, x = queue.popleft()
            part.add((y, x))
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    near = (y + dy, x + dx)
                    if 0 <= near[0] < mask.shape[0] and 0 <= near[1] < mask.shape[1] and mask[near] and not seen[near]:
                        seen[near] = True
                        queue.append(near)
        parts.append(part)
    return parts


def comb(size: int) -> np.ndarray:
    """One long snake: upright teeth joined alternately at the top and at the bottom."""
    mask = np.zeros((size, size), dtype=bool)
    mask[:, ::2] = True
    for column in range(0, size - 2, 4):
        mask[0, column:column + 3] = True
        mask[-1, column + 2:column + 5] = True
    return mask


@pytest.mark.parametrize("density", [0.2, 0.45, 0.6])
def test_parts_are_those_a_flood_fill_finds(density):
    rng = np.random.default_rng(int(density * 100))
    for mask in [rng.random((60, 80)) < density, comb(61), comb(61).T.copy(), np.zeros((5, 5), dtype=bool),
                 rng.random((1, 30)) < density, rng.random((30, 1)) < density]:
        labels, boxes = label_parts(mask.copy())
        expected = flood_fill(mask)
        assert len(boxes) == len(expected) and labels.max() == len(expected)
        for part in expected:
            label = labels[next(iter(part))]
            assert set(zip(*np.nonzero(labels == label))) == part
            rows, columns = zip(*part)
            assert boxes[label - 1].tolist() == [min(rows), min(columns), max(rows) + 1, max(columns) + 1]
        assert ((labels > 0) == mask).all()
        on_the_edge = {label for part in expected for y, x in part if min(y, x) == 0 or y == mask.shape[0] - 1
                       or x == mask.shape[1] - 1 for label in [labels[y, x]]}
        assert np.array_equal(reaching_the_edge(labels), np.isin(labels, list(on_the_edge)))
        for array in (mask, mask.T, labels):  # turned (not contiguous), and numbers rather than booleans
            assert all(np.array_equal(a, b) for a, b in zip(coordinates(array), np.nonzero(array), strict=True))


@pytest.mark.parametrize("density", [0.02, 0.5, 0.97])
def test_a_masks_box_and_stroke_width_are_what_their_pixels_say(density):
    rng = np.random.default_rng(int(density * 100))
    for shape in [(1, 1), (3, 7), (40, 90)]:
        mask = rng.random(shape) < density
        mask[rng.integers(shape[0]), rng.integers(shape[1])] = True  # never empty
        rows, columns = np.nonzero(mask)
        assert bounds(torch.from_numpy(mask)) == (rows.min(), columns.min(), rows.max() + 1, columns.max() + 1)
        # The outline: ink with a background pixel among its 8 neighbours inside the picture.
        padded = np.pad(mask, 1, constant_values=True)
        outline = [not padded[y:y + 3, x:x + 3].all() for y, x in zip(rows, columns)]
        assert stroke_width(torch.from_numpy(mask)) == 2 * len(rows) / max(sum(outline), 1)


def test_turning_by_a_quarter_is_rot90_and_points_go_back():
    pixels = torch.rand(5, 8)
    for image in (pixels, pixels > 0.5):  # grey values, and a mask (nearest pixel, still a mask)
        quarter, back = turned(image, 90)
        assert quarter.dtype == image.dtype and torch.allclose(quarter.float(), torch.rot90(image, 1, (0, 1)).float())
    for row, column in ((0, 0), (3, 2), (7, 4)):  # a pixel's centre on the turned canvas, back where it was
        x, y = back(column + 0.5, row + 0.5)
        assert math.isclose(x, 8 - 1 - row + 0.5, abs_tol=1e-9) and math.isclose(y, column + 0.5, abs_tol=1e-9)
    # Turned by an angle, the canvas holds every pixel: the ink's total stays, and turning back undoes it.
    disc = ((torch.arange(40)[:, None] - 20) ** 2 + (torch.arange(60) - 25) ** 2 < 64).float()
    there, _ = turned(disc, 30)
    again, _ = turned(there, -30)
    assert abs(there.sum() - disc.sum()) < 0.02 * disc.sum() and abs(again.sum() - disc.sum()) < 0.03 * disc.sum()


def test_otsu_splits_two_groups_and_one_shade_not_at_all():
    # The plain definition: of all levels, the one between the two groups. One shade has no split.
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.normal(0.2, 0.03, 900), rng.normal(0.7, 0.03, 100)])
    level = otsu(values)
    assert (values[:900] < level).mean() > 0.99 and (values[900:] > level).all()
    assert otsu(np.full(100, 0.5) + rng.normal(0, 1e-6, 100)) < 0.5


def test_quantiles_are_torch_s():
    # torch.quantile and torch.median are the definitions; pictures' values are often equal (a drawing's
    # pure black, the paper's 0), and the ink's quantile ranks the pixels above 0 alone.
    rng = np.random.default_rng(0)
    for size in (1, 2, 7, 1000, 20001):
        for share_equal in (0.0, 0.5, 0.95):
            values = rng.random(size).astype(np.float32) ** 4
            values[:int(share_equal * size)] = 0.0
            rng.shuffle(values)
            tensor = torch.from_numpy(values)
            assert quantile(values, 0.5) == tensor.median().item()
            for q in (0.0, 0.05, 0.5, 0.95, 0.995, 1.0):
                for ours in (linear_quantile(values, q), ink_quantile(values.reshape(1, -1), q)):
                    assert ours == pytest.approx(torch.quantile(tensor, q).item(), rel=1e-5, abs=1e-7)


def test_a_hole_is_filled_from_what_lies_around_it():
    # A plane sloping to the right, with a hole: filled, it goes on at the level of the hole's own
    # edge, nearly flat (each pixel is a mean of its neighbours); a level plane is filled level.
    # A hole with no known pixel anywhere stays as it was.
    ramp = torch.linspace(0, 1, 60).repeat(40, 1)
    hole = torch.zeros(40, 60, dtype=torch.bool)
    hole[:, 40:] = True  # the right third, as a table strip beside a page is
    filled = fill_in(ramp, hole)
    assert torch.equal(filled[~hole], ramp[~hole])
    assert filled[hole].min() > ramp[20, 38] and filled[hole].max() < ramp[20, 40] + 0.05
    assert torch.allclose(fill_in(torch.full((40, 60), 0.3), hole), torch.full((40, 60), 0.3))
    assert torch.equal(fill_in(ramp, torch.ones(40, 60, dtype=torch.bool)), ramp)
