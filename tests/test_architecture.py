"""The module map as a contract: the import-linter contracts of pyproject.toml hold."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import ROOT


def test_the_import_contracts_hold():
    lint = Path(sys.executable).parent / "lint-imports"
    done = subprocess.run([str(lint), "--no-cache"], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def loaded(*modules: str) -> set[str]:
    """The modules that importing ``modules`` loads, in a fresh interpreter."""
    code = f"import sys, {', '.join(modules)}; print(' '.join(sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return set(done.stdout.split())


def test_importing_the_outputs_runs_nothing():
    """A notebook that only plots a saved result loads neither SimPy, numba nor the engine or the runs."""
    names = loaded("routesim.outputs.plots", "routesim.outputs.report", "routesim.outputs.rundir")
    assert {"simpy", "numba"}.isdisjoint(names)
    assert not {n for n in names if n.startswith(("routesim.engine", "routesim.runs"))}
    assert "routesim.outputs.plots" in names  # the check itself saw the import


def test_importing_the_engine_reads_no_yaml_and_draws_nothing():
    names = loaded("routesim.engine", "routesim.runs.montecarlo")
    assert {"yaml", "matplotlib"}.isdisjoint(names)
