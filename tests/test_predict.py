"""predict.py: preprocessing like MNIST's, accuracy on files a person would make, and bad input."""

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageFilter

import common
import predict
import train_cnn
from conftest import ROOT

N_IMAGES = 1000


def run_predict(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "predict.py", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="session")
def cnn_checkpoint(mnist_dir, tmp_path_factory) -> Path:
    """A CNN trained briefly on the full training set (about 99% test accuracy)."""
    out = tmp_path_factory.mktemp("checkpoint") / "cnn.pt"
    train_cnn.main(["--data-dir", str(mnist_dir), "--epochs", "2", "--out", str(out), "--device", "cpu"])
    return out


@pytest.fixture(scope="session")
def test_digits(mnist_dir) -> tuple[np.ndarray, np.ndarray]:
    """The first 1,000 MNIST test images as uint8 arrays, and their labels."""
    images, labels = common.read_dataset("mnist", mnist_dir, train=False)
    return images[:N_IMAGES].numpy(), labels[:N_IMAGES].numpy()


def person_like(digit: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """An MNIST digit redrawn as a person would make it: dark on white, large, thicker or thinner, off-centre."""
    size = int(rng.integers(200, 400))
    big = Image.fromarray(255 - digit).resize((size, size), Image.BICUBIC)
    stroke = int(rng.choice([0, 3, 5, 7]))
    if stroke:  # a min filter spreads the dark ink (a thicker pen), a max filter thins it
        big = big.filter(ImageFilter.MinFilter(stroke) if rng.random() < 0.6 else ImageFilter.MaxFilter(stroke))
    canvas = Image.new("L", (size + int(rng.integers(50, 400)), size + int(rng.integers(50, 300))), 255)
    canvas.paste(big, (int(rng.integers(0, canvas.width - size)), int(rng.integers(0, canvas.height - size))))
    return canvas


def as_rgb_jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def as_transparent_png(image: Image.Image) -> bytes:
    """Dark blue ink whose opacity is the darkness of the drawing, on a fully transparent background."""
    rgba = Image.new("RGBA", image.size, (20, 30, 120, 0))
    rgba.putalpha(Image.eval(image, lambda v: 255 - v))
    buffer = io.BytesIO()
    rgba.save(buffer, "PNG")
    return buffer.getvalue()


def accuracy(checkpoint: dict, model: torch.nn.Module, images: list[torch.Tensor], labels: np.ndarray) -> float:
    x = common.normalise(torch.stack(images), checkpoint["mean"], checkpoint["std"])
    predicted = common.predict_logits(model, x).argmax(1).numpy()
    return 100 * (predicted == labels).mean()


def plain_resize(image: Image.Image) -> torch.Tensor:
    """What most tutorials do: greyscale, squeeze to 28x28, nothing else."""
    pixels = np.asarray(image.convert("L").resize((28, 28), Image.BILINEAR), dtype=np.float32) / 255
    return torch.from_numpy(pixels)


def test_mnist_image_comes_through_almost_unchanged(test_digits):
    digits, _ = test_digits
    changes = []
    for digit in digits[:200]:
        processed = predict.preprocess(Image.fromarray(digit))
        changes.append((processed - torch.from_numpy(digit / 255).float()).abs().mean().item())
    # Mean absolute change per pixel, in units of full brightness; a one-pixel shift alone gives ~0.1.
    assert np.median(changes) < 0.02, np.median(changes)
    assert np.mean(changes) < 0.04, np.mean(changes)


def test_clean_pngs_match_in_memory_accuracy(test_digits, cnn_checkpoint, tmp_path):
    digits, labels = test_digits
    checkpoint = common.load_checkpoint(cnn_checkpoint)
    model = common.model_from_checkpoint(checkpoint)
    in_memory = accuracy(checkpoint, model, [torch.from_numpy(d / 255).float() for d in digits], labels)
    through_files = []
    for i, digit in enumerate(digits):
        path = tmp_path / f"{i}.png"
        Image.fromarray(digit).save(path)
        through_files.append(predict.preprocess(predict.read_image(path)))
    from_files = accuracy(checkpoint, model, through_files, labels)
    print(f"\n{N_IMAGES} MNIST test images: in memory {in_memory:.2f}%, as PNG files via predict.py {from_files:.2f}%")
    assert abs(from_files - in_memory) <= 0.3


def test_person_like_images(test_digits, cnn_checkpoint):
    digits, labels = test_digits
    checkpoint = common.load_checkpoint(cnn_checkpoint)
    model = common.model_from_checkpoint(checkpoint)
    clean = accuracy(checkpoint, model, [torch.from_numpy(d / 255).float() for d in digits], labels)
    rng = np.random.default_rng(0)
    ours, plain = [], []
    for i, digit in enumerate(digits):
        drawn = person_like(digit, rng)
        data = as_rgb_jpeg(drawn) if i % 2 == 0 else as_transparent_png(drawn)
        ours.append(predict.preprocess(Image.open(io.BytesIO(data))))
        plain.append(plain_resize(Image.open(io.BytesIO(data))))
    ours_accuracy = accuracy(checkpoint, model, ours, labels)
    plain_accuracy = accuracy(checkpoint, model, plain, labels)
    print(f"\n{N_IMAGES} person-like files (JPEG and transparent PNG): clean {clean:.2f}%, "
          f"predict.py {ours_accuracy:.2f}%, plain resize {plain_accuracy:.2f}%")
    assert ours_accuracy >= clean - 1.5
    assert plain_accuracy < 50
