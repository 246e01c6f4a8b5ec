"""Read the digit or the whole number in any image file, or say that it is not a digit.

Read this file to learn how a trained model is used on real pictures: the model is loaded once from
its checkpoint, every picture is prepared the way MNIST was made (prepare.py), the digits found in
many pictures are classified together in one batch (a long list of pictures is prepared by worker
processes, as a DataLoader prepares training batches), and a digit is named only when the model is
confident enough. The bar it must clear was calibrated after training, on the validation digits, and
is stored in the checkpoint; the training taught the model to be unsure on drawn letters, symbols
and scribbles (nondigits.py), so that those fall below it. A number is its digits read left to
right, a list of numbers one line after another; in a number, one doubtful part among sure digits is
read as a digit from a lower bar (IN_A_NUMBER).

    python predict.py my-digit.png [more images or folders ...]
    python predict.py --json --save-processed seen/ street-number.jpg
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset
from PIL import Image, ImageDraw, ImageFont

import clothes
import common
import images
import prepare
import report
import train_cnn
import train_mlp
from files import check_folder
from images import ImageError
from prepare import Found, Item

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm", ".pbm"}
BATCH_FILES = 32  # pictures prepared before the model reads all their digits in one batch
# Between digits read surely, a doubtful shape is most likely a digit too: in a number of three or more
# parts that are all digits but one, that one is named from this share of the bar up.
IN_A_NUMBER = 0.75


@dataclass
class Reader:
    """A trained model and what it needs to read pictures: loaded once, used for any number of them."""
    model: torch.nn.Module
    mean: float
    std: float
    classes: list[str]
    threshold: float | None  # the lowest probability at which a class is named; None: always name one
    digits: bool  # digits are prepared as MNIST made them, clothes as Fashion-MNIST did
    checkpoint: dict  # all it was loaded from, which finetune.py carries into the checkpoint it writes

    def prepare(self, image: Image.Image) -> Found:
        """The picture's digits (or garment), ready for the model; the model helps to cut touching digits."""
        return prepare.prepare_digits(image, judge=self.judge) if self.digits else clothes.prepare_clothing(image)

    def judge(self, pixels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """For candidate digits [N, 28, 28]: the best class's probability, whether it clears the bar,
        and the digit that class is (-1 where its name is none: a checkpoint trained on other labels)."""
        best = probabilities(self, [Item(p, (0, 0, 28, 28)) for p in pixels]).max(1)
        digits = torch.tensor([int(self.classes[k]) if self.classes[k].isdecimal() else -1 for k in best.indices])
        return best.values, best.values >= (self.threshold or 0.0), digits


def model_from_checkpoint(checkpoint: dict) -> nn.Module:
    """Rebuild the model a checkpoint describes, with its trained weights, ready for evaluation."""
    models = {"mlp": train_mlp.MLP, "cnn": train_cnn.CNN}
    if checkpoint["model"] not in models:
        raise common.UserError(f"unknown model {checkpoint['model']!r} in checkpoint "
                               f"(expected one of {sorted(models)})")
    model = models[checkpoint["model"]](num_classes=len(checkpoint["classes"]))
    try:
        model.load_state_dict(checkpoint["state_dict"])
    except RuntimeError:
        raise common.UserError(f"the checkpoint's weights do not fit the current {checkpoint['model']} model; "
                               "retrain it with this version of the code") from None
    return model.eval()


DEFAULT_CHECKPOINT = common.default_checkpoint_path("cnn", "mnist")  # what `python train_cnn.py` writes


def load_reader(path: Path) -> Reader:
    if Path(path) == DEFAULT_CHECKPOINT and not DEFAULT_CHECKPOINT.exists():  # a newcomer's first try
        raise common.UserError(f"no checkpoint at {path}: train one first with `python train_cnn.py`, "
                               "or pick one with --checkpoint")
    checkpoint = common.load_checkpoint(path)
    # Digits and clothes were put into 28x28 in different ways; each model gets what it was trained on.
    digits = checkpoint["dataset"] == "mnist"
    return Reader(model=model_from_checkpoint(checkpoint), mean=checkpoint["mean"], std=checkpoint["std"],
                  classes=checkpoint["classes"], threshold=checkpoint.get("threshold") if digits else None,
                  digits=digits, checkpoint=checkpoint)


def probabilities(reader: Reader, items: list[Item]) -> torch.Tensor:
    """The model's probability of each class, [len(items), classes], for every item at once."""
    if not items:
        return torch.zeros(0, len(reader.classes))
    x = common.normalise(torch.stack([item.pixels for item in items]), reader.mean, reader.std)
    return common.predict_logits(reader.model, x).softmax(1)


def best_readings(guesses: list[list[tuple[str, float]]], k: int = 3) -> list[tuple[str, float]]:
    """The k likeliest numbers, given each digit's likeliest classes, with their probabilities.

    A number's probability is the product of its digits' (we treat the digits as independent).
    Keeping only the k best beginnings after each digit is enough: any beginning outside them has
    k better ones, which stay better whatever follows.
    """
    readings = [("", 1.0)]
    for digit in guesses:
        readings = sorted(((text + c, p * q) for text, p in readings for c, q in digit), key=lambda r: -r[1])[:k]
    return readings


def read(reader: Reader, path: str, found: Found, probs: torch.Tensor) -> dict:
    """What one picture says, as the JSON object that --json prints and draw.py serves."""
    digits = []
    for item, p in zip(found.items, probs):
        top = p.topk(min(3, len(reader.classes)))
        guesses = [(reader.classes[i], round(q, 4)) for q, i in zip(top.values.tolist(), top.indices.tolist())]
        digits.append({"class": guesses[0][0], "probability": guesses[0][1],
                       "is_digit": reader.threshold is None or guesses[0][1] >= reader.threshold,
                       "top": [{"class": c, "probability": q} for c, q in guesses],
                       "box": list(item.box)})
    doubtful = [d for d in digits if not d["is_digit"]]
    if len(digits) >= 3 and len(doubtful) == 1 and doubtful[0]["probability"] >= IN_A_NUMBER * reader.threshold:
        doubtful[0]["is_digit"] = True
    readings = best_readings([[(t["class"], t["probability"]) for t in d["top"]] for d in digits])
    number = readings[0][0] if all(d["is_digit"] for d in digits) else None
    lines = [(after, mark) for after, mark in found.separators if mark == "\n"]  # between lines of writing
    return {"path": path,
            "prediction": with_separators(number, lines) if number else None,  # the digits (and line breaks)
            "text": with_separators(number, found.separators) if number else None,  # as written
            "probability": round(readings[0][1], 4),
            "top": [{"class": with_separators(text, lines), "probability": round(p, 4)} for text, p in readings],
            "digits": digits}


def with_separators(digits: str, separators: list[tuple[int, str]]) -> str:
    """The digits with the separators where they stood: '14483' and [(2, '.')] -> '14.483'."""
    text = digits
    for after, mark in reversed(separators):
        text = text[:after] + mark + text[after:]
    return text


def printable(path: Path | str) -> str:
    """A file name as it can be printed on one line: with a newline or another control character in
    it, escaped as Python writes it."""
    text = str(path)
    return text if text.isprintable() else text.encode("unicode_escape").decode("ascii")


def describe(result: dict) -> str:
    """For a person: the digit or the number with probabilities, or why it is neither; a row a line."""
    digits, best = result["digits"], result["top"][0]
    result = result | {"path": printable(result["path"])}
    each = lambda some: ", ".join(f"{d['class']} {d['probability']:.1%}" for d in some)  # noqa: E731
    if result["prediction"] is None and len(digits) == 1:
        return f"{result['path']}: not a digit (best guess {best['class']}, {best['probability']:.1%})"
    if result["prediction"] is None:
        unclear = ", ".join(str(i + 1) for i, d in enumerate(digits) if not d["is_digit"])
        return (f"{result['path']}: not a number (part {unclear} of {len(digits)} is not a digit; "
                f"best guess {best['class']}: {each(digits)})")
    if len(digits) == 1:
        others = ", ".join(f"{t['class']} ({t['probability']:.1%})" for t in result["top"][1:])
        return f"{result['path']}: {result['text']} ({best['probability']:.1%})  next: {others}"  # 7, or $7
    rows, start = [], 0  # several lines of writing: one row each, under one another
    for text, number in zip(result["text"].split("\n"), result["prediction"].split("\n")):
        rows.append(f"{text}  ({each(digits[start:start + len(number)])})")
        start += len(number)
    return f"{result['path']}: " + ("\n" + " " * (len(result["path"]) + 2)).join(rows)


# ---------------------------------------------------------------------------------------------
# Files in, files out
# ---------------------------------------------------------------------------------------------

def image_files(arguments: list[str]) -> list[Path]:
    """The files to read: each file argument, and every image file inside each folder argument."""
    files = []
    for argument in map(Path, arguments):
        if argument.is_dir():
            images = sorted(p for p in argument.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
            files += images or [argument]  # a folder without images is reported like a bad file
        else:
            files.append(argument)
    return files


def as_image(pixels: torch.Tensor) -> Image.Image:
    """A 28x28 input, values in [0, 1], as an 8-bit greyscale picture."""
    return Image.fromarray((pixels * 255).round().to(torch.uint8).numpy())


def with_boxes(image: Image.Image, result: dict) -> Image.Image:
    """A copy of the picture with a box around every digit found and its reading above it."""
    picture = images.upright(image).convert("RGB")
    draw = ImageDraw.Draw(picture)
    scale = images.decoded_scale(image)  # boxes are in the file's pixels; a large JPEG was decoded smaller
    # Lines and labels in proportion to the picture, or to the digits where they are small in it.
    tallest = max([(d["box"][3] - d["box"][1]) * scale for d in result["digits"]] + [1])
    line = max(2, min(max(picture.size) // 200, int(tallest / 15)))
    size = max(12, min(max(picture.size) // 25, int(tallest / 2)))
    try:
        font = ImageFont.load_default(size=size)
    except TypeError:  # Pillow before 10.1 has only a small bitmap font
        font = ImageFont.load_default()
    for digit in result["digits"]:
        colour = (0, 160, 0) if digit["is_digit"] else (220, 0, 0)
        left, top, right, bottom = (v * scale for v in digit["box"])
        draw.rectangle((left - line, top - line, right + line, bottom + line), outline=colour, width=line)
        label = f"{digit['class']} {digit['probability']:.0%}" if digit["is_digit"] else "?"
        draw.text((left, max(0, top - 2 * line - size)), label, fill=colour, font=font)
    return picture


def ink_picture(found: Found) -> Image.Image:
    """What was taken for ink (dark), for paper lines and patterns (light red), and where touching
    digits were cut (blue), at the size the picture was searched at."""
    ink = (255 * (1 - found.ink)).round().to(torch.uint8)
    paper = found.paper & (found.ink == 0)
    rgb = torch.stack([ink, torch.where(paper, 170, ink), torch.where(paper, 170, ink)], -1)
    picture = Image.fromarray(rgb.numpy())
    draw = ImageDraw.Draw(picture)
    x0, y0 = found.origin  # where the ink's picture begins: the crop around small writing
    for cut in found.cuts:
        draw.line([((x - x0) / found.scale, (y - y0) / found.scale) for x, y in cut], fill=(0, 90, 255), width=2)
    return picture


def save_processed(folder: Path, name: str, image: Image.Image, found: Found, result: dict) -> None:
    """Write each digit's 28x28 input (name-0.png, name-1.png, ...), the picture with boxes
    (name-boxes.png) and what was taken for ink (name-ink.png)."""
    # Each 28x28 input ten times as large, its pixels kept square, for a person to look at.
    pictures = {f"{name}-{i}.png": as_image(item.pixels).resize((280, 280), Image.Resampling.NEAREST)
                for i, item in enumerate(found.items)}
    pictures[f"{name}-boxes.png"] = with_boxes(image, result)
    if found.ink is not None:
        pictures[f"{name}-ink.png"] = ink_picture(found)
    for file_name, picture in pictures.items():
        report.save_png(picture, folder / file_name)


def unused_name(folder: Path, stem: str, taken: set[str]) -> str:
    """A name for one picture's saved files that no file in `folder` starts with: nothing there, an
    input being read among them, is ever overwritten."""
    existing = {path.name for path in folder.iterdir()} if folder.is_dir() else set()
    name, n = stem, 1
    while name in taken or any(other.startswith(f"{name}-") for other in existing):
        n += 1
        name = f"{stem}_{n}"
    taken.add(name)
    return name


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("images", nargs="+", help="image files, or folders of them")
    parser.add_argument("--checkpoint", default=str(DEFAULT_CHECKPOINT),
                        help="a checkpoint written by train_cnn.py or train_mlp.py")
    parser.add_argument("--json", action="store_true", help="print one JSON object per image, for scripts")
    parser.add_argument("--save-processed", metavar="DIR",
                        help="also write what the model sees (28x28, enlarged) and the digits found, as PNGs in DIR; "
                             "no file already there is overwritten")
    args = parser.parse_args(argv)
    if "" in args.images or args.save_processed == "":  # Path("") is the current folder, which no one meant
        raise common.UserError("an empty name where a file or a folder was expected")
    if args.save_processed:
        args.save_processed = Path(args.save_processed)
        check_folder(args.save_processed, "--save-processed")
    return args


class Pictures(Dataset):
    """The image files to read, each read and prepared when asked for: a DataLoader can then prepare
    several at once in worker processes, as it prepares training batches."""

    def __init__(self, reader: Reader, files: list[Path], keep_ink: bool):
        self.reader, self.files, self.keep_ink = reader, files, keep_ink

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> tuple[Path, Found | str]:
        """A file's digits, or the one line that says why it could not be read."""
        file = self.files[index]
        try:
            found = self.reader.prepare(images.read_image(file))
        except Exception as error:  # one bad image, even one unlike any we foresaw, must not stop the others
            return file, str(error) if isinstance(error, ImageError) else \
                f"could not process it ({type(error).__name__}: {error})"
        if not self.keep_ink:  # only --save-processed shows it: less to pass between processes
            found.ink = found.paper = None
        return file, found


def workers(files: int) -> int:
    """Processes that prepare pictures beside this one: one per processor core for a long list of
    files (each takes a moment to start), none for a few."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return min(cores, 8) if files > 2 * BATCH_FILES and cores > 1 else 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    reader = load_reader(Path(args.checkpoint))  # loaded once, however many images
    failed = False
    taken: set[str] = set()  # names given to saved pictures in this run
    files = image_files(args.images)
    # Pictures are prepared a few dozen at a time, by other processes where there are many, and the
    # model reads all the digits of each few dozen at once: much faster than one call per digit.
    # Saving what was seen needs the pictures of the ink, too large to pass between processes.
    saving = args.save_processed is not None
    pictures = Pictures(reader, files, keep_ink=saving)
    loader = DataLoader(pictures, batch_size=BATCH_FILES, collate_fn=list,
                        num_workers=0 if saving else workers(len(files)))
    if loader.num_workers:  # the workers keep every core busy: more threads here would only take
        torch.set_num_threads(1)  # turns on the cores with them, and slow them down
    for batch in loader:
        for file, error in [(file, found) for file, found in batch if isinstance(found, str)]:
            print(f"error: {printable(file)}: {error}", file=sys.stderr)
            failed = True
        prepared = [(file, found) for file, found in batch if not isinstance(found, str)]
        probs = probabilities(reader, [item for _, found in prepared for item in found.items])
        for file, found in prepared:
            result = read(reader, str(file), found, probs[:len(found.items)])
            probs = probs[len(found.items):]
            print(json.dumps(result) if args.json else describe(result), flush=True)
            if args.save_processed:
                try:
                    name = unused_name(args.save_processed, file.stem, taken)
                    save_processed(args.save_processed, name, images.read_image(file), found, result)
                except (OSError, common.WriteError, ImageError) as error:
                    print(f"error: {printable(file)}: {error}", file=sys.stderr)
                    failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    common.run(lambda: sys.exit(main()))
