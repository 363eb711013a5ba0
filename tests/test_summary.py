"""summary.json and manifest.json as typed, versioned records: exact round trips through JSON, files written
before versioning read, newer versions and missing or mistyped fields refused with the file and the key."""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import SCENARIOS
from routesim.analysis import sweep
from routesim.cli import main
from routesim.errors import ScenarioError
from routesim.outputs.rundir import read_run
from routesim.results.summary import Manifest, RunSummary
from test_robustness import cli

pytestmark = pytest.mark.e2e  # every test writes run directories or reads one the command line wrote

READERS = {"summary.json": RunSummary, "manifest.json": Manifest}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A short run with incidents (so losses, risk figures and incident rates), five replications."""
    out = tmp_path_factory.mktemp("summary") / "run"
    assert main(["run", str(SCENARIOS / "cpc-incident-risk.yaml"), "-n", "5", "--set", "horizon_days=60",
                 "--no-plots", "--quiet", "--out", str(out)]) == 0
    return out


def doc(directory: Path, name: str) -> dict[str, Any]:
    return json.loads((directory / name).read_text())


def changed(run_dir: Path, tmp_path: Path, name: str, change: Callable[[dict[str, Any]], Any]) -> Path:
    """A copy of the run directory whose ``name`` (summary.json or manifest.json) has had ``change``."""
    out = shutil.copytree(run_dir, tmp_path / "run")
    data = doc(out, name)
    change(data)
    (out / name).write_text(json.dumps(data))
    return out


def test_summary_round_trips_through_json_exactly(run_dir: Path) -> None:
    data = doc(run_dir, "summary.json")
    summary = RunSummary.from_json(data, "summary.json")
    assert data["schema_version"] == RunSummary.SCHEMA_VERSION == 1
    assert summary.to_json() == data and list(summary.to_json()) == list(data)  # every key, value and order
    assert RunSummary.from_json(json.loads(json.dumps(summary.to_json())), "again") == summary
    # the typed figures are the run's: risk figures on losses only, the means those of replications.csv
    assert summary.metrics["budget_loss_usd"].var95 is not None and summary.metrics["exported_bbl"].var95 is None
    saved = read_run(run_dir)
    assert saved.summary == summary and sorted(saved.replications) == list(range(5)) and len(saved.dates) == 60
    for metric in ("budget_loss_usd", "exported_bbl"):
        values = [r[metric] for r in saved.replications.values()]
        assert summary.metrics[metric].mean == pytest.approx(np.mean(values), rel=1e-12)
    assert summary.incidents_per_year.keys() == {k.removesuffix("_count") for k in saved.replications[0]
                                                 if k.endswith("_count")}


def test_manifest_round_trips_through_json_exactly(run_dir: Path) -> None:
    data = doc(run_dir, "manifest.json")
    manifest = Manifest.from_json(data, "manifest.json")
    assert data["schema_version"] == Manifest.SCHEMA_VERSION == 1
    assert manifest.to_json() == data and list(manifest.to_json()) == list(data)
    assert manifest.command[:2] == ("routesim", "run") and manifest.replications == 5 and manifest.seed == data["seed"]
    blank = dataclasses.replace(manifest, routesim_version=None, git_commit=None, dependencies={"numba": None})
    assert Manifest.from_json(json.loads(json.dumps(blank.to_json())), "again") == blank  # nulls survive


def test_a_fresh_summary_equals_the_one_read_back_from_its_run_directory(tmp_path: Path) -> None:
    """A sweep reuses a finished point by reading its summary.json: the reused figures are the run's."""
    point = (SCENARIOS / "cpc-closure-30d.yaml", ["horizon_days=120"], tmp_path / "p000", 1, ["test"])
    fresh, reused = sweep.run_point(*point)
    again, reused_again = sweep.run_point(*point)
    assert (reused, reused_again) == (False, True)
    assert again == fresh and again.metrics["budget_loss_usd"].mean > 0


def test_files_written_before_versioning_are_read_as_version_1(run_dir: Path, tmp_path: Path) -> None:
    out = changed(run_dir, tmp_path, "summary.json", lambda d: d.pop("schema_version"))
    data = doc(out, "manifest.json")
    del data["schema_version"]
    (out / "manifest.json").write_text(json.dumps(data))
    saved = read_run(out)
    assert saved.summary == RunSummary.from_json(doc(run_dir, "summary.json"), "versioned")
    assert saved.manifest == Manifest.from_json(doc(run_dir, "manifest.json"), "versioned")
    assert cli("report", str(out)) == (0, "")
    assert cli("compare", str(run_dir), str(out), "--out", str(tmp_path / "cmp"), "--quiet") == (0, "")


