"""The JSON Schema an editor checks scenario files with: it accepts every shipped scenario (partial files,
`null` removals and partial route overrides included) and names the key of a mistake."""

from __future__ import annotations

import datetime as dt
from typing import Any

import jsonschema
import pytest

from conftest import SCENARIOS
from routesim.scenario.loader import parse_yaml
from routesim.scenario.schema import json_schema

VALIDATOR = jsonschema.Draft202012Validator(json_schema())


def as_editor_sees(node: Any) -> Any:
    """YAML as JSON: an editor checks dates as the strings they are written as."""
    if isinstance(node, dict):
        return {k: as_editor_sees(v) for k, v in node.items()}
    if isinstance(node, list):
        return [as_editor_sees(v) for v in node]
    return node.isoformat() if isinstance(node, dt.date) else node


def first_error(doc: dict[str, Any]) -> jsonschema.ValidationError | None:
    return jsonschema.exceptions.best_match(VALIDATOR.iter_errors(doc))


def test_the_schema_is_a_valid_draft_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(json_schema())


@pytest.mark.parametrize("path", sorted(SCENARIOS.rglob("*.yaml")), ids=lambda p: str(p.relative_to(SCENARIOS)))
def test_every_shipped_scenario_passes_the_schema(path):
    doc = as_editor_sees(parse_yaml(path.read_text(encoding="utf-8"), str(path)))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in VALIDATOR.iter_errors(doc)]
    assert not errors, errors


@pytest.mark.parametrize("doc, path, words", [
    ({"routes": {"cpc": {"kind": "pipeline", "capasity_bpd": 1}}}, ["routes", "cpc"], "'capasity_bpd' was unexpected"),
    ({"extends": "base.yaml", "routes": {"cpc": {"capasity_bpd": 1}}}, ["routes", "cpc"],
     "'capasity_bpd' was unexpected"),  # a partial override without its kind
    ({"routes": {"cpc": {"kind": "pipeline", "terminal": {"moorings_": 3}}}}, ["routes", "cpc", "terminal"],
     "'moorings_' was unexpected"),
    ({"incidents": [{"duration_days": {"distribution": "uniform", "low": 1, "hihg": 2}}]},
     ["incidents", 0, "duration_days"], "'hihg' was unexpected"),
    ({"producers": {"p": {"production_bpd": -1}}}, ["producers", "p", "production_bpd"], "less than the minimum"),
])
def test_a_mistake_is_reported_at_its_key_not_as_a_failed_union(doc, path, words):
    error = first_error(doc)
    assert error is not None and list(error.absolute_path) == path and words in error.message


def test_a_null_entry_removes_an_inherited_one_and_passes():
    assert first_error({"extends": "base.yaml", "producers": {"kazakhstan": None}}) is None
