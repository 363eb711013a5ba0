"""The compiled engine (numba): not written yet; every run goes to the SimPy reference."""

from __future__ import annotations

from ..model import Scenario
from .trace import Trace


def unsupported(scenario: Scenario) -> str | None:
    """Why the compiled engine cannot run ``scenario`` (None if it can)."""
    return "the compiled engine is not written yet"


def simulate(scenario: Scenario, replication: int = 0) -> Trace:
    raise NotImplementedError("the compiled engine is not written yet")
