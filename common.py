"""What every script shares: data, device selection, evaluation, checkpoints, one-line errors.

Read this file first. It holds what training, predict.py, evaluate.py and draw.py all need, in
the order a script needs it:
  1. errors: a problem the user can fix is one line, never a traceback (run), bad options too;
  2. data: the whole dataset decoded once into one normalised tensor on the training device, and
     a fixed train/validation split;
  3. the device to compute on, whether bfloat16 pays on it, and seeds that make a run repeatable;
  4. evaluation: a model's logits, loss and accuracy;
  5. checkpoints: everything needed to use a model later, never left half-written, loaded safely.
It imports no other file of this project: training.py (the training machinery) and the scripts
build on it.
"""

from __future__ import annotations

import argparse
import math
import os
import pickle
import struct
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class UserError(Exception):
    """A problem the user can fix (bad input, missing files): shown as one line, without a traceback."""


class Interrupted(Exception):
    """Ctrl-C during training, with what to do next."""


class WriteError(Exception):
    """A file that could not be written (write_file); run() shows it as one line."""


def run(main: Callable[[], None]) -> None:
    """Run a script's main(), turning user errors and Ctrl-C into one line on stderr and an exit code."""
    for stream in (sys.stdout, sys.stderr):  # what the terminal cannot show (a €, a file's name) is escaped
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    try:
        main()
    except (UserError, WriteError) as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
    except (KeyboardInterrupt, Interrupted) as interrupt:
        detail = f" {interrupt}" if str(interrupt) else ""
        print(f"interrupted{detail}; any earlier checkpoint is untouched", file=sys.stderr)
        sys.exit(130)
    except BrokenPipeError:  # the output went to a program that stopped reading it, such as `head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so that Python's exit can flush
        sys.exit(1)
    except OSError as error:  # files are reported where they are written: this is the output failing
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        print(f"error: cannot write the output: {error.strerror or error}", file=sys.stderr)
        sys.exit(1)


def positive_int(text: str) -> int:
    if (value := int(text)) <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def positive_float(text: str) -> float:
    if not ((value := float(text)) > 0 and math.isfinite(value)):  # also refuses nan and inf
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def seed_number(text: str) -> int:
    if not 0 <= (value := int(text)) < 2**32:  # what both PyTorch's and NumPy's generators take
        raise argparse.ArgumentTypeError(f"must be a whole number from 0 to {2**32 - 1}, got {text}")
    return value


def validation_size(text: str) -> int:
    if not 0 <= (value := int(text)) < TRAIN_SIZE:
        raise argparse.ArgumentTypeError(
            f"must be from 0 to {TRAIN_SIZE - 1} (the training set has {TRAIN_SIZE} images), got {text}")
    return value


# ---------------------------------------------------------------------------------------------
# 1. Data: decoded once into tensors, then batched by indexing
# ---------------------------------------------------------------------------------------------

TRAIN_SIZE = 60_000  # both datasets: 60,000 training and 10,000 test images of 28x28 grey pixels
DATASETS = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}  # their classes in torchvision.datasets
FILE_SIZES = {"train-images-idx3-ubyte": 47_040_016, "train-labels-idx1-ubyte": 60_008,  # uncompressed
              "t10k-images-idx3-ubyte": 7_840_016, "t10k-labels-idx1-ubyte": 10_008}


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


# The names reports and predict.py give the classes (torchvision's MNIST says "0 - zero" and so on).
CLASSES = {"mnist": [str(digit) for digit in range(10)],
           "fashion-mnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                             "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]}


def class_folder(name: str) -> str:
    """The folder that holds a class's own examples (draw.py --collect, finetune.py): "7", "T-shirt-top"."""
    return name.replace("/", "-")


def read_idx(path: Path) -> Tensor:
    """One file in the IDX format MNIST comes in: a short header, then every byte of the array.

    The header is two zero bytes, a type code (8: unsigned bytes), the number of dimensions, and
    each dimension's size as a big-endian 32-bit integer: [60000, 28, 28] for the training images.
    """
    data = path.read_bytes()
    dims = data[3]
    shape = struct.unpack(f">{dims}I", data[4:4 + 4 * dims])
    return torch.frombuffer(bytearray(data[4 + 4 * dims:]), dtype=torch.uint8).view(shape)


def download(dataset: str, data_dir: str | Path) -> None:
    """Fetch the dataset's four files into <data_dir>/<MNIST or FashionMNIST>/raw/, through torchvision."""
    # Imported here, not at the top: torchvision takes a second to import, and only downloading needs it.
    from torchvision import datasets
    try:
        getattr(datasets, DATASETS[dataset])(str(data_dir), download=True)
    except Exception as error:  # no network, a mirror down, a full disk
        lines = str(error).strip().splitlines()  # torchvision's last line holds the network's own error
        reason = lines[-1].strip() if lines else type(error).__name__
        raw = Path(data_dir) / DATASETS[dataset] / "raw"
        raise UserError(f"could not load or download {dataset} ({reason}); without a network, put the four files "
                        f"{', '.join(FILE_SIZES)} (or their .gz) in {raw}/") from None


