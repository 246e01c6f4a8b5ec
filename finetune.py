"""Teach the network your handwriting: fine-tune a trained model on a few dozen of your own digits.

Read this file to learn fine-tuning, the everyday way of putting a trained network to new use
(transfer learning). A network trained on MNIST has learnt the handwriting of a few hundred
people; yours may differ (a 7 with a bar across, a 1 with a long flag, a 4 left open). Rather
than train from scratch, we start from the trained weights and go on training, briefly and gently,
on your examples, so that what it knows is kept and your style is added.

Two things make that work with a handful of examples:

  * Your digits are mixed with MNIST's in every batch (three of theirs for one of yours). Trained
    on your digits alone, a network forgets what it knew ("catastrophic forgetting"): it fits your
    few examples and reads everyone else's digits worse. docs/finetune.md shows it measured
    (--mnist-share 0).
  * A small learning rate and a short schedule, with your examples shifted, turned and scaled a
    little every time, so that it learns your style rather than your exact pixels.

Every layer is trained. Keeping the first ones as they are (the convolutions, which find strokes
and shapes) forgets even less, but a hand unlike MNIST's needs new strokes as well, and learns
less: docs/finetune.md has the figures.

One of every five examples of each digit is kept aside and never trained on: the accuracy on them,
before and after, tells whether the network learnt your style or merely your examples. Your
pictures are prepared exactly as predict.py prepares them (prepare.py), so what it learns is what
predict.py and draw.py will show it.

    python draw.py --collect my-digits/      # draw, press the digit it is: saved as my-digits/7/....png
    python finetune.py my-digits/            # writes checkpoints/cnn-mine.pt
    python draw.py --checkpoint checkpoints/cnn-mine.pt
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from torch import Tensor

import augment
import common
import files
import images
import predict
import training

MIN_EXAMPLES = 3  # of each class that has a folder: fewer teach little and measure nothing
HELD_OUT = 5  # one example in this many of each class is kept aside to measure, never trained on
YOURS_PER_BATCH = 32  # and MNIST's digits beside them, as --mnist-share says
MAX_EXAMPLES = 10_000  # pictures read from the folder at most: a fine-tuning set, not a dataset


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("folder", type=Path, help="a folder with one folder per class: my-digits/0, my-digits/1, ...")
    parser.add_argument("--checkpoint", type=Path, default=predict.DEFAULT_CHECKPOINT, help="the model to start from")
    parser.add_argument("--out", type=Path, help="where to write the new model (default: beside --checkpoint, "
                                                 "its name ending in -mine.pt)")
    parser.add_argument("--force", action="store_true", help="overwrite --out even if these scripts did not write it")
    parser.add_argument("--data-dir", default="data", help="where the MNIST files are, or will be downloaded to")
    parser.add_argument("--epochs", type=common.positive_int, default=30,
                        help="passes over your examples (each batch also holds MNIST digits)")
    parser.add_argument("--lr", type=common.positive_float, default=5e-4, help="the highest learning rate")
    parser.add_argument("--mnist-share", type=float, default=0.75,
                        help="the share of every batch that is MNIST digits; 0 shows what forgetting is")
    parser.add_argument("--seed", type=common.seed_number, default=1,
                        help="random seed: the same seed gives the same model")
    parser.add_argument("--device", default="auto", choices=common.DEVICES, help="where to train")
    args = parser.parse_args(argv)
    if not 0 <= args.mnist_share < 1:
        parser.error(f"--mnist-share must be at least 0 and below 1, got {args.mnist_share}")
    args.out = args.out or args.checkpoint.with_name(f"{args.checkpoint.stem}-mine.pt")
    if args.out.resolve() == args.checkpoint.resolve():
        raise common.UserError(f"--out {args.out} is the checkpoint it starts from, which is never overwritten")
    return args


def read_examples(folder: Path, reader: predict.Reader) -> tuple[Tensor, Tensor]:
    """Your examples: every picture in folder/<class>/, prepared as predict.py prepares it.
    Returns their 28x28 inputs [N, 28, 28] and labels [N]; a picture that is not one digit is
    skipped with a line that says why."""
    if not folder.is_dir():
        raise common.UserError(f"{predict.printable(folder)} is not a folder: give the folder that draw.py "
                               "--collect filled")
    names = {common.class_folder(name).casefold(): c for c, name in enumerate(reader.classes)}
    pixels, labels = [], []
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if sub.name.casefold() not in names:
            expected = ", ".join(common.class_folder(name) for name in reader.classes)
            raise common.UserError(f"{predict.printable(sub)} is not a class of this model: the folders must be "
                                   f"named {expected}")
        for file in predict.image_files([str(sub)])[:MAX_EXAMPLES - len(labels)]:
            try:
                found = reader.prepare(images.read_image(file))
            except images.ImageError as error:
                print(f"skipped {predict.printable(file)}: {error}")
                continue
            if len(found.items) != 1:
                print(f"skipped {predict.printable(file)}: {len(found.items)} digits found in it, not one")
                continue
            pixels.append(found.items[0].pixels)
            labels.append(names[sub.name.casefold()])
    if not labels:
        where = predict.printable(folder)
        raise common.UserError(f"no examples in {where}: put your pictures in {where}/0, {where}/1, ...")
    labels = torch.tensor(labels)
    counts = torch.bincount(labels, minlength=len(reader.classes))
    few = [reader.classes[c] for c in range(len(counts)) if 0 < counts[c] < MIN_EXAMPLES]
    if few:
        raise common.UserError(f"too few examples of {', '.join(few)}: at least {MIN_EXAMPLES} of each class "
                               f"you give, so that one can be kept aside to measure")
    return torch.stack(pixels), labels


def split_aside(labels: Tensor, seed: int) -> tuple[Tensor, Tensor]:
    """Indices to train on and to keep aside: one in HELD_OUT of each class, chosen at random, at
    least one of each."""
    generator = torch.Generator().manual_seed(seed)
    train, aside = [], []
    for c in labels.unique().tolist():
        index = (labels == c).nonzero()[:, 0]
        index = index[torch.randperm(len(index), generator=generator)]
        kept = max(1, len(index) // HELD_OUT)
        aside.append(index[:kept])
        train.append(index[kept:])
    return torch.cat(train), torch.cat(aside)


def mixed_batches(yours_x: Tensor, yours_y: Tensor, data: common.Data, mnist_share: float):
    """One pass over your examples, in batches of YOURS_PER_BATCH, each with MNIST's training
    digits added so that they make `mnist_share` of the batch."""
    order = torch.randperm(len(yours_x), device=yours_x.device)
    for batch in order.split(YOURS_PER_BATCH):
        theirs = torch.randint(len(data.train_x), (round(len(batch) * mnist_share / (1 - mnist_share)),),
                               device=yours_x.device)
        yield torch.cat([yours_x[batch], data.train_x[theirs]]), torch.cat([yours_y[batch], data.train_y[theirs]])


def measure(model: torch.nn.Module, x: Tensor, y: Tensor, data: common.Data, threshold: float | None,
            ) -> tuple[float, float]:
    """The share (%) of your kept-aside examples `x` read as their labels `y` (above the "not a
    digit" bar, as predict.py would), and the accuracy (%) on the test split of `data`."""
    best = common.predict_logits(model, x).softmax(1).max(1)
    yours = 100 * ((best.indices == y) & (best.values >= (threshold or 0.0))).float().mean().item()
    return yours, common.loss_and_accuracy(common.predict_logits(model, data.test_x), data.test_y)[1]


def table(aside: int, test_name: str, before: tuple[float, float], after: tuple[float, float]) -> str:
    """The two measures, before and after fine-tuning, as three aligned lines."""
    rows = [("", "before", "after"), (f"your {aside} kept-aside examples", f"{before[0]:.1f}%", f"{after[0]:.1f}%"),
            (test_name, f"{before[1]:.2f}%", f"{after[1]:.2f}%")]
    return "\n".join(f"{name:36} {then:>7} {now:>7}" for name, then, now in rows)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    files.check_writable(args.out)
    files.check_not_clobbering([args.out], args.force)
    common.seed_everything(args.seed)
    device = common.pick_device(args.device)

    # The model to start from, and your examples, prepared as predict.py prepares pictures.
    reader = predict.load_reader(args.checkpoint)
    checkpoint = reader.checkpoint
    pixels, labels = read_examples(args.folder, reader)
    learn, aside = split_aside(labels, args.seed)
    print(f"{len(labels)} examples of {len(labels.unique())} classes in {predict.printable(args.folder)}: "
          f"{len(learn)} to learn from, {len(aside)} kept aside to measure")
    x, y = common.normalise(pixels, reader.mean, reader.std).to(device), labels.to(device)
    data = common.load_data(checkpoint["dataset"], args.data_dir, device=device)
    model, digits = reader.model.to(device), checkpoint["dataset"] == "mnist"
    before = measure(model, x[aside], y[aside], data, reader.threshold)

    # Fine-tuning: a short one-cycle schedule, gentle at its start and end, over your examples
    # mixed with MNIST's digits, all of them moved about a little; and for digits, non-digits in
    # every batch as in training, so that "not a digit" still works afterwards.
    optimizer, scheduler = training.adamw_one_cycle(model, args.lr, args.epochs, -(-len(learn) // YOURS_PER_BATCH))
    outliers = training.nondigit_images(1000, args.seed, data, args.data_dir) if digits else None
    recipe = training.Recipe(optimizer, args.epochs, YOURS_PER_BATCH, scheduler, augment.augmentation(
        checkpoint["dataset"]), label_smoothing=0.1, outliers=outliers)
    for _ in range(args.epochs):
        training.train_epoch(model, recipe, mixed_batches(x[learn], y[learn], data, args.mnist_share))

    # After: the "not a digit" bar set again on MNIST's validation digits, then the same two measures.
    threshold = training.calibrate(common.predict_logits(model, data.val_x)) if digits else None
    after = measure(model, x[aside], y[aside], data, threshold)
    print(table(len(aside), f"{checkpoint['dataset']} test images ({len(data.test_y):,})", before, after))
    checkpoint |= {"state_dict": {k: v.cpu() for k, v in model.state_dict().items()}, "threshold": threshold,
                   "test_accuracy": after[1],
                   "args": checkpoint["args"] | {"finetuned_on": str(args.folder), "finetune_epochs": args.epochs}}
    files.save_checkpoint(checkpoint, args.out)
    print(f"saved {args.out}: try it with  python draw.py --checkpoint {args.out}")


if __name__ == "__main__":
    common.run(main)
