"""The training scripts run end to end as a user runs them, and refuse bad input cleanly."""

import os
import re
import signal
import subprocess
import sys
import time

import pytest
import torch

import common
import conftest
import train_mlp
from conftest import ROOT, ctrl_c_works, run_script, train_tiny
from train_cnn import CNN

EPOCH_LINE = re.compile(r"^epoch 1/1  train loss \d+\.\d{4} acc +\d+\.\d\d%  "
                        r"val loss \d+\.\d{4} acc +\d+\.\d\d%  +\d+\.\ds$")


@pytest.mark.parametrize("script, model, precision, said, training", [
    ("train_mlp.py", "mlp", "bf16", "bfloat16 mixed precision", "2,000"),
    ("train_cnn.py", "cnn", "fp32", "float32", "2,217"),  # 181 digits cut out of touching pairs, 36 1s and 7s
])
def test_script_end_to_end_on_a_subset(script, model, precision, said, training, mnist_dir, tmp_path):
    out = tmp_path / "nested" / f"{model}.pt"
    result = run_script(script, "--data-dir", str(mnist_dir), "--epochs", "1", "--limit", "2000",
                        "--val-size", "500", "--out", str(out), "--device", "cpu", "--precision", precision)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{model}: ") and f"{training} training, 500 validation, 2,000 test images" in lines[0]
    assert lines[0].endswith(f"device cpu, {said}"), lines[0]
    assert lines[1] == f"training images: {out.with_name(f'{model}-samples.png')}"
    assert EPOCH_LINE.match(lines[2]), lines[2]
    assert re.match(r"^test loss \d+\.\d{4} acc +\d+\.\d\d% on 2,000 images$", lines[3]), lines[3]
    assert lines[-2] == f"saved {out} and the epoch log {out.with_name(f'{model}-log.csv')}"
    assert lines[-1] == f"test images it got wrong (captioned true>predicted): {out.with_name(f'{model}-mistakes.png')}"
    checkpoint = torch.load(out, weights_only=True)
    assert checkpoint["model"] == model and checkpoint["epochs"] == 1
    assert checkpoint["test_accuracy"] > 40  # far above the 10% of guessing, after a few dozen steps


def test_a_second_run_reads_the_pictures_the_first_drew_and_trains_the_same(mnist_dir, tmp_path):
    data = conftest.mirror("mnist", tmp_path / "data")  # a data folder with nothing kept in it yet
    small = ["--data-dir", str(data), "--epochs", "1", "--limit", "1500", "--val-size", "300", "--no-samples",
             "--no-mistakes", "--precision", "fp32"]
    first = run_script("train_cnn.py", *small, "--out", str(tmp_path / "first.pt"))
    assert first.returncode == 0, first.stderr
    kept = sorted((data / "drawn").iterdir())
    assert [path.name.split("-")[0] for path in kept] == ["cut", "nondigits", "unseen", "writers"], kept
    written = [path.stat().st_mtime_ns for path in kept]
    second = run_script("train_cnn.py", *small, "--out", str(tmp_path / "second.pt"))
    assert second.returncode == 0, second.stderr
    assert [path.stat().st_mtime_ns for path in kept] == written  # read, not drawn and written again
    # The same output but the epoch's time and the file names, and the same weights to the last bit.
    same = lambda result: [line for line in result.stdout.splitlines()  # noqa: E731
                           if not line.startswith(("epoch", "saved"))]
    assert same(first) == same(second) and "not a digit below" in first.stdout
    weights = [torch.load(tmp_path / name, weights_only=True)["state_dict"] for name in ("first.pt", "second.pt")]
    torch.testing.assert_close(weights[0], weights[1], rtol=0, atol=0)


@pytest.mark.parametrize("option, value, message", [
    ("--epochs", "0", "must be a positive integer"),
    ("--epochs", "-3", "must be a positive integer"),
    ("--epochs", "ten", "invalid positive_int value"),
    ("--batch-size", "0", "must be a positive integer"),
    ("--lr", "0", "must be a positive number"),
    ("--lr", "-0.1", "must be a positive number"),
    ("--lr", "nan", "must be a positive number"),
    ("--val-size", "60000", "must be from 0 to 59999"),
    ("--val-size", "-1", "must be from 0 to 59999"),
    ("--seed", "-1", "must be a whole number from 0 to 4294967295"),
    ("--seed", "4294967296", "must be a whole number from 0 to 4294967295"),
    ("--device", "tpu", "invalid choice: 'tpu'"),
    ("--dataset", "cifar10", "invalid choice: 'cifar10'"),
])
def test_bad_options_fail_in_argparse(option, value, message):
    result = run_script("train_cnn.py", f"{option}={value}")
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_help_shows_defaults():
    result = run_script("train_mlp.py", "--help")
    assert result.returncode == 0
    assert "(default: 15)" in result.stdout and "(default: auto)" in result.stdout