def test_a_manifest_from_before_the_engine_was_recorded_is_read(run_dir: Path) -> None:
    data = doc(run_dir, "manifest.json")
    for key in ("schema_version", "engine", "engine_reason"):
        del data[key]
    manifest = Manifest.from_json(data, "old/manifest.json")
    assert (manifest.engine, manifest.engine_reason) == ("simpy", "not recorded")


@pytest.mark.parametrize("name", list(READERS))
def test_a_newer_schema_version_is_refused_through_the_cli(run_dir: Path, tmp_path: Path, name: str) -> None:
    out = changed(run_dir, tmp_path, name, lambda d: d.update(schema_version=2))
    code, err = cli("report", str(out))
    assert code == 2
    assert err == f"error: {out / name}: schema_version: 2 is newer than this routesim reads (1); upgrade routesim\n"
    assert not (out / "report.html").exists()


@pytest.mark.parametrize("version", [0, "1", True, 1.0, None])
def test_an_unknown_schema_version_is_refused(run_dir: Path, version: Any) -> None:
    for name, reader in READERS.items():
        data = {**doc(run_dir, name), "schema_version": version}
        with pytest.raises(ScenarioError) as caught:
            reader.from_json(data, name)
        assert [line.split(": ")[:2] for line in caught.value.issues] == [[name, "schema_version"]]


def test_a_missing_key_is_refused_through_the_cli_with_the_file_and_key(run_dir: Path, tmp_path: Path) -> None:
    out = changed(run_dir, tmp_path, "summary.json", lambda d: d["metrics"]["budget_loss_usd"].pop("mean"))
    code, err = cli("compare", str(run_dir), str(out), "--out", str(tmp_path / "cmp"))
    assert (code, err) == (2, f"error: {out / 'summary.json'}: metrics.budget_loss_usd.mean: missing\n")
    assert not (tmp_path / "cmp").exists()


def _route(d: dict[str, Any]) -> str:
    return next(iter(d["routes"]))


BROKEN: list[tuple[str, Callable[[dict[str, Any]], Any], str]] = [
    ("summary.json", lambda d: d.update(seed="1"), "seed: expected a valid integer, got \"1\""),
    ("summary.json", lambda d: d.update(replications=5.0), "replications: expected a valid integer, got 5.0"),
    ("summary.json", lambda d: d["metrics"].pop("budget_loss_share"), "metrics.budget_loss_share: missing"),
    ("summary.json", lambda d: d["metrics"]["shut_in_bbl"].update(p95=True), "metrics.shut_in_bbl.p95: expected"),
    ("summary.json", lambda d: d["routes"][_route(d)]["availability"].pop("p5"), ".availability.p5: missing"),
    ("summary.json", lambda d: d.update(incidents_per_year=[]), "incidents_per_year: expected"),
    ("summary.json", lambda d: d.pop("horizon_days"), "horizon_days: missing"),
    ("manifest.json", lambda d: d["command"].__setitem__(0, 1), "command[0]: expected a valid string, got 1"),
    ("manifest.json", lambda d: d.pop("engine"), "engine: missing"),
    ("manifest.json", lambda d: d.update(wall_time_s="fast"), "wall_time_s: expected a valid number"),
    ("manifest.json", lambda d: d["dependencies"].update(numpy=2), "dependencies.numpy: expected a valid string"),
]


@pytest.mark.parametrize(("name", "change", "problem"), BROKEN)
def test_a_missing_or_mistyped_field_is_named(run_dir: Path, name: str, change: Callable[[dict[str, Any]], Any],
                                              problem: str) -> None:
    data = doc(run_dir, name)
    change(data)
    with pytest.raises(ScenarioError) as caught:
        READERS[name].from_json(data, f"somewhere/{name}")
    [issue] = caught.value.issues
    assert issue.startswith(f"somewhere/{name}: ") and problem in issue, issue


def test_a_file_that_is_no_json_object_is_refused_with_its_name(run_dir: Path, tmp_path: Path) -> None:
    out = shutil.copytree(run_dir, tmp_path / "run")
    for text in ("{", "[1, 2]"):
        (out / "summary.json").write_text(text)
        code, err = cli("report", str(out))
        assert code == 2 and err.startswith(f"error: {out / 'summary.json'}: ") and err.count("\n") == 1, err
    (out / "summary.json").unlink()
    code, err = cli("compare", str(run_dir), str(out), "--out", str(tmp_path / "cmp"))
    assert (code, err) == (2, f"error: {out}: not a finished routesim run (summary.json: No such file or directory)\n")


def test_a_run_without_manifest_reads_as_none_and_still_reports(run_dir: Path, tmp_path: Path) -> None:
    out = shutil.copytree(run_dir, tmp_path / "run")
    (out / "manifest.json").unlink()
    assert read_run(out).manifest is None
    assert cli("report", str(out)) == (0, "")
    assert "manifest.json is missing" in (out / "report.html").read_text()
