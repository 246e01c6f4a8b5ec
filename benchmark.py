"""Measure speed: the trainers' data path against the classic DataLoader pipeline, and predict.py.

Read this file to see why the trainers decode the dataset once into a tensor: the classic pipeline
(torchvision's ToTensor + Normalize on one PIL image at a time, collated by a DataLoader) spends
more time preparing batches than a small model spends learning from them.

    python benchmark.py --data-dir data

It prints, side by side from one run: the seconds one epoch of batches takes to produce, and the
seconds per training epoch of each model with either data path (same model, optimiser, batch size
and batched augmentation; only the source of the batches differs). Then predict.py's images per
second on a folder of 1,000 drawings, and the wall time of a one-image run next to `import torch`.
"""

import argparse
import functools
import itertools
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader
from PIL import Image
from torchvision import transforms

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
    full = common.dataset_class(args.dataset)(args.data_dir, train=True, transform=transform)
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


def timed(function, *args) -> float:
    """Seconds that function(*args) takes."""
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start


def train_on(batches, model, optimizer, augment) -> None:
    """One epoch of the trainers' inner loop, fed by any iterable of (images, labels)."""
    model.train()
    for x, y in batches:
        loss = torch.nn.functional.cross_entropy(model(augment(x)), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()


def run_seconds(*command: str) -> float:
    """Wall time of a command, as a user waits for it; the fastest of three runs, to skip disk caches."""
    times = []
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return min(times)


def benchmark_predict(args: argparse.Namespace) -> None:
    """predict.py as users run it: a folder of 1,000 drawn digits, and a single image."""
    digits = common.dataset_class(args.dataset)(args.data_dir, train=False).data[:1000]
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        checkpoint = Path(args.checkpoint)
        if not checkpoint.exists():  # speed does not depend on the weights: an untrained model will do
            checkpoint = folder / "untrained.pt"
            common.save_checkpoint({"model": "cnn", "state_dict": train_cnn.CNN().state_dict(), "mean": 0.1307,
                                    "std": 0.3081, "classes": [str(d) for d in range(10)], "dataset": "mnist"},
                                   checkpoint)
        images = folder / "images"
        images.mkdir()
        for i, digit in enumerate(digits):  # dark ink on white paper, 280x280, as a paint program saves it
            Image.fromarray(255 - digit.numpy()).resize((280, 280), Image.BICUBIC).save(images / f"{i:04}.png")
        predict = [sys.executable, "predict.py", "--checkpoint", str(checkpoint)]
        folder_seconds = run_seconds(*predict, str(images))
        one_seconds = run_seconds(*predict, str(images / "0000.png"))
        torch_seconds = run_seconds(sys.executable, "-c", "import torch")
    print(f"predict.py on a folder of 1,000 280x280 PNG drawings: {folder_seconds:.1f}s, "
          f"{1000 / folder_seconds:.0f} images per second (including start-up)")
    print(f"predict.py on one image: {one_seconds:.2f}s; python -c 'import torch' alone: {torch_seconds:.2f}s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--dataset", choices=sorted(common.DATASETS), default="mnist")
    parser.add_argument("--data-dir", default="data", help="where the dataset is, or is downloaded to")
    parser.add_argument("--val-size", type=common.validation_size, default=5000)
    parser.add_argument("--workers", type=int, default=0,
                        help="DataLoader worker processes for the classic pipeline (pytorch/examples uses 0 on CPU)")
    parser.add_argument("--models", nargs="*", choices=sorted(RECIPES), default=["mlp", "cnn"],
                        help="models whose training epochs to time (none: skip)")
    parser.add_argument("--checkpoint", default="checkpoints/cnn.pt", help="checkpoint for predict.py")
    parser.add_argument("--skip-predict", action="store_true", help="do not time predict.py")
    args = parser.parse_args()

    torch.manual_seed(0)
    data = common.load_data(args.dataset, args.data_dir, args.val_size)
    print(f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, "
          f"torch {torch.__version__}, CPU; {len(data.train_x):,} training images per epoch")
    print(f"{'':28}{'fast path':>12}{'classic':>12}{'speed-up':>10}")

    def row(label: str, fast: float, classic: float) -> None:
        print(f"{label:28}{fast:11.2f}s{classic:11.2f}s{classic / fast:9.1f}x", flush=True)

    # 1. The data path alone: produce every batch of one epoch and do nothing with it.
    # The fast path takes a fraction of a second, so the fastest of three runs filters out noise.
    fast = min(timed(list, fast_batches(data, 128)) for _ in range(3))
    classic = timed(list, classic_loader(args, data, 128))
    row("data only, batch 128", fast, classic)

    # 2. A real training epoch of each model, fed by each path. Both start from the same weights.
    for name in args.models:
        model_class, batch_size, lr, strength = RECIPES[name]
        augment = functools.partial(common.random_affine, **strength)
        times = []
        for classic in (False, True):
            torch.manual_seed(0)
            model = model_class()
            if name == "cnn":  # as train_cnn.py does, for faster convolutions
                model = model.to(memory_format=torch.channels_last)
            optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-2)
            # Warm-up: the first batches pay one-off set-up costs that are not part of an epoch.
            train_on(itertools.islice(fast_batches(data, batch_size), 20), model, optimizer, augment)
            batches = classic_loader(args, data, batch_size) if classic else fast_batches(data, batch_size)
            times.append(timed(train_on, batches, model, optimizer, augment))
        row(f"{name} training epoch, batch {batch_size}", *times)

    # 3. predict.py, start to finish.
    if not args.skip_predict:
        benchmark_predict(args)


if __name__ == "__main__":
    common.run(main)
