"""The training machinery both trainers share: one epoch, the "not a digit" bar, options, a run.

Read this after common.py, and beside train_cnn.py or train_mlp.py, whose main() shows the run
itself (the epoch loop) and calls on what is here for the details:
  1. training: the optimiser and schedule, and one epoch (shuffle, forward, loss, backward, step),
     with augmentation (augment.py) and, for digits, non-digits that teach the model to be unsure
     of anything else (nondigits.py);
  2. the bar below which predict.py says "not a digit", set after training;
  3. the options both trainers take, and Run: what is printed and saved around the epoch loop,
     resuming, and the end (testing once, the checkpoint, the report).
Resuming an interrupted run is in resume.py; the report, pictures and CSV log are in report.py.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterable, Iterator

import torch
import torch.nn.functional as F
from torch import Tensor, nn

import common
import files
import nondigits
import report
import resume

# ---------------------------------------------------------------------------------------------
# 1. Training
# ---------------------------------------------------------------------------------------------

@dataclass
class Recipe:
    """How a model is trained: what each trainer chooses, and all that train_epoch() and Run use."""
    optimizer: torch.optim.Optimizer
    epochs: int
    batch_size: int
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None  # stepped after every batch
    augment: Callable[[Tensor], Tensor] | None = None  # applied to every batch
    label_smoothing: float = 0.0
    outliers: Tensor | None = None  # images of no class (non-digits), taught to get a uniform answer
    mixed_precision: bool = False  # compute in bfloat16 where it is safe (see common.bf16_pays)


def adamw_one_cycle(model: nn.Module, lr: float, epochs: int, steps_per_epoch: int, fused: bool = False,
                    ) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler]:
    """The optimiser and learning-rate schedule both trainers use."""
    # AdamW adapts each weight's step size; its weight decay gently pulls unneeded weights to zero.
    # Fused, its step updates all the weights in one pass instead of a dozen small operations per
    # tensor: the same arithmetic, in less time. A device without the fused kernel refuses it.
    try:
        optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-2, fused=fused or None)
    except RuntimeError:
        optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-2)
    # One cycle: the learning rate warms up to `lr`, then anneals to almost zero by the last batch,
    # which trains fast at first and settles precisely at the end.
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=epochs * steps_per_epoch)
    return optimizer, scheduler


OUTLIER_SHARE = 0.25  # non-digits brought into every batch, per digit in it
OUTLIER_WEIGHT = 0.5  # their loss's weight against the digits' (as Hendrycks et al., 2019, found best)


def shuffled_batches(images: Tensor, labels: Tensor, batch_size: int) -> Iterator[tuple[Tensor, Tensor]]:
    """The images and their labels in a fresh random order, `batch_size` at a time, each by one indexing."""
    order = torch.randperm(len(images), device=images.device)
    for batch in order.split(batch_size):
        yield images[batch], labels[batch]


def with_outliers(x: Tensor, outliers: Tensor | None) -> Tensor:
    """The batch followed by OUTLIER_SHARE as many non-digits picked at random (without any, as it is)."""
    if outliers is None:
        return x
    picked = torch.randint(len(outliers), (int(len(x) * OUTLIER_SHARE),), device=x.device)
    return torch.cat([x, outliers[picked]])


def outlier_loss(logits: Tensor) -> Tensor:
    """Outlier exposure: the target for a non-digit is the uniform distribution over the classes."""
    return F.cross_entropy(logits, torch.full_like(logits, 1 / logits.shape[1]))


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
        x = with_outliers(x, recipe.outliers)
        if recipe.augment is not None:
            x = recipe.augment(x)
        # Mixed precision: autocast runs convolutions and matrix products in bfloat16, and keeps
        # what needs float32's precision (batch norm, the softmax inside the loss) in float32.
        with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=recipe.mixed_precision):
            logits = model(x).float()
        # cross_entropy takes raw logits: the softmax is inside it, computed stably.
        loss = F.cross_entropy(logits[:n], y, label_smoothing=recipe.label_smoothing)
        total = loss if recipe.outliers is None else loss + OUTLIER_WEIGHT * outlier_loss(logits[n:])
        recipe.optimizer.zero_grad(set_to_none=True)
        total.backward()
        recipe.optimizer.step()
        if recipe.scheduler is not None:
            recipe.scheduler.step()  # our schedules change the learning rate after every batch
        loss_sum += loss.detach() * n  # the digits' loss only, comparable with validation's
        correct += (logits[:n].argmax(1) == y).sum()
        seen += n
        if progress_label and step % 20 == 0:
            report.progress(progress_label, seen)
    mean_loss = float(loss_sum) / seen
    if not math.isfinite(mean_loss):
        raise common.UserError("the training loss became NaN or infinite; try a smaller --lr")
    return mean_loss, 100 * int(correct) / seen


# ---------------------------------------------------------------------------------------------
# 2. Not a digit
# ---------------------------------------------------------------------------------------------

CALIBRATION_RATE = 0.005  # the share of real digits that may be answered "not a digit"


def calibrate(digit_logits: Tensor) -> float:
    """The probability below which predict.py says "not a digit": the bar that CALIBRATION_RATE of
    these digits' best probabilities fall below (Run gives it the last epoch's validation logits)."""
    confidence = digit_logits.softmax(1).amax(1)
    return torch.quantile(confidence.float().cpu(), CALIBRATION_RATE).item()


def nondigit_images(count: int, seed: int, data: common.Data, data_dir: str | None = None) -> Tensor:
    """Drawn letters, symbols and scribbles (no more than there are training digits), half as many pairs of
    digits run together, a quarter as many parts of digits (nondigits.py), normalised; kept in data_dir."""
    count = min(count, len(data.train_x))

    def draw() -> dict[str, Tensor]:
        digits = report.unnormalise(data.train_x[:, 0].cpu(), data.mean, data.std)  # pixels in [0, 1] again
        return {"images": torch.cat([nondigits.draw(count, seed), nondigits.pairs(digits, count // 2, seed),
                                     nondigits.pieces(digits, data.train_y.cpu(), count // 4, seed)])}
    images = nondigits.kept(data_dir, f"nondigits-{count}-{seed}", [data.train_x, data.train_y], draw)["images"]
    return common.normalise(images, data.mean, data.std).to(data.train_x.device)


def with_cut_digits(data: common.Data, seed: int, data_dir: str | None = None) -> common.Data:
    """The data with one digit in 12 of its training split cut out of a pair of touching ones
    (nondigits.cut_from_pairs), so that predict.py's cuts between touching digits read well."""
    count = len(data.train_x) // 11

    def draw() -> dict[str, Tensor]:
        digits = report.unnormalise(data.train_x[:, 0].cpu(), data.mean, data.std)
        return dict(zip(["images", "labels"], nondigits.cut_from_pairs(digits, data.train_y.cpu(), count, seed)))
    return with_drawn(data, nondigits.kept(data_dir, f"cut-digits-{count}-{seed}", [data.train_x, data.train_y], draw))


