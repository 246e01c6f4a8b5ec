"""Loading, splitting and normalising the data, and the batched augmentation."""

import subprocess
import sys

import pytest
import torch
import torchvision

import augment
import common
import nondigits
from conftest import ROOT


def test_split_shapes_and_dtypes(mnist):
    assert mnist.train_x.shape == (55_000, 1, 28, 28)
    assert mnist.val_x.shape == (5_000, 1, 28, 28)
    assert mnist.test_x.shape == (10_000, 1, 28, 28)
    for images, labels in [(mnist.train_x, mnist.train_y), (mnist.val_x, mnist.val_y), (mnist.test_x, mnist.test_y)]:
        assert images.dtype == torch.float32 and labels.dtype == torch.int64
        assert len(images) == len(labels)
        assert set(labels.unique().tolist()) == set(range(10))
    assert mnist.classes == [str(digit) for digit in range(10)]


def test_normalised_with_training_statistics(mnist):
    # MNIST's published training-set figures, to three decimals (the validation images are left out).
    assert mnist.mean == pytest.approx(0.1307, abs=1e-3)
    assert mnist.std == pytest.approx(0.3081, abs=1e-3)
    assert mnist.train_x.mean().item() == pytest.approx(0.0, abs=1e-4)
    assert mnist.train_x.std().item() == pytest.approx(1.0, abs=1e-4)
    # Background pixels (0) all map to the same value, -mean/std.
    assert mnist.test_x.min().item() == pytest.approx(-mnist.mean / mnist.std, abs=1e-5)


def test_split_is_reproducible_and_disjoint(mnist, mnist_dir):
    again = common.load_data("mnist", mnist_dir, val_size=5000)
    assert torch.equal(again.val_x, mnist.val_x) and torch.equal(again.train_y, mnist.train_y)
    # Train and validation together hold each of the 60,000 training images exactly once.
    raw = torchvision.datasets.MNIST(str(mnist_dir), train=True).data
    pixels = lambda x: (x * mnist.std + mnist.mean).mul(255).round().to(torch.uint8)  # undo normalise()
    both = torch.cat([pixels(mnist.train_x), pixels(mnist.val_x)]).squeeze(1)
    as_rows = lambda images: sorted(bytes(image) for image in images.flatten(1).numpy())
    assert as_rows(both) == as_rows(raw)


def test_limit_and_val_size(mnist_dir):
    small = common.load_data("mnist", mnist_dir, val_size=300, limit=1000)
    assert (len(small.train_x), len(small.val_x), len(small.test_x)) == (1000, 300, 1000)
    none = common.load_data("mnist", mnist_dir, val_size=0, limit=10)
    assert len(none.val_x) == 0


def test_read_idx_reads_the_header_and_every_byte(tmp_path):
    # A 2x3x2 array of bytes in IDX: zero, zero, type 8 (unsigned byte), 3 dimensions, their sizes.
    path = tmp_path / "tiny-idx3-ubyte"
    path.write_bytes(bytes([0, 0, 8, 3]) + (2).to_bytes(4, "big") + (3).to_bytes(4, "big")
                     + (2).to_bytes(4, "big") + bytes(range(12)))
    assert torch.equal(common.read_idx(path), torch.arange(12, dtype=torch.uint8).view(2, 3, 2))


def test_read_dataset_matches_torchvision(mnist_dir):
    images, labels = common.read_dataset("mnist", mnist_dir, train=True)
    theirs = torchvision.datasets.MNIST(str(mnist_dir), train=True)
    assert torch.equal(images, theirs.data) and torch.equal(labels, theirs.targets)
    assert common.CLASSES["fashion-mnist"] == torchvision.datasets.FashionMNIST.classes


def test_training_never_imports_torchvision_when_the_files_are_there(mnist_dir):
    # torchvision takes about a second to import: it is needed only to download the files.
    code = ("import sys, common, train_cnn; common.load_data('mnist', sys.argv[1], limit=10); "
            "print('torchvision' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code, str(mnist_dir)], capture_output=True, text=True,
                            cwd=ROOT, check=True)
    assert result.stdout.strip() == "False"


def test_missing_dataset_without_network_is_a_user_error(tmp_path, monkeypatch):
    # Port 9 on this machine refuses connections: the download fails at once, as it would offline.
    monkeypatch.setattr(torchvision.datasets.MNIST, "mirrors", ["http://127.0.0.1:9/"])
    with pytest.raises(common.UserError) as error:
        common.load_data("mnist", tmp_path)
    message = str(error.value)
    assert "\n" not in message
    assert str(tmp_path / "MNIST" / "raw") in message and "train-images-idx3-ubyte" in message


