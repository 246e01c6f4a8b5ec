"""Shared fixtures and helpers: where the real datasets are, the data loaded once per test session,
running a script, reading pictures as predict.py does, a tiny training run, and draw.py's server.

Tests that need the real MNIST look for it in $MNIST_DATA_DIR, then in the project's data/ folder,
then in ../shared/data beside the project (this project's CI), and finally try to download it into
data/. Without data and without network they skip, saying why; when CI is set they fail instead,
since CI must run them. The CNN they read with is trained once per session, as users train it;
CNN_CHECKPOINT=path reads with a network trained before instead (another seed, say).
"""

import io
import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import torch
from PIL import Image, ImageDraw
from torch.utils.data import DataLoader

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import common  # noqa: E402
import predict  # noqa: E402
import training  # noqa: E402

torch.set_num_threads(min(2, os.cpu_count() or 1))  # tests run beside other work; two threads are plenty


class Payload:
    """Unpickling this runs a shell command that creates `marker`: a checkpoint holding it must be
    refused by the safe loader, and the file must never appear."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch '{self.marker}'",)


def _data_dir(dataset: str) -> Path:
    folder = common.DATASETS[dataset]  # "MNIST" or "FashionMNIST"
    candidates = [os.environ.get("MNIST_DATA_DIR"), ROOT / "data", ROOT.parent / "shared" / "data"]
    for candidate in filter(None, candidates):
        if (Path(candidate) / folder / "raw" / "t10k-labels-idx1-ubyte").is_file():
            return Path(candidate)
    try:  # not found anywhere: download as a user would
        common.read_dataset(dataset, ROOT / "data", train=False)
        return ROOT / "data"
    except common.UserError as error:
        message = f"{dataset} not found (set MNIST_DATA_DIR) and could not be downloaded: {error}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def mirror(dataset: str, folder: Path) -> Path:
    """A data folder in `folder` whose dataset files are links to the real ones: what the scripts keep
    beside the data (nondigits.kept) goes there, and the real data folder stays as it was."""
    name = common.DATASETS[dataset]
    (folder / name).mkdir(parents=True, exist_ok=True)
    if not (folder / name / "raw").exists():
        (folder / name / "raw").symlink_to(_data_dir(dataset) / name / "raw")
    return folder


@pytest.fixture(scope="session")
def mnist_dir(tmp_path_factory) -> Path:
    return mirror("mnist", tmp_path_factory.getbasetemp() / "data")


@pytest.fixture(scope="session")
def fashion_dir(tmp_path_factory) -> Path:
    return mirror("fashion-mnist", tmp_path_factory.getbasetemp() / "data")


@pytest.fixture(scope="session")
def mnist(mnist_dir) -> common.Data:
    """The real MNIST, loaded once for all tests (tests must not modify it)."""
    return common.load_data("mnist", mnist_dir, val_size=5000)


@pytest.fixture(scope="session")
def cnn_checkpoint(mnist_dir, tmp_path_factory) -> Path:
    """The CNN as `python train_cnn.py --epochs 10` trains it, with its "not a digit" bar: what users get."""
    if os.environ.get("CNN_CHECKPOINT"):  # a network trained before, as docs/reading.md reads other seeds
        return Path(os.environ["CNN_CHECKPOINT"])
    import train_cnn
    out = tmp_path_factory.mktemp("checkpoint") / "cnn.pt"
    train_cnn.main(["--data-dir", str(mnist_dir), "--epochs", "10", "--out", str(out), "--device", "cpu"])
    return out


@pytest.fixture(scope="session")
def test_digits(mnist_dir) -> tuple:
    """The first 1,000 MNIST test images as uint8 numpy arrays, and their labels."""
    images, labels = common.read_dataset("mnist", mnist_dir, train=False)
    return images[:1000].numpy(), labels[:1000].numpy()


def run_script(*args: str, env: dict | None = None, timeout: float = 300, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})}, **kwargs)


def run_predict(*args: str) -> subprocess.CompletedProcess:
    return run_script("predict.py", *args)


def one_line_error(result: subprocess.CompletedProcess, *words: str) -> None:
    """A script failed as it must: exit 1, one line on stderr starting "error: " with `words` in it."""
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("error: ") and all(word in result.stderr for word in words), result.stderr


def read_all(checkpoint: Path, files: list[bytes]) -> list[dict]:
    """predict.py's reading of each file, as its --json would print it: prepared by its Pictures, in
    worker processes for a long list, as predict.py reads a folder."""
    reader = predict.load_reader(checkpoint)
    pictures = predict.Pictures(reader, [io.BytesIO(data) for data in files], keep_ink=False)
    loader = DataLoader(pictures, batch_size=predict.BATCH_FILES, collate_fn=list,
                        num_workers=predict.workers(len(files)))
    results = []
    for batch in loader:
        for _, found in batch:
            i = str(len(results))
            if isinstance(found, str):  # the one line predict.py prints for a file it cannot read
                assert not found.startswith("could not process"), found  # a fault, not a bad picture
                results.append({"path": i, "prediction": None, "error": found})
            else:
                results.append(predict.read(reader, i, found, predict.probabilities(reader, found.items)))
    return results


def tiny_data(n: int = 64) -> common.Data:
    """Random images and labels: enough to exercise a training run without the real dataset."""
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(n, 1, 28, 28, generator=g), torch.randint(0, 10, (n,), generator=g)
    return common.Data(x, y, x[:8], y[:8], x[:16], y[:16], mean=0.13, std=0.31,
                       classes=[str(d) for d in range(10)])


def train_tiny(name: str, model: torch.nn.Module, out: Path) -> dict:
    """Two epochs on tiny_data(), by the trainers' own loop, with their own options."""
    parser = training.make_parser("test", epochs=2, batch_size=16, lr=1e-3)
    args = parser.parse_args(["--out", str(out), "--val-size", "8", "--no-samples", "--no-mistakes"])
    data = tiny_data()
    recipe = training.Recipe(torch.optim.AdamW(model.parameters(), lr=args.lr), args.epochs, args.batch_size)
    run = training.Run(name, model, data, recipe, args)
    for epoch in run.epochs():
        train_loss, train_acc = training.train_epoch(model, recipe, run.batches(), run.progress())
        run.end_epoch(epoch, train_loss, train_acc, common.predict_logits(model, data.val_x))
    return run.finish()


