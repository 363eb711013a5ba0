"""Incident draws: the shortcut for a process without seasons draws the same impairments as thinning."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import SCENARIOS
from routesim.engine.disruptions import incident_impairments, month_index
from routesim.scenario.distributions import Fixed
from routesim.scenario.loader import load_scenario
from routesim.streams import stream


def _thinned(incident, rng, horizon_days, start_date):
    """The plain path: every candidate kept with probability (its month's factor / the peak factor)."""
    factors = np.asarray(incident.monthly_rate_factor or (1.0,) * 12)
    count = rng.poisson(incident.rate_per_year.value / 365.0 * factors.max() * horizon_days)
    times = np.sort(rng.uniform(0.0, horizon_days, count))
    times = times[rng.uniform(size=count) < factors[month_index(times, start_date)] / factors.max()]
    durations = np.asarray(incident.duration_days.sample(rng, len(times)), dtype=float)
    cuts = np.asarray(incident.capacity_factor.sample(rng, len(times)), dtype=float)
    return [(t, t + d, f) for t, d, f in zip(times, durations, cuts)]


@pytest.mark.parametrize("factors", [None, [2.0] * 12, [1.0] * 11 + [0.5]])
def test_draws_equal_plain_thinning(factors):
    s = load_scenario(SCENARIOS / "cpc-incident-risk.yaml")
    twenty = Fixed(distribution="fixed", value=20.0)
    incident = s.incidents[0].model_copy(update={"monthly_rate_factor": factors, "rate_per_year": twenty})
    drawn = 0
    for k in range(50):
        got = incident_impairments(incident, stream(s.seed, k, "x"), 365.0, s.start_date)
        want = _thinned(incident, stream(s.seed, k, "x"), 365.0, s.start_date)
        assert [(i.start_day, i.end_day, i.factor) for i in got] == want
        drawn += len(got)
    assert drawn > 500  # about 20 a year each
