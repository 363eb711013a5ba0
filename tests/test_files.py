"""The atomic writers: a failure at any point of a write leaves the earlier file or directory as it was and no
temporary file behind."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path
from typing import Any

import pytest

from routesim.analysis import sweep
from routesim.outputs import files
from test_robustness import cli


class Unwritable:
    """A value whose text fails: the writer stops in the middle of its rows."""

    def __str__(self) -> str:
        raise KeyboardInterrupt


def test_an_interrupted_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    (tmp_path / "sweep.csv").write_text("old rows\n")
    rows: list[dict[str, Any]] = [{"scenario": "a", "x": i} for i in range(1000)]
    rows.append({"scenario": "a", "x": Unwritable()})
    with pytest.raises(KeyboardInterrupt):
        sweep.write_summary(tmp_path, rows)
    assert (tmp_path / "sweep.csv").read_text() == "old rows\n"
    assert [p.name for p in tmp_path.iterdir()] == ["sweep.csv"]
    sweep.write_summary(tmp_path, rows[:2])
    assert (tmp_path / "sweep.csv").read_text().splitlines() == ["scenario,x", "a,0", "a,1"]
    assert [p.name for p in tmp_path.iterdir()] == ["sweep.csv"]


@pytest.mark.e2e
def test_a_full_disk_keeps_the_old_file_and_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "routesim.schema.json"
    target.write_text("{}\n")

    def full(fd: int) -> None:  # the data written, not yet on disk
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", full)
    code, err = cli("schema", "--out", str(target))
    assert code == 1 and "disk is full" in err and "Traceback" not in err
    assert target.read_text() == "{}\n"
    assert [p.name for p in tmp_path.iterdir()] == [target.name]
    monkeypatch.undo()
    assert cli("schema", "--out", str(target))[0] == 0
    assert json.loads(target.read_text())["title"] == "routesim scenario"


@pytest.mark.e2e
def test_a_file_in_a_missing_folder_is_named_as_asked(tmp_path: Path) -> None:
    code, err = cli("schema", "--out", str(tmp_path / "nowhere" / "s.json"))
    assert code == 1 and f"{tmp_path / 'nowhere' / 's.json'}: No such file" in err and ".partial" not in err


def test_the_temporary_file_keeps_the_suffix(tmp_path: Path) -> None:
    with files.atomic_file(tmp_path / "plot.png") as tmp:
        assert tmp.parent == tmp_path and tmp.suffix == ".png" and tmp.name.startswith(".")
        tmp.write_bytes(b"png")
    assert (tmp_path / "plot.png").read_bytes() == b"png"


def test_a_directory_that_cannot_be_moved_into_place_leaves_the_old_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "run"
    with files.atomic_dir(out) as tmp:
        (tmp / "summary.json").write_text("old")
    real = os.replace

    def refuse_the_new(src: Any, dst: Any) -> None:
        if Path(src).name.startswith(".run.partial-"):
            raise OSError(errno.EIO, "Input/output error")
        real(src, dst)

    monkeypatch.setattr(files.os, "replace", refuse_the_new)
    with pytest.raises(OSError, match="Input/output"), files.atomic_dir(out) as tmp:
        (tmp / "summary.json").write_text("new")
    assert (out / "summary.json").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
