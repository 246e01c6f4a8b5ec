"""What a learner looks at after training: the report, the pictures, the CSV log, evaluate.py, Fashion-MNIST."""

import csv
import re
import subprocess
import sys

import pytest
import torch
from PIL import Image

import common
import report
import training
from conftest import ROOT, train_tiny


def test_report_against_a_hand_counted_case():
    # Five images of classes a, b, c. Predictions (argmax of each row): a, b, b, c, a.
    logits = torch.tensor([[3., 0, 0], [0, 3, 0], [0, 3, 0], [0, 0, 3], [3, 0, 0]])
    labels = torch.tensor([0, 1, 2, 2, 2])
    counts = report.confusion_matrix(logits.argmax(1), labels, 3)
    assert counts.tolist() == [[1, 0, 0],   # true a: once called a
                               [0, 1, 0],   # true b: once called b
                               [1, 1, 1]]   # true c: once each a, b and c
    text = report.report(logits, labels, ["a", "b", "c"], *common.loss_and_accuracy(logits, labels)).splitlines()
    assert text[0].startswith("test loss ") and " acc 60.00% on 5 images" in text[0]
    assert re.fullmatch(r"0 a +1 +0 +0 +100\.00%", text[3])
    assert re.fullmatch(r"2 c +1 +1 +1 +33\.33%", text[5])


def test_report_loss_and_accuracy_are_the_trainers(mnist):
    torch.manual_seed(0)
    from train_mlp import MLP
    model = MLP()
    logits = common.predict_logits(model, mnist.test_x)
    loss, accuracy = common.loss_and_accuracy(common.predict_logits(model, mnist.test_x), mnist.test_y)
    assert report.report(logits, mnist.test_y, mnist.classes, loss, accuracy).splitlines()[0] == \
        f"test loss {loss:.4f} acc {accuracy:.2f}% on 10,000 images"


