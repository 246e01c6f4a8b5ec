"""What both trainers share: data, device, seeding, the training and evaluation loops, checkpoints.

Read this file to learn the parts of a PyTorch training script that do not depend on the model:
  * the whole dataset is decoded once into one normalised float tensor on the training device, and
    batches are taken from it by indexing, which is far faster than a per-image DataLoader pipeline;
  * one epoch of training (shuffle, forward, loss, backward, step) and one pass of evaluation;
  * a test report (confusion matrix, accuracy per class), pictures and a CSV log to look at;
  * a checkpoint that holds everything needed to use the model later, written so that it is never
    left half-written.
train_mlp.py and train_cnn.py hold the models and their training recipes; predict.py and
evaluate.py use the checkpoints.
"""

from __future__ import annotations

import argparse
import csv
import importlib
import math
import os
import pickle
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from PIL import ImageDraw

import nondigits

# Both datasets have 60,000 training and 10,000 test images of 28x28 grey pixels.
TRAIN_SIZE = 60_000
DATASETS = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}  # their classes in torchvision.datasets
# Which script defines each model, so that a checkpoint alone is enough to rebuild it.
MODELS = {"mlp": ("train_mlp", "MLP"), "cnn": ("train_cnn", "CNN")}


class UserError(Exception):
    """A problem the user can fix (bad input, missing files): shown as one line, without a traceback."""


def run(main: Callable[[], None]) -> None:
    """Run a script's main(), turning user errors and Ctrl-C into one line on stderr and an exit code."""
    try:
        main()
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt as interrupt:
        detail = f" {interrupt}" if str(interrupt) else ""
        print(f"interrupted{detail}; any earlier checkpoint is untouched", file=sys.stderr)
        sys.exit(130)


# ---------------------------------------------------------------------------------------------
# Command line: the options both trainers take. Each script passes its own defaults.
# ---------------------------------------------------------------------------------------------

def positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def positive_float(text: str) -> float:
    value = float(text)
    if not (value > 0 and math.isfinite(value)):  # also refuses nan and inf
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def validation_size(text: str) -> int:
    value = int(text)
    if not 0 <= value < TRAIN_SIZE:
        raise argparse.ArgumentTypeError(
            f"must be from 0 to {TRAIN_SIZE - 1} (the training set has {TRAIN_SIZE} images), got {text}")
    return value


def make_parser(description: str, *, epochs: int, batch_size: int, lr: float) -> argparse.ArgumentParser:
    """The options both trainers share; `epochs`, `batch_size` and `lr` are the script's own defaults."""
    parser = argparse.ArgumentParser(description=description,
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="mnist", help="which dataset to train on")
    parser.add_argument("--data-dir", default="data", help="where the dataset is, or is downloaded to")
    parser.add_argument("--epochs", type=positive_int, default=epochs, help="passes over the training set")
    parser.add_argument("--batch-size", type=positive_int, default=batch_size, help="images per training step")
    parser.add_argument("--lr", type=positive_float, default=lr, help="peak learning rate")
    parser.add_argument("--val-size", type=validation_size, default=5000,
                        help="training images held out to validate each epoch (0: none)")
    parser.add_argument("--seed", type=int, default=1, help="random seed for initialisation and shuffling")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], default="auto",
                        help="where to train; auto picks CUDA or Apple MPS when present")
    parser.add_argument("--limit", type=positive_int, default=None,
                        help="use at most this many images of each split, for a quick trial run")
    parser.add_argument("--no-samples", action="store_true", help="do not save a picture of training images")
    parser.add_argument("--no-mistakes", action="store_true", help="do not save a picture of the test mistakes")
    parser.add_argument("--resume", metavar="CHECKPOINT", default=None,
                        help="continue an unfinished run from its checkpoint, with the options it started with")
    parser.add_argument("--out", default=None,
                        help="checkpoint file to write (default: checkpoints/<model>.pt, "
                             "checkpoints/<model>-<dataset>.pt for other datasets)")
    return parser


