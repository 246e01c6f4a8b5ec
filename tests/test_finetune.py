"""Teaching it your handwriting: draw.py --collect saves labelled examples, finetune.py learns from them.

The writer here (pictures.my_hand) writes digits as a calculator shows them, leaning back, with a
broad pen: far from MNIST. Run with -s to see the figures.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import common
import draw
import files
import finetune
import images
import pictures
import predict
from conftest import drawn_seven, get, png, post, read_all, run_script, start_server


def my_digits(folder: Path, per_digit: int, seed: int) -> None:
    """Write `per_digit` examples of each digit in the writer's hand: folder/0/..., folder/9/..."""
    rng = np.random.default_rng(seed)
    for digit in range(10):
        (folder / str(digit)).mkdir(parents=True, exist_ok=True)
        for k in range(per_digit):
            pictures.my_hand(digit, rng).save(folder / str(digit) / f"{k}.png")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_finetune_learns_a_new_hand_and_forgets_nothing(cnn_checkpoint, mnist_dir, tmp_path):
    start = tmp_path / "cnn.pt"
    shutil.copy(cnn_checkpoint, start)
    before_digest = digest(start)
    my_digits(tmp_path / "mine", 6, seed=1)
    (tmp_path / "mine" / "3" / "broken.png").write_bytes(b"\x89PNG not really")  # skipped, in one line
    (tmp_path / "mine" / "3" / "notes.txt").write_text("not a picture, and not read")
    rng = np.random.default_rng(2)  # ten others of each digit, never seen in fine-tuning
    tests = [(digit, pictures.jpeg(pictures.my_hand(digit, rng))) for digit in range(10) for _ in range(10)]

    result = run_script("finetune.py", str(tmp_path / "mine"), "--checkpoint", str(start),
                        "--data-dir", str(mnist_dir))
    assert result.returncode == 0, result.stderr
    assert digest(start) == before_digest, "the checkpoint it starts from is never changed"
    mine = tmp_path / "cnn-mine.pt"  # the default: beside the one it started from

    def read_right(checkpoint: Path) -> float:
        results = read_all(checkpoint, [picture for _, picture in tests])
        return 100 * np.mean([r["prediction"] == str(digit) for r, (digit, _) in zip(results, tests)])

    before, after = read_right(start), read_right(mine)
    new = common.load_checkpoint(mine)
    print(f"\n{result.stdout}100 more digits in the same hand: {before:.0f}% read right before, {after:.0f}% after; "
          f"MNIST test accuracy after: {new['test_accuracy']:.2f}%")
    assert before <= 80, "the hand must be one that MNIST's network reads badly"
    assert after >= 90 and new["test_accuracy"] >= 99.4
    assert new["threshold"] != common.load_checkpoint(start)["threshold"], 'the "not a digit" bar is set again'
    assert "kept aside" in result.stdout and " before   after" in result.stdout
    skipped = [line for line in result.stdout.splitlines() if line.startswith("skipped ")]
    assert any("broken.png: not an image file" in line for line in skipped)
    assert not any("notes.txt" in line for line in skipped)


