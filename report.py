"""What a learner looks at during and after training: progress, the report, pictures, the CSV log.

Read this file to learn how to look at a model's results beyond one accuracy figure: a confusion
matrix says which classes it mixes up, a picture of its most confident mistakes shows why, and a
CSV log of the epochs can be plotted. training.Run and evaluate.py call these, and nondigits.py
and writers.py draw a sheet of what the network learns from with sheet_command; none of it changes
what the model learns.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw, PngImagePlugin
from torch import Tensor

import common
import files


LOG_COLUMNS = ["epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "seconds"]


# ---------------------------------------------------------------------------------------------
# During training: one line per epoch
# ---------------------------------------------------------------------------------------------

ERASE_LINE = "\r\033[K"  # back to the start of the line ("\r"), and erase it ("\033[K")


def progress(label: str, images: int) -> None:
    """How far an epoch has got, on one line that keeps being rewritten (for a terminal)."""
    print(f"{ERASE_LINE}{label}  {images:,} images", end="", flush=True)


def log_row(epoch: int, train_loss: float, train_accuracy: float, val_loss: float, val_accuracy: float,
            seconds: float) -> dict:
    """One epoch's figures, under the names of LOG_COLUMNS, as they go in the CSV log."""
    values = [epoch, f"{train_loss:.6f}", f"{train_accuracy:.4f}", f"{val_loss:.6f}", f"{val_accuracy:.4f}",
              f"{seconds:.2f}"]
    return dict(zip(LOG_COLUMNS, values))


def epoch_line(label: str, row: dict, erase: bool = False) -> str:
    """The line printed after each epoch; `erase` first wipes a progress line on a terminal."""
    figures = {key: float(value) for key, value in row.items()}
    validation = "no validation images" if math.isnan(figures["val_loss"]) else \
        f"val loss {figures['val_loss']:.4f} acc {figures['val_accuracy']:6.2f}%"
    return (f"{ERASE_LINE if erase else ''}{label}  train loss {figures['train_loss']:.4f} "
            f"acc {figures['train_accuracy']:6.2f}%  {validation}  {figures['seconds']:5.1f}s")


def beside(out: Path, name: str) -> Path:
    """A file that goes beside the checkpoint `out`: cnn.pt -> cnn-log.csv, cnn-samples.png, cnn-mistakes.png."""
    return out.with_name(f"{out.stem}-{name}")


SIDE_FILES = ["log.csv", "samples.png", "mistakes.png"]