def parse_args(parser: argparse.ArgumentParser, argv: list[str] | None, model_name: str,
               ) -> tuple[argparse.Namespace, dict | None]:
    """The options, and with --resume the checkpoint to continue, whose options then come back too."""
    args = parser.parse_args(argv)
    if not args.resume:
        return args, None
    checkpoint = load_checkpoint(args.resume)
    if checkpoint["model"] != model_name:
        raise UserError(f"{args.resume} is a {checkpoint['model']} checkpoint: "
                        f"resume it with train_{checkpoint['model']}.py")
    if checkpoint["dataset"] != args.dataset:
        raise UserError(f"{args.resume} was trained on {checkpoint['dataset']}: "
                        f"add --dataset {checkpoint['dataset']} to resume it")
    if "optimizer" not in checkpoint:
        raise UserError(f"{args.resume} holds no training state to resume from")
    if checkpoint["epochs"] >= checkpoint["args"]["epochs"]:
        raise UserError(f"{args.resume} has finished all its {checkpoint['epochs']} epochs; nothing to resume")
    # Whatever shapes the training comes back as it was, so that the run ends as it would have;
    # where the data is, where to compute and which pictures to draw may change.
    kept = {key: getattr(args, key) for key in ("data_dir", "device", "resume", "no_samples", "no_mistakes")}
    return argparse.Namespace(**{**checkpoint["args"], **kept}), checkpoint


def default_checkpoint_path(model_name: str, dataset: str) -> Path:
    suffix = "" if dataset == "mnist" else f"-{dataset}"
    return Path("checkpoints") / f"{model_name}{suffix}.pt"


# ---------------------------------------------------------------------------------------------
# Device and seeding
# ---------------------------------------------------------------------------------------------

def pick_device(name: str = "auto") -> torch.device:
    """The device to train on: the one asked for, or with "auto" the fastest one present."""
    cuda, mps = torch.cuda.is_available(), torch.backends.mps.is_available()
    if name == "auto":
        name = "cuda" if cuda else "mps" if mps else "cpu"
    if (name == "cuda" and not cuda) or (name == "mps" and not mps):
        raise UserError(f"--device {name} was asked for, but this machine's PyTorch cannot use it "
                        "(try --device cpu)")
    return torch.device(name)


def seed_everything(seed: int) -> None:
    """Make weight initialisation, shuffling and augmentation repeat from run to run."""
    torch.manual_seed(seed)  # seeds the CPU and every accelerator; all our randomness comes from torch


# ---------------------------------------------------------------------------------------------
# Data: decoded once into tensors, then batched by indexing
# ---------------------------------------------------------------------------------------------

@dataclass
class Data:
    """Normalised images [N, 1, 28, 28] (float32) and labels [N] (int64) of each split, on one device."""
    train_x: Tensor
    train_y: Tensor
    val_x: Tensor
    val_y: Tensor
    test_x: Tensor
    test_y: Tensor
    mean: float  # of the training split's pixels in [0, 1]; predict.py must normalise with the same two
    std: float
    classes: list[str]


def dataset_class(dataset: str) -> type:
    # Imported here rather than at the top: torchvision takes as long to import as torch itself,
    # and predict.py, which must start fast, never needs it.
    from torchvision import datasets
    return getattr(datasets, DATASETS[dataset])


def class_names(dataset: str) -> list[str]:
    # torchvision calls MNIST's classes "0 - zero" and so on; the digit alone reads better.
    return [str(digit) for digit in range(10)] if dataset == "mnist" else list(dataset_class(dataset).classes)


def read_dataset(dataset: str, data_dir: str | Path, train: bool) -> tuple[Tensor, Tensor]:
    """The raw uint8 images [N, 28, 28] and labels [N] of one split, downloaded on first use."""
    source = dataset_class(dataset)
    raw = Path(data_dir) / DATASETS[dataset] / "raw"
    try:
        split = source(str(data_dir), train=train, download=True)
    except Exception as error:  # no network, a mirror down, a truncated file: all end the same way
        lines = str(error).strip().splitlines()  # torchvision's last line holds the network's own error
        reason = lines[-1].strip() if lines else type(error).__name__
        files = ", ".join(Path(url).stem for url, _ in source.resources)
        raise UserError(f"could not load or download {dataset} ({reason}); without a network, "
                        f"put the four files {files} (or their .gz) in {raw}/") from None
    return split.data, split.targets


def normalise(pixels: Tensor, mean: float, std: float) -> Tensor:
    """Pixels in [0, 1], [N, 28, 28] -> [N, 1, 28, 28] where the training pixels have mean 0 and std 1."""
    # Inputs centred on zero with unit spread keep early activations and gradients in a good range.
    return ((pixels - mean) / std).unsqueeze(1)


