"""Parameter uncertainty: a rate drawn once per replication gives the negative binomial's predictive count,
a duration's fit is held for a whole replication, calibrate's posterior and bootstrap, and scaling."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from conftest import SCENARIOS, scenario
from routesim.analysis import calibrate
from routesim.engine.disruptions import impairments
from routesim.scenario import distributions as d
from routesim.scenario.loader import parse_yaml, validate
from routesim.units import DAYS_PER_YEAR

SHAPE, SCALE = 13.5, 0.1973  # the posterior of the CPC record: 13 incidents in 5.07 years, Jeffreys' prior


def _counts(rate: object, n: int, horizon_days: int = 365) -> np.ndarray:
    s = scenario(horizon_days=horizon_days,
                 incidents=[{"target": "main", "rate_per_year": rate, "duration_days": 0.5}])
    return np.array([len(impairments(s, k)) for k in range(n)])


def test_an_uncertain_rate_gives_the_negative_binomial_predictive_count() -> None:
    """N | rate ~ Poisson(rate T), rate ~ Gamma(a, scale b): N is negative binomial with mean a b T and
    variance a b T + a b^2 T^2. Each compared within four standard errors, the variance's from the sample's
    fourth central moment."""
    n, years = 20_000, 365 / DAYS_PER_YEAR
    counts = _counts({"distribution": "gamma", "shape": SHAPE, "scale": SCALE}, n).astype(float)
    mean, var = SHAPE * SCALE * years, SHAPE * SCALE * years + SHAPE * SCALE**2 * years**2
    m4 = np.mean((counts - counts.mean()) ** 4)
    assert abs(counts.mean() - mean) < 4 * math.sqrt(var / n)
    assert abs(counts.var(ddof=1) - var) < 4 * math.sqrt((m4 - var**2) / n)
    # the same mean rate, known: Poisson, whose variance is its mean (the over-dispersion is the rate's)
    known = _counts(SHAPE * SCALE, n).astype(float)
    assert abs(known.var(ddof=1) - SHAPE * SCALE * years) < 4 * math.sqrt(
        (np.mean((known - known.mean()) ** 4) - (SHAPE * SCALE * years) ** 2) / n)
    assert counts.var(ddof=1) - known.var(ddof=1) > 0.5 * SHAPE * SCALE**2 * years**2


def test_a_replication_holds_one_fit_for_all_of_its_incidents() -> None:
    fits = {"distribution": "fits", "fits": [{"distribution": "fixed", "value": 1.0},
                                             {"distribution": "fixed", "value": 3.0}]}
    s = scenario(incidents=[{"target": "main", "rate_per_year": 40, "duration_days": fits}])
    held = []
    for k in range(400):
        lengths = {round(i.end_day - i.start_day, 9) for i in impairments(s, k)}
        assert len(lengths) == 1  # every incident of the replication from the same fit
        held.append(lengths.pop())
    share = np.mean(np.array(held) == 1.0)
    assert abs(share - 0.5) < 4 * math.sqrt(0.25 / len(held))


def test_a_known_rate_draws_as_before() -> None:
    """A fixed rate and duration draw nothing more, so every known scenario keeps its random numbers."""
    plain = scenario(incidents=[{"target": "main", "rate_per_year": 3, "duration_days": 2.0}])
    wrapped = scenario(incidents=[{"target": "main", "rate_per_year": {"distribution": "fixed", "value": 3},
                                   "duration_days": {"distribution": "fixed", "value": 2.0}}])
    for k in range(20):
        assert impairments(plain, k) == impairments(wrapped, k)


def test_calibrate_gives_the_gamma_posterior_and_a_bootstrap_of_the_fit() -> None:
    cal = calibrate.calibrate(calibrate.read_incidents(SCENARIOS / "data" / "cpc-incidents.csv"))[0]
    shape, scale = cal.rate_posterior
    assert shape == cal.count + 0.5 and scale == pytest.approx(1 / cal.years)
    assert cal.rate_credible95 == pytest.approx(tuple(stats.gamma.ppf([0.025, 0.975], shape, scale=scale)))
    assert 0 < len(cal.bootstrap) <= calibrate.RESAMPLES
    assert all(set(p) == set(cal.fits[0].params) for p in cal.bootstrap)
    medians = [p["median"] for p in cal.bootstrap]
    assert min(medians) < cal.fits[0].params["median"] < max(medians)
    again = calibrate.calibrate(calibrate.read_incidents(SCENARIOS / "data" / "cpc-incidents.csv"))[0]
    assert again.bootstrap == cal.bootstrap  # a fixed seed: the same file gives the same block
    block = calibrate.uncertain_block([cal], "cpc-incidents.csv")
    raw = {"name": "u", "producers": {"p": {"production_bpd": 1.0}}, "routes": {"cpc": {"kind": "pipeline", "capacity_bpd": 1.0}},
           **parse_yaml(block, "incidents-uncertain.yaml")}
    incident = validate(raw).incidents[0]
    assert isinstance(incident.rate_per_year, d.Gamma) and incident.rate_per_year.shape == pytest.approx(shape)
    assert isinstance(incident.duration_days, d.Fits) and len(incident.duration_days.fits) == len(cal.bootstrap)


@pytest.mark.parametrize("dist", [
    {"distribution": "fixed", "value": 2.0}, {"distribution": "uniform", "low": 1.0, "high": 3.0},
    {"distribution": "triangular", "low": 1.0, "mode": 2.0, "high": 4.0}, {"distribution": "exponential", "mean": 2.0},
    {"distribution": "lognormal", "median": 2.0, "sigma": 0.5}, {"distribution": "lognormal", "mean": 2.0, "sd": 1.0},
    {"distribution": "weibull", "shape": 1.5, "scale": 2.0}, {"distribution": "gamma", "shape": 2.0, "scale": 1.5},
    {"distribution": "empirical", "values": [1.0, 2.0, 5.0]},
    {"distribution": "fits", "fits": [{"distribution": "gamma", "shape": 2.0, "scale": 1.5},
                                      {"distribution": "fixed", "value": 2.0}]},
])
def test_scaling_a_distribution_scales_every_draw(dist: dict[str, object]) -> None:
    from pydantic import TypeAdapter

    original = TypeAdapter(d.Distribution).validate_python(dist)
    doubled = d.scaled(original, 2.0)
    assert doubled.mean == pytest.approx(2 * original.mean, rel=1e-12)
    one, two = np.random.default_rng(5), np.random.default_rng(5)
    assert np.asarray(doubled.sample(two, 50)) == pytest.approx(2 * np.asarray(original.sample(one, 50)), rel=1e-12)
