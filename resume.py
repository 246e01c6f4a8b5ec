"""Resuming an interrupted training run, so that it ends exactly as the uninterrupted run would.

Read this after training.py, whose Run saves the run so far after every epoch and calls restore()
when a run is resumed. Ending "exactly" takes more than the weights: the optimiser's moving
averages, the learning-rate schedule's position, the random number generators (which shuffle and
augment), the epoch log, and every option that shapes the training.

    python train_cnn.py --resume checkpoints/cnn-in-progress.pt
"""

from __future__ import annotations

import argparse

import torch
from torch import nn

import common

# The options that shape the training: a resumed run takes them from its checkpoint.
KEPT_BY_RESUME = ["dataset", "epochs", "batch_size", "lr", "val_size", "seed", "limit", "precision", "out"]


def parse_args(parser: argparse.ArgumentParser, argv: list[str] | None, model_name: str,
               ) -> tuple[argparse.Namespace, dict | None]:
    """The options, and with --resume the checkpoint to continue, whose options then come back too.

    Whatever shapes the training (KEPT_BY_RESUME) comes back as the run started, so that it ends as
    it would have; an option given on the command line that differs is refused, not ignored. Where
    the data is, where to compute and which pictures to draw may change.
    """
    args = parser.parse_args(argv)
    if not args.resume:
        return args, None
    checkpoint = common.load_checkpoint(args.resume)
    if checkpoint["model"] != model_name:
        raise common.UserError(f"{args.resume} is a {checkpoint['model']} checkpoint: "
                               f"resume it with train_{checkpoint['model']}.py")
    if "optimizer" not in checkpoint:
        if checkpoint.get("epochs", 0) >= checkpoint.get("args", {}).get("epochs", 0):
            raise common.UserError(f"{args.resume} has finished all its {checkpoint['epochs']} epochs; "
                                   "nothing to resume")
        raise common.UserError(f"{args.resume} holds no training state to resume from")
    started = checkpoint.get("args", {})
    if not set(KEPT_BY_RESUME) <= started.keys():
        raise common.UserError(f"{args.resume} does not hold the options it started with")
    # Which kept options the command line gives, even at their default value: parse it once more,
    # with a marker as their default.
    unset, defaults = object(), {key: parser.get_default(key) for key in KEPT_BY_RESUME}
    parser.set_defaults(**dict.fromkeys(KEPT_BY_RESUME, unset))
    explicit = vars(parser.parse_args(argv))
    parser.set_defaults(**defaults)
    for key in KEPT_BY_RESUME:
        given = explicit[key]
        if given is not unset and given != started[key]:
            option = "--" + key.replace("_", "-")
            raise common.UserError(f"--resume continues {args.resume} with the options it started with, "
                                   f"and {option} {given} differs from its {started[key]}: leave {option} out, "
                                   "or start a new run")
    return argparse.Namespace(**{**vars(args), **{key: started[key] for key in KEPT_BY_RESUME}}), checkpoint


def training_state(optimizer: torch.optim.Optimizer, scheduler: torch.optim.lr_scheduler.LRScheduler | None,
                   log: list, device: torch.device) -> dict:
    """What continuing exactly where a run stopped needs, beyond the model itself."""
    state = {"optimizer": optimizer.state_dict(),
             "scheduler": scheduler.state_dict() if scheduler else None,
             "rng": {"cpu": torch.get_rng_state()}, "log": log}  # so that shuffling and augmentation go on the same
    if device.type == "cuda":
        state["rng"]["cuda"] = torch.cuda.get_rng_state(device)
    return state


def restore(checkpoint: dict, model: nn.Module, optimizer: torch.optim.Optimizer,
            scheduler: torch.optim.lr_scheduler.LRScheduler | None, device: torch.device) -> list:
    """Put the model, optimiser, schedule and random numbers back as they were; returns the epoch log."""
    model.load_state_dict(checkpoint["state_dict"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    if scheduler:
        scheduler.load_state_dict(checkpoint["scheduler"])
    torch.set_rng_state(checkpoint["rng"]["cpu"])
    if device.type == "cuda" and "cuda" in checkpoint["rng"]:
        torch.cuda.set_rng_state(checkpoint["rng"]["cuda"], device)
    return checkpoint["log"]