def nondigit_images(count: int, seed: int, data: Data) -> Tensor:
    """Drawn letters, symbols and scribbles (nondigits.py), normalised like the digits, on their device."""
    return normalise(nondigits.draw(count, seed), data.mean, data.std).to(data.train_x.device)


def load_data(dataset: str = "mnist", data_dir: str | Path = "data", val_size: int = 5000,
              device: torch.device | str = "cpu", limit: int | None = None) -> Data:
    train_images, train_labels = read_dataset(dataset, data_dir, train=True)
    test_images, test_labels = read_dataset(dataset, data_dir, train=False)

    # Hold out a validation set to watch for overfitting without touching the test set. The split
    # uses its own fixed seed, so every run (whatever its --seed) validates on the same images.
    order = torch.randperm(len(train_images), generator=torch.Generator().manual_seed(0))
    val_idx, train_idx = order[:val_size], order[val_size:]

    # The mean and std come from the training images only: nothing may leak from validation or test.
    pixels = train_images[train_idx].float() / 255
    mean, std = pixels.mean().item(), pixels.std().item()

    def prepare(images: Tensor, labels: Tensor) -> tuple[Tensor, Tensor]:
        images, labels = images[:limit], labels[:limit]
        return normalise(images.float() / 255, mean, std).to(device), labels.to(device)

    return Data(*prepare(train_images[train_idx], train_labels[train_idx]),
                *prepare(train_images[val_idx], train_labels[val_idx]),
                *prepare(test_images, test_labels),
                mean=mean, std=std, classes=class_names(dataset))


def random_affine(images: Tensor, degrees: float, shift: float, scale: float, flip: bool = False) -> Tensor:
    """Augmentation on a whole batch at once: rotate, scale and shift every image by its own random amount.

    `degrees` is the largest rotation, `shift` the largest shift in pixels, `scale` the largest
    relative change of size, and `flip` mirrors half of the images left to right. Digits written by
    people vary in exactly these ways (except mirroring), so the model learns to ignore them
    instead of memorising pixel positions.
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


# ---------------------------------------------------------------------------------------------
# Training and evaluation
# ---------------------------------------------------------------------------------------------

def train_epoch(model: nn.Module, optimizer: torch.optim.Optimizer, images: Tensor, labels: Tensor,
                batch_size: int, scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
                augment: Callable[[Tensor], Tensor] | None = None, label_smoothing: float = 0.0,
                progress: str = "", outliers: Tensor | None = None) -> tuple[float, float]:
    """One pass over the training images in a fresh random order; returns mean loss and accuracy (%).

    With `progress`, a label such as "epoch 3/10", shows how far the epoch has got on one line that
    keeps being rewritten (for a terminal; a log file would fill up with such lines). With
    `outliers`, images that belong to no class (see nondigits.py), every batch brings a quarter as
    many of them, and the model is taught to answer them with every class equally likely.
    """
    model.train()  # dropout and batch norm behave as in training
    order = torch.randperm(len(images), device=images.device)
    # Sums stay on the device: calling .item() every step would make the CPU wait for a GPU.
    loss_sum = torch.zeros((), device=images.device)
    correct = torch.zeros((), dtype=torch.long, device=images.device)
    for start in range(0, len(images), batch_size):
        batch = order[start:start + batch_size]
        x, y = images[batch], labels[batch]
        if outliers is not None:
            x = torch.cat([x, outliers[torch.randint(len(outliers), (len(batch) // 4,), device=x.device)]])
        if augment is not None:
            x = augment(x)
        logits = model(x)
        # cross_entropy takes raw logits: the softmax is inside it, computed stably.
        logits, outlier_logits = logits[:len(batch)], logits[len(batch):]
        loss = F.cross_entropy(logits, y, label_smoothing=label_smoothing)
        total = loss
        if outliers is not None:
            # Outlier exposure: the target for a non-digit is the uniform distribution over the
            # classes, at half the weight of a digit's loss (as Hendrycks et al., 2019, found best).
            uniform = torch.full_like(outlier_logits, 1 / logits.shape[1])
            total = loss + 0.5 * F.cross_entropy(outlier_logits, uniform)
        optimizer.zero_grad(set_to_none=True)
        total.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()  # our schedules change the learning rate after every batch
        loss_sum += loss.detach() * len(batch)
        correct += (logits.argmax(1) == y).sum()
        if progress and (start // batch_size) % 20 == 0:
            # "\r" returns to the start of the line, "\033[K" erases what is left of the old text.
            print(f"\r{progress}  {start + len(batch):,}/{len(images):,} images\033[K", end="", flush=True)
    mean_loss = loss_sum.item() / len(images)
    if not math.isfinite(mean_loss):
        raise UserError("the training loss became NaN or infinite; try a smaller --lr")
    return mean_loss, 100 * correct.item() / len(images)


@torch.inference_mode()  # no gradients: faster and lighter than training
def predict_logits(model: nn.Module, images: Tensor, batch_size: int = 1000) -> Tensor:
    model.eval()  # dropout off, batch norm uses its running statistics
    return torch.cat([model(images[start:start + batch_size]) for start in range(0, len(images), batch_size)])


def loss_and_accuracy(logits: Tensor, labels: Tensor) -> tuple[float, float]:
    """Mean cross-entropy and accuracy (%) over every image given, each image counted exactly once."""
    if len(labels) == 0:
        return math.nan, math.nan
    loss = F.cross_entropy(logits, labels, reduction="sum").item() / len(labels)
    return loss, 100 * (logits.argmax(1) == labels).sum().item() / len(labels)


def evaluate(model: nn.Module, images: Tensor, labels: Tensor) -> tuple[float, float]:
    return loss_and_accuracy(predict_logits(model, images), labels)


# ---------------------------------------------------------------------------------------------
# Reports and pictures: what a learner looks at after training
# ---------------------------------------------------------------------------------------------

def confusion_matrix(predicted: Tensor, labels: Tensor, num_classes: int) -> Tensor:
    """counts[t, p]: how many images of true class t the model called p."""
    return torch.bincount(labels * num_classes + predicted, minlength=num_classes ** 2).view(num_classes, -1)


def report(logits: Tensor, labels: Tensor, classes: list[str]) -> str:
    """Loss, accuracy, and the confusion matrix with each class's accuracy, as a table to print."""
    loss, accuracy = loss_and_accuracy(logits, labels)
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