def test_random_affine_keeps_shape_background_and_mass(mnist):
    torch.manual_seed(0)
    images = mnist.test_x[:256]
    moved = augment.random_affine(images, degrees=10, shift=2, scale=0.1)
    assert moved.shape == images.shape and moved.dtype == images.dtype
    assert not torch.equal(moved, images)
    background = -mnist.mean / mnist.std
    # Corners stay background, and the ink moves rather than vanishing.
    assert torch.allclose(moved[:, :, 0, 0], torch.full((256, 1), background), atol=1e-4)
    ink = lambda x: (x - background).sum(dim=(1, 2, 3))  # noqa: E731
    assert torch.allclose(ink(moved), ink(images), rtol=0.25)


def test_random_affine_with_no_change_is_identity(mnist):
    images = mnist.test_x[:16]
    assert torch.allclose(augment.random_affine(images, degrees=0, shift=0, scale=0), images, atol=1e-5)


def test_random_affine_flip_mirrors_about_half(mnist):
    torch.manual_seed(0)
    images = mnist.test_x[:200]
    out = augment.random_affine(images, degrees=0, shift=0, scale=0, flip=True)
    same = torch.isclose(out, images, atol=1e-5).flatten(1).all(1)
    mirrored = torch.isclose(out, images.flip(-1), atol=1e-5).flatten(1).all(1)
    assert bool((same | mirrored).all())
    assert 60 < int(mirrored.sum()) < 140


def test_drawn_pictures_are_kept_beside_the_data_and_read_back_the_same(tmp_path, monkeypatch):
    calls = []

    def draw():
        calls.append(1)
        return {"images": torch.rand(5, 28, 28), "labels": torch.arange(5)}
    digits = torch.rand(10, 1, 28, 28)
    first = nondigits.kept(tmp_path, "test-5-1", [digits], draw)
    again = nondigits.kept(tmp_path, "test-5-1", [digits], draw)
    assert len(calls) == 1 and len(list((tmp_path / "drawn").glob("test-5-1-*.pt"))) == 1
    torch.testing.assert_close(first, again, rtol=0, atol=0)
    # Kept as bytes, and used as bytes when just drawn too, so that both runs see the same pictures.
    assert torch.equal(first["images"] * 255, (first["images"] * 255).round())
    assert first["labels"].tolist() == [0, 1, 2, 3, 4]
    # Other digits to draw from, other drawing code (here or in the file of draw()): drawn again,
    # and kept under another name.
    nondigits.kept(tmp_path, "test-5-1", [digits.flip(0)], draw)
    monkeypatch.setattr(nondigits, "__file__", str(ROOT / "common.py"))
    nondigits.kept(tmp_path, "test-5-1", [digits], draw)
    elsewhere = tmp_path / "elsewhere.py"
    elsewhere.write_text("def draw():\n    return {'images': __import__('torch').rand(5, 28, 28)}\n")
    namespace = {}
    exec(compile(elsewhere.read_text(), str(elsewhere), "exec"), namespace)
    nondigits.kept(tmp_path, "test-5-1", [digits], namespace["draw"])
    elsewhere.write_text(elsewhere.read_text() + "# edited\n")
    nondigits.kept(tmp_path, "test-5-1", [digits], namespace["draw"])
    assert len(calls) == 3 and len(list((tmp_path / "drawn").glob("test-5-1-*.pt"))) == 5
    # Without a data folder, or where nothing can be written, nothing is kept and the run goes on.
    (tmp_path / "a file").write_text("not a folder")
    for nowhere in (None, tmp_path / "a file"):
        assert nondigits.kept(nowhere, "test-5-1", [digits], draw)["images"].shape == (5, 28, 28)
    assert len(calls) == 5


@pytest.mark.parametrize("content", [b"half a file", b"PK\x03\x04 and then nothing", None])
def test_a_kept_file_that_cannot_be_used_is_left_as_it_is_and_drawn_again(tmp_path, content):
    draw = lambda: {"images": torch.full((3, 28, 28), 0.5)}  # noqa: E731
    nondigits.kept(tmp_path, "test", [], draw)
    (path,) = (tmp_path / "drawn").glob("test-*.pt")
    if content is None:  # a readable file of the wrong shape
        torch.save({"images": torch.zeros(3, 5, dtype=torch.uint8)}, path)
        content = path.read_bytes()
    else:
        path.write_bytes(content)
    assert nondigits.kept(tmp_path, "test", [], draw)["images"].mean().item() == pytest.approx(0.5, abs=0.003)
    assert path.read_bytes() == content  # never overwritten: these scripts may not have written it
