"""Measure training speed: this project's tensor data path against the classic DataLoader pipeline.

Read this file to see why the trainers decode the dataset once into a tensor: the classic pipeline
(torchvision's ToTensor + Normalize on one PIL image at a time, collated by a DataLoader) spends
more time preparing batches than a small model spends learning from them.

    python benchmark.py --data-dir data

It prints, side by side from one run: the seconds one epoch of batches takes to produce, and the
seconds per training epoch of each model with either data path (same model, optimiser, schedule,
batch size and batched augmentation; only the source of the batches differs).
"""

import argparse
import functools
import itertools
import platform
import time

import torch
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

import common
import train_cnn
import train_mlp

RECIPES = {  # the trainers' default batch size, learning rate and augmentation
    "mlp": (train_mlp.MLP, 256, 3e-3, dict(degrees=8, shift=1.5, scale=0.08)),
    "cnn": (train_cnn.CNN, 128, 5e-3, dict(degrees=10, shift=2, scale=0.1)),
}


def classic_loader(args: argparse.Namespace, data: common.Data, batch_size: int) -> DataLoader:
    """The training split as pytorch/examples feeds it: PIL image -> ToTensor -> Normalize, one at a time."""
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((data.mean,), (data.std,))])
    full = common.DATASETS[args.dataset](args.data_dir, train=True, transform=transform)
    # The same 55,000 images the fast path trains on (the same fixed split as common.load_data).
    order = torch.randperm(common.TRAIN_SIZE, generator=torch.Generator().manual_seed(0))
    subset = torch.utils.data.Subset(full, order[args.val_size:].tolist())
    return DataLoader(subset, batch_size=batch_size, shuffle=True, num_workers=args.workers)


def fast_batches(data: common.Data, batch_size: int):
    """The trainers' data path: one shuffle, then batches by indexing the decoded tensor."""
    order = torch.randperm(len(data.train_x))
    for start in range(0, len(order), batch_size):
        batch = order[start:start + batch_size]
        yield data.train_x[batch], data.train_y[batch]


def timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def train_on(batches, model, optimizer, augment) -> None:
    """One epoch of the trainers' inner loop, fed by any iterable of (images, labels)."""
    model.train()
    for x, y in batches:
        loss = torch.nn.functional.cross_entropy(model(augment(x)), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--dataset", choices=sorted(common.DATASETS), default="mnist")
    parser.add_argument("--data-dir", default="data", help="where the dataset is, or is downloaded to")
    parser.add_argument("--val-size", type=common.validation_size, default=5000)
    parser.add_argument("--workers", type=int, default=0,
                        help="DataLoader worker processes for the classic pipeline (pytorch/examples uses 0 on CPU)")
    parser.add_argument("--models", nargs="+", choices=sorted(RECIPES), default=["mlp", "cnn"])
    args = parser.parse_args()

    torch.manual_seed(0)
    data = common.load_data(args.dataset, args.data_dir, args.val_size)
    print(f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, "
          f"torch {torch.__version__}, CPU; {len(data.train_x):,} training images per epoch")
    print(f"{'':28}{'fast path':>12}{'classic':>12}{'speed-up':>10}")

    def row(label: str, fast: float, classic: float) -> None:
        print(f"{label:28}{fast:11.2f}s{classic:11.2f}s{classic / fast:9.1f}x", flush=True)

    # 1. The data path alone: produce every batch of one epoch and do nothing with it.
    fast = timed(lambda: [None for _ in fast_batches(data, 128)])
    classic = timed(lambda: [None for _ in classic_loader(args, data, 128)])
    row("data only, batch 128", fast, classic)

    # 2. A real training epoch of each model, fed by each path. Both start from the same weights.
    for name in args.models:
        model_class, batch_size, lr, strength = RECIPES[name]
        augment = functools.partial(common.random_affine, **strength)
        times = []
        for batches in (lambda: fast_batches(data, batch_size), lambda: classic_loader(args, data, batch_size)):
            torch.manual_seed(0)
            model = model_class()
            optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-2)
            # Warm-up: the first batches pay one-off set-up costs that are not part of an epoch.
            train_on(itertools.islice(fast_batches(data, batch_size), 20), model, optimizer, augment)
            times.append(timed(lambda: train_on(batches(), model, optimizer, augment)))
        row(f"{name} training epoch, batch {batch_size}", *times)


if __name__ == "__main__":
    common.run(main)
