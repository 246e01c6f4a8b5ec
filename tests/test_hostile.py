"""A hostile but fair user: files that are not ours are never overwritten, nothing is left
half-written, checkpoints are checked when loaded, odd paths and failing output end in one line.
(The server's own defences are in test_draw.py; pictures that cost time, in test_numbers.py.)"""

import copy
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from PIL import Image

import common
import files
from conftest import ROOT, one_line_error, run_predict, run_script, train_tiny
from train_mlp import MLP


def test_out_never_overwrites_a_file_it_did_not_write(mnist_dir, tmp_path):
    options = ["train_mlp.py", "--data-dir", str(mnist_dir), "--limit", "200", "--val-size", "50", "--epochs", "1"]
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes")
    one_line_error(run_script(*options, "--out", str(notes)), str(notes), "not written by these scripts", "--force")
    assert notes.read_text() == "my notes"
    # A file of ours beside the checkpoint is replaced; one of the user's is not.
    (tmp_path / "m-log.csv").write_text("my own spreadsheet")
    one_line_error(run_script(*options, "--out", str(tmp_path / "m.pt")), "m-log.csv")
    assert (tmp_path / "m-log.csv").read_text() == "my own spreadsheet" and not (tmp_path / "m.pt").exists()
    (tmp_path / "m-log.csv").unlink()
    for _ in range(2):  # the second run replaces the first one's files
        assert run_script(*options, "--out", str(tmp_path / "m.pt")).returncode == 0
    assert files.written_by_us(tmp_path / "m-samples.png") and files.written_by_us(tmp_path / "m-log.csv")
    # --force says the user means it; a dataset's file is never overwritten.
    assert run_script(*options, "--out", str(notes), "--force").returncode == 0
    common.load_checkpoint(notes)
    dataset_file = tmp_path / "train-images-idx3-ubyte"
    dataset_file.write_bytes(b"images")
    one_line_error(run_script(*options, "--out", str(dataset_file), "--force"), "dataset file")
    assert dataset_file.read_bytes() == b"images"


def test_save_processed_never_overwrites_what_it_reads(tmp_path):
    checkpoint = tmp_path / "m.pt"
    train_tiny("mlp", MLP(), checkpoint)
    folder = tmp_path / "pictures"
    folder.mkdir()
    drawn = Image.new("L", (100, 100), 255)
    drawn.paste(0, (40, 20, 55, 80))
    drawn.save(folder / "a.png")
    drawn.save(folder / "a-0.png")  # an input whose name the saved input of a.png would take
    before = {path.name: path.read_bytes() for path in folder.iterdir()}
    result = run_predict("--checkpoint", str(checkpoint), "--save-processed", str(folder), str(folder))
    assert "Traceback" not in result.stderr
    assert all((folder / name).read_bytes() == data for name, data in before.items())
    written = sorted(set(path.name for path in folder.iterdir()) - set(before))
    assert {"a_2-0.png", "a_2-boxes.png", "a-0-0.png", "a-0-boxes.png"} <= set(written), written


def test_a_killed_write_leaves_the_old_file_and_its_leftover_is_cleared(tmp_path):
    path = tmp_path / "model.pt"
    path.write_bytes(b"the old file")
    code = ("import sys, time, files; "
            "files.write_file(sys.argv[1], lambda f: (f.write(b'half'), f.flush(), time.sleep(60)))")
    process = subprocess.Popen([sys.executable, "-c", code, str(path)], cwd=ROOT)
    deadline = time.monotonic() + 30
    while not list(tmp_path.glob(".model.pt.*.tmp")) and time.monotonic() < deadline:
        time.sleep(0.1)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    leftovers = list(tmp_path.glob(".model.pt.*.tmp"))
    assert path.read_bytes() == b"the old file" and len(leftovers) == 1
    # The next write clears what a killed run left behind, once it is old enough not to be another's.
    old = time.time() - files.LEFTOVER_SECONDS - 1
    os.utime(leftovers[0], (old, old))
    files.write_file(path, lambda f: f.write(b"the new file"))
    assert path.read_bytes() == b"the new file" and not list(tmp_path.glob(".*.tmp"))