def with_drawn(data: common.Data, drawn: dict[str, Tensor]) -> common.Data:
    """The data with drawn digits (`images` in [0, 1], and their `labels`) added to its training split."""
    images = common.normalise(drawn["images"], data.mean, data.std).to(data.train_x.device)
    return replace(data, train_x=torch.cat([data.train_x, images]),
                   train_y=torch.cat([data.train_y, drawn["labels"].to(data.train_y.device)]))


def nondigit_rate(model: nn.Module, threshold: float, seed: int, mean: float, std: float,
                  data_dir: str | None = None) -> float:
    """The share (%) of 2,000 drawn non-digits, never used in training, that fall below the bar."""
    seed = 1_000_000 + seed  # not the training's non-digits
    unseen = nondigits.kept(data_dir, f"unseen-2000-{seed}", [], lambda: {"images": nondigits.draw(2000, seed)})
    unseen = common.normalise(unseen["images"], mean, std).to(next(model.parameters()).device)
    return 100 * (common.predict_logits(model, unseen).softmax(1).amax(1) < threshold).float().mean().item()


# ---------------------------------------------------------------------------------------------
# 3. A run: its options, and what happens around the epoch loop
# ---------------------------------------------------------------------------------------------

def make_parser(description: str, *, epochs: int, batch_size: int, lr: float) -> argparse.ArgumentParser:
    """The options both trainers share; `epochs`, `batch_size` and `lr` are the script's own defaults."""
    parser = argparse.ArgumentParser(description=description,
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--dataset", choices=sorted(common.DATASETS), default="mnist", help="which dataset to train on")
    parser.add_argument("--data-dir", default="data",
                        help="where the dataset is, or is downloaded to; drawn/ in it keeps the pictures runs draw")
    parser.add_argument("--epochs", type=common.positive_int, default=epochs, help="passes over the training set")
    parser.add_argument("--batch-size", type=common.positive_int, default=batch_size, help="images per training step")
    parser.add_argument("--lr", type=common.positive_float, default=lr, help="peak learning rate")
    parser.add_argument("--val-size", type=common.validation_size, default=5000,
                        help="training images held out to validate each epoch (0: none)")
    parser.add_argument("--seed", type=common.seed_number, default=1,
                        help="random seed for initialisation and shuffling")
    parser.add_argument("--precision", choices=common.PRECISIONS, default="auto",
                        help="bf16: bfloat16 mixed precision; fp32: none; auto: bf16 where it makes this network "
                             "train faster on this machine")
    parser.add_argument("--device", choices=common.DEVICES, default="auto",
                        help="where to train; auto picks a GPU (CUDA), Apple's MPS or Intel's XPU when present")
    parser.add_argument("--limit", type=common.positive_int, default=None,
                        help="use at most this many images of each split, for a quick trial run")
    parser.add_argument("--no-samples", action="store_true", help="do not save a picture of training images")
    parser.add_argument("--no-mistakes", action="store_true", help="do not save a picture of the test mistakes")
    parser.add_argument("--resume", metavar="CHECKPOINT", default=None,
                        help="continue an unfinished run from its checkpoint, with the options it started with")
    parser.add_argument("--out", default=None,
                        help="checkpoint file to write (default: checkpoints/<model>.pt, "
                             "checkpoints/<model>-<dataset>.pt for other datasets)")
    parser.add_argument("--force", action="store_true",
                        help="overwrite files at --out and beside it even if these scripts did not write them")
    return parser


class Run:
    """The bookkeeping around the epoch loop that train_cnn.py and train_mlp.py show: where the run is saved,
    what it prints, resuming, the run so far saved after every epoch, and the end (testing once, the "not a
    digit" bar, the checkpoint, the report). `args`: the run's options; `resumed`: what --resume continues."""

    def __init__(self, model_name: str, model: nn.Module, data: common.Data, recipe: Recipe,
                 args: argparse.Namespace, resumed: dict | None = None):
        self.model_name, self.model, self.data, self.recipe, self.args = model_name, model, data, recipe, args
        self.out = Path(args.out) if args.out else common.default_checkpoint_path(model_name, args.dataset)
        self.in_progress = self.out.with_name(f"{self.out.stem}-in-progress.pt")
        files.check_writable(self.out)
        files.check_not_clobbering([self.out, self.in_progress] + [report.beside(self.out, name)
                                                                    for name in report.SIDE_FILES], args.force)
        print(f"{model_name}: {sum(p.numel() for p in model.parameters()):,} parameters; "
              f"{len(data.train_x):,} training, {len(data.val_x):,} validation, {len(data.test_x):,} test images; "
              f"device {data.train_x.device}, {'bfloat16 mixed precision' if recipe.mixed_precision else 'float32'}")
        if not args.no_samples:  # the first look at the data that every course starts with
            print(f"training images: {report.save_samples(data, self.out)}")
        self.log: list[dict] = []
        self.first, self.saved = 1, 0  # the first epoch to train; the last one saved in self.in_progress
        if resumed:
            self.log = resume.restore(resumed, model, recipe.optimizer, recipe.scheduler, data.train_x.device)
            self.first = resumed["epochs"] + 1
            kept = " ".join(f"--{key.replace('_', '-')} {getattr(args, key)}" for key in resume.KEPT_BY_RESUME)
            print(f"resuming {args.resume} after epoch {resumed['epochs']} of {recipe.epochs}, "
                  f"keeping its options {kept}")
        self.terminal = sys.stdout.isatty()  # progress within each epoch only where a person watches it

    def epochs(self) -> Iterator[int]:
        """The epochs still to train, each timed from here to end_epoch()."""
        for epoch in range(self.first, self.recipe.epochs + 1):
            self.started = time.perf_counter()
            self.label = f"epoch {epoch:>{len(str(self.recipe.epochs))}}/{self.recipe.epochs}"
            yield epoch

    def batches(self) -> Iterator[tuple[Tensor, Tensor]]:
        return shuffled_batches(self.data.train_x, self.data.train_y, self.recipe.batch_size)

    def progress(self) -> str | None:
        """What train_epoch() shows of the epoch's progress: its label, in a terminal only."""
        return self.label if self.terminal else None

    @contextmanager
    def interruptible(self) -> Iterator[None]:
        """Ctrl-C ends the run in one line that says how to continue it."""
        try:
            yield
        except KeyboardInterrupt:
            hint = f"after epoch {self.saved}: continue with --resume {self.in_progress}" if self.saved else ""
            raise common.Interrupted(hint) from None

    def end_epoch(self, epoch: int, train_loss: float, train_acc: float, val_logits: Tensor) -> None:
        """The epoch's line in the log and on the screen, and the run so far saved, unless it was the last."""
        self.val_logits = val_logits  # the last epoch's also set the "not a digit" bar, in finish()
        val_loss, val_acc = common.loss_and_accuracy(val_logits, self.data.val_y)
        self.log.append(report.log_row(epoch, train_loss, train_acc, val_loss, val_acc,
                                       time.perf_counter() - self.started))
        if epoch < self.recipe.epochs:
            state = resume.training_state(self.recipe.optimizer, self.recipe.scheduler, self.log,
                                          self.data.train_x.device)
            files.save_checkpoint(self.checkpoint(epoch) | state, self.in_progress)
            self.saved = epoch
        print(report.epoch_line(self.label, self.log[-1], erase=self.terminal), flush=True)

    def checkpoint(self, epochs: int, test_accuracy: float | None = None, threshold: float | None = None) -> dict:
        """What it takes to use the model later: predict.py, evaluate.py and predict.model_from_checkpoint()."""
        return {"model": self.model_name, "state_dict": {k: v.cpu() for k, v in self.model.state_dict().items()},
                "mean": self.data.mean, "std": self.data.std, "classes": self.data.classes,
                "dataset": self.args.dataset, "epochs": epochs, "test_accuracy": test_accuracy,
                "threshold": threshold,  # predict.py names a digit only when its probability reaches this
                "args": dict(vars(self.args))}  # plain values only, so that weights_only loading works

    def finish(self) -> dict:
        """Test once, set the "not a digit" bar, save the checkpoint, the log and the report; return the checkpoint."""
        model, data = self.model, self.data
        # The test set is used once, at the very end, so that it stays an honest estimate.
        logits = common.predict_logits(model, data.test_x)
        test_loss, test_acc = common.loss_and_accuracy(logits, data.test_y)
        threshold = None
        if self.recipe.outliers is not None:  # without a validation split, the bar comes from training digits
            threshold = calibrate(self.val_logits if len(data.val_x) else
                                  common.predict_logits(model, data.train_x[:5000]))
        final = self.checkpoint(self.recipe.epochs, test_acc, threshold)
        files.save_checkpoint(final, self.out)
        self.in_progress.unlink(missing_ok=True)
        log_path = report.write_log(self.log, self.out)
        print(report.report(logits, data.test_y, data.classes, test_loss, test_acc))
        if threshold is not None:
            rejected = nondigit_rate(model, threshold, self.args.seed, data.mean, data.std, self.args.data_dir)
            print(report.nondigit_line(threshold, rejected))
        print(f"saved {self.out} and the epoch log {log_path}")
        if not self.args.no_mistakes:
            print(report.save_mistakes(logits, data.test_x, data.test_y, data.classes, data.mean, data.std, self.out))
        return final
