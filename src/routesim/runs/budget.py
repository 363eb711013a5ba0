"""The memory a run keeps, and its limit, checked before anything runs or is written.

What is counted is what :mod:`routesim.results` will hold: the daily series that
:func:`routesim.results.measure.daily_names` names (those :func:`~routesim.results.measure.daily` produces)
for the band sample, and the figures of :class:`routesim.results.run.Layout` for every replication.
"""

from __future__ import annotations

import math

from routesim.errors import ScenarioError
from routesim.results.measure import daily_names
from routesim.results.run import Layout
from routesim.scenario.model import Scenario

BAND_SAMPLE = 10_000
"""Replications whose daily series a run keeps, for the percentile bands of its daily output: its first
(lowest-indexed) ``BAND_SAMPLE``, a uniform random sample of iid replications; all of a smaller run."""
MAX_VALUES_KEPT = 250_000_000
"""Limit on the values a run keeps in memory, at 8 bytes each (about 2 GB). base.yaml (five routes, two
storage nodes), one year: about 2.9 million replications."""
PER_REPLICATION_EXTRA = 4
"""Values kept per replication besides its figures: its index and event count, and a margin of two [values]."""


def problems(scenario: Scenario, replications: int | None = None) -> list[str]:
    """The ``replications: ...`` line saying how many replications fit, if ``replications`` of ``scenario``
    (default: its own number) would keep more than :data:`MAX_VALUES_KEPT` values; else nothing."""
    n = scenario.replications if replications is None else replications
    per_sampled = math.ceil(scenario.horizon_days) * len(daily_names(scenario))  # a sampled replication's series
    per_rep = len(Layout.of(scenario).names) + PER_REPLICATION_EXTRA
    kept = min(n, BAND_SAMPLE) * per_sampled + n * per_rep
    if kept <= MAX_VALUES_KEPT:
        return []
    return [
        f"replications: {n:,} keep {kept:,.0f} values in memory (the daily series of up to {BAND_SAMPLE:,} "
        f"replications and {per_rep} figures per replication), above the limit of {MAX_VALUES_KEPT:,} "
        f"(about 2 GB); at most {most(scenario):,.0f} replications of this scenario"
    ]


def most(scenario: Scenario) -> int:
    """The most replications of ``scenario`` that keep no more than :data:`MAX_VALUES_KEPT` values."""
    per_sampled = math.ceil(scenario.horizon_days) * len(daily_names(scenario))
    per_rep = len(Layout.of(scenario).names) + PER_REPLICATION_EXTRA
    sampled = BAND_SAMPLE * per_sampled
    if sampled + BAND_SAMPLE * per_rep <= MAX_VALUES_KEPT:  # the whole band sample fits, and more
        return (MAX_VALUES_KEPT - sampled) // per_rep
    return MAX_VALUES_KEPT // (per_sampled + per_rep)


def check(scenario: Scenario, replications: int | None = None) -> None:
    """Raise the :func:`problems` of running ``replications`` of ``scenario``, if any.

    Raises:
        ScenarioError: the run would keep more than :data:`MAX_VALUES_KEPT` values.
    """
    issues = problems(scenario, replications)
    if issues:
        raise ScenarioError(issues)