BAD_FIELDS = {
    "threshold": "0.5", "classes": None, "mean": "0.13", "std": torch.tensor(0.3),
    "model": ["mlp"], "state_dict": [1, 2], "dataset": 7, "args": "seed=1",
}


@pytest.fixture(scope="module")
def good_checkpoint(tmp_path_factory) -> dict:
    return train_tiny("mlp", MLP(), tmp_path_factory.mktemp("good") / "m.pt")


@pytest.mark.parametrize("field, value", [*BAD_FIELDS.items(), ("classes", 5), ("classes", {"a": 1}),
                                          ("classes", ["x"] * 100_000), ("std", 0.0), ("weights", "nan")])
def test_a_checkpoint_with_a_bad_field_is_refused_when_loaded(field, value, good_checkpoint, tmp_path):
    checkpoint = copy.deepcopy(good_checkpoint)
    if field == "weights":
        next(iter(checkpoint["state_dict"].values())).fill_(float("nan"))
    else:
        checkpoint[field] = value
    torch.save(checkpoint, tmp_path / "m.pt")
    with pytest.raises(common.UserError, match="not a usable checkpoint"):
        common.load_checkpoint(tmp_path / "m.pt")


def test_every_script_refuses_a_bad_checkpoint_in_one_line(good_checkpoint, tmp_path):
    path = tmp_path / "m.pt"
    checkpoint = copy.deepcopy(good_checkpoint)
    next(iter(checkpoint["state_dict"].values())).fill_(float("nan"))
    torch.save(checkpoint, path)
    picture = tmp_path / "digit.png"
    Image.new("L", (50, 50), 255).save(picture)
    for script in (["predict.py", "--checkpoint", str(path), str(picture)], ["evaluate.py", str(path)],
                   ["draw.py", "--checkpoint", str(path), "--port", "0"]):  # draw.py does not start
        one_line_error(run_script(*script, timeout=60), str(path), "not a usable checkpoint", "NaN")


def test_failing_output_and_odd_paths(tmp_path):
    checkpoint = tmp_path / "m.pt"
    train_tiny("mlp", MLP(), checkpoint)
    picture = tmp_path / "a\nb.png"  # a newline in a file name must not split the line printed
    drawn = Image.new("L", (100, 100), 255)
    drawn.paste(0, (40, 20, 55, 80))
    drawn.save(picture)
    result = run_predict("--checkpoint", str(checkpoint), str(picture))
    assert result.stdout.count("\n") + result.stderr.count("\n") == 1 and "a\\nb.png" in result.stdout + result.stderr
    # A pipe named as an image is refused without reading it (reading would wait for ever).
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    one_line_error(run_predict("--checkpoint", str(checkpoint), str(fifo)), "pipe")
    # Output that cannot be written: one line on stderr and a non-zero exit, not a traceback.
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "predict.py", "--checkpoint", str(checkpoint), str(picture)],
                                cwd=ROOT, stdout=full, stderr=subprocess.PIPE, text=True, timeout=120)
    one_line_error(result, "cannot write the output")


def test_resume_refuses_a_kept_option_given_even_at_its_default(tmp_path):
    path = tmp_path / "m-in-progress.pt"
    checkpoint = train_tiny("mlp", MLP(), tmp_path / "m.pt")
    optimizer = torch.optim.AdamW(MLP().parameters())
    checkpoint |= {"epochs": 1, "optimizer": optimizer.state_dict(), "scheduler": None, "log": [],
                   "rng": {"cpu": torch.get_rng_state()}}
    checkpoint["args"]["seed"] = 2  # the run started with --seed 2; 1 is the default
    torch.save(checkpoint, path)
    one_line_error(run_script("train_mlp.py", "--resume", str(path), "--seed", "1"), "--seed 1 differs from its 2")
