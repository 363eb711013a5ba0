"""Random disruptions against theory (tolerances from standard errors), and reproducibility of replications."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from conftest import pipeline, scenario, shuttle
from routesim.analysis.calibrate import Record, calibrate
from routesim.engine import simulate
from routesim.engine.disruptions import impairments
from routesim.results import measure
from routesim.results.summary import Stats
from routesim.runs import montecarlo
from routesim.scenario.distributions import (
    Empirical,
    Exponential,
    Fixed,
    Gamma,
    Lognormal,
    Triangular,
    Uniform,
    Weibull,
)
from routesim.streams import stream

DISTS = [
    Fixed(distribution="fixed", value=2.5),
    Uniform(distribution="uniform", low=1, high=4),
    Triangular(distribution="triangular", low=0, mode=1, high=5),
    Exponential.model_validate({"distribution": "exponential", "mean": 6}),
    Lognormal(distribution="lognormal", median=4, sigma=0.9),
    Lognormal.model_validate({"distribution": "lognormal", "mean": 5, "sd": 3}),
    Weibull(distribution="weibull", shape=1.5, scale=200),
    Gamma(distribution="gamma", shape=2.5, scale=3),
    Empirical(distribution="empirical", values=(0, 0.29, 0.71, 0.9)),
]


@pytest.mark.parametrize("dist", DISTS, ids=lambda d: d.distribution)
def test_sample_mean_matches_analytic_mean(dist):
    draws = np.asarray(dist.sample(np.random.default_rng(12345), 40_000))
    se = draws.std(ddof=1) / math.sqrt(len(draws))
    assert abs(draws.mean() - dist.mean) <= 4 * se + 1e-12
    lo, hi = dist.support
    assert draws.min() >= lo and draws.max() <= hi


@pytest.mark.parametrize("size", [None, 0, 1, 5, 1000])
def test_empirical_draws_what_rng_choice_draws_and_leaves_the_stream_where_it_does(size):
    """Empirical.sample skips rng.choice's checks; the replications' streams must not move."""
    dist = Empirical(distribution="empirical", values=(0, 0.29, 0.71, 0.9, 0.71))
    for seed in range(50):
        ours, numpy_s = np.random.default_rng(seed), np.random.default_rng(seed)
        a, b = dist.sample(ours, size), numpy_s.choice(np.asarray(dist.values), size)
        assert np.array_equal(a, b) and np.shape(a) == np.shape(b)
        assert ours.random() == numpy_s.random()


def test_lognormal_by_mean_and_sd_has_that_sd():
    dist = Lognormal.model_validate({"distribution": "lognormal", "mean": 5, "sd": 3})
    draws = np.asarray(dist.sample(np.random.default_rng(7), 200_000))
    # standard error of a sample sd, from the fourth moment
    m4 = np.mean((draws - draws.mean()) ** 4)
    se_sd = math.sqrt((m4 - draws.var() ** 2) / len(draws)) / (2 * draws.std())
    assert abs(draws.std(ddof=1) - 3) <= 4 * se_sd


def _availability_between(trace, route: str, start: float, end: float) -> float:
    factor = trace.capacity_factor[route]
    covered = measure.cumulative(trace, factor, np.array([start, end]))
    return float(covered[1] - covered[0]) / (end - start)


@pytest.mark.parametrize(
    "duration",
    [
        {"distribution": "lognormal", "median": 5, "sigma": 0.8},
        {"distribution": "uniform", "low": 2, "high": 12},
        {"distribution": "exponential", "mean": 9},
    ],
    ids=lambda d: d["distribution"],
)
def test_poisson_incidents_leave_a_target_available_exp_minus_rate_times_mean_duration(duration):
    """M/G/infinity: the chance that no incident is active is exp(-rate x mean duration), for any duration law.

    The target starts unimpaired at day 0, so the window starts after a warm-up much longer than the
    durations; the tolerance is four standard errors of the mean over replications.
    """
    rate = 20.0
    s = scenario(routes={"main": pipeline(1e6)}, horizon_days=1_100,
                 incidents=[{"target": "main", "rate_per_year": rate, "duration_days": duration}])
    mean_duration = s.incidents[0].duration_days.mean
    expected = math.exp(-rate / 365 * mean_duration)
    values = np.array([_availability_between(simulate(s, k), "main", 100.0, 1_100.0) for k in range(200)])
    se = values.std(ddof=1) / math.sqrt(len(values))
    assert abs(values.mean() - expected) <= 4 * se


def test_alternating_failure_and_repair_gives_mttf_over_mttf_plus_mttr():
    failure = {
        "target": "main",
        "time_to_failure_days": {"distribution": "weibull", "shape": 1.5, "scale": 50},
        "repair_days": {"distribution": "exponential", "mean": 6},
    }
    s = scenario(routes={"main": pipeline(1e6)}, horizon_days=3_000, failures=[failure])
    mttf = s.failures[0].time_to_failure_days.mean
    expected = mttf / (mttf + 6.0)
    values = np.array([_availability_between(simulate(s, k), "main", 200.0, 3_000.0) for k in range(120)])
    se = values.std(ddof=1) / math.sqrt(len(values))
    assert abs(values.mean() - expected) <= 4 * se


def test_seasonal_rate_thins_arrivals_by_month():
    factors = [2.0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1.0]
    s = scenario(horizon_days=365, incidents=[{"target": "main", "rate_per_year": 30.0, "duration_days": 1,
                                               "monthly_rate_factor": factors}])
    counts = np.array([len(impairments(s, k)) for k in range(400)])
    expected = 30.0 / 365 * (31 * 2.0 + 31 * 1.0)  # January at 2x, December at 1x, nothing else
    assert abs(counts.mean() - expected) <= 4 * counts.std(ddof=1) / math.sqrt(len(counts))
    starts = np.concatenate([[h.start_day for h in impairments(s, k)] for k in range(50)])
    assert np.all((starts < 31) | (starts >= 334))


def test_overlapping_impairments_take_the_smallest_factor():
    outages = [
        {"target": "main", "start_day": 10, "duration_days": 20, "capacity_factor": 0.5},
        {"target": "main", "start_day": 15, "duration_days": 5, "capacity_factor": 0.2},
        {"target": "main", "start_day": 18, "duration_days": 30, "capacity_factor": 0.7},
    ]
    s = scenario(routes={"main": pipeline(1e6)}, horizon_days=60, outages=outages)
    trace = simulate(s)
    factor_at = lambda t: trace.capacity_factor["main"][np.searchsorted(trace.times, t, side="right") - 1]
    assert [factor_at(t) for t in (5, 12, 16, 19, 22, 35, 50)] == [1.0, 0.5, 0.2, 0.2, 0.5, 0.7, 1.0]


INCIDENT = {"name": "shocks", "target": "main", "rate_per_year": 15,
            "duration_days": {"distribution": "lognormal", "median": 4, "sigma": 0.9},
            "capacity_factor": {"distribution": "uniform", "low": 0.0, "high": 0.6}}


def _risky(**kw):
    routes = {"main": pipeline(1_100_000, 3), "tc": shuttle(tankers=3, transit_days=2)}
    return scenario(production_bpd=1_100_000, storage_bbl=2e6, initial_storage_bbl=1e6, routes=routes,
                    horizon_days=90, incidents=[INCIDENT], seed=11, **kw)


def _same(a, b) -> bool:
    return a.metrics == b.metrics and all(np.array_equal(a.daily[k], b.daily[k]) for k in a.daily)


def test_replication_k_is_the_same_whatever_the_replication_count():
    small = montecarlo.run(_risky(replications=10))
    large = montecarlo.run(_risky(replications=1000))
    for k in range(10):
        assert _same(small.replications[k], large.replications[k])
    assert len({r.metrics["budget_loss_usd"] for r in large.replications}) > 100  # they do differ


def test_parallel_equals_serial():
    s = _risky(replications=60)
    serial, parallel = montecarlo.run(s, workers=1), montecarlo.run(s, workers=2)
    assert serial.summary() == parallel.summary()
    assert all(_same(a, b) for a, b in zip(serial.replications, parallel.replications))


def test_scenarios_with_one_seed_share_their_incidents():
    """Common random numbers: other inputs, or another random process, do not move a process's draws."""
    base = _risky()
    bigger = _risky(market={"brent_usd_per_bbl": 120.0})
    other = {"name": "more", "target": "tc", "rate_per_year": 40, "duration_days": 2}
    extra = scenario(production_bpd=1_100_000, storage_bbl=2e6, routes={"main": pipeline(1e6), "tc": shuttle()},
                     horizon_days=90, incidents=[other, INCIDENT], seed=11)
    for k in range(5):
        mine = [h for h in impairments(base, k) if h.source == "shocks"]
        assert mine == [h for h in impairments(bigger, k) if h.source == "shocks"]
        assert mine == [h for h in impairments(extra, k) if h.source == "shocks"]
    assert impairments(base, 0) != impairments(base, 1)


