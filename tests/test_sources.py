"""The sources travel with the repository: scenarios and docs cite docs/sources.md, never a file a clone lacks."""

from __future__ import annotations

import pytest

from conftest import ROOT, SCENARIOS

CITING = sorted([*SCENARIOS.rglob("*.yaml"), *SCENARIOS.rglob("*.csv"), *(ROOT / "docs").glob("*.md"),
                 ROOT / "README.md"])


@pytest.mark.parametrize("path", CITING, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_shipped_file_cites_outside_the_repository(path):
    text = path.read_text(encoding="utf-8")
    assert "../shared" not in text and "facts.md" not in text


def test_the_scenarios_cite_the_sources_file_that_is_shipped():
    assert (ROOT / "docs" / "sources.md").is_file()
    assert "docs/sources.md" in (SCENARIOS / "base.yaml").read_text(encoding="utf-8")
