"""Train a fully connected network (no convolutions) on MNIST: about 99.0% test accuracy in 15 epochs.

Read this file to learn the simplest neural network that classifies images well: each image is
flattened into 784 numbers and passed through two hidden layers. What it shares with train_cnn.py
is in common.py (data, checkpoints) and training.py (the epoch loop, the "not a digit" bar, the run).

    python train_mlp.py
    python train_mlp.py --dataset fashion-mnist   # clothes: about 90.4%
"""

import argparse
import functools

import torch
from torch import nn

import augment
import common
import resume
import training


class MLP(nn.Module):
    """784 pixels -> 512 -> 512 -> 10 class scores, with a ReLU after each hidden layer."""

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Flatten(),            # [N, 1, 28, 28] -> [N, 784]: the layout of the pixels is thrown away
            nn.Linear(28 * 28, 512),
            nn.ReLU(),
            nn.Linear(512, 512),
            nn.ReLU(),
            nn.Linear(512, num_classes),  # logits: one score per class, softmax comes with the loss
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


def new_model(num_classes: int, device: torch.device) -> MLP:
    return MLP(num_classes).to(device)


DEFAULTS = dict(epochs=15, batch_size=256, lr=3e-3)  # the recipe's options, as --help shows them


def recipe(model: nn.Module, data: common.Data, args: argparse.Namespace) -> training.Recipe:
    """How this network is trained: optimiser, schedule, augmentation, label smoothing, non-digits."""
    steps_per_epoch = -(-len(data.train_x) // args.batch_size)  # ceiling division
    # AdamW and a one-cycle schedule: see training.py.
    optimizer, scheduler = training.adamw_one_cycle(model, args.lr, args.epochs, steps_per_epoch, fused=False)
    if args.dataset == "mnist":
        # A fully connected network has no notion of "the same stroke, one pixel to the left", so small
        # random shifts and rotations of every batch teach it that, and it overfits far less.
        moves = functools.partial(augment.random_affine, degrees=8, shift=1.5, scale=0.08)
        label_smoothing = 0.0
        # Drawn letters, symbols and scribbles, which the network learns to answer with "no idea"
        # (every class equally likely), so that predict.py can say "not a digit" (see nondigits.py).
        outliers = training.nondigit_images(5000, args.seed, data, args.data_dir)
    else:
        # Clothes come centred and upright, and moving or mirroring them did not help this network in
        # our trials. What did: label smoothing (see train_cnn.py), against its memorising the images.
        moves, label_smoothing, outliers = None, 0.1, None
    # --precision auto keeps float32, in which this recipe was tuned; bf16 may be asked for.
    return training.Recipe(optimizer, args.epochs, args.batch_size, scheduler, moves, label_smoothing, outliers,
                           mixed_precision=args.precision == "bf16")


def main(argv: list[str] | None = None) -> None:
    parser = training.make_parser(__doc__.splitlines()[0], **DEFAULTS)
    args, resumed = resume.parse_args(parser, argv, "mlp")
    device = common.pick_device(args.device)
    common.seed_everything(args.seed)
    data = common.load_data(args.dataset, args.data_dir, args.val_size, device, args.limit)
    model = new_model(len(data.classes), device)
    run = training.Run("mlp", model, data, recipe(model, data, args), args, resumed)  # prints what it trains

    # The run: one epoch of training, then validation, its line printed and the run so far saved.
    with run.interruptible():  # Ctrl-C: one line that says how to continue with --resume
        for epoch in run.epochs():
            train_loss, train_acc = training.train_epoch(model, run.recipe, run.batches(), run.progress())
            val_logits = common.predict_logits(model, data.val_x)
            run.end_epoch(epoch, train_loss, train_acc, val_logits)
    run.finish()  # tests once, sets the "not a digit" bar, saves the checkpoint and the report


if __name__ == "__main__":
    common.run(main)
