"""Fit an incident process to a history of incidents: arrival rate, duration distribution, capacity factor.

Input CSV columns: ``start_date`` (YYYY-MM-DD), ``end_date`` or ``duration_days``, ``capacity_factor``,
``target``; other columns (notes, sources) are kept out of the fit. Rows with ``capacity_factor`` 1 or
more had no physical effect and are left out. Lines starting with ``#`` are comments.

Method: the arrival rate is the count over the observation period, with an exact (Garwood) Poisson
confidence interval; durations are fitted by maximum likelihood (scipy.stats, location fixed at 0) as
exponential, lognormal, Weibull and gamma, ranked by AIC, each with a Kolmogorov-Smirnov test. A family
that cannot be fitted (a two-parameter family needs two different durations; a fit that does not converge
to finite parameters) is skipped with its reason, and a target with fewer than :data:`FEW` incidents gets a
warning: with so few, the families cannot be told apart.

Uncertainty of the fit: the rate's gamma posterior under Jeffreys' prior (:data:`PRIOR_SHAPE`), and a
bootstrap of the best family's fit (:data:`RESAMPLES` resamples of the durations, each refitted), written
as an ``incidents:`` block a scenario draws once per replication (:func:`uncertain_block`).
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from routesim.errors import ScenarioError
from routesim.units import DAYS_PER_YEAR

FAMILIES = {
    # family: (scipy distribution, number of free parameters)
    "exponential": (stats.expon, 1),
    "lognormal": (stats.lognorm, 2),
    "weibull": (stats.weibull_min, 2),
    "gamma": (stats.gamma, 2),
}
FEW = 5
"""Below this many incidents of a target, AIC and KS cannot tell the duration families apart."""
PRIOR_SHAPE = 0.5
"""The rate's prior: Jeffreys' for a Poisson rate, Gamma(shape 1/2, rate 0), improper and flat in sqrt(rate).
With n incidents in T years the posterior is Gamma(shape n + 1/2, scale 1 / T)."""
RESAMPLES = 100
"""Bootstrap resamples of the durations, each refitted with the best family."""


@dataclass(frozen=True)
class Record:
    """One past incident."""

    start: dt.date
    duration_days: float
    capacity_factor: float
    target: str


@dataclass(frozen=True)
class Fit:
    """A duration distribution fitted by maximum likelihood."""

    family: str
    params: dict[str, float]
    """Natural parameters, as a scenario's ``duration_days`` takes them."""
    log_likelihood: float
    aic: float
    ks_statistic: float
    ks_pvalue: float
    frozen: Any = field(repr=False, compare=False)


@dataclass(frozen=True)
class Calibration:
    """The fitted incident process of one target."""

    target: str
    count: int
    since: dt.date
    until: dt.date
    rate_per_year: float
    rate_ci95: tuple[float, float]
    fits: tuple[Fit, ...]
    """Best AIC first."""
    skipped: tuple[tuple[str, str], ...]
    """Families that could not be fitted, each with why."""
    durations_days: tuple[float, ...]
    capacity_factors: tuple[float, ...]
    bootstrap: tuple[dict[str, float], ...] = ()
    """The best family refitted to :data:`RESAMPLES` resamples of the durations (those that could be)."""

    @property
    def rate_posterior(self) -> tuple[float, float]:
        """(shape, scale) of the rate's gamma posterior under :data:`PRIOR_SHAPE`'s prior [-, 1/yr]."""
        return self.count + PRIOR_SHAPE, 1.0 / self.years

    @property
    def rate_credible95(self) -> tuple[float, float]:
        """The posterior's 2.5 and 97.5 % points [1/yr]."""
        shape, scale = self.rate_posterior
        low, high = stats.gamma.ppf([0.025, 0.975], shape, scale=scale)
        return float(low), float(high)

    @property
    def years(self) -> float:
        return (self.until - self.since).days / DAYS_PER_YEAR

    @property
    def warning(self) -> str | None:
        """Why the choice of family is weak, if it is."""
        if self.count >= FEW:
            return None
        return (f"{self.target}: only {_count(self.count)}: the duration families "
                "cannot be told apart (the best AIC is a guess)")

    def as_dict(self) -> dict[str, Any]:
        """calibration.json content."""
        return {
            "target": self.target,
            "count": self.count,
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "years": self.years,
            "rate_per_year": self.rate_per_year,
            "rate_per_year_ci95": list(self.rate_ci95),
            "durations_days": list(self.durations_days),
            "capacity_factors": list(self.capacity_factors),
            "duration_fits": [
                {"family": f.family, "params": f.params, "log_likelihood": f.log_likelihood, "aic": f.aic,
                 "ks_statistic": f.ks_statistic, "ks_pvalue": f.ks_pvalue}
                for f in self.fits
            ],
            "skipped_fits": [{"family": family, "reason": reason} for family, reason in self.skipped],
            "warning": self.warning,
            "rate_posterior": {
                "prior": "Jeffreys: Gamma(shape 1/2, rate 0)", "distribution": "gamma",
                "shape": self.rate_posterior[0], "scale": self.rate_posterior[1],
                "mean": self.rate_posterior[0] * self.rate_posterior[1], "credible95": list(self.rate_credible95),
            },
            "duration_bootstrap": {"family": self.fits[0].family if self.fits else None, "resamples": RESAMPLES,
                                   "fitted": len(self.bootstrap), "fits": list(self.bootstrap)},
        }


