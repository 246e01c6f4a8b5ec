"""A photo of a garment or shoe -> a 28x28 input like Fashion-MNIST's, for a model trained on it.

Read this after prepare.py, which does the same for digits. Fashion-MNIST was made differently
from MNIST (its makers' steps are in prepare_clothing's docstring), and a model trained on it reads
a photo well only if the photo is made the same way: the item's own shades kept, not thickened,
resized by its longer side, sharpened and centred by its outline.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from images import ImageError, full_size, grey_at_working_size, upright
from pixels import bounds, edges, label_parts, max_filter
from prepare import Found, Item


def prepare_clothing(image: Image.Image) -> Found:
    """A photo of one garment or shoe -> one Item with [28, 28] pixels in [0, 1], as in Fashion-MNIST.

    Fashion-MNIST was made from shop photos on white: each trimmed to the item, its longer side
    resized to 28 pixels, centred, and negated, so the item is light on black. Unlike MNIST's ink,
    the item's own shades are kept (a white shirt becomes dark grey), and nothing is thickened.
    """
    image = upright(image)
    pixels = grey_at_working_size(image)
    # The background is what the picture's outermost pixels show: the item may fill most of it.
    background = torch.cat(edges(pixels)).median()
    if background > 0.5:  # a light background, as in shop photos: negate, as Fashion-MNIST did
        pixels, background = 1 - pixels, 1 - background
    pixels = ((pixels - background) / (1 - background)).clamp(0, 1)  # the background becomes pure black
    # The item, without specks of dust: its parts that hold at least 5% of the picture's ink.
    mask = pixels > 0.1
    if mask.sum() < 4:
        raise ImageError("nothing found: the image is blank or the item does not stand out from the background")
    # Neighbouring bits (a pattern's stripes, a strap) count as one part: label a slightly grown mask.
    labels, boxes = label_parts(max_filter(mask.float(), 5).bool().numpy())
    labels = np.where(mask.numpy(), labels, 0)
    mass = np.bincount(labels.ravel(), weights=pixels.numpy().ravel(), minlength=len(boxes) + 1)[1:]
    kept = 1 + np.nonzero(mass >= 0.05 * mass.sum())[0]
    top, left, bottom, right = bounds(torch.from_numpy(np.isin(labels, kept)))
    canvas = fashion_like(pixels[top:bottom, left:right])
    to_original = max(full_size(image)) / max(pixels.shape)
    box = (int(left * to_original), int(top * to_original), round(right * to_original), round(bottom * to_original))
    return Found([Item(canvas, box)], [])


def fashion_like(item: torch.Tensor) -> torch.Tensor:
    """An item trimmed from its photo, light on black -> [28, 28] as Fashion-MNIST's makers made
    theirs: the longer side resized to 28 pixels, sharpened, and centred."""
    height, width = item.shape
    scale = 28 / max(height, width)
    size = (max(1, round(height * scale)), max(1, round(width * scale)))
    item = F.interpolate(item[None, None], size=size, mode="bicubic", antialias=True)
    # Fashion-MNIST's makers sharpened their small images, and a network trained on them misreads
    # blurred ones: add back the difference between the image and a slightly blurred copy of it.
    blur = torch.tensor([[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]) / 16
    item = 2 * item - F.conv2d(F.pad(item, (1, 1, 1, 1), mode="replicate"), blur[None, None])
    item = item[0, 0].clamp(0, 1)
    height, width = item.shape
    canvas = torch.zeros(28, 28)
    # Centred by its outline, not by its centre of mass; an odd pixel of margin goes above and to the
    # left, as in Fashion-MNIST.
    offset_y, offset_x = (29 - height) // 2, (29 - width) // 2
    canvas[offset_y:offset_y + height, offset_x:offset_x + width] = item
    return canvas