def test_streams_are_keyed_by_name():
    a, b = stream(3, 0, "x").random(5), stream(3, 0, "x").random(5)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, stream(3, 0, "y").random(5))
    assert not np.array_equal(a, stream(3, 1, "x").random(5))


def test_risk_statistics():
    values = np.arange(1.0, 101.0)  # 1..100
    st = Stats.of(values, loss=True)
    assert st.p95 == pytest.approx(np.percentile(values, 95)) and st.var95 == st.p95
    assert st.cvar95 == pytest.approx(values[values >= st.p95].mean())
    half = 1.959963984540054 * values.std(ddof=1) / 10
    assert (st.mean_ci95_low, st.mean_ci95_high) == pytest.approx((50.5 - half, 50.5 + half))
    assert Stats.of(np.array([0.0, 0.0, 2.0, 5.0]), loss=True).prob_loss == 0.5
    assert Stats.of(values).var95 is None and "var95" not in Stats.of(values).to_json()


def _synthetic(rate_per_year, years, draw, seed=2024):
    rng = np.random.default_rng(seed)

    n = rng.poisson(rate_per_year * years)
    starts = np.sort(rng.uniform(0, years * 365, n))
    origin = dt.date(2000, 1, 1)
    records = [Record(origin + dt.timedelta(days=int(t)), float(d), 0.0, "cpc") for t, d in zip(starts, draw(rng, n))]
    return records, origin, origin + dt.timedelta(days=int(years * 365))


