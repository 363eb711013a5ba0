"""The README's Python examples run as written: a change of the API that breaks one must change the README."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from conftest import ROOT, SCENARIOS
from routesim.cli import main

pytestmark = pytest.mark.e2e  # like a user: a run directory, a Monte Carlo run in a process pool, the replays

README = (ROOT / "README.md").read_text(encoding="utf-8")
FENCE = re.compile(r"^```python\n(.*?)^```$", re.MULTILINE | re.DOTALL)
BLOCKS = [(README.count("\n", 0, m.start(1)), m.group(1)) for m in FENCE.finditer(README)]
"""Each python block of the README with the number of lines above it."""


def imported(code: str) -> set[str]:
    """The top-level packages that ``code`` imports."""
    nodes = list(ast.walk(ast.parse(code)))
    names = [a.name for n in nodes if isinstance(n, ast.Import) for a in n.names]
    names += [n.module for n in nodes if isinstance(n, ast.ImportFrom) and n.module]
    return {name.split(".")[0] for name in names}


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory like the repository's root after the README's ``routesim run scenarios/cpc-closure-30d.yaml``,
    whose results an example reads."""
    home = tmp_path_factory.mktemp("readme")
    (home / "scenarios").symlink_to(SCENARIOS)
    out = home / "results" / "cpc-closure-30d"
    assert main(["run", str(home / "scenarios" / "cpc-closure-30d.yaml"), "--out", str(out), "--no-plots", "--quiet"]) == 0
    return home


def test_the_readme_has_an_example_of_the_api() -> None:
    assert any("routesim" in imported(code) for _, code in BLOCKS)


@pytest.mark.parametrize("above, code", BLOCKS, ids=[f"README.md:{above + 1}" for above, _ in BLOCKS])
def test_a_readme_example_runs(above: int, code: str, checkout: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for package in sorted(imported(code)):
        pytest.importorskip(package)  # pandas, say, which routesim does not need
    monkeypatch.chdir(checkout)  # the examples name files from the repository's root
    # padded so that a traceback points at the README's own line
    exec(compile("\n" * above + code, "README.md", "exec"), {"__name__": "__readme__"})
