"""Writing files safely: never half-written, never over a file these scripts did not write.

Read this after common.py. Every file the scripts write (checkpoints, pictures, the epoch log, the
inputs predict.py saves) goes through write_file(): into a temporary file beside its place, flushed
to the disk, then renamed into place in one step, so that a crash, a full disk or Ctrl-C leaves the
old file or the new one, never half of one. Before a run writes anything, check_writable() and
check_not_clobbering() make sure that it can, and that it overwrites only what it wrote itself.
And kept(): work that takes seconds, such as drawing thousands of non-digits, done once and kept
in a file for the runs after.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import BinaryIO, Callable

import torch

from common import FILE_SIZES, UserError, WriteError, load_checkpoint


def check_writable(path: Path) -> None:
    """Fail now, in one line, if a file cannot be written at `path`, not after an hour of training."""
    if path.exists() and not path.is_file():
        raise UserError(f"{path} is a {'directory' if path.is_dir() else 'device or other special file'}; "
                        f"give a file name such as {path / 'model.pt' if path.is_dir() else 'model.pt'}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=path.parent).close()  # the one sure test: write a file there
    except OSError as error:
        raise UserError(f"cannot write in {path.parent}: {error.strerror or error}") from None


def check_folder(folder: Path, option: str) -> None:
    """Fail now, in one line, if pictures cannot be saved into `folder` (given with `option`): a file
    of that name is there, or the folder cannot be made or written in."""
    if folder.exists() and not folder.is_dir():
        raise UserError(f"{option} {folder} is a file, not a folder")
    check_writable(folder / "example.png")


SOFTWARE = "mnist-pytorch"  # written into every picture the scripts make, so that they know their own


def written_by_us(path: Path) -> bool:
    """Whether an existing file is one these scripts wrote, and may be written again: a checkpoint,
    a picture that says so, or an epoch log."""
    try:
        with open(path, "rb") as file:
            start = file.read(1 << 16)
    except OSError:
        return False
    if start.startswith(b"\x89PNG"):
        return b"Software\x00" + SOFTWARE.encode() in start
    if start.startswith(b"PK"):  # a zip archive, as torch.save writes: one of our checkpoints?
        try:
            load_checkpoint(path)
            return True
        except UserError:
            return False
    return path.suffix == ".csv" and start.startswith(b"epoch,train_loss,")


def check_not_clobbering(paths: list[Path], force: bool = False,
                         advice: str = "give --out another name, or add --force to overwrite it") -> None:
    """Refuse, in one line, to overwrite a file these scripts did not write (unless `force`), and ever
    a dataset's file: a typo in --out must not cost a user's own file."""
    for path in paths:
        if path.name.removesuffix(".gz") in FILE_SIZES:
            raise UserError(f"{path} is a dataset file, never overwritten; give --out another name")
        if path.is_file() and not force and not written_by_us(path):
            raise UserError(f"{path} exists and was not written by these scripts; {advice}")


LEFTOVER_SECONDS = 3600  # a temporary file this old was left by a run that was killed while writing


def write_file(path: str | Path, write: Callable[[BinaryIO], object]) -> None:
    """Write a file so that it is never seen half-written: `write` fills a temporary file beside
    `path`, which is flushed to the disk and then renamed into place. A rename within one folder is
    atomic, so a crash, a full disk or Ctrl-C leaves either the old file or the new one. Whatever
    fails is one line that names the file; what a killed run left behind is cleared away."""
    path = Path(path)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        for old in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
            if time.time() - old.stat().st_mtime > LEFTOVER_SECONDS:
                old.unlink(missing_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())  # on the disk before the rename makes it the file
        umask = os.umask(0)  # reading the umask means setting it; put it straight back
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's file is private; give it the usual permissions
        os.replace(tmp, path)
    except OSError as error:
        raise WriteError(f"cannot write {path}: {error.strerror or error}") from None
    except RuntimeError as error:  # how torch.save's own writer reports a write that failed
        # Its words ("unexpected pos 1664 vs 1558") name no cause; the usual one is a full disk,
        # which the unfinished file still fills.
        try:
            full = shutil.disk_usage(path.parent).free < 1 << 20
        except OSError:
            full = False
        raise WriteError(f"cannot write {path}: {'no space left on the disk' if full else error}") from None
    finally:
        if tmp and os.path.exists(tmp):
            os.unlink(tmp)


def save_checkpoint(checkpoint: dict, path: str | Path) -> None:
    write_file(path, lambda file: torch.save(checkpoint, file))


def kept(path: Path | None, make: Callable[[], dict[str, torch.Tensor]],
         usable: Callable[[dict[str, torch.Tensor]], bool]) -> dict[str, torch.Tensor]:
    """What make() returns, kept at `path` for the next call with the same path, which reads it
    instead of making it again; `path` must name all that the result depends on (see
    nondigits.kept), and None keeps nothing. A file there that cannot be read, or is not `usable`,
    is left as it is (these scripts may not have written it) and the result made again; where
    nothing can be written, nothing is kept, and the run goes on."""
    if path is not None:
        with contextlib.suppress(Exception):  # missing, truncated or foreign: make it again
            value = torch.load(path, map_location="cpu", weights_only=True)
            if isinstance(value, dict) and all(isinstance(v, torch.Tensor) for v in value.values()) and usable(value):
                return value
    value = make()
    if path is not None and not path.exists():
        with contextlib.suppress(WriteError):
            write_file(path, lambda file: torch.save(value, file))
    return value
