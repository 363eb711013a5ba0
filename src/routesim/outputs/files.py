"""Writing files all or nothing: the one atomic writer of a file and the one of a directory.

Either is written under a hidden temporary name beside its target and renamed over it (``os.replace``) only
once complete, so an error, a full disk or Ctrl-C leaves the earlier file or directory as it was and no
temporary behind. Every command that writes goes through here.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from routesim.errors import ScenarioError

MARKER = ".routesim"
"""File that marks a directory as routesim's output, which a later run may replace."""


@contextlib.contextmanager
def atomic_file(target: Path) -> Iterator[Path]:
    """A new empty file beside ``target`` for the block to write; it replaces ``target`` when the block
    succeeds (flushed to disk first), and is removed if not.

    The path keeps ``target``'s suffix, so that writers choosing a format by it (matplotlib) choose right.
    """
    target = Path(target)
    try:
        fd, name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".partial{target.suffix}", dir=target.parent)
    except OSError as exc:  # name the file asked for, not the temporary one
        raise type(exc)(exc.errno, exc.strerror, str(target)) from None
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private; a file is written for sharing
        with tmp.open("rb+") as fh:  # on disk before the rename, so a crash cannot leave it empty
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(target: Path, text: str) -> None:
    """``text`` as UTF-8 into ``target``, atomically (:func:`atomic_file`)."""
    with atomic_file(target) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="\n")


def check_target(out_dir: Path) -> None:
    """Refuse an output path that holds something other than an earlier routesim output.

    Raises:
        ScenarioError: ``out_dir`` is a file, or a directory with files routesim did not write.
    """
    out_dir = Path(out_dir)
    if out_dir.is_symlink() or (out_dir.exists() and not out_dir.is_dir()):
        raise ScenarioError([f"--out {out_dir}: exists and is not a directory; refusing to replace it"])
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / MARKER).exists():
        raise ScenarioError(
            [f"--out {out_dir}: holds files routesim did not write; refusing to replace it (choose another --out)"]
        )


@contextlib.contextmanager
def atomic_dir(out_dir: Path) -> Iterator[Path]:
    """A temporary directory beside ``out_dir`` that replaces it when the block succeeds, and vanishes if not.

    ``out_dir`` may only be missing, empty, or an earlier routesim output (see :func:`check_target`).
    """
    out_dir = Path(out_dir)
    check_target(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=out_dir.parent))
    try:
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes it private; results are for sharing
        (tmp / MARKER).write_text("written by routesim; a later run may replace this directory\n")
        yield tmp
        _replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _replace(tmp: Path, out_dir: Path) -> None:
    """Move ``tmp`` to ``out_dir``. An existing ``out_dir`` is moved aside first (a directory cannot be
    renamed over a full one), put back if the move fails, and removed only once the new one is in place."""
    if not (out_dir.exists() or out_dir.is_symlink()):
        os.replace(tmp, out_dir)
        return
    aside = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
    try:
        os.replace(out_dir, aside / out_dir.name)
        try:
            os.replace(tmp, out_dir)
        except BaseException:
            os.replace(aside / out_dir.name, out_dir)
            raise
    except BaseException:
        with contextlib.suppress(OSError):  # empty again; were it not, it would hold the earlier output: keep it
            aside.rmdir()
        raise
    shutil.rmtree(aside, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