def read_incidents(path: str | Path) -> list[Record]:
    """Read an incident history CSV; every bad cell is reported as ``file:line: column: problem``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError([f"{path}: cannot read ({exc})"]) from None
    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip() and not line.startswith("#")]
    if not lines:
        raise ScenarioError([f"{path}: no incidents"])
    reader = csv.DictReader([line for _, line in lines])
    missing = {"start_date", "capacity_factor", "target"} - set(reader.fieldnames or ())
    if missing or not {"end_date", "duration_days"} & set(reader.fieldnames or ()):
        need = ", ".join(sorted(missing)) or "end_date or duration_days"
        raise ScenarioError([f"{path}: missing column(s): {need}"])
    records, issues = [], []
    for (n, _), row in zip(lines[1:], reader):
        where = f"{path}:{n}"
        try:
            start = dt.date.fromisoformat(row["start_date"].strip())
            if (row.get("duration_days") or "").strip():
                duration = float(row["duration_days"])
            else:
                duration = float((dt.date.fromisoformat(row["end_date"].strip()) - start).days)
            factor = float(row["capacity_factor"])
        except (ValueError, KeyError, AttributeError) as exc:
            issues.append(f"{where}: {exc}")
            continue
        if not (math.isfinite(duration) and duration > 0):
            issues.append(f"{where}: duration_days: must be above 0, got {duration:g}")
        elif not factor >= 0:  # NaN too
            issues.append(f"{where}: capacity_factor: must be 0 or more, got {factor:g}")
        elif not row["target"].strip():
            issues.append(f"{where}: target: empty")
        else:
            records.append(Record(start, duration, factor, row["target"].strip()))
    if issues:
        raise ScenarioError(issues)
    return records


def calibrate(records: list[Record], since: dt.date | None = None, until: dt.date | None = None) -> list[Calibration]:
    """One calibration per target, for incidents with a physical effect (capacity_factor below 1).

    Args:
        records: the incident history.
        since: start of the observation period (default: 1 January of the first incident's year).
        until: end of the observation period (default: the end of the last incident, rounded up to a day).
    """
    physical = [r for r in records if r.capacity_factor < 1]
    if not physical:
        raise ScenarioError(["no incident with capacity_factor below 1 to calibrate on"])
    first = min(r.start for r in physical)
    since = since or dt.date(first.year, 1, 1)
    until = until or max(r.start + dt.timedelta(days=math.ceil(r.duration_days)) for r in physical)
    if until <= since:
        raise ScenarioError([f"--until: {until} is not after --since {since}"])
    out = []
    for target in sorted({r.target for r in physical}):
        mine = [r for r in physical if r.target == target and since <= r.start < until]
        if not mine:
            continue
        years = (until - since).days / DAYS_PER_YEAR
        n = len(mine)
        durations = np.array([r.duration_days for r in mine])
        fits, skipped = fit_durations(durations)
        ranked = sorted(fits, key=lambda f: f.aic)
        out.append(
            Calibration(
                target=target,
                count=n,
                since=since,
                until=until,
                rate_per_year=n / years,
                rate_ci95=poisson_rate_ci(n, years),
                fits=tuple(ranked),
                skipped=tuple(skipped),
                durations_days=tuple(float(d) for d in durations),
                capacity_factors=tuple(r.capacity_factor for r in mine),
                bootstrap=bootstrap_fits(durations, ranked[0].family) if ranked else (),
            )
        )
    return out


def poisson_rate_ci(count: int, exposure: float, level: float = 0.95) -> tuple[float, float]:
    """Exact (Garwood) confidence interval of a Poisson rate from ``count`` events in ``exposure`` [1/unit]."""
    alpha = 1 - level
    low = stats.chi2.ppf(alpha / 2, 2 * count) / 2 if count > 0 else 0.0
    high = stats.chi2.ppf(1 - alpha / 2, 2 * (count + 1)) / 2
    return float(low) / exposure, float(high) / exposure


def fit_durations(durations: np.ndarray, families: Sequence[str] = tuple(FAMILIES)) -> tuple[list[Fit], list[tuple[str, str]]]:
    """Maximum-likelihood fits of every family of ``families`` (location fixed at 0) that can be fitted,
    and the families skipped, each with why. The exponential fits any positive durations."""
    fits, skipped = [], []
    distinct = len(np.unique(durations))
    for family in families:
        dist, k = FAMILIES[family]
        if k > 1 and distinct < 2:
            skipped.append((family, f"needs two different durations to fit its {k} parameters"))
            continue
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")  # a failed fit is told by its result, checked below
            try:
                shape_scale = dist.fit(durations, floc=0)
            except (ValueError, RuntimeError, FloatingPointError) as exc:
                skipped.append((family, f"the fit failed ({exc})"))
                continue
            frozen = dist(*shape_scale)
            loglik = float(np.sum(frozen.logpdf(durations)))
        if not (np.all(np.isfinite(shape_scale)) and math.isfinite(loglik)):
            skipped.append((family, "the fit did not converge to finite parameters"))
            continue
        ks = stats.kstest(durations, frozen.cdf)
        fits.append(Fit(family, _natural(family, shape_scale), loglik, 2 * k - 2 * loglik,
                        float(ks.statistic), float(ks.pvalue), frozen))
    return fits, skipped


def bootstrap_fits(durations: np.ndarray, family: str, resamples: int = RESAMPLES) -> tuple[dict[str, float], ...]:
    """``family`` refitted to ``resamples`` resamples (with replacement) of ``durations``, drawn from a fixed
    seed: the spread of the fit. A resample the family cannot be fitted to (one distinct duration for a
    two-parameter family, a fit that does not converge) is left out."""
    rng = np.random.default_rng(0)
    out = []
    for _ in range(resamples):
        fits, _skipped = fit_durations(durations[rng.integers(0, len(durations), len(durations))], (family,))
        out += [f.params for f in fits]
    return tuple(out)


def _natural(family: str, fitted: tuple[float, ...]) -> dict[str, float]:
    """scipy's (shape..., loc, scale) as the scenario's natural parameters."""
    if family == "exponential":
        return {"mean": float(fitted[-1])}
    if family == "lognormal":
        return {"median": float(fitted[-1]), "sigma": float(fitted[0])}
    return {"shape": float(fitted[0]), "scale": float(fitted[-1])}


def incidents_block(calibrations: list[Calibration], source: str) -> str:
    """A ready-to-paste ``incidents:`` YAML block, the best-AIC duration family for each target."""
    lines = [f"incidents:                     # fitted by `routesim calibrate {source}`"]
    for cal in calibrations:
        best = cal.fits[0]
        low, high = cal.rate_ci95
        params = ", ".join(f"{k}: {_num(v)}" for k, v in best.params.items())
        lines += [
            f"  - name: {cal.target}-incidents",
            f"    target: {cal.target}",
            f"    # {_count(cal.count)} in {cal.years:.2f} years ({cal.since} to {cal.until}); "
            f"95 % CI {low:.3g} to {high:.3g} per year",
            f"    rate_per_year: {_num(cal.rate_per_year)}",
            f"    # best of {len(cal.fits)} {'family' if len(cal.fits) == 1 else 'families'} by AIC ({best.aic:.1f}); "
            f"KS p-value {best.ks_pvalue:.2f}",
            *([f"    # warning: {cal.warning}"] if cal.warning else []),
            f"    duration_days: {{distribution: {best.family}, {params}}}",
            f"    capacity_factor: {_factors(cal)}",
        ]
    return "\n".join(lines) + "\n"


def _factors(cal: Calibration) -> str:
    """The observed capacity factors: one number, or each as likely."""
    if len(set(cal.capacity_factors)) == 1:
        return _num(cal.capacity_factors[0])
    return "{distribution: empirical, values: [" + ", ".join(_num(f) for f in cal.capacity_factors) + "]}"


def uncertain_block(calibrations: list[Calibration], source: str) -> str:
    """The ``incidents:`` block with the fit's uncertainty, for a two-level Monte Carlo: the rate as its gamma
    posterior and the durations as the bootstrap's fits, each drawn once per replication."""
    lines = [f"incidents:                     # fitted with its uncertainty by `routesim calibrate {source}`"]
    for cal in calibrations:
        if not cal.bootstrap:
            raise ScenarioError([f"{cal.target}: no duration fit to bootstrap"])
        shape, scale = cal.rate_posterior
        low, high = cal.rate_credible95
        family = cal.fits[0].family
        fits = ",\n".join(f"        {{distribution: {family}, " + ", ".join(f"{k}: {_num(v)}" for k, v in p.items()) + "}"
                          for p in cal.bootstrap)
        lines += [
            f"  - name: {cal.target}-incidents",
            f"    target: {cal.target}",
            f"    # {_count(cal.count)} in {cal.years:.2f} years ({cal.since} to {cal.until}); under Jeffreys' prior",
            f"    # Gamma(1/2, 0) the rate's posterior is Gamma({cal.count} + 1/2, scale 1/{cal.years:.3f} yr): "
            f"95 % of it {low:.3g} to {high:.3g} per year",
            f"    rate_per_year: {{distribution: gamma, shape: {_num(shape)}, scale: {_num(scale)}}}",
            f"    # {len(cal.bootstrap)} of {RESAMPLES} bootstrap resamples of the durations, each refitted as {family}",
            "    # (the best family by AIC); a replication draws one of them for all of its incidents",
            "    duration_days:",
            "      distribution: fits",
            "      fits: [",
            fits,
            "      ]",
            f"    capacity_factor: {_factors(cal)}",
        ]
    return "\n".join(lines) + "\n"


def report(calibrations: list[Calibration]) -> str:
    """A short table of the fits, for the terminal."""
    lines = []
    for cal in calibrations:
        low, high = cal.rate_ci95
        lines.append(f"{cal.target}: {_count(cal.count)} in {cal.years:.2f} years -> "
                     f"{cal.rate_per_year:.3g} per year (95 % CI {low:.3g} to {high:.3g})")
        lines.append(f"  {'family':<12} {'AIC':>8} {'KS p':>6}  parameters")
        for f in cal.fits:
            params = ", ".join(f"{k}={v:.4g}" for k, v in f.params.items())
            lines.append(f"  {f.family:<12} {f.aic:>8.2f} {f.ks_pvalue:>6.2f}  {params}")
        lines += [f"  {family:<12} skipped: {reason}" for family, reason in cal.skipped]
        shape, scale = cal.rate_posterior
        low, high = cal.rate_credible95
        lines.append(f"  rate posterior (Jeffreys prior): gamma(shape {shape:.4g}, scale {scale:.4g}), mean "
                     f"{shape * scale:.3g}, 95 % {low:.3g} to {high:.3g} per year")
        if cal.bootstrap:
            key = next(iter(cal.bootstrap[0]))
            values = np.array([p[key] for p in cal.bootstrap])
            lo, hi = np.percentile(values, [2.5, 97.5])
            lines.append(f"  duration bootstrap: {len(cal.bootstrap)} of {RESAMPLES} resamples refitted as "
                         f"{cal.fits[0].family}; {key} 95 % {lo:.3g} to {hi:.3g}")
        if cal.warning:
            lines.append(f"  warning: {cal.warning}")
    lines.append("(KS p-values use parameters fitted to the same data, so they flatter every fit.)")
    return "\n".join(lines)


def _num(value: float) -> str:
    return f"{value:.4g}"


def _count(n: int) -> str:
    return f"{n} incident{'' if n == 1 else 's'}"