def save_picture(pixels: Tensor, captions: list[str], path: Path, columns: int = 10) -> None:
    """Tile [N, 1, 28, 28] images (values in [0, 1]) into one PNG, each enlarged with its caption below."""
    from torchvision.transforms.functional import to_pil_image  # imported here, as in dataset_class()
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
    picture.save(path)


def unnormalise(images: Tensor, mean: float, std: float) -> Tensor:
    return (images * std + mean).clamp(0, 1)


def save_mistakes(logits: Tensor, images: Tensor, labels: Tensor, classes: list[str], mean: float, std: float,
                  out: Path) -> Path:
    """A picture of the test images the model got wrong, the most confident mistakes first."""
    probabilities, predicted = logits.softmax(1).max(1)
    wrong = (predicted != labels).nonzero().flatten()
    wrong = wrong[probabilities[wrong].argsort(descending=True)][:100]
    # Room for 13 characters under a picture: "Ankle boot" is shown as "Boot", "T-shirt/top" as "T-shir".
    short = [name.split("/")[0].split()[-1][:6].capitalize() for name in classes]
    captions = [f"{short[labels[i]]}>{short[predicted[i]]}" for i in wrong.tolist()]
    path = out.with_name(f"{out.stem}-mistakes.png")
    save_picture(unnormalise(images[wrong], mean, std), captions, path)
    return path


