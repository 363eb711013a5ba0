"""What goes wrong in one replication: scheduled outages plus random incidents and failures, drawn up
front from each process's own random stream. Pure numpy; the engine only replays the list.
Each process draws from its own stream (:mod:`routesim.streams`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from routesim.errors import SimulationError
from routesim.scenario.distributions import Fits, Fixed
from routesim.scenario.model import Failure, Incident, Scenario, Storm
from routesim.streams import stream
from routesim.units import DAYS_PER_YEAR

MAX_IMPAIRMENTS = 1_000_000
"""Guard against a process that would impair a target millions of times in one horizon."""


@dataclass(frozen=True)
class Impairment:
    """A route, or a part ``route/<part>``, runs at ``factor`` of its capacity from ``start_day`` to
    ``end_day`` [days]; a storm (``storm``) stops a terminal's loading, or a tanker route's loading and sailing."""

    target: str
    start_day: float
    end_day: float
    factor: float
    source: str
    """What caused it: ``outage[i]``, or the name of the incident, failure or storm process."""
    storm: bool = False


def impairments(scenario: Scenario, k: int) -> list[Impairment]:
    """Every impairment of replication ``k`` that starts within the horizon, sorted by start."""
    horizon = float(scenario.horizon_days)
    out = []
    for i, outage in enumerate(scenario.outages):
        start, end = outage.window_days(scenario.start_date)
        out.append(Impairment(outage.target, start, end, outage.capacity_factor, f"outage[{i}]"))
    for incident in scenario.incidents:
        rng = stream(scenario.seed, k, incident.stream_name)
        out += incident_impairments(incident, rng, horizon, scenario.start_date)
    for failure in scenario.failures:
        rng = stream(scenario.seed, k, failure.stream_name)
        out += failure_impairments(failure, rng, horizon)
    for storm in scenario.weather:
        rng = stream(scenario.seed, k, storm.stream_name)
        out += incident_impairments(storm, rng, horizon, scenario.start_date)
    return sorted((x for x in out if x.start_day < horizon), key=lambda x: (x.start_day, x.source))


def incident_impairments(
    incident: Incident | Storm, rng: np.random.Generator, horizon_days: float, start_date: dt.date
) -> list[Impairment]:
    """Poisson arrivals on [0, horizon) at ``rate_per_year`` x the month's factor, by thinning.

    Candidates arrive at the peak rate; each is kept with probability (its month's factor / peak factor).
    An uncertain rate is drawn first, and an uncertain duration's fit (:class:`Fits`) next: once for the
    replication (two-level Monte Carlo). Known ones draw nothing, so they leave the stream as it was.
    """
    rate = incident.rate_per_year
    per_year = rate.value if isinstance(rate, Fixed) else float(rate.sample(rng))
    duration = incident.duration_days.pick(rng) if isinstance(incident.duration_days, Fits) else incident.duration_days
    factors = np.asarray(incident.monthly_rate_factor or (1.0,) * 12)
    peak = per_year / DAYS_PER_YEAR * factors.max()
    if peak <= 0:
        return []
    count = rng.poisson(peak * horizon_days)
    if count > MAX_IMPAIRMENTS:
        raise SimulationError(f"incident process {incident.stream_name!r} would draw {count} incidents")
    times = np.sort(rng.uniform(0.0, horizon_days, count))
    draws = rng.uniform(size=count)  # drawn even when every candidate is kept, for the streams after it
    if factors.min() < factors.max():  # else factor / peak is 1 and a draw in [0, 1) keeps every candidate
        times = times[draws < factors[month_index(times, start_date)] / factors.max()]
    durations = np.asarray(duration.sample(rng, len(times)), dtype=float)
    storm = isinstance(incident, Storm)
    if isinstance(incident, Incident):
        cuts = np.asarray(incident.capacity_factor.sample(rng, len(times)), dtype=float)
    else:  # a storm stops its target
        cuts = np.zeros(len(times))
    name = incident.stream_name
    return [Impairment(incident.target, t, t + d, f, name, storm) for t, d, f in zip(times, durations, cuts)]


def failure_impairments(failure: Failure, rng: np.random.Generator, horizon_days: float) -> list[Impairment]:
    """Alternating renewal from an up state at day 0: up time, repair, up time, ..."""
    out: list[Impairment] = []
    t = float(failure.time_to_failure_days.sample(rng))
    while t < horizon_days:
        if len(out) >= MAX_IMPAIRMENTS:
            raise SimulationError(f"failure process {failure.stream_name!r} fails over {MAX_IMPAIRMENTS} times")
        repair = float(failure.repair_days.sample(rng))
        factor = float(failure.capacity_factor.sample(rng))
        out.append(Impairment(failure.target, t, t + repair, factor, failure.stream_name))
        t += repair + float(failure.time_to_failure_days.sample(rng))
    return out


def month_index(days: np.ndarray, start_date: dt.date) -> np.ndarray:
    """Calendar month (0 = January) of each day offset from ``start_date``."""
    dates = np.datetime64(start_date, "D") + np.floor(days).astype("timedelta64[D]")
    return np.asarray(dates.astype("datetime64[M]").astype(int) % 12)
