"""Measure speed: the trainers' data path against the classic DataLoader pipeline, and predict.py.

Read this file to see why the trainers decode the dataset once into a tensor: the classic pipeline
(torchvision's ToTensor + Normalize on one PIL image at a time, collated by a DataLoader) spends
more time preparing batches than a small model spends learning from them.

    python benchmark.py --data-dir data

It prints, side by side from one run: the seconds one epoch of batches takes to produce, and the
seconds per training epoch of each model with either data path (the trainer's own model and recipe;
only the source of the batches differs). Then predict.py's images per second on a folder of 1,000
drawings, the wall time of a one-image run next to `import torch`, how long draw.py's server
takes to read one drawing, and how long the hardest pictures take (a number on squared paper, and
the worst cases we know of: thousands of specks, noise).

    python benchmark.py --data-dir data --against ../earlier

compares this version's `train_cnn.py --epochs 1` with another copy of the project (for example an
earlier commit: `git worktree add ../earlier COMMIT`), the two run in turn on the same machine,
epoch and whole command; this version's first run may draw its pictures, which the runs after
read (nondigits.kept). `--limit 8000` trains both on fewer images, for a quick look first.
"""

import argparse
import itertools
import platform
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Subset
from PIL import Image, ImageDraw
from torchvision import datasets, transforms

import common
import files
import images
import predict as predict_module
import train_cnn
import train_mlp
import training

TRAINERS = {"mlp": train_mlp, "cnn": train_cnn}  # each has its model, its recipe and its defaults


def classic_loader(args: argparse.Namespace, data: common.Data, batch_size: int) -> DataLoader:
    """The training split as pytorch/examples feeds it: PIL image -> ToTensor -> Normalize, one at a time."""
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((data.mean,), (data.std,))])
    full = getattr(datasets, common.DATASETS[args.dataset])(args.data_dir, train=True, transform=transform)
    train_idx, _ = common.split(args.val_size)  # the same images the trainers train on
    return DataLoader(Subset(full, train_idx.tolist()), batch_size=batch_size, shuffle=True,
                      num_workers=args.workers)


def timed(function, *args) -> float:
    """Seconds that function(*args) takes."""
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start


def failure(what: str, result: subprocess.CompletedProcess) -> common.UserError:
    """One line saying that a command we ran failed, and the last line it wrote on stderr (its reason)."""
    lines = result.stderr.strip().splitlines() or [f"exit code {result.returncode}, no message"]
    return common.UserError(f"{what} failed: {lines[-1].removeprefix('error: ')}")


def run_seconds(*command: str) -> float:
    """Wall time of a command, as a user waits for it; the fastest of three runs, to skip disk caches."""
    times = []
    for _ in range(3):
        start = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:  # such as a checkpoint from an older version of the model
            raise failure(Path(command[1]).name, result)
        times.append(time.perf_counter() - start)
    return min(times)


def benchmark_predict(args: argparse.Namespace) -> None:
    """predict.py as users run it: a folder of 1,000 drawn digits, and a single image."""
    digits = common.read_dataset(args.dataset, args.data_dir, train=False)[0][:1000]
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        checkpoint = Path(args.checkpoint)
        if not checkpoint.exists():  # speed does not depend on the weights: an untrained model will do
            checkpoint = folder / "untrained.pt"
            files.save_checkpoint({"model": "cnn", "state_dict": train_cnn.CNN().state_dict(), "mean": 0.1307,
                                    "std": 0.3081, "classes": [str(d) for d in range(10)], "dataset": "mnist"},
                                   checkpoint)
        images = folder / "images"
        images.mkdir()
        for i, digit in enumerate(digits):  # dark ink on white paper, 280x280, as a paint program saves it
            drawing = Image.fromarray(255 - digit.numpy()).resize((280, 280), Image.Resampling.BICUBIC)
            drawing.save(images / f"{i:04}.png")
        predict = [sys.executable, "predict.py", "--checkpoint", str(checkpoint)]
        folder_seconds = run_seconds(*predict, str(images))
        one_seconds = run_seconds(*predict, str(images / "0000.png"))
        torch_seconds = run_seconds(sys.executable, "-c", "import torch")
        draw_ms = draw_milliseconds(checkpoint, [(images / f"{i:04}.png").read_bytes() for i in range(100)])
        hard_ms = {name: reading_milliseconds(checkpoint, picture) for name, picture in hard_pictures(digits).items()}
    print(f"predict.py on a folder of 1,000 280x280 PNG drawings: {folder_seconds:.1f}s, "
          f"{1000 / folder_seconds:.0f} images per second (including start-up)")
    print(f"predict.py on one image: {one_seconds:.2f}s; python -c 'import torch' alone: {torch_seconds:.2f}s")
    print(f"draw.py, one 280x280 drawing from request to answer: median {draw_ms[0]:.1f} ms, "
          f"slowest of 100 {draw_ms[1]:.1f} ms")
    for name, milliseconds in hard_ms.items():
        print(f"reading {name}: median of 10 {milliseconds:.0f} ms")