LOG_COLUMNS = ["epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "seconds"]


# ---------------------------------------------------------------------------------------------
# A whole training run, as both trainers do it
# ---------------------------------------------------------------------------------------------

def fit(model_name: str, model: nn.Module, optimizer: torch.optim.Optimizer,
        scheduler: torch.optim.lr_scheduler.LRScheduler | None, data: Data, args: argparse.Namespace,
        augment: Callable[[Tensor], Tensor] | None = None, label_smoothing: float = 0.0,
        resume: dict | None = None, outliers: Tensor | None = None) -> dict:
    """Train for args.epochs, print one line per epoch, test once, save and return the checkpoint.

    Beside the checkpoint go a CSV log of the epochs and, unless switched off, two pictures: a grid
    of training images, and the test images the model got wrong. After every epoch but the last,
    the run so far is saved as <out>-in-progress.pt, which --resume continues. With `outliers`
    (non-digits, see train_epoch), the checkpoint also holds the bar below which predict.py says
    "not a digit", calibrated on the validation images.
    """
    out = Path(args.out) if args.out else default_checkpoint_path(model_name, args.dataset)
    in_progress = out.with_name(f"{out.stem}-in-progress.pt")
    check_writable(out)  # fail now, not after an hour of training
    print(f"{model_name}: {sum(p.numel() for p in model.parameters()):,} parameters; "
          f"{len(data.train_x):,} training, {len(data.val_x):,} validation, {len(data.test_x):,} test images; "
          f"device {data.train_x.device}")
    if not args.no_samples:  # the first look at the data that every course starts with
        samples = out.with_name(f"{out.stem}-samples.png")
        save_picture(unnormalise(data.train_x[:50], data.mean, data.std),
                     [data.classes[y] for y in data.train_y[:50].tolist()], samples)
        print(f"training images: {samples}")

    def checkpoint(epochs: int, log: list, test_accuracy: float | None = None, threshold: float | None = None,
                   ) -> dict:
        """Everything needed to use the model, and to continue training it exactly where it stopped."""
        return {
            "model": model_name,
            "state_dict": {k: v.cpu() for k, v in model.state_dict().items()},  # loadable on any device
            "mean": data.mean,
            "std": data.std,
            "classes": data.classes,
            "dataset": args.dataset,
            "epochs": epochs,
            "test_accuracy": test_accuracy,
            "threshold": threshold,  # predict.py names a digit only when its probability reaches this
            "args": dict(vars(args)),  # plain values only, so that weights_only loading works
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict() if scheduler else None,
            "rng": rng_state(data.train_x.device),  # so that shuffling and augmentation go on the same
            "log": log,
        }

    log, first = [], 1
    if resume:
        model.load_state_dict(resume["state_dict"])
        optimizer.load_state_dict(resume["optimizer"])
        if scheduler:
            scheduler.load_state_dict(resume["scheduler"])
        set_rng_state(resume["rng"], data.train_x.device)
        log, first = resume["log"], resume["epochs"] + 1
        print(f"resuming {args.resume} after epoch {resume['epochs']} of {args.epochs}, with its options")

    terminal = sys.stdout.isatty()  # progress within each epoch only where a person watches it
    erase = "\r\033[K" if terminal else ""  # wipes the progress line before each epoch's summary
    saved = 0  # the last epoch this run saved in in_progress
    try:
        for epoch in range(first, args.epochs + 1):
            start = time.perf_counter()
            label = f"epoch {epoch:>{len(str(args.epochs))}}/{args.epochs}"
            train_loss, train_acc = train_epoch(model, optimizer, data.train_x, data.train_y, args.batch_size,
                                                scheduler, augment, label_smoothing, label if terminal else "",
                                                outliers)
            val_loss, val_acc = evaluate(model, data.val_x, data.val_y)
            seconds = time.perf_counter() - start
            log.append([epoch, f"{train_loss:.6f}", f"{train_acc:.4f}", f"{val_loss:.6f}", f"{val_acc:.4f}",
                        f"{seconds:.2f}"])
            if epoch < args.epochs:
                save_checkpoint(checkpoint(epoch, log), in_progress)
                saved = epoch
            print(f"{erase}{label}  train loss {train_loss:.4f} acc {train_acc:6.2f}%  "
                  f"val loss {val_loss:.4f} acc {val_acc:6.2f}%  {seconds:5.1f}s", flush=True)
    except KeyboardInterrupt:
        if saved:
            raise KeyboardInterrupt(f"after epoch {saved}: continue with --resume {in_progress}") from None
        raise

    # The test set is used once, at the very end, so that it stays an honest estimate.
    logits = predict_logits(model, data.test_x)
    threshold = None if outliers is None else calibrate(model, data)
    final = checkpoint(args.epochs, log, loss_and_accuracy(logits, data.test_y)[1], threshold)
    save_checkpoint(final, out)
    in_progress.unlink(missing_ok=True)
    log_path = out.with_name(f"{out.stem}-log.csv")
    with open(log_path, "w", newline="") as file:
        csv.writer(file).writerows([LOG_COLUMNS, *log])
    print(report(logits, data.test_y, data.classes))
    if threshold is not None:
        # Non-digits drawn like the training ones, but never shown to the model: how many fall below the bar?
        unseen = nondigit_images(2000, 1_000_000 + args.seed, data)
        rejected = 100 * (predict_logits(model, unseen).softmax(1).amax(1) < threshold).float().mean().item()
        print(f"not a digit below {threshold:.1%} confidence: {CALIBRATION_RATE:.1%} of validation digits, "
              f"{rejected:.1f}% of 2,000 drawn non-digits it never saw")
    print(f"saved {out} and the epoch log {log_path}")
    if not args.no_mistakes:
        path = save_mistakes(logits, data.test_x, data.test_y, data.classes, data.mean, data.std, out)
        print(f"test images it got wrong (captioned true>predicted): {path}")
    return final


CALIBRATION_RATE = 0.005  # the share of real digits that may be answered "not a digit"


def calibrate(model: nn.Module, data: Data) -> float:
    """The probability below which predict.py says "not a digit": the bar that CALIBRATION_RATE of the
    validation digits fall below (or of the training digits, when there is no validation split)."""
    images = data.val_x if len(data.val_x) else data.train_x[:5000]
    confidence = predict_logits(model, images).softmax(1).amax(1)
    return torch.quantile(confidence.float().cpu(), CALIBRATION_RATE).item()


def rng_state(device: torch.device) -> dict:
    state = {"cpu": torch.get_rng_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def set_rng_state(state: dict, device: torch.device) -> None:
    torch.set_rng_state(state["cpu"])
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)


# ---------------------------------------------------------------------------------------------
# Checkpoints
# ---------------------------------------------------------------------------------------------

def check_writable(path: Path) -> None:
    if path.is_dir():
        raise UserError(f"--out {path} is a directory; give a file name such as {path / 'model.pt'}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"cannot create the folder for {path}: {error.strerror}") from None
    if not os.access(path.parent, os.W_OK):
        raise UserError(f"cannot write a checkpoint in {path.parent}: permission denied")


def save_checkpoint(checkpoint: dict, path: str | Path) -> None:
    """Write to a temporary file beside `path`, then rename it into place.

    A rename within one folder is atomic, so a crash or Ctrl-C leaves either the old file or the
    new one, never half of one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            torch.save(checkpoint, file)
        umask = os.umask(0)  # reading the umask means setting it; put it straight back
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's file is private; give it the usual permissions
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


CHECKPOINT_KEYS = {"model", "state_dict", "mean", "std", "classes", "dataset"}


def load_checkpoint(path: str | Path) -> dict:
    """Read a checkpoint safely: weights_only=True refuses to run code hidden in a pickle."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"no checkpoint at {path}")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        if "global" in str(error).lower():  # the pickle names a class or function: code could run
            raise UserError(f"{path} holds more than plain tensors and values; refusing to load it, "
                            "since unpickling arbitrary objects can run code") from None
        raise UserError(f"{path} is not a readable checkpoint (UnpicklingError)") from None
    except Exception as error:  # a truncated or foreign file can fail in many ways inside torch.load
        raise UserError(f"{path} is not a readable checkpoint ({type(error).__name__})") from None
    if not isinstance(checkpoint, dict) or not CHECKPOINT_KEYS <= checkpoint.keys():
        raise UserError(f"{path} is not a checkpoint written by train_mlp.py or train_cnn.py")
    return checkpoint


def model_from_checkpoint(checkpoint: dict) -> nn.Module:
    """Rebuild the model a checkpoint describes, with its trained weights, ready for evaluation."""
    if checkpoint["model"] not in MODELS:
        raise UserError(f"unknown model {checkpoint['model']!r} in checkpoint (expected one of {sorted(MODELS)})")
    module_name, class_name = MODELS[checkpoint["model"]]
    # Imported here, not at the top: the training scripts import this file.
    model = getattr(importlib.import_module(module_name), class_name)(num_classes=len(checkpoint["classes"]))
    try:
        model.load_state_dict(checkpoint["state_dict"])
    except RuntimeError:
        raise UserError(f"the checkpoint's weights do not fit the current {checkpoint['model']} model; "
                        "retrain it with this version of the code") from None
    return model.eval()