def write_log(rows: list[dict], out: Path) -> Path:
    """The epoch log as <out>-log.csv, one row per epoch, for a spreadsheet or a plot."""
    path = beside(out, "log.csv")
    text = io.StringIO()
    writer = csv.DictWriter(text, LOG_COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    files.write_file(path, lambda file: file.write(text.getvalue().encode()))
    return path


# ---------------------------------------------------------------------------------------------
# After training: the test report
# ---------------------------------------------------------------------------------------------

def confusion_matrix(predicted: Tensor, labels: Tensor, num_classes: int) -> Tensor:
    """counts[t, p]: how many images of true class t the model called p."""
    return torch.bincount(labels * num_classes + predicted, minlength=num_classes ** 2).view(num_classes, -1)


def report(logits: Tensor, labels: Tensor, classes: list[str], loss: float, accuracy: float) -> str:
    """Loss, accuracy, and the confusion matrix with each class's accuracy, as a table to print."""
    counts = confusion_matrix(logits.argmax(1), labels, len(classes)).cpu()
    names = [name if name == str(i) else f"{i} {name}"[:13] for i, name in enumerate(classes)]
    width = max(map(len, names)) + 2
    lines = [f"test loss {loss:.4f} acc {accuracy:.2f}% on {len(labels):,} images",
             "confusion matrix: one row per true class, one column per predicted class",
             " " * width + "".join(f"{i:>6}" for i in range(len(classes))) + "   accuracy"]
    for i, row in enumerate(counts):
        right = 100 * row[i].item() / max(row.sum().item(), 1)
        lines.append(f"{names[i]:<{width}}" + "".join(f"{n:>6}" for n in row.tolist()) + f"   {right:7.2f}%")
    return "\n".join(lines)


def nondigit_line(threshold: float, nondigits_below: float) -> str:
    """Where the "not a digit" bar is, and how well it works on non-digits the model never saw."""
    return (f"not a digit below {threshold:.1%} confidence: "
            f"{nondigits_below:.1f}% of 2,000 drawn non-digits it never saw fall below it")


# ---------------------------------------------------------------------------------------------
# Pictures
# ---------------------------------------------------------------------------------------------

def save_picture(pixels: Tensor, captions: list[str], path: Path, columns: int = 10) -> None:
    """Tile [N, 1, 28, 28] images (values in [0, 1]) into one PNG, each enlarged with its caption below."""
    from torchvision.transforms.functional import to_pil_image  # imported here: torchvision is slow to import
    from torchvision.utils import make_grid

    # Enlarge 3x and leave a white band below each image for its caption, then let torchvision tile them.
    size, band, gap = 28 * 3, 14, 4
    tiles = F.interpolate(pixels.cpu().float(), scale_factor=3, mode="nearest")
    tiles = F.pad(tiles, (0, 0, 0, band), value=1.0)
    grid = make_grid(tiles, nrow=columns, padding=gap, pad_value=1.0)
    picture = to_pil_image(grid).convert("RGB")
    draw = ImageDraw.Draw(picture)
    for i, caption in enumerate(captions):
        row, column = divmod(i, columns)  # make_grid puts a gap before every tile
        x, y = gap + column * (size + gap), gap + row * (size + band + gap)
        draw.text((x + 2, y + size + 2), caption, fill=(200, 0, 0))
    save_png(picture, path)


def save_png(picture: Image.Image, path: Path) -> None:
    """A picture as a PNG that says it was made here, so that a later run may replace it (files.written_by_us)."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Software", files.SOFTWARE)
    files.write_file(path, lambda file: picture.save(file, "PNG", pnginfo=info))


def unnormalise(images: Tensor, mean: float, std: float) -> Tensor:
    return (images * std + mean).clamp(0, 1)


def save_samples(data: common.Data, out: Path) -> Path:
    """A picture of the first 50 training images with their labels: the first look at the data."""
    path = beside(out, "samples.png")
    save_picture(unnormalise(data.train_x[:50], data.mean, data.std),
                 [data.classes[y] for y in data.train_y[:50].tolist()], path)
    return path


def save_mistakes(logits: Tensor, images: Tensor, labels: Tensor, classes: list[str], mean: float, std: float,
                  out: Path) -> str:
    """A picture of the test images the model got wrong, the most confident mistakes first; says where."""
    probabilities, predicted = logits.softmax(1).max(1)
    wrong = (predicted != labels).nonzero().flatten()
    if len(wrong) == 0:
        return "no test image was misread: no picture of mistakes to draw"
    wrong = wrong[probabilities[wrong].argsort(descending=True)][:100]
    # Room for 13 characters under a picture: "Ankle boot" is shown as "Boot", "T-shirt/top" as "T-shir".
    short = [name.split("/")[0].split()[-1][:6].capitalize() for name in classes]
    captions = [f"{short[labels[i]]}>{short[predicted[i]]}" for i in wrong.tolist()]
    path = beside(out, "mistakes.png")
    save_picture(unnormalise(images[wrong], mean, std), captions, path)
    return f"test images it got wrong (captioned true>predicted): {path}"


def sheet_command(argv: list[str] | None, what: str, out: str,
                  draw: Callable[[int], tuple[Tensor, list[str]]]) -> None:
    """A script that draws a sheet of 100 of `what` the CNN learns from (nondigits.py, writers.py):
    `draw` gives the pictures [100, 28, 28] and their captions for a seed; never over a user's file."""
    parser = argparse.ArgumentParser(description=f"Draw a sheet of 100 {what}, as the trainers draw them.")
    parser.add_argument("--out", default=out, help="the picture to write")
    parser.add_argument("--seed", type=common.seed_number, default=0, help=f"which {what} to draw")
    args = parser.parse_args(argv)
    path = Path(args.out)
    files.check_not_clobbering([path], advice="give --out another name")
    files.check_writable(path)
    images, captions = draw(args.seed)
    save_picture(images[:, None], captions, path)
    print(f"wrote {path}")
