"""What both trainers share: data, the training loop, evaluation, checkpoints, and the whole run.

Read this file top to bottom, in the order a training script needs its parts:
  1. data: the whole dataset decoded once into one normalised tensor on the training device, a
     fixed train/validation split, and batches taken by indexing, far faster than a per-image
     DataLoader pipeline;
  2. training: one epoch (shuffle, forward, loss, backward, step), with augmentation and, for
     digits, non-digits that teach the model to be unsure of anything else;
  3. evaluation: loss and accuracy, and the bar below which predict.py says "not a digit";
  4. checkpoints: everything needed to use the model later, never left half-written, loaded safely;
  5. the whole run: the options both trainers take, and fit(), which trains, tests and saves.
Resuming an interrupted run is in resume.py; what a learner looks at after training (the report,
pictures, the CSV log) is in report.py. train_mlp.py and train_cnn.py hold the models and their
recipes; predict.py and evaluate.py use the checkpoints.
"""

from __future__ import annotations

import argparse
import math
import os
import pickle
import struct
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

import torch
import torch.nn.functional as F
from torch import Tensor, nn

import nondigits
import report


class UserError(Exception):
    """A problem the user can fix (bad input, missing files): shown as one line, without a traceback."""


class Interrupted(Exception):
    """Ctrl-C during training, with what to do next."""


def run(main: Callable[[], None]) -> None:
    """Run a script's main(), turning user errors and Ctrl-C into one line on stderr and an exit code."""
    try:
        main()
    except (UserError, report.WriteError) as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
    except (KeyboardInterrupt, Interrupted) as interrupt:
        detail = f" {interrupt}" if str(interrupt) else ""
        print(f"interrupted{detail}; any earlier checkpoint is untouched", file=sys.stderr)
        sys.exit(130)
    except BrokenPipeError:  # the output went to a program that stopped reading it, such as `head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so that Python's exit can flush
        sys.exit(1)


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
    return ((pixels - mean) / std).unsqueeze(1)


def inputs(images: Tensor, mean: float, std: float, device: torch.device | str = "cpu") -> Tensor:
    """Raw uint8 images [N, 28, 28] -> the model's normalised float inputs [N, 1, 28, 28] on `device`."""
    # normalise(), in place after the one conversion to float: each pass over the 170 MB of the
    # training images takes a noticeable fraction of a second.
    return images.float().div_(255).sub_(mean).div_(std).unsqueeze(1).to(device)


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


