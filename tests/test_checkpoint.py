"""Checkpoints: a faithful round trip, atomic writes, and safe loading."""

import os

import pytest
import torch

import common
import files
import predict
import training
from conftest import Payload, tiny_data, train_tiny
from train_cnn import CNN
from train_mlp import MLP


@pytest.mark.parametrize("name, model_class", [("mlp", MLP), ("cnn", CNN)])
def test_round_trip(name, model_class, tmp_path, capsys):
    torch.manual_seed(0)
    model = model_class()
    path = tmp_path / "model.pt"
    train_tiny(name, model, path)
    assert "saved" in capsys.readouterr().out

    checkpoint = torch.load(path, weights_only=True)  # plain torch, the safe way, must work
    assert checkpoint["model"] == name
    assert checkpoint["dataset"] == "mnist"
    assert checkpoint["classes"] == [str(d) for d in range(10)]
    assert (checkpoint["mean"], checkpoint["std"]) == (0.13, 0.31)
    assert checkpoint["epochs"] == 2
    assert 0 <= checkpoint["test_accuracy"] <= 100
    assert checkpoint["args"]["batch_size"] == 16 and checkpoint["args"]["out"] == str(path)

    rebuilt = predict.model_from_checkpoint(common.load_checkpoint(path))
    assert type(rebuilt) is model_class and not rebuilt.training
    x = torch.randn(5, 1, 28, 28)
    with torch.inference_mode():
        assert torch.equal(rebuilt(x), model.eval()(x))
    # Nothing but the checkpoint and its log is left in its folder: the temporary file was renamed away.
    assert sorted(os.listdir(tmp_path)) == ["model-log.csv", "model.pt"]


def test_interrupted_save_keeps_the_old_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "model.pt"
    files.save_checkpoint({"version": 1}, path)

    def save_half_then_fail(obj, file):
        file.write(b"half a checkpoint")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", save_half_then_fail)
    with pytest.raises(KeyboardInterrupt):
        files.save_checkpoint({"version": 2}, path)
    monkeypatch.undo()
    assert torch.load(path, weights_only=True) == {"version": 1}
    assert os.listdir(tmp_path) == ["model.pt"]


def test_checkpoint_gets_the_usual_file_permissions(tmp_path):
    # The temporary file is created private to its owner; the finished checkpoint must not stay so.
    umask = os.umask(0o022)
    try:
        files.save_checkpoint({"version": 1}, tmp_path / "model.pt")
    finally:
        os.umask(umask)
    assert (tmp_path / "model.pt").stat().st_mode & 0o777 == 0o644


def test_pickled_code_is_refused_never_run(tmp_path):
    marker = tmp_path / "code-ran"
    path = tmp_path / "evil.pt"
    torch.save({"model": "cnn", "state_dict": {}, "mean": 0.1, "std": 0.3, "classes": [], "dataset": "mnist",
                "extra": Payload(marker)}, path)
    with pytest.raises(common.UserError, match="refusing"):
        common.load_checkpoint(path)
    assert not marker.exists()


@pytest.mark.parametrize("content, match", [
    (b"", "not a readable checkpoint"),
    (b"this is not a checkpoint", "not a readable checkpoint"),
    (None, "no checkpoint"),
])
def test_broken_checkpoints_are_user_errors(tmp_path, content, match):
    path = tmp_path / "broken.pt"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(common.UserError, match=match):
        common.load_checkpoint(path)


def test_truncated_and_foreign_checkpoints(tmp_path):
    good = tmp_path / "good.pt"
    files.save_checkpoint({"model": "mlp", "state_dict": MLP().state_dict(), "mean": 0.1, "std": 0.3,
                            "classes": list("0123456789"), "dataset": "mnist"}, good)
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.read_bytes()[:1000])
    with pytest.raises(common.UserError, match="not a readable checkpoint"):
        common.load_checkpoint(truncated)

    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(3)}, foreign)
    with pytest.raises(common.UserError, match="not a checkpoint written by"):
        common.load_checkpoint(foreign)

    # The right keys, but the weights belong to the other model.
    swapped = torch.load(good, weights_only=True) | {"model": "cnn"}
    with pytest.raises(common.UserError, match="do not fit"):
        predict.model_from_checkpoint(swapped)
    with pytest.raises(common.UserError, match="unknown model"):
        predict.model_from_checkpoint(swapped | {"model": "transformer"})


def test_nan_loss_stops_training():
    model = MLP()
    with torch.no_grad():
        model.layers[1].weight.fill_(float("nan"))
    data = tiny_data()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(common.UserError, match="NaN"):
        training.train_epoch(model, training.Recipe(optimizer, epochs=1, batch_size=16),
                           training.shuffled_batches(data.train_x, data.train_y, 16))