def hard_pictures(digits: torch.Tensor) -> dict[str, Image.Image]:
    """Pictures that cost predict.py the most: a number on squared paper, and the worst cases we know."""
    notebook = Image.new("RGB", (640, 360), (245, 245, 240))
    draw = ImageDraw.Draw(notebook)
    for v in range(0, 640, 36):  # a squared page with thin light-blue lines
        draw.line((v, 0, v, 360), fill=(150, 180, 230))
        draw.line((0, v, 640, v), fill=(150, 180, 230))
    for i, digit in enumerate(digits[:5]):  # a five-digit number written across the lines
        ink = Image.fromarray(digit.numpy()).resize((90, 90), Image.Resampling.BICUBIC)
        notebook.paste((30, 40, 110), (70 + 100 * i, 130), ink)
    dots = Image.new("L", (512, 512), 255)
    dots_draw = ImageDraw.Draw(dots)
    # 7,000 specks of 2x2 pixels: the most parts a picture can make (specks of one pixel each are
    # taken for a 1-bit scan's dots and averaged away: images.undithered)
    for y in range(0, 512, 6):
        for x in range(0, 512, 6):
            dots_draw.rectangle((x, y, x + 1, y + 1), fill=0)
    noise = Image.fromarray(torch.randint(0, 256, (512, 512), dtype=torch.uint8, generator=torch.Generator()
                                          .manual_seed(0)).numpy())
    rings = Image.new("L", (512, 512), 255)
    rings_draw = ImageDraw.Draw(rings)
    for x in range(20, 432, 48):  # rings run together: the longest search for cuts we know
        rings_draw.ellipse((x, 226, x + 60, 286), outline=0, width=5)
    return {"a 5-digit number on squared paper (640x360)": notebook, "a dot every 6 pixels (512x512)": dots,
            "noise (512x512)": noise, "a row of 9 rings run together (512x512)": rings}


