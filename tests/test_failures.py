"""Failing well: each fault is caused here, and must end in one line naming the path and the reason,
exit code 1, no traceback, and no checkpoint lost or half-written."""

import contextlib
import errno
import shutil
import subprocess
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest
import torch
from PIL import Image

import common
import images
import prepare
import report
import segment
from conftest import one_line_error, run_script, train_tiny
from train_mlp import MLP


def test_no_validation_images(mnist_dir, tmp_path):
    result = run_script("train_mlp.py", "--data-dir", str(mnist_dir), "--limit", "500", "--val-size", "0",
                        "--epochs", "1", "--out", str(tmp_path / "m.pt"), "--no-samples", "--no-mistakes")
    assert result.returncode == 0, result.stderr
    assert "0 validation" in result.stdout and "no validation images" in result.stdout
    assert common.load_checkpoint(tmp_path / "m.pt")["threshold"] is not None  # calibrated on training digits


def test_no_mistakes_to_draw(tmp_path):
    logits, labels = torch.eye(3) * 5, torch.arange(3)
    line = report.save_mistakes(logits, torch.zeros(3, 1, 28, 28), labels, ["a", "b", "c"], 0.1, 0.3,
                                tmp_path / "m.pt")
    assert line.startswith("no test image was misread") and not list(tmp_path.iterdir())


@pytest.mark.parametrize("out, words", [
    ("/proc/x.pt", ["/proc", "cannot write"]),
    ("/dev/null", ["/dev/null", "device or other special file"]),
    ("{tmp}/a-file/model.pt", ["a-file", "cannot write"]),
])
def test_checkpoint_that_cannot_be_written(out, words, mnist_dir, tmp_path):
    (tmp_path / "a-file").write_text("a file where a folder is expected")
    result = run_script("train_mlp.py", "--data-dir", str(mnist_dir), "--limit", "100", "--val-size", "10",
                        "--out", out.format(tmp=tmp_path))
    one_line_error(result, *words)


def test_picture_that_cannot_be_written(mnist_dir, tmp_path):
    (tmp_path / "m-samples.png").mkdir()  # a folder in the way of the samples picture
    result = run_script("train_mlp.py", "--data-dir", str(mnist_dir), "--limit", "100", "--val-size", "10",
                        "--out", str(tmp_path / "m.pt"))
    one_line_error(result, str(tmp_path / "m-samples.png"))
    assert not (tmp_path / "m.pt").exists()

    train_tiny("mlp", MLP(), tmp_path / "e.pt")
    (tmp_path / "e-mistakes.png").mkdir()  # evaluate.py draws its picture beside the checkpoint
    result = run_script("evaluate.py", str(tmp_path / "e.pt"), "--data-dir", str(mnist_dir))
    one_line_error(result, str(tmp_path / "e-mistakes.png"), "directory")


def test_full_disk_keeps_the_old_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "model.pt"
    train_tiny("mlp", MLP(), path)
    before = path.read_bytes()

    def disk_full(obj, file):
        file.write(b"the first bytes")
        raise OSError(errno.ENOSPC, "No space left on device")

    def disk_full_as_torch_says_it(obj, file):  # torch.save's own writer reports it so
        file.write(b"the first bytes")
        raise RuntimeError("[enforce fail at inline_container.cc:664] . PytorchStreamWriter failed writing file")

    for fault, words in ((disk_full, "No space left"), (disk_full_as_torch_says_it, "PytorchStreamWriter")):
        monkeypatch.setattr(torch, "save", fault)
        with pytest.raises(common.WriteError, match=f"cannot write {tmp_path}/model-in-progress.pt: .*{words}"):
            train_tiny("mlp", MLP(), path)
        assert path.read_bytes() == before
        assert sorted(p.name for p in tmp_path.iterdir()) == ["model-log.csv", "model.pt"]


@contextlib.contextmanager
def small_disk(folder: Path, size: str) -> Iterator[Path]:
    """A real filesystem of `size` at `folder`: a tmpfs, which only root may mount."""
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True)
    if mounted.returncode:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip()}); test_full_disk_keeps_the_old_checkpoint "
                    "injects the same fault")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "--lazy", str(folder)], check=True)


def test_a_disk_that_fills_up_leaves_every_file_whole(mnist_dir, tmp_path):
    options = ["train_mlp.py", "--data-dir", str(mnist_dir), "--limit", "200", "--val-size", "50", "--epochs", "1"]
    with small_disk(tmp_path / "disk", "8m") as disk:
        assert run_script(*options, "--out", str(disk / "m.pt")).returncode == 0
        before = {path.name: path.read_bytes() for path in disk.iterdir()}
        # Fill the disk but for 100 kB: the pictures and the log fit, the checkpoint is begun and cannot end.
        (disk / "filler").write_bytes(bytes(shutil.disk_usage(disk).free - 100_000))
        one_line_error(run_script(*options, "--seed", "2", "--out", str(disk / "m.pt")),
                       f"cannot write {disk / 'm.pt'}: no space left on the disk")
        assert sorted(path.name for path in disk.iterdir()) == sorted([*before, "filler"])  # nothing left over
        assert (disk / "m.pt").read_bytes() == before["m.pt"]
        common.load_checkpoint(disk / "m.pt")
        for name in ("m-samples.png", "m-mistakes.png"):  # the old picture or a new one, whole
            Image.open(disk / name).load()


def test_damaged_dataset_file_is_named(mnist_dir, tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in common.FILE_SIZES:
        shutil.copy(mnist_dir / "MNIST" / "raw" / name, raw / name)
    with open(raw / "train-images-idx3-ubyte", "r+b") as file:
        file.truncate(1_000_000)
    result = run_script("train_mlp.py", "--data-dir", str(tmp_path), "--out", str(tmp_path / "m.pt"))
    one_line_error(result, str(raw / "train-images-idx3-ubyte"), "damaged or truncated", "delete it")
    assert "t10k" not in result.stderr


def test_awkward_pictures_never_end_in_a_traceback():
    frame = Image.new("L", (200, 200), 255)
    frame.paste(0, (0, 0, 200, 12))  # a dark strip along one edge: the table, nothing else
    specks = Image.fromarray(np.where(np.random.default_rng(0).random((300, 300)) < 0.002, 0, 255).astype(np.uint8))
    for picture in (frame, specks, Image.new("L", (1, 300), 0), Image.new("RGB", (300, 2), "black")):
        try:
            items = prepare.prepare_digits(picture).items
        except images.ImageError:
            continue
        assert all(item.pixels.shape == (28, 28) for item in items)
    # Nothing left once the ink along the edges is dropped (a dim photo of a page was one such).
    with pytest.raises(images.ImageError, match="only the edges of the picture"):
        segment.group_parts(np.array([], dtype=np.int64), np.zeros((0, 4), dtype=np.int64), np.zeros(0), 100)


def test_a_digit_at_the_edge_beats_a_speck_inside(test_digits):
    digits, labels = test_digits
    rows, cols = np.nonzero(digits[0] > 30)
    crop = digits[0][rows.min():rows.max() + 1, cols.min():cols.max() + 1]  # a 7, cut to its ink
    page = Image.new("L", (300, 300), 255)
    page.paste(Image.fromarray(255 - crop).resize((150, 220), Image.BICUBIC), (0, 40))  # touching the left edge
    page.paste(0, (250, 150, 256, 156))  # a speck of dirt well inside the picture
    items = prepare.prepare_digits(page).items
    assert len(items) == 1 and items[0].box[0] <= 2 and items[0].box[2] > 100  # the digit, not the speck