def read_dataset(dataset: str, data_dir: str | Path, train: bool) -> tuple[Tensor, Tensor]:
    """The raw uint8 images [N, 28, 28] and labels [N] (int64) of one split, downloaded on first use."""
    raw = Path(data_dir) / DATASETS[dataset] / "raw"
    if not all((raw / name).is_file() for name in FILE_SIZES):
        download(dataset, data_dir)
    # Every file has one right size: a wrong one was cut short by an interrupted copy or download.
    damaged = [str(raw / name) for name, size in FILE_SIZES.items()
               if not (raw / name).is_file() or (raw / name).stat().st_size != size]
    if damaged:
        raise UserError(f"{', '.join(damaged)}: damaged or truncated (not the size it should have); "
                        "delete it and run again to download it afresh")
    prefix = "train" if train else "t10k"
    return read_idx(raw / f"{prefix}-images-idx3-ubyte"), read_idx(raw / f"{prefix}-labels-idx1-ubyte").long()


def split(val_size: int) -> tuple[Tensor, Tensor]:
    """Indices of the training images kept for training and held out for validation.

    The split has its own fixed seed, so every run (whatever its --seed) and benchmark.py
    validate on the same images and never train on them.
    """
    order = torch.randperm(TRAIN_SIZE, generator=torch.Generator().manual_seed(0))
    return order[val_size:], order[:val_size]


def normalise(pixels: Tensor, mean: float, std: float) -> Tensor:
    """Pixels in [0, 1], [N, 28, 28] -> [N, 1, 28, 28] where the training pixels have mean 0 and std 1."""
    # Inputs centred on zero with unit spread keep early activations and gradients in a good range.
    # One new tensor, then in place: the training images alone are 170 MB as floats.
    return pixels.sub(mean).div_(std).unsqueeze(1)


def inputs(images: Tensor, mean: float, std: float, device: torch.device | str = "cpu") -> Tensor:
    """Raw uint8 images [N, 28, 28] -> the model's normalised float inputs [N, 1, 28, 28] on `device`."""
    return normalise(images.float().div_(255), mean, std).to(device)


def load_data(dataset: str = "mnist", data_dir: str | Path = "data", val_size: int = 5000,
              device: torch.device | str = "cpu", limit: int | None = None) -> Data:
    """Every split, normalised, on `device`; with `limit`, at most that many images of each."""
    train_images, train_labels = read_dataset(dataset, data_dir, train=True)
    test_images, test_labels = read_dataset(dataset, data_dir, train=False)
    train_idx, val_idx = split(val_size)
    # The mean and std come from the training images only: nothing may leak from validation or test.
    pixels = train_images[train_idx].float() / 255
    mean, std = pixels.mean().item(), pixels.std().item()
    train_idx, val_idx = train_idx[:limit], val_idx[:limit]
    return Data(inputs(train_images[train_idx], mean, std, device), train_labels[train_idx].to(device),
                inputs(train_images[val_idx], mean, std, device), train_labels[val_idx].to(device),
                inputs(test_images[:limit], mean, std, device), test_labels[:limit].to(device),
                mean=mean, std=std, classes=CLASSES[dataset])


# ---------------------------------------------------------------------------------------------
# 2. The device, and repeatable runs
# ---------------------------------------------------------------------------------------------

DEVICES = ["auto", "cpu", "cuda", "mps", "xpu"]  # what --device accepts


def pick_device(name: str = "auto") -> torch.device:
    """The device to train on: the one asked for, or with "auto" the fastest one present."""
    if name == "auto":
        # torch.accelerator (PyTorch 2.6 and newer) knows every accelerator this PyTorch was built
        # for: an NVIDIA or AMD GPU, Apple's MPS, Intel's XPU; older versions are asked one by one.
        accelerator = getattr(torch, "accelerator", None)
        if accelerator is not None:
            return accelerator.current_accelerator() if accelerator.is_available() else torch.device("cpu")
        return torch.device("cuda" if torch.cuda.is_available() else "mps" if torch.backends.mps.is_available()
                            else "cpu")
    backend = torch.backends.mps if name == "mps" else getattr(torch, name, None)
    if name != "cpu" and not (backend is not None and backend.is_available()):
        raise UserError(f"--device {name} was asked for, but this machine's PyTorch cannot use it "
                        "(try --device cpu)")
    return torch.device(name)


PRECISIONS = ["auto", "bf16", "fp32"]  # what --precision accepts