def nondigit_images(count: int, seed: int, data: Data) -> Tensor:
    """Drawn letters, symbols and scribbles, and half as many pairs of training digits run together
    (nondigits.py), normalised like the digits, on their device."""
    digits = (data.train_x[:, 0].cpu() * data.std + data.mean).clamp(0, 1)
    images = torch.cat([nondigits.draw(count, seed), nondigits.pairs(digits, count // 2, seed)])
    return normalise(images, data.mean, data.std).to(data.train_x.device)


# ---------------------------------------------------------------------------------------------
# 2. Training
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


def seed_everything(seed: int) -> None:
    """Make weight initialisation, shuffling and augmentation repeat from run to run."""
    torch.manual_seed(seed)  # seeds the CPU and every accelerator; all our randomness comes from torch
    # On a GPU, cuDNN may pick among convolution algorithms by timing them, and some add up in a
    # varying order: ask for the ones that give the same result every time.
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = True, False


@dataclass
class Recipe:
    """How a model is trained: what each trainer chooses, and all that train_epoch() and fit() use."""
    optimizer: torch.optim.Optimizer
    epochs: int
    batch_size: int
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None  # stepped after every batch
    augment: Callable[[Tensor], Tensor] | None = None  # applied to every batch
    label_smoothing: float = 0.0
    outliers: Tensor | None = None  # images of no class (non-digits), taught to get a uniform answer
    mixed_precision: bool = False  # compute in bfloat16 where it is safe (see bf16_is_native)


OUTLIER_SHARE = 0.25  # non-digits brought into every batch, per digit in it
OUTLIER_WEIGHT = 0.5  # their loss's weight against the digits' (as Hendrycks et al., 2019, found best)


def bf16_is_native(device: torch.device) -> bool:
    """Whether `device` computes in bfloat16 natively, so that mixed precision makes training faster.

    bfloat16 keeps float32's range with fewer digits, plenty for a network's products and sums.
    Recent x86 processors (AVX512-BF16, AMX) and NVIDIA GPUs since Ampere have it in hardware;
    elsewhere it would be emulated, and slower, so training stays in float32.
    """
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":  # torch's own tests of the processor, under private names that may change
        tests = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
        return any(getattr(torch.cpu, name, lambda: False)() for name in tests)
    return False


def shuffled_batches(images: Tensor, labels: Tensor, batch_size: int) -> Iterator[tuple[Tensor, Tensor]]:
    """The images and their labels in a fresh random order, `batch_size` at a time, each by one indexing."""
    order = torch.randperm(len(images), device=images.device)
    for batch in order.split(batch_size):
        yield images[batch], labels[batch]


def train_epoch(model: nn.Module, recipe: Recipe, batches: Iterable[tuple[Tensor, Tensor]],
                progress_label: str | None = None) -> tuple[float, float]:
    """One pass over the training batches; returns the mean loss and the accuracy (%) on them.

    With recipe.outliers, every batch brings OUTLIER_SHARE as many of them, and the model is taught
    to answer them with every class equally likely. With `progress_label`, such as "epoch 3/10", the
    epoch's progress shows on one line that keeps being rewritten (for a terminal).
    """
    model.train()  # dropout and batch norm behave as in training
    # Sums stay on the device: calling .item() every step would make the CPU wait for a GPU.
    loss_sum, correct, seen = 0.0, 0, 0
    for step, (x, y) in enumerate(batches):
        n = len(y)
        if recipe.outliers is not None:
            picked = torch.randint(len(recipe.outliers), (int(n * OUTLIER_SHARE),), device=x.device)
            x = torch.cat([x, recipe.outliers[picked]])
        if recipe.augment is not None:
            x = recipe.augment(x)
        # Mixed precision: autocast runs convolutions and matrix products in bfloat16, and keeps
        # what needs float32's precision (batch norm, the softmax inside the loss) in float32.
        with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=recipe.mixed_precision):
            logits = model(x).float()
        logits, outlier_logits = logits[:n], logits[n:]
        # cross_entropy takes raw logits: the softmax is inside it, computed stably.
        loss = F.cross_entropy(logits, y, label_smoothing=recipe.label_smoothing)
        total = loss
        if recipe.outliers is not None:
            # Outlier exposure: the target for a non-digit is the uniform distribution over the classes.
            uniform = torch.full_like(outlier_logits, 1 / logits.shape[1])
            total = loss + OUTLIER_WEIGHT * F.cross_entropy(outlier_logits, uniform)
        recipe.optimizer.zero_grad(set_to_none=True)
        total.backward()
        recipe.optimizer.step()
        if recipe.scheduler is not None:
            recipe.scheduler.step()  # our schedules change the learning rate after every batch
        loss_sum += loss.detach() * n  # the digits' loss only, comparable with validation's
        correct += (logits.argmax(1) == y).sum()
        seen += n
        if progress_label and step % 20 == 0:
            report.progress(progress_label, seen)
    mean_loss = float(loss_sum) / seen
    if not math.isfinite(mean_loss):
        raise UserError("the training loss became NaN or infinite; try a smaller --lr")
    return mean_loss, 100 * int(correct) / seen


# ---------------------------------------------------------------------------------------------
# 3. Evaluation
# ---------------------------------------------------------------------------------------------

@torch.inference_mode()  # no gradients: faster and lighter than training
def predict_logits(model: nn.Module, images: Tensor, batch_size: int = 1000) -> Tensor:
    model.eval()  # dropout off, batch norm uses its running statistics
    # range(..., max(len, 1), ...): an empty set of images still gives an empty [0, classes] answer.
    return torch.cat([model(images[start:start + batch_size])
                      for start in range(0, max(len(images), 1), batch_size)])


def loss_and_accuracy(logits: Tensor, labels: Tensor) -> tuple[float, float]:
    """Mean cross-entropy and accuracy (%) over every image given, each image counted exactly once."""
    if len(labels) == 0:
        return math.nan, math.nan
    loss = F.cross_entropy(logits, labels, reduction="sum").item() / len(labels)
    return loss, 100 * (logits.argmax(1) == labels).sum().item() / len(labels)


def evaluate(model: nn.Module, images: Tensor, labels: Tensor) -> tuple[float, float]:
    return loss_and_accuracy(predict_logits(model, images), labels)


CALIBRATION_RATE = 0.005  # the share of real digits that may be answered "not a digit"


def calibrate(digit_logits: Tensor) -> float:
    """The probability below which predict.py says "not a digit": the bar that CALIBRATION_RATE of
    these digits' best probabilities fall below (fit() gives it the validation digits' logits)."""
    confidence = digit_logits.softmax(1).amax(1)
    return torch.quantile(confidence.float().cpu(), CALIBRATION_RATE).item()


def nondigit_rate(model: nn.Module, threshold: float, seed: int, mean: float, std: float) -> float:
    """The share (%) of 2,000 drawn non-digits, never used in training, that fall below the bar."""
    device = next(model.parameters()).device
    unseen = normalise(nondigits.draw(2000, seed=1_000_000 + seed), mean, std).to(device)
    return 100 * (predict_logits(model, unseen).softmax(1).amax(1) < threshold).float().mean().item()


# ---------------------------------------------------------------------------------------------
# 4. Checkpoints
# ---------------------------------------------------------------------------------------------

def default_checkpoint_path(model_name: str, dataset: str) -> Path:
    suffix = "" if dataset == "mnist" else f"-{dataset}"
    return Path("checkpoints") / f"{model_name}{suffix}.pt"


def check_writable(path: Path) -> None:
    """Fail now, in one line, if a file cannot be written at `path`, not after an hour of training."""
    if path.exists() and not path.is_file():
        raise UserError(f"{path} is a {'directory' if path.is_dir() else 'device or other special file'}; "
                        f"give a file name such as {path / 'model.pt' if path.is_dir() else 'model.pt'}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=path.parent).close()  # the one sure test: write a file there
    except OSError as error:
        raise UserError(f"cannot write in {path.parent}: {error.strerror or error}") from None


def save_checkpoint(checkpoint: dict, path: str | Path) -> None:
    """Write to a temporary file beside `path`, then rename it into place.

    A rename within one folder is atomic, so a crash, a full disk or Ctrl-C leaves either the old
    file or the new one, never half of one.
    """
    path = Path(path)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as file:
            torch.save(checkpoint, file)
        umask = os.umask(0)  # reading the umask means setting it; put it straight back
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's file is private; give it the usual permissions
        os.replace(tmp, path)
    except OSError as error:
        raise UserError(f"cannot write {path}: {error.strerror or error}") from None
    finally:
        if tmp and os.path.exists(tmp):
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
    # Imported here, not at the top of this file, because the training scripts import this file.
    from train_cnn import CNN
    from train_mlp import MLP
    models = {"mlp": MLP, "cnn": CNN}
    if checkpoint["model"] not in models:
        raise UserError(f"unknown model {checkpoint['model']!r} in checkpoint (expected one of {sorted(models)})")
    model = models[checkpoint["model"]](num_classes=len(checkpoint["classes"]))
    try:
        model.load_state_dict(checkpoint["state_dict"])
    except RuntimeError:
        raise UserError(f"the checkpoint's weights do not fit the current {checkpoint['model']} model; "
                        "retrain it with this version of the code") from None
    return model.eval()


# ---------------------------------------------------------------------------------------------
# 5. The whole run: options, then train, test, save
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
    parser.add_argument("--device", choices=DEVICES, default="auto",
                        help="where to train; auto picks a GPU (CUDA), Apple's MPS or Intel's XPU when present")
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


def fit(model_name: str, model: nn.Module, data: Data, recipe: Recipe, args: argparse.Namespace,
        resumed: dict | None = None) -> dict:
    """Train for recipe.epochs, print one line per epoch, test once, save and return the checkpoint.

    `args` are the run's options (where to save, which pictures), kept in the checkpoint. Beside the
    checkpoint go a CSV log of the epochs and, unless switched off, pictures of training images and
    of the test images the model got wrong. After every epoch but the last, the run so far is saved
    as <out>-in-progress.pt, which --resume continues (`resumed` is that checkpoint).
    """
    import resume  # here, not at the top of this file, because resume.py imports this file
    out = Path(args.out) if args.out else default_checkpoint_path(model_name, args.dataset)
    in_progress = out.with_name(f"{out.stem}-in-progress.pt")
    check_writable(out)
    print(f"{model_name}: {sum(p.numel() for p in model.parameters()):,} parameters; "
          f"{len(data.train_x):,} training, {len(data.val_x):,} validation, {len(data.test_x):,} test images; "
          f"device {data.train_x.device}")
    if not args.no_samples:  # the first look at the data that every course starts with
        print(f"training images: {report.save_samples(data, out)}")

    def usable(epochs: int, test_accuracy: float | None = None, threshold: float | None = None) -> dict:
        """What it takes to use the model later: predict.py, evaluate.py and model_from_checkpoint()."""
        return {"model": model_name, "state_dict": {k: v.cpu() for k, v in model.state_dict().items()},
                "mean": data.mean, "std": data.std, "classes": data.classes, "dataset": args.dataset,
                "epochs": epochs, "test_accuracy": test_accuracy,
                "threshold": threshold,  # predict.py names a digit only when its probability reaches this
                "args": dict(vars(args))}  # plain values only, so that weights_only loading works

    log, first = [], 1
    if resumed:
        log, first = resume.restore(resumed, model, recipe, data.train_x.device), resumed["epochs"] + 1
        kept = " ".join(f"--{key.replace('_', '-')} {getattr(args, key)}" for key in resume.KEPT_BY_RESUME)
        print(f"resuming {args.resume} after epoch {resumed['epochs']} of {recipe.epochs}, keeping its options {kept}")
    terminal = sys.stdout.isatty()  # progress within each epoch only where a person watches it
    saved = 0  # the last epoch saved in in_progress
    try:
        for epoch in range(first, recipe.epochs + 1):
            start = time.perf_counter()
            label = f"epoch {epoch:>{len(str(recipe.epochs))}}/{recipe.epochs}"
            batches = shuffled_batches(data.train_x, data.train_y, recipe.batch_size)
            train_loss, train_acc = train_epoch(model, recipe, batches, label if terminal else None)
            val_logits = predict_logits(model, data.val_x)  # the last epoch's also set the bar below
            val_loss, val_acc = loss_and_accuracy(val_logits, data.val_y)
            log.append(report.log_row(epoch, train_loss, train_acc, val_loss, val_acc, time.perf_counter() - start))
            if epoch < recipe.epochs:
                save_checkpoint(usable(epoch) | resume.training_state(recipe, log, data.train_x.device), in_progress)
                saved = epoch
            print(report.epoch_line(label, log[-1], erase=terminal), flush=True)
    except KeyboardInterrupt:
        raise Interrupted(f"after epoch {saved}: continue with --resume {in_progress}" if saved else "") from None

    # The test set is used once, at the very end, so that it stays an honest estimate.
    logits = predict_logits(model, data.test_x)
    threshold = None
    if recipe.outliers is not None:  # without a validation split, the bar comes from training digits
        threshold = calibrate(val_logits if len(data.val_x) else predict_logits(model, data.train_x[:5000]))
    final = usable(recipe.epochs, loss_and_accuracy(logits, data.test_y)[1], threshold)
    save_checkpoint(final, out)
    in_progress.unlink(missing_ok=True)
    log_path = report.write_log(log, out)
    print(report.report(logits, data.test_y, data.classes, *loss_and_accuracy(logits, data.test_y)))
    if threshold is not None:
        print(report.nondigit_line(threshold, nondigit_rate(model, threshold, args.seed, data.mean, data.std)))
    print(f"saved {out} and the epoch log {log_path}")
    if not args.no_mistakes:
        print(report.save_mistakes(logits, data.test_x, data.test_y, data.classes, data.mean, data.std, out))
    return final
