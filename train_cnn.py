"""Train a small convolutional network on MNIST: about 99.5% test accuracy in 10 epochs, on a CPU.

Read this file to learn what makes a convolutional network work on images, and a training recipe
that gets the most out of ten epochs: batch normalisation, dropout, a one-cycle learning-rate
schedule, label smoothing, on-the-fly augmentation, non-digits that teach it to say "not sure",
and mixed precision; and, in the comments on the model, what makes it fast on a CPU (the
measurements are in docs/speed.md). What it shares with train_mlp.py is in common.py (data,
checkpoints) and training.py (one epoch, the "not a digit" bar, the bookkeeping of a run).

    python train_cnn.py --epochs 10
    python train_cnn.py --epochs 10 --dataset fashion-mnist   # clothes: about 93.4%
"""

import argparse

import torch
import torch.nn.functional as F
from torch import nn

import augment
import common
import resume
import training
import writers


class CNN(nn.Module):
    """Three convolutions that find strokes and shapes anywhere in the image, then a classifier."""

    def __init__(self, num_classes: int = 10):
        super().__init__()
        # 16 filters of 3x3 pixels each look for one small pattern (an edge, a corner, a curve) at
        # every position; padding by one pixel keeps the 28x28 size, and pooling then halves it.
        self.conv1 = nn.Conv2d(1, 16, kernel_size=3, padding=1, bias=False)  # no bias: batch norm adds its own
        self.bn1 = nn.BatchNorm2d(16)
        # 48 filters combine those patterns into larger shapes: 14x14, pooled to 7x7. Padding keeps
        # the edges in play; without it, an earlier network scored a point lower on Fashion-MNIST.
        self.conv2 = nn.Conv2d(16, 48, kernel_size=3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(48)
        # 64 filters on the 7x7 map, where a convolution is cheap, each see most of the digit at once.
        self.conv3 = nn.Conv2d(48, 64, kernel_size=3, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(64)
        # The classifier: 512 hidden units weigh everything the filters found, everywhere (half as
        # many train a little faster and score a little lower: docs/speed.md).
        self.fc1 = nn.Linear(7 * 7 * 64, 512)
        self.fc2 = nn.Linear(512, num_classes)
        # Dropout silences random units while training, so no unit can rely on any other one. It acts
        # on the 512 hidden units only: a random mask for the 3,136 features before them would cost
        # six times as many random numbers per batch.
        self.dropout = nn.Dropout(0.25)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: [N, 1, 28, 28]
        # With one channel, the two memory layouts (see new_model) are the same, so PyTorch cannot
        # tell which one we want and returns this output channel by channel: ask for channels-last,
        # the layout in which the CPU's pooling and the next convolution are fast.
        x = self.conv1(x).contiguous(memory_format=torch.channels_last)
        # Pooling before batch norm and ReLU lets them work on a quarter of the values. The textbook
        # order is convolution, batch norm, ReLU, pooling. Moving ReLU after the pooling changes
        # nothing (both keep the largest value); moving batch norm does change the network, since a
        # negative scale would turn a maximum into a minimum, but the network learns as well this way.
        x = F.relu(self.bn1(F.max_pool2d(x, 2)))                 # [N, 16, 14, 14]
        x = F.relu(self.bn2(F.max_pool2d(self.conv2(x), 2)))     # [N, 48, 7, 7]
        x = F.relu(self.bn3(self.conv3(x)))                      # [N, 64, 7, 7]
        # Flatten each image's 7x7x64 values into one vector for the classifier, position by position:
        # in the channels-last layout the 64 values of a position lie side by side, so this order is
        # a free view, where the usual channel-by-channel order would first copy them all.
        x = x.permute(0, 2, 3, 1).flatten(1)                     # [N, 3136]
        x = self.dropout(F.relu(self.fc1(x)))                    # [N, 512]
        return self.fc2(x)                                       # [N, 10] logits, one score per class


def new_model(num_classes: int, device: torch.device) -> CNN:
    # The channels-last memory layout stores the values of all channels at one position side by
    # side, instead of one channel's whole map after another. CPU and GPU convolution libraries
    # have their fastest kernels for it; the function computed is the same.
    return CNN(num_classes).to(device, memory_format=torch.channels_last)


DEFAULTS = dict(epochs=10, batch_size=128, lr=5e-3)  # the recipe's options, as --help shows them


def recipe(model: nn.Module, data: common.Data, args: argparse.Namespace) -> training.Recipe:
    """How this network is trained: optimiser, schedule, augmentation, label smoothing, non-digits."""
    steps_per_epoch = -(-len(data.train_x) // args.batch_size)  # ceiling division
    # AdamW and a one-cycle schedule (see training.py), its step fused into one pass over the weights.
    optimizer, scheduler = training.adamw_one_cycle(model, args.lr, args.epochs, steps_per_epoch, fused=True)
    # Each batch is freshly moved a little (see augment.py), so the network never sees the same image
    # twice and learns the digit, not its exact pixels.
    moves = augment.augmentation(args.dataset)
    # Digits only: drawn letters, symbols and scribbles, which the network learns to answer with "no
    # idea" (every class equally likely), so that predict.py can say "not a digit" (see nondigits.py).
    outliers = training.nondigit_images(5000, args.seed, data, args.data_dir) if args.dataset == "mnist" else None
    # Label smoothing trains towards 90% on the right class (the rest spread over the others) instead
    # of 100%, so the network stops pushing its logits ever further apart on images it already knows.
    # Mixed precision where the processor computes bfloat16 fast (see common.bf16_pays), or as asked.
    bf16 = args.precision == "bf16" or args.precision == "auto" and common.bf16_pays(data.train_x.device)
    return training.Recipe(optimizer, args.epochs, args.batch_size, scheduler, moves, label_smoothing=0.1,
                           outliers=outliers, mixed_precision=bf16)


def main(argv: list[str] | None = None) -> None:
    parser = training.make_parser(__doc__.splitlines()[0], **DEFAULTS)
    args, resumed = resume.parse_args(parser, argv, "cnn")
    device = common.pick_device(args.device)
    common.seed_everything(args.seed)
    data = common.load_data(args.dataset, args.data_dir, args.val_size, device, args.limit)
    # Digits only, besides MNIST's: digits cut out of touching ones, as predict.py cuts numbers
    # (nondigits.py), and a 1 or a 7 as many writers outside MNIST's write them (writers.py) for every
    # 60 digits: enough to read those, too few to read MNIST's short-barred 7s as 1s.
    if args.dataset == "mnist":
        data = training.with_cut_digits(data, args.seed, args.data_dir)
        data = training.with_drawn(data, writers.kept_styled(len(data.train_x) // 60, args.seed, args.data_dir))
    model = new_model(len(data.classes), device)
    run = training.Run("cnn", model, data, recipe(model, data, args), args, resumed)  # prints what it trains

    # The run: one epoch of training, then validation, its line printed and the run so far saved.
    with run.interruptible():  # Ctrl-C: one line that says how to continue with --resume
        for epoch in run.epochs():
            train_loss, train_acc = training.train_epoch(model, run.recipe, run.batches(), run.progress())
            val_logits = common.predict_logits(model, data.val_x)
            run.end_epoch(epoch, train_loss, train_acc, val_logits)
    run.finish()  # tests once, sets the "not a digit" bar, saves the checkpoint and the report


if __name__ == "__main__":
    common.run(main)