def reading_milliseconds(checkpoint: Path, picture: Image.Image) -> float:
    """How long predict.py's reader takes for one picture, from decoded image to its reading."""
    reader = predict_module.load_reader(checkpoint)
    times = []
    for _ in range(10):
        start = time.perf_counter()
        try:
            found = reader.prepare(picture)
            predict_module.read(reader, "picture", found, predict_module.probabilities(reader, found.items))
        except images.ImageError:  # "no digit found" is an answer too
            pass
        times.append(1000 * (time.perf_counter() - start))
    return sorted(times)[len(times) // 2]


def draw_milliseconds(checkpoint: Path, drawings: list[bytes]) -> tuple[float, float]:
    """Median and slowest time for draw.py's server to answer POST /predict, as the page sends it."""
    server = subprocess.Popen([sys.executable, "draw.py", "--checkpoint", str(checkpoint), "--port", "0"],
                              stdout=subprocess.PIPE, text=True)
    try:
        url = server.stdout.readline().split()[1] + "/predict"  # "open http://127.0.0.1:PORT in ..."
        times = []
        for body in drawings[:5] + drawings:  # the first few warm the server up
            start = time.perf_counter()
            with urllib.request.urlopen(urllib.request.Request(url, data=body, method="POST")) as answer:
                answer.read()
            times.append(1000 * (time.perf_counter() - start))
        times = sorted(times[5:])
        return times[len(times) // 2], times[-1]
    finally:
        server.terminate()
        server.wait()


def benchmark_against(args: argparse.Namespace) -> None:
    """`train_cnn.py --epochs 1` here and in another copy of this project, in turn, `args.rounds` times.

    The way to compare two versions fairly on a machine whose speed drifts: alternate them, and
    compare what each run prints about its own epoch, next to the time the user waits.
    """
    other, here = Path(args.against).resolve(), Path(__file__).resolve().parent
    if not (other / "train_cnn.py").is_file():
        raise common.UserError(f"{args.against} holds no train_cnn.py: give a copy of this project")
    data_dir = str(Path(args.data_dir).resolve())
    runs = {here: [], other: []}
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(args.rounds):
            for where in (other, here):
                command = [sys.executable, "train_cnn.py", "--epochs", "1", "--data-dir", data_dir,
                           "--out", str(Path(folder) / "cnn.pt"), "--no-samples", "--no-mistakes"]
                command += ["--limit", str(args.limit)] if args.limit else []
                start = time.perf_counter()
                result = subprocess.run(command, cwd=where, capture_output=True, text=True)
                total = time.perf_counter() - start
                epoch = re.search(r"^epoch 1/1 .*?([\d.]+)s$", result.stdout, re.MULTILINE)
                accuracy = re.search(r"^test loss \S+ acc ([\d.]+)%", result.stdout, re.MULTILINE)
                if result.returncode or not (epoch and accuracy):
                    raise failure(f"train_cnn.py in {where}", result)
                runs[where].append((float(epoch[1]), total, float(accuracy[1])))
    print(f"python train_cnn.py --epochs 1, in turn {args.rounds} times: epoch seconds (training and "
          "validation), seconds the whole command took, test accuracy")
    for where, results in runs.items():
        epochs, totals, accuracies = zip(*results)
        print(f"  {'this copy' if where == here else str(where):28} epoch {', '.join(f'{t:.1f}' for t in epochs)}"
              f"   total {', '.join(f'{t:.1f}' for t in totals)}   {accuracies[0]:.2f}%")
    median = lambda values: sorted(values)[len(values) // 2]  # noqa: E731
    ratios = [median([r[i] for r in runs[here]]) / median([r[i] for r in runs[other]]) for i in (0, 1)]
    print(f"  this copy's epoch takes {ratios[0]:.2f} times as long, the whole command {ratios[1]:.2f} times (medians)")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--dataset", choices=sorted(common.DATASETS), default="mnist")
    parser.add_argument("--data-dir", default="data", help="where the dataset is, or is downloaded to")
    parser.add_argument("--val-size", type=common.validation_size, default=5000)
    parser.add_argument("--workers", type=int, default=0,
                        help="DataLoader worker processes for the classic pipeline (pytorch/examples uses 0 on CPU)")
    parser.add_argument("--models", nargs="*", choices=sorted(TRAINERS), default=["mlp", "cnn"],
                        help="models whose training epochs to time (none: skip)")
    parser.add_argument("--checkpoint", default="checkpoints/cnn.pt", help="checkpoint for predict.py")
    parser.add_argument("--skip-predict", action="store_true", help="do not time predict.py")
    parser.add_argument("--against", metavar="DIR",
                        help="only compare train_cnn.py --epochs 1 with the copy of this project in DIR, "
                             "such as an earlier commit checked out with git worktree")
    parser.add_argument("--rounds", type=common.positive_int, default=3, help="runs of each copy for --against")
    parser.add_argument("--limit", type=common.positive_int,
                        help="with --against: both copies train on this many training images only, for a quick look")
    return parser.parse_args()


def row(label: str, fast: float, classic: float) -> None:
    print(f"{label:28}{fast:11.2f}s{classic:11.2f}s{classic / fast:9.1f}x", flush=True)


def benchmark_epochs(args: argparse.Namespace, data: common.Data) -> None:
    """A real training epoch of each model, with its trainer's own recipe (non-digits included), fed
    by each path: training.train_epoch() either way, from the same weights."""
    for name in args.models:
        trainer = TRAINERS[name]
        options = training.make_parser("", **trainer.DEFAULTS).parse_args(["--dataset", args.dataset])
        times = []
        for classic in (False, True):
            torch.manual_seed(0)
            model = trainer.new_model(len(data.classes), torch.device("cpu"))
            recipe = trainer.recipe(model, data, options)
            # Warm-up: the first batches pay one-off set-up costs that are not part of an epoch.
            training.train_epoch(model, recipe, itertools.islice(
                training.shuffled_batches(data.train_x, data.train_y, recipe.batch_size), 20))
            batches = classic_loader(args, data, recipe.batch_size) if classic else \
                training.shuffled_batches(data.train_x, data.train_y, recipe.batch_size)
            times.append(timed(training.train_epoch, model, recipe, batches))
        row(f"{name} training epoch, batch {recipe.batch_size}", *times)


def main() -> None:
    args = parse_args()
    if args.against:
        benchmark_against(args)
        return

    if not args.skip_predict and Path(args.checkpoint).exists():
        try:  # a checkpoint that predict.py cannot use is said now, not after minutes of timing
            predict_module.load_reader(Path(args.checkpoint))
        except common.UserError as error:
            raise common.UserError(f"{args.checkpoint}: {error}") from None
    torch.manual_seed(0)
    data = common.load_data(args.dataset, args.data_dir, args.val_size)
    print(f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, "
          f"torch {torch.__version__}, CPU; {len(data.train_x):,} training images per epoch")
    print(f"{'':28}{'fast path':>12}{'classic':>12}{'speed-up':>10}")

    # 1. The data path alone: produce every batch of one epoch and do nothing with it.
    # The fast path takes a fraction of a second, so the fastest of three runs filters out noise.
    fast = min(timed(list, training.shuffled_batches(data.train_x, data.train_y, 128)) for _ in range(3))
    classic = timed(list, classic_loader(args, data, 128))
    row("data only, batch 128", fast, classic)
    # 2. Training epochs, each path.
    benchmark_epochs(args, data)
    # 3. predict.py, start to finish.
    if not args.skip_predict:
        benchmark_predict(args)


if __name__ == "__main__":
    common.run(main)