def test_missing_dataset_offline_is_one_line(tmp_path):
    # A proxy on a closed port makes every download fail at once, as on a machine without network.
    closed = "http://127.0.0.1:9"
    result = run_script("train_mlp.py", "--data-dir", str(tmp_path / "empty"), "--out", str(tmp_path / "m.pt"),
                        env={"http_proxy": closed, "https_proxy": closed, "HTTP_PROXY": closed,
                             "HTTPS_PROXY": closed, "no_proxy": "", "NO_PROXY": ""})
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: could not load or download mnist")
    assert str(tmp_path / "empty" / "MNIST" / "raw") in result.stderr
    assert not (tmp_path / "m.pt").exists()


def test_unavailable_device_is_one_line():
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA, so --device cuda is not an error here")
    result = run_script("train_mlp.py", "--device", "cuda")
    assert result.returncode == 1
    assert result.stderr == "error: --device cuda was asked for, but this machine's PyTorch cannot use it " \
                            "(try --device cpu)\n"


def test_out_must_be_a_file(tmp_path, mnist_dir):
    result = run_script("train_mlp.py", "--data-dir", str(mnist_dir), "--limit", "100", "--val-size", "10",
                        "--out", str(tmp_path))
    assert result.returncode == 1
    assert "is a directory" in result.stderr and "Traceback" not in result.stderr


def test_ctrl_c_stops_cleanly_and_keeps_the_old_checkpoint(tmp_path, mnist_dir):
    out = tmp_path / "cnn.pt"
    train_tiny("cnn", CNN(), out)  # an earlier checkpoint, which the interrupted run must not touch
    (tmp_path / "cnn-log.csv").unlink()
    earlier = out.read_bytes()
    process = subprocess.Popen(
        [sys.executable, "train_cnn.py", "--data-dir", str(mnist_dir), "--epochs", "50", "--limit", "3000",
         "--out", str(out)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=ctrl_c_works)
    assert process.stdout.readline().startswith("cnn: ")  # set up, now training
    assert process.stdout.readline().startswith("training images: ")
    assert re.match(r"epoch +1/50 ", process.stdout.readline())
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    in_progress = tmp_path / "cnn-in-progress.pt"
    assert stderr == (f"interrupted after epoch 1: continue with --resume {in_progress}; "
                      "any earlier checkpoint is untouched\n")
    assert out.read_bytes() == earlier
    assert sorted(os.listdir(tmp_path)) == ["cnn-in-progress.pt", "cnn-samples.png", "cnn.pt"]
    assert torch.load(in_progress, weights_only=True)["epochs"] == 1


def test_user_errors_become_one_line_and_exit_1(capsys):
    def fails():
        raise common.UserError("something the user can fix")

    with pytest.raises(SystemExit) as exit_info:
        common.run(fails)
    assert exit_info.value.code == 1
    assert capsys.readouterr().err == "error: something the user can fix\n"


def test_mlp_one_epoch_on_full_mnist(mnist_dir, tmp_path, capsys):
    # The real thing: one epoch of the MLP on all 55,000 training images, tested on all 10,000.
    out = tmp_path / "mlp.pt"
    started = time.perf_counter()
    train_mlp.main(["--data-dir", str(mnist_dir), "--epochs", "1", "--out", str(out), "--device", "cpu"])
    print(f"one full epoch and test in {time.perf_counter() - started:.1f}s")
    accuracy = torch.load(out, weights_only=True)["test_accuracy"]
    assert accuracy >= 97.0, capsys.readouterr().out


def test_benchmark_against_another_copy(mnist_dir, tmp_path):
    # Two copies of the project: this one, and another made of its files (as git worktree would).
    other = tmp_path / "earlier"
    other.mkdir()
    for path in ROOT.glob("*.py"):
        (other / path.name).write_bytes(path.read_bytes())
    result = run_script("benchmark.py", "--data-dir", str(mnist_dir), "--against", str(other), "--rounds", "1",
                        "--limit", "8000")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("python train_cnn.py --epochs 1, in turn 1 times")
    accuracies = [float(re.search(r"epoch [\d.]+   total [\d.]+   ([\d.]+)%$", line)[1]) for line in lines[1:3]]
    assert lines[2].lstrip().startswith(str(other))
    assert accuracies[0] == accuracies[1] > 95  # the same code, seed and data: the same model
    ratio = float(re.search(r"takes ([\d.]+) times as long", lines[3])[1])
    assert 0.3 < ratio < 3


def test_benchmark_against_a_folder_without_the_project_is_one_line(tmp_path):
    result = run_script("benchmark.py", "--against", str(tmp_path / "nowhere"))
    assert result.returncode == 1
    assert result.stderr == f"error: {tmp_path / 'nowhere'} holds no train_cnn.py: give a copy of this project\n"


def test_benchmark_with_a_checkpoint_predict_cannot_use_is_one_line(mnist_dir, tmp_path):
    # Such as checkpoints/cnn.pt left by an older version of the model: predict.py refuses it.
    stale = tmp_path / "cnn.pt"
    torch.save({"model": "cnn", "state_dict": {"fc1.weight": torch.zeros(2, 2)}, "mean": 0.1, "std": 0.3,
                "classes": list("0123456789"), "dataset": "mnist"}, stale)
    result = run_script("benchmark.py", "--data-dir", str(mnist_dir), "--models", "--checkpoint", str(stale))
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {stale}: the checkpoint's weights do not fit")
    assert result.stdout == ""  # said before any timing
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