def test_calibrate_recovers_a_known_lognormal_process():
    rate, years, median, sigma = 12.0, 40, 4.0, 0.9
    records, since, until = _synthetic(rate, years, lambda rng, n: rng.lognormal(math.log(median), sigma, n))
    (cal,) = calibrate(records, since, until)
    exposure = (until - since).days / 365
    assert abs(cal.rate_per_year - rate) <= 4 * math.sqrt(rate / exposure)
    assert cal.rate_ci95[0] < cal.rate_per_year < cal.rate_ci95[1]
    fit = {f.family: f for f in cal.fits}["lognormal"]
    n = cal.count
    assert abs(math.log(fit.params["median"]) - math.log(median)) <= 4 * sigma / math.sqrt(n)
    assert abs(fit.params["sigma"] - sigma) <= 4 * sigma / math.sqrt(2 * n)
    assert cal.fits[0].family == "lognormal"


def test_calibrate_recovers_a_known_exponential_mean():
    records, since, until = _synthetic(5.0, 60, lambda rng, n: rng.exponential(7.0, n), seed=5)
    (cal,) = calibrate(records, since, until)
    fit = {f.family: f for f in cal.fits}["exponential"]
    assert abs(fit.params["mean"] - 7.0) <= 4 * 7.0 / math.sqrt(cal.count)


def test_calibrate_skips_families_a_thin_target_cannot_fit_and_keeps_the_others():
    """One incident, or only equal durations, fit the exponential alone (its MLE mean is the sample mean);
    the two-parameter families are skipped with a reason, and a target of fewer than FEW incidents is warned
    about, while a well-observed target in the same file keeps every family."""
    since = dt.date(2020, 1, 1)
    day = lambda d: since + dt.timedelta(days=d)
    records = [Record(day(10), 7.0, 0.0, "one"), *(Record(day(40 * i), 4.0, 0.0, "equal") for i in range(1, 4)),
               *(Record(day(30 * i), d, 0.0, "many") for i, d in enumerate([1.0, 2.5, 4.0, 9.0, 3.0, 6.0], 1))]
    cals = {c.target: c for c in calibrate(records, since, day(400))}
    for target, mean in (("one", 7.0), ("equal", 4.0)):
        cal = cals[target]
        assert [f.family for f in cal.fits] == ["exponential"]
        assert cal.fits[0].params["mean"] == pytest.approx(mean, rel=1e-6)
        assert {family for family, _ in cal.skipped} == {"lognormal", "weibull", "gamma"}
        assert cal.warning is not None and "cannot be told apart" in cal.warning
    assert len(cals["many"].fits) == 4 and not cals["many"].skipped and cals["many"].warning is None
