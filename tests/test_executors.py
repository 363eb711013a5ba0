"""Executors: the same results bit for bit in-process, in a process pool and on Dask (a LocalCluster on
loopback); a chunk whose worker dies is retried."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import SCENARIOS
from routesim.runs import montecarlo
from routesim.runs.executors import chunks, map_chunks
from routesim.scenario.loader import load_scenario

pytest.importorskip("distributed")


def _scenario():
    return load_scenario(SCENARIOS / "cpc-incident-risk.yaml", ["replications=24", "horizon_days=120"])


def test_chunks_cover_every_replication_once_in_order():
    parts = chunks(list(range(1000)), workers=2)
    assert [k for part in parts for k in part] == list(range(1000))
    assert len(parts) >= 2 * 8 or all(len(p) == 1 for p in parts)


@pytest.mark.e2e
def test_every_executor_gives_the_same_results():
    s = _scenario()
    serial = montecarlo.run(s, workers=1)
    pool = montecarlo.run(s, workers=2)
    dask = montecarlo.run(s, workers=2, executor="dask-local")
    assert serial.summary() == pool.summary() == dask.summary()
    for a, b in zip(serial.replications, dask.replications):
        assert a.index == b.index and a.metrics == b.metrics


def die_once(scenario, part, marker=None):
    """A chunk function whose first call on the chunk holding replication 0 kills its worker process."""
    flag = Path(os.environ["ROUTESIM_TEST_MARKER"])
    if 0 in part and not flag.exists():
        flag.write_text("died once")
        os._exit(1)
    return montecarlo.run_chunk(scenario, part)


@pytest.mark.e2e
def test_a_dead_worker_loses_only_its_chunk_which_is_retried(tmp_path, monkeypatch):
    monkeypatch.setenv("ROUTESIM_TEST_MARKER", str(tmp_path / "died"))
    s = _scenario()
    done = map_chunks(die_once, s, list(range(s.replications)), executor="dask-local", workers=2)
    assert (tmp_path / "died").exists()
    reps = [rep for chunk in done for rep in chunk]
    assert [r.index for r in reps] == list(range(s.replications))
    assert [r.metrics for r in reps] == [r.metrics for r in montecarlo.run(s).replications]


@pytest.mark.e2e
def test_cli_executors(tmp_path):
    from routesim.cli import main
    from test_robustness import cli

    args = ["run", str(SCENARIOS / "cpc-incident-risk.yaml"), "-n", "12", "--set", "horizon_days=90", "--no-plots",
            "--quiet"]
    assert main([*args, "--out", str(tmp_path / "local")]) == 0
    assert main([*args, "--executor", "dask-local", "--workers", "2", "--out", str(tmp_path / "dask")]) == 0
    assert (tmp_path / "local" / "summary.json").read_bytes() == (tmp_path / "dask" / "summary.json").read_bytes()
    code, err = cli(*args, "--executor", "dask", "--out", str(tmp_path / "x"))
    assert code == 2 and "--scheduler" in err
