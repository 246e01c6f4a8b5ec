"""How training images are varied, a batch at a time: moved about, and mirrored where that is fair.

Read this beside train_cnn.py and train_mlp.py, whose recipes choose these. A network that sees
every training image exactly as it is, epoch after epoch, learns those pixels; moved a little
each time (rotated, scaled, shifted), it learns what stays: the digit. Everything here works on
the whole batch at once on its device, so varying the images costs a few operations per batch,
not a loop over images in Python.
"""

from __future__ import annotations

import functools
import math
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor


def random_affine(images: Tensor, degrees: float, shift: float, scale: float, flip: bool = False) -> Tensor:
    """Augmentation on a whole batch at once: rotate, scale and shift every image by its own random amount.

    `degrees` is the largest rotation, `shift` the largest shift in pixels, `scale` the largest
    relative change of size; `flip` mirrors half of them. Digits written by people vary in these
    ways (except mirroring), so the model learns to ignore them, not to memorise pixel positions.
    """
    n, _, height, width = images.shape
    uniform = lambda *shape: torch.rand(*shape, device=images.device) * 2 - 1  # noqa: E731, in [-1, 1)
    angle = uniform(n) * math.radians(degrees)
    zoom = 1 + uniform(n) * scale
    # affine_grid works in coordinates from -1 to 1, so one pixel is 2 / size.
    dx, dy = uniform(n) * shift * 2 / width, uniform(n) * shift * 2 / height
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    mirror = torch.where(uniform(n) < 0, -1.0, 1.0) if flip else 1.0  # -1 reverses the x axis
    theta = torch.stack([torch.stack([cos * mirror, -sin, dx], 1), torch.stack([sin * mirror, cos, dy], 1)], 1)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    # MNIST's outer rows and columns are always background, so "border" fills with background.
    return F.grid_sample(images, grid, padding_mode="border", align_corners=False)


def augmentation(dataset: str) -> Callable[[Tensor], Tensor]:
    """How a batch is moved about: digits rotated (up to 10 degrees), scaled (up to 10%) and shifted
    (up to 2 pixels); clothes, unlike digits, may be mirrored, and mirroring alone did best on them."""
    if dataset == "mnist":
        return functools.partial(random_affine, degrees=10, shift=2, scale=0.1)
    return functools.partial(random_affine, degrees=0, shift=0, scale=0, flip=True)