def processor_maker() -> str:
    """The processor's maker as Linux names it (AuthenticAMD, GenuineIntel), or "" where unknown."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            return next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("vendor_id")), "")
    except OSError:
        return ""


def bf16_pays(device: torch.device) -> bool:
    """Whether bfloat16 mixed precision makes training faster on `device`: what --precision auto uses.

    bfloat16 keeps float32's range with fewer digits, plenty for a network's products and sums. It
    pays only where the hardware computes it fast: NVIDIA GPUs since Ampere, Intel processors with
    AMX, AMD processors with AVX512-BF16 (Zen 4 and later). An Intel processor with AVX512-BF16 but
    no AMX trains more slowly in it than in float32 (docs/speed.md); elsewhere it is emulated.
    """
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type != "cpu":
        return False
    # PyTorch has no public test of the processor's instructions: ask its own private ones, and
    # train in float32 should they ever be gone.
    has = lambda name: getattr(torch.cpu, name, lambda: False)()  # noqa: E731
    return has("_is_amx_tile_supported") or (has("_is_avx512_bf16_supported") and processor_maker() == "AuthenticAMD")


def seed_everything(seed: int) -> None:
    """Make weight initialisation, shuffling and augmentation repeat from run to run."""
    torch.manual_seed(seed)  # seeds the CPU and every accelerator; all our randomness comes from torch
    # On a GPU, cuDNN may pick among convolution algorithms by timing them, and some add up in a
    # varying order: ask for the ones that give the same result every time.
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = True, False


# ---------------------------------------------------------------------------------------------
# 3. Evaluation
# ---------------------------------------------------------------------------------------------

@torch.inference_mode()  # no gradients: faster and lighter than training
def predict_logits(model: nn.Module, images: Tensor, batch_size: int = 500) -> Tensor:
    model.eval()  # dropout off, batch norm uses its running statistics
    # A few hundred images at a time: on a CPU, faster than a thousand, whose layer outputs outgrow its cache.
    # range(..., max(len, 1), ...): an empty set of images still gives an empty [0, classes] answer.
    return torch.cat([model(images[start:start + batch_size])
                      for start in range(0, max(len(images), 1), batch_size)])


def loss_and_accuracy(logits: Tensor, labels: Tensor) -> tuple[float, float]:
    """Mean cross-entropy and accuracy (%) over every image given, each image counted exactly once."""
    if len(labels) == 0:
        return math.nan, math.nan
    loss = F.cross_entropy(logits, labels, reduction="sum").item() / len(labels)
    return loss, 100 * (logits.argmax(1) == labels).sum().item() / len(labels)


# ---------------------------------------------------------------------------------------------
# 4. Checkpoints
# ---------------------------------------------------------------------------------------------

def default_checkpoint_path(model_name: str, dataset: str) -> Path:
    suffix = "" if dataset == "mnist" else f"-{dataset}"
    return Path("checkpoints") / f"{model_name}{suffix}.pt"


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
    if problem := checkpoint_problem(checkpoint):
        raise UserError(f"{path} is not a usable checkpoint: {problem}")
    return checkpoint


def is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def checkpoint_problem(checkpoint: dict) -> str | None:
    """What is wrong with a checkpoint's fields, checked once, before any of them is used; None if nothing."""
    classes, threshold, weights = checkpoint["classes"], checkpoint.get("threshold"), checkpoint["state_dict"]
    if not isinstance(checkpoint["model"], str) or not isinstance(checkpoint["dataset"], str):
        return "its model and dataset must be names"
    if not isinstance(classes, list) or not 2 <= len(classes) <= 1000 or \
            not all(isinstance(name, str) and 0 < len(name) <= 100 for name in classes):
        return "its classes must be a list of 2 to 1000 names"
    if not is_number(checkpoint["mean"]) or not is_number(checkpoint["std"]) or checkpoint["std"] <= 0:
        return "its mean and std must be finite numbers, and std above 0"
    if threshold is not None and not (is_number(threshold) and 0 <= threshold <= 1):
        return "its threshold must be a probability from 0 to 1, or None"
    if not isinstance(weights, dict) or not weights or \
            not all(isinstance(k, str) and isinstance(v, Tensor) for k, v in weights.items()):
        return "its state_dict must map names to tensors"
    if not all(torch.isfinite(v).all() for v in weights.values() if v.is_floating_point()):
        return "its weights hold NaN or infinite values"
    args = checkpoint.get("args", {})
    limit = args.get("limit") if isinstance(args, dict) else None
    if not isinstance(args, dict) or not isinstance(args.get("seed", 1), int) or \
            not (limit is None or isinstance(limit, int) and limit > 0):
        return "its args must be a dict of the training options (seed and limit whole numbers)"
    if not isinstance(checkpoint.get("epochs", 0), int):
        return "its epochs must be a whole number"
    return None
