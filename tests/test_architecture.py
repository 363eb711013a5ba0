"""The module map as a contract: the import-linter contracts of pyproject.toml hold."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT


def test_the_import_contracts_hold():
    lint = Path(sys.executable).parent / "lint-imports"
    done = subprocess.run([str(lint), "--no-cache"], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_the_yaml_contract_covers_every_module_but_the_loader():
    """A module added later falls under the contract that keeps YAML in the loader; the two package
    files it cannot name without naming the loader import no yaml themselves."""
    tomllib = pytest.importorskip("tomllib")
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    sources = next(c["source_modules"] for c in contracts if c.get("forbidden_modules") == ["yaml"])
    src = ROOT / "src"
    modules = {".".join(p.relative_to(src).with_suffix("").parts).removesuffix(".__init__"): p
               for p in (src / "routesim").rglob("*.py")}
    unnamed = {m for m in modules if not any(m == s or m.startswith(s + ".") for s in sources)}
    assert unnamed == {"routesim", "routesim.scenario", "routesim.scenario.loader"}
    for package in ("routesim", "routesim.scenario"):
        assert not re.search(r"^\s*(import|from)\s+yaml\b", modules[package].read_text(), re.MULTILINE)


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


def test_the_docs_scripts_import_modules_that_exist() -> None:
    """docs/validation.py regenerates the validation page; a module it names that moved would break it
    silently, since nothing else runs it."""
    import ast
    import importlib
    import importlib.util

    from conftest import ROOT

    tree = ast.parse((ROOT / "docs" / "validation.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("routesim"):
            module = importlib.import_module(node.module)
            for alias in node.names:
                assert hasattr(module, alias.name) or importlib.util.find_spec(f"{node.module}.{alias.name}"), (
                    f"{node.module}.{alias.name}")