# ---------------------------------------------------------------------------------------------
# draw.py's server
# ---------------------------------------------------------------------------------------------

def ctrl_c_works() -> None:
    """For a script the tests stop with Ctrl-C (SIGINT): a shell that runs the tests in the background
    has them ignore it, and Python leaves an ignored SIGINT ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_server(*args: str) -> tuple[subprocess.Popen, str]:
    """draw.py on a free port (--port 0); returns the process and its address."""
    process = subprocess.Popen([sys.executable, "draw.py", "--port", "0", *args], cwd=ROOT, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=ctrl_c_works)
    line = process.stdout.readline()  # "open http://127.0.0.1:PORT in your browser; ..."
    assert line.startswith("open http://"), line + process.stderr.read()
    return process, line.split()[1]


@pytest.fixture(scope="module")
def server(cnn_checkpoint):
    process, url = start_server("--checkpoint", str(cnn_checkpoint))
    yield url
    process.terminate()
    process.wait(timeout=30)


def post(url: str, body: bytes, path: str = "/predict", headers: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url + path, data=body, method="POST", headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def get(url: str, path: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url + path, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def drawn_seven() -> bytes:
    """A 7 as a person draws it on the page: a 280x280 canvas, black marker on white."""
    image = Image.new("RGB", (280, 280), "white")
    ImageDraw.Draw(image).line([(80, 60), (200, 60), (120, 230)], fill="black", width=18, joint="curve")
    return png(image)