@pytest.fixture(scope="module")
def fashion_mlp(fashion_dir, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("fashion") / "mlp.pt"
    result = run_script("train_mlp.py", "--dataset", "fashion-mnist", "--data-dir", str(fashion_dir), "--epochs", "1",
                        "--limit", "2000", "--out", str(out), "--no-samples", "--no-mistakes")
    assert result.returncode == 0, result.stderr
    return out


def test_finetune_an_mlp_on_clothes_named_by_their_folders(fashion_mlp, fashion_dir, tmp_path):
    images, labels = common.read_dataset("fashion-mnist", fashion_dir, train=False)
    rng = np.random.default_rng(0)
    for name, c in (("Trouser", 1), ("T-shirt-top", 0), ("ankle boot", 9)):  # any case
        (tmp_path / "mine" / name).mkdir(parents=True)
        for i in (labels == c).nonzero()[:4, 0].tolist():
            pictures.shop_photo(images[i].numpy(), rng).save(tmp_path / "mine" / name / f"{i}.jpg")
    out = tmp_path / "mlp-mine.pt"
    result = run_script("finetune.py", str(tmp_path / "mine"), "--checkpoint", str(fashion_mlp), "--out", str(out),
                        "--data-dir", str(fashion_dir), "--epochs", "2")
    assert result.returncode == 0, result.stderr
    assert "12 examples of 3 classes" in result.stdout
    checkpoint = common.load_checkpoint(out)
    assert checkpoint["model"] == "mlp" and checkpoint["classes"][0] == "T-shirt/top"
    assert run_script("predict.py", "--checkpoint", str(out), str(tmp_path / "mine" / "Trouser")).returncode == 0


@pytest.mark.parametrize("layout, message", [
    ({}, "is not a folder"),
    ({"7": 0}, "no examples in"),
    ({"7": 3, "seven": 3}, "seven is not a class of this model: the folders must be named 0, 1,"),
    ({"7": 3, "1": 2}, "too few examples of 1: at least 3"),
])
def test_finetune_refuses_bad_folders_in_one_line(cnn_checkpoint, tmp_path, layout, message, capsys):
    folder = tmp_path / "mine"
    rng = np.random.default_rng(0)
    for name, count in layout.items():
        (folder / name).mkdir(parents=True)
        for k in range(count):
            pictures.my_hand(7, rng).save(folder / name / f"{k}.png")
    with pytest.raises(SystemExit) as exit_info:  # in this process, as `python finetune.py` runs it
        common.run(lambda: finetune.main([str(folder), "--checkpoint", str(cnn_checkpoint),
                                          "--out", str(tmp_path / "o.pt")]))
    stderr = capsys.readouterr().err
    assert exit_info.value.code == 1 and message in stderr and stderr.count("\n") == 1
    assert not (tmp_path / "o.pt").exists()


def test_finetune_never_overwrites_its_start_nor_a_file_of_yours(cnn_checkpoint, tmp_path):
    folder = tmp_path / "mine"
    my_digits(folder, 3, seed=0)
    result = run_script("finetune.py", str(folder), "--checkpoint", str(cnn_checkpoint), "--out",
                        str(cnn_checkpoint))
    assert result.returncode == 1 and "is the checkpoint it starts from" in result.stderr
    own = tmp_path / "notes.pt"
    own.write_text("a file of the user's")
    result = run_script("finetune.py", str(folder), "--checkpoint", str(cnn_checkpoint), "--out", str(own))
    assert result.returncode == 1 and "was not written by these scripts" in result.stderr
    assert own.read_text() == "a file of the user's"


# ---------------------------------------------------------------------------------------------
# draw.py --collect
# ---------------------------------------------------------------------------------------------

@pytest.fixture
def collecting(cnn_checkpoint, tmp_path):
    process, url = start_server("--checkpoint", str(cnn_checkpoint), "--collect", str(tmp_path / "mine"))
    yield url, tmp_path / "mine"
    process.terminate()
    process.wait(timeout=30)


def test_collect_saves_labels_takes_them_back_and_refuses_bad_ones(collecting, test_digits, cnn_checkpoint):
    url, folder = collecting
    status, state = get(url, "/collect")
    assert status == 200 and state["counts"] == [0] * 10 and state["classes"][7] == "7"

    status, answer = post(url, drawn_seven(), "/collect?label=7")
    assert status == 200 and answer["counts"][7] == 1
    saved = Path(answer["saved"][0])
    assert saved.parent == folder / "7" and saved.suffix == ".png" and files.written_by_us(saved)
    assert images.read_image(saved).size == (280, 280)

    # A whole number, labelled as such: each digit in its own folder.
    digits, labels = test_digits
    number = pictures.number_picture([digits[i] for i in (0, 1, 2)], np.random.default_rng(0))
    label = "".join(str(labels[i]) for i in (0, 1, 2))
    status, answer = post(url, png(number), f"/collect?label={label}")
    assert status == 200 and [Path(p).parent.name for p in answer["saved"]] == list(label)
    status, answer = post(url, png(number), "/collect?label=12")
    assert status == 400 and "3 digits found in the picture, but 12 has 2" in answer["error"]

    # Undo takes back the last save (all of a number's digits), and only that.
    status, answer = post(url, b"", "/collect/undo")
    assert status == 200 and len(answer["removed"]) == 3 and sum(answer["counts"]) == 1
    assert saved.exists() and not any(Path(p).exists() for p in answer["removed"])

    for query, body in (("label=x", drawn_seven()), ("label=", drawn_seven()), ("label=%2F..%2F7", drawn_seven()),
                        ("label=7", b"not an image"), ("label=7", png(Image.new("RGB", (50, 50), "white")))):
        status, answer = post(url, body, f"/collect?{query}")
        assert status == 400 and answer["error"], query
    assert sorted(p.relative_to(folder) for p in folder.rglob("*") if p.is_file()) == [saved.relative_to(folder)]

    # The number photographed large, as a JPEG that is decoded at a fraction of its size: each digit
    # is cut out where it lies in the picture as decoded, and reads as the number did from the PNG.
    big = number.resize((number.width * 10, number.height * 10), Image.Resampling.BICUBIC)
    status, answer = post(url, pictures.jpeg(big), f"/collect?label={label}")
    assert status == 200 and max(images.read_image(io.BytesIO(pictures.jpeg(big))).size) < max(big.size) / 2
    readings = [r["prediction"] for r in read_all(cnn_checkpoint, [Path(p).read_bytes() for p in answer["saved"]])]
    assert readings == list(label) == list(read_all(cnn_checkpoint, [png(number)])[0]["prediction"])


def test_without_collect_nothing_is_written(server, tmp_path):
    assert get(server, "/collect")[0] == 404
    assert post(server, drawn_seven(), "/collect?label=7")[0] == 404
    assert post(server, b"", "/collect/undo")[0] == 404


def test_collect_stops_at_its_limit_and_on_a_full_disk(cnn_checkpoint, tmp_path, monkeypatch):
    # draw.py's own server and handler, in this process, so that the limit and the disk can be made small.
    reader = predict.load_reader(cnn_checkpoint)
    monkeypatch.setattr(draw.Handler, "reader", reader, raising=False)
    monkeypatch.setattr(draw.Handler, "collection", draw.Collection(tmp_path, reader.classes))
    monkeypatch.setattr(draw, "MAX_COLLECTED", 2)
    server = draw.Server(("127.0.0.1", 0), draw.Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        assert [post(url, drawn_seven(), "/collect?label=7")[0] for _ in range(2)] == [200, 200]
        status, answer = post(url, drawn_seven(), "/collect?label=7")
        assert status == 413 and "has saved all it may" in answer["error"]

        def full_disk(path, write):
            raise common.WriteError(f"cannot write {path}: No space left on device")
        monkeypatch.setattr(draw, "MAX_COLLECTED", 100)
        monkeypatch.setattr(files, "write_file", full_disk)
        status, answer = post(url, drawn_seven(), "/collect?label=7")
        assert status == 413 and answer["error"].endswith("No space left on device")
        assert post(url, drawn_seven())[0] == 200  # and the server goes on reading
    finally:
        server.shutdown()
        server.server_close()
    assert len(list((tmp_path / "7").iterdir())) == 2


def test_collect_into_a_file_is_refused_in_one_line(cnn_checkpoint, tmp_path):
    (tmp_path / "mine").write_text("a file, not a folder")
    result = run_script("draw.py", "--checkpoint", str(cnn_checkpoint), "--collect", str(tmp_path / "mine"),
                        "--port", "0", timeout=60)
    assert result.returncode == 1 and result.stderr.strip().endswith("is a file, not a folder")


def test_collect_saves_a_sixteen_bit_picture_as_the_grey_it_reads(cnn_checkpoint, tmp_path):
    reader = predict.load_reader(cnn_checkpoint)
    grey = np.asarray(Image.open(io.BytesIO(drawn_seven())).convert("L"), dtype=np.uint16)
    deep = Image.fromarray(grey * 257)  # 16-bit greyscale, which PNG viewers and Pillow treat apart
    answer = draw.Collection(tmp_path, reader.classes).save(deep, reader.prepare(deep), "7")
    saved = Image.open(answer["saved"][0])
    assert saved.mode == "L" and np.array_equal(np.asarray(saved), grey)