def test_training_writes_log_pictures_and_evaluate_agrees(mnist_dir, tmp_path):
    out = tmp_path / "mlp.pt"
    trained = subprocess.run([sys.executable, "train_mlp.py", "--data-dir", str(mnist_dir), "--epochs", "2",
                              "--limit", "3000", "--val-size", "1000", "--out", str(out)],
                             cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert trained.returncode == 0, trained.stderr

    with open(tmp_path / "mlp-log.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    assert list(rows[0]) == report.LOG_COLUMNS
    assert [int(row["epoch"]) for row in rows] == [1, 2]
    assert all(0 <= float(row["val_accuracy"]) <= 100 and float(row["seconds"]) > 0 for row in rows)

    samples = Image.open(tmp_path / "mlp-samples.png")  # 50 images, 10 per row, each 84 + 14 high
    assert samples.size == (4 + 10 * 88, 4 + 5 * 102)
    mistakes = Image.open(tmp_path / "mlp-mistakes.png")
    assert mistakes.width == 4 + 10 * 88 and (mistakes.height - 4) % 102 == 0

    # evaluate.py on the saved checkpoint prints exactly the trainer's report.
    evaluated = subprocess.run([sys.executable, "evaluate.py", str(out), "--data-dir", str(mnist_dir),
                                "--no-mistakes"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert evaluated.returncode == 0, evaluated.stderr
    start = trained.stdout.index("test loss")
    printed = trained.stdout[start:trained.stdout.index("saved ", start)]
    assert printed.strip() in evaluated.stdout


def test_pictures_can_be_switched_off(mnist_dir, tmp_path):
    result = subprocess.run([sys.executable, "train_mlp.py", "--data-dir", str(mnist_dir), "--epochs", "1",
                             "--limit", "500", "--val-size", "100", "--out", str(tmp_path / "m.pt"),
                             "--no-samples", "--no-mistakes"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m-log.csv", "m.pt"]


def test_fashion_mnist_end_to_end(fashion_dir, tmp_path):
    out = tmp_path / "cnn-fashion.pt"
    result = subprocess.run([sys.executable, "train_cnn.py", "--dataset", "fashion-mnist", "--data-dir",
                             str(fashion_dir), "--epochs", "1", "--limit", "2000", "--val-size", "500",
                             "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    checkpoint = common.load_checkpoint(out)
    assert checkpoint["dataset"] == "fashion-mnist"
    assert checkpoint["classes"][0] == "T-shirt/top" and checkpoint["classes"][9] == "Ankle boot"
    assert abs(checkpoint["mean"] - 0.286) < 0.01  # Fashion-MNIST's own statistics, not MNIST's
    assert "Ankle boot" in result.stdout  # the report names the classes

    # predict.py prints the class names too.
    item = Image.new("L", (120, 120), 0)
    item.paste(200, (20, 30, 100, 90))
    item.save(tmp_path / "item.png")
    predicted = subprocess.run([sys.executable, "predict.py", "--checkpoint", str(out), str(tmp_path / "item.png")],
                               cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert predicted.returncode == 0, predicted.stderr
    assert any(name in predicted.stdout.split(": ", 1)[1] for name in checkpoint["classes"] if not name.isdigit())


def test_mlp_learns_fashion_mnist(fashion_dir, tmp_path):
    # The MLP's recipe for clothes differs from its recipe for digits (no augmentation, label smoothing).
    import train_mlp
    train_mlp.main(["--dataset", "fashion-mnist", "--data-dir", str(fashion_dir), "--epochs", "2", "--limit", "3000",
                    "--val-size", "500", "--out", str(tmp_path / "mlp.pt"), "--no-samples", "--no-mistakes"])
    checkpoint = common.load_checkpoint(tmp_path / "mlp.pt")
    assert checkpoint["dataset"] == "fashion-mnist"
    assert checkpoint["test_accuracy"] > 70  # chance is 10%; 3,000 images for 2 epochs give about 75%


def test_progress_line_only_on_a_terminal(monkeypatch, capsys, tmp_path):
    from train_mlp import MLP

    train_tiny("mlp", MLP(), tmp_path / "piped.pt")
    assert "\r" not in capsys.readouterr().out  # a pipe or log file gets plain lines

    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    train_tiny("mlp", MLP(), tmp_path / "terminal.pt")
    out = capsys.readouterr().out
    assert "\r\033[Kepoch 1/2  16 images" in out  # rewritten in place while the epoch runs
    assert "\r\033[Kepoch 1/2  train loss" in out  # then replaced by the epoch's summary


def test_resumed_run_ends_as_the_uninterrupted_one(mnist_dir, tmp_path, monkeypatch, capsys):
    import train_mlp

    options = ["--data-dir", str(mnist_dir), "--epochs", "3", "--limit", "2000", "--val-size", "500",
               "--no-samples", "--no-mistakes", "--device", "cpu"]
    train_mlp.main([*options, "--out", str(tmp_path / "whole.pt")])

    # The same run, stopped by Ctrl-C during its third epoch...
    calls = []
    original = training.train_epoch

    def interrupted_in_epoch_3(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(training, "train_epoch", interrupted_in_epoch_3)
    with pytest.raises(common.Interrupted, match="after epoch 2: continue with --resume"):
        train_mlp.main([*options, "--out", str(tmp_path / "parts.pt")])
    monkeypatch.undo()
    in_progress = tmp_path / "parts-in-progress.pt"
    assert not (tmp_path / "parts.pt").exists() and in_progress.exists()

    # ...then resumed: only --resume, where the data is and (on a machine with a GPU) where to compute.
    capsys.readouterr()
    train_mlp.main(["--resume", str(in_progress), "--data-dir", str(mnist_dir), "--device", "cpu"])
    out = capsys.readouterr().out
    assert f"resuming {in_progress} after epoch 2 of 3" in out and "epoch 1/3" not in out
    whole = torch.load(tmp_path / "whole.pt", weights_only=True)
    resumed = torch.load(tmp_path / "parts.pt", weights_only=True)
    assert not in_progress.exists()
    assert resumed["test_accuracy"] == whole["test_accuracy"] and resumed["epochs"] == 3
    for name, tensor in whole["state_dict"].items():
        assert torch.equal(resumed["state_dict"][name], tensor), name
    with open(tmp_path / "parts-log.csv") as file:
        assert [row.split(",")[0] for row in file.read().split()[1:]] == ["1", "2", "3"]


def test_resume_refuses_the_wrong_checkpoint_and_other_options(mnist_dir, fashion_dir, tmp_path, monkeypatch,
                                                                capsys):
    import train_cnn
    import train_mlp

    finished = tmp_path / "mlp.pt"
    small = ["--limit", "300", "--val-size", "100", "--no-samples", "--no-mistakes"]
    train_mlp.main([*small, "--data-dir", str(mnist_dir), "--epochs", "1", "--out", str(finished)])
    with pytest.raises(common.UserError, match="is a mlp checkpoint: resume it with train_mlp.py"):
        train_cnn.main(["--resume", str(finished)])
    with pytest.raises(common.UserError, match="finished all its 1 epochs"):
        train_mlp.main(["--resume", str(finished)])
    # The final checkpoint sheds what only resuming needs.
    assert not {"optimizer", "scheduler", "rng", "log"} & torch.load(finished, weights_only=True).keys()

    # A run on clothes, stopped by Ctrl-C in its second epoch...
    calls = []
    original = training.train_epoch

    def interrupted_in_epoch_2(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(training, "train_epoch", interrupted_in_epoch_2)
    with pytest.raises(common.Interrupted):
        train_mlp.main([*small, "--data-dir", str(fashion_dir), "--dataset", "fashion-mnist", "--epochs", "2",
                        "--out", str(tmp_path / "f.pt")])
    monkeypatch.undo()
    in_progress = tmp_path / "f-in-progress.pt"
    # ...refuses options that would change the training, rather than ignore them...
    with pytest.raises(common.UserError, match="--epochs 20 differs from its 2: leave --epochs out"):
        train_mlp.main(["--resume", str(in_progress), "--data-dir", str(fashion_dir), "--epochs", "20"])
    # ...and goes on without --dataset: the checkpoint knows it, and it says which options it keeps.
    capsys.readouterr()
    train_mlp.main(["--resume", str(in_progress), "--data-dir", str(fashion_dir)])
    assert "keeping its options --dataset fashion-mnist --epochs 2 " in capsys.readouterr().out
    assert common.load_checkpoint(tmp_path / "f.pt")["dataset"] == "fashion-mnist"
