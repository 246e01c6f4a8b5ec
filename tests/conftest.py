"""Shared fixtures: where the real datasets are, and the data loaded once per test session.

Tests that need the real MNIST look for it in $MNIST_DATA_DIR, then in the project's data/ folder,
then in ../shared/data beside the project (this project's CI), and finally try to download it into
data/. Without data and without network they skip, saying why; when CI is set they fail instead,
since CI must run them.
"""

import os
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import common  # noqa: E402

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


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    return _data_dir("mnist")


@pytest.fixture(scope="session")
def fashion_dir() -> Path:
    return _data_dir("fashion-mnist")


@pytest.fixture(scope="session")
def mnist(mnist_dir) -> common.Data:
    """The real MNIST, loaded once for all tests (tests must not modify it)."""
    return common.load_data("mnist", mnist_dir, val_size=5000)


@pytest.fixture(scope="session")
def cnn_checkpoint(mnist_dir, tmp_path_factory) -> Path:
    """The CNN as `python train_cnn.py --epochs 10` trains it, with its "not a digit" bar: what users get."""
    import train_cnn
    out = tmp_path_factory.mktemp("checkpoint") / "cnn.pt"
    train_cnn.main(["--data-dir", str(mnist_dir), "--epochs", "10", "--out", str(out), "--device", "cpu"])
    return out


@pytest.fixture(scope="session")
def test_digits(mnist_dir) -> tuple:
    """The first 1,000 MNIST test images as uint8 numpy arrays, and their labels."""
    images, labels = common.read_dataset("mnist", mnist_dir, train=False)
    return images[:1000].numpy(), labels[:1000].numpy()
