"""Digits as many writers outside MNIST's write them: a 1 with a long flag, a 7 crossed.

Read this file to learn why a network is only as broad as its data. MNIST's digits were written by
American clerks and schoolchildren, who mostly wrote a 1 as one straight stroke. Much of the world
starts a 1 with a long upstroke (a flag) and crosses its 7 to tell the two apart; a network that
seldom saw such a 1 reads it as a 7. Here such digits are drawn with the same wobbly pen as the
non-digits (nondigits.render), and train_cnn.py learns from them beside MNIST's own.

    python writers.py            # writes checkpoints/writers.png, a sheet of examples
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

import common
import nondigits
import report


def flagged_one(rng: np.random.Generator) -> list:
    """A 1 whose flag runs up from the left to the top of its stem, at times with a foot: strokes in
    a unit square, y downwards. The flag always falls to the left, unlike a 7's bar, which runs across."""
    stem, length, angle = 0.6, rng.uniform(0.25, 0.45), np.radians(rng.uniform(45, 65))
    drop = min(length * np.sin(angle), 0.3)  # a flag that falls further reads as a ^
    flag = [(stem - length * np.cos(angle), drop), (stem, 0.0), (stem, 1.0)]
    if rng.random() < 0.3:
        return [flag, [(stem - rng.uniform(0.25, 0.4), 1.0), (stem + rng.uniform(0.25, 0.4), 1.0)]]
    return [flag]


def crossed_seven(rng: np.random.Generator) -> list:
    """A 7 with a bar across its stem."""
    foot = rng.uniform(0.25, 0.55)
    middle = rng.uniform(0.4, 0.6)
    across = foot + (1 - middle) * (1 - foot)  # where the stem passes the middle
    return [[(0.0, rng.uniform(0.0, 0.1)), (1.0, 0.0), (foot, 1.0)],
            [(across - rng.uniform(0.2, 0.35), middle), (across + rng.uniform(0.2, 0.35), middle)]]


STYLES = {1: flagged_one, 7: crossed_seven}


def styled(count: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """`count` digits in these styles [count, 28, 28] in [0, 1], MNIST-like, and their labels: three
    flagged 1s to each crossed 7, the same ones for the same seed."""
    rng = np.random.default_rng(seed + 4)
    labels = [1 if rng.random() < 0.75 else 7 for _ in range(count)]
    images = [nondigits.render(STYLES[label](rng), rng) for label in labels]
    return torch.from_numpy(np.stack(images)), torch.tensor(labels)


def kept_styled(count: int, seed: int, data_dir: str | Path | None) -> dict[str, torch.Tensor]:
    """What styled() draws, as "images" and "labels": drawn once, and kept in data_dir for the runs
    after (nondigits.kept, which redraws them when this file changes)."""
    def draw() -> dict[str, torch.Tensor]:
        return dict(zip(["images", "labels"], styled(count, seed)))
    return nondigits.kept(data_dir, f"writers-{count}-{seed}", [], draw)


def main(argv: list[str] | None = None) -> None:
    def sheet(seed: int) -> tuple[torch.Tensor, list[str]]:
        images, labels = styled(100, seed)
        return images, [str(label) for label in labels.tolist()]
    report.sheet_command(argv, "flagged 1s and crossed 7s", "checkpoints/writers.png", sheet)


if __name__ == "__main__":
    common.run(main)
