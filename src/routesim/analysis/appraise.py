"""What a resilience option is worth: ``routesim appraise BASE OPTION...``.

An option is a scenario that extends the base, changes it (more tankers, a new route, ...) and says what
that costs (``investment``). Every scenario runs ``replications x years`` one-year replications: year ``y`` of
replication ``k`` is replication ``k * years + y`` of each, so that with one seed every option meets the same
incidents and prices as the base in the same year (common random numbers). Years are independent draws of
the scenario's year: an outage does not run on into the next. An option runs only its years in service:
the others avoid nothing whatever they would give, so they take the base's figures.

Per replication and year, the option avoids the base's budget loss less its own (``budget_loss_usd``, each
against its own scenario without disruptions), from the year it is built to the end of its life. Sums are
discounted at the base's ``appraisal.discount_rate_per_year``: a capital sum at the start of its year, a loss
avoided and a running cost at the end of theirs. The net present value of a replication is the discounted
avoided loss less the discounted cost; its payback year, the first year whose cumulative discounted net
value is no longer negative.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from routesim.errors import ScenarioError
from routesim.runs import montecarlo
from routesim.scenario.distributions import scaled
from routesim.scenario.loader import extends_chain, load_scenario
from routesim.scenario.model import Appraisal, Investment, Scenario

from .compare import unique_labels

YEAR_DAYS = (365, 366)
"""A scenario appraised year by year simulates one year."""
RATES = (0.5, 1.0, 2.0, 4.0)
"""Default multipliers of every incident process's rate, for the NPV as a function of the rate."""
FIGURES = ("budget_loss_usd", "revenue_loss_usd")
"""The figures of each replication-year an appraisal keeps."""


@dataclass(frozen=True)
class Option:
    """An option checked before anything runs."""

    name: str
    path: Path
    investment: Investment


@dataclass(frozen=True)
class Plan:
    """An appraisal checked before anything runs: the base, its options, the years and the rate."""

    base: Path
    base_name: str
    options: tuple[Option, ...]
    appraisal: Appraisal
    replications: int
    seed: int
    rates: tuple[float, ...]

    @property
    def runs(self) -> int:
        """Scenario runs: the base and each option at each rate."""
        return (1 + len(self.options)) * len(self.rates)

    @property
    def replication_years(self) -> int:
        """One-year replications in all: every year of the base, each option's years in service."""
        years = self.appraisal.years + sum(len(service_years(o.investment, self.appraisal)) for o in self.options)
        return len(self.rates) * self.replications * years


def service_years(investment: Investment, appraisal: Appraisal) -> list[int]:
    """The years (0 = the first) in which an option is built and serving."""
    end = min(investment.lead_time_years + investment.lifetime_years, appraisal.years)
    return list(range(investment.lead_time_years, end))


def plan(base: Path, options: Sequence[Path], overrides: Sequence[str], replications: int | None = None,
         years: int | None = None, rates: Sequence[float] | None = None) -> Plan:
    """Check the base and every option before anything runs; ``rates`` default to :data:`RATES`.

    Raises:
        ScenarioError: one line per problem, naming the file and the key or the flag.
    """
    if not options:
        raise ScenarioError(["OPTION: give one or more option scenarios that extend the base"])
    scenario = load_scenario(base, overrides)
    issues = []
    if scenario.horizon_days not in YEAR_DAYS:
        issues.append(f"{base}: horizon_days: {scenario.horizon_days}: an appraisal runs one-year replications "
                      "(365 days); give the base a year")
    appraisal = scenario.appraisal or Appraisal()
    if years is not None:
        if years < 1:
            issues.append(f"--years: must be at least 1, got {years}")
        else:
            appraisal = appraisal.model_copy(update={"years": years})
    if replications is not None and replications < 1:
        issues.append(f"-n: must be at least 1, got {replications}")
    rates = RATES if rates is None else rates
    issues += [f"--rates: must be more than 0, got {r:g}" for r in rates if not r > 0]
    loaded = [load_scenario(p, overrides) for p in options]
    chosen = []
    for path, option, label in zip(options, loaded, unique_labels([o.name for o in loaded])):
        parents = [source.path.resolve() for source in list(extends_chain(path))[1:]]
        if Path(base).resolve() not in parents:
            issues.append(f"{path}: extends: an option extends the base ({base}), directly or through other files")
        if option.investment is None:
            issues.append(f"{path}: investment: an option says what it costs (capex_usd, opex_usd_per_year, "
                          "lead_time_years, lifetime_years)")
        elif option.investment.lead_time_years > appraisal.years:
            issues.append(f"{path}: investment.lead_time_years: {option.investment.lead_time_years} is longer than "
                          f"the appraisal ({appraisal.years} years)")
        else:
            chosen.append(Option(label, Path(path), option.investment))
    if issues:
        raise ScenarioError(issues)
    n = scenario.replications if replications is None else replications
    return Plan(Path(base), scenario.name, tuple(chosen), appraisal, n, scenario.seed,
                tuple(sorted({1.0, *rates})))  # the fitted rate is the appraisal; the others show its reach


def yearly(scenario: Scenario, n: int, years: int, workers: int = 1, engine: str = "auto",
           progress: Callable[[int, int], None] | None = None, only: Sequence[int] | None = None,
           otherwise: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Each of :data:`FIGURES` of ``n`` replications of ``years`` years of ``scenario`` [n x years]: year ``y``
    of replication ``k`` is its replication ``k * years + y``. With ``only``, just those years run, and the
    others are ``otherwise``'s."""
    one_year = scenario.model_copy(update={"replications": n * years})
    run = range(years) if only is None else list(only)
    out = {f: np.zeros((n, years)) if otherwise is None else otherwise[f].copy() for f in FIGURES}
    if not run:
        return out
    indices = [k * years + y for k in range(n) for y in run]
    result = montecarlo.run(one_year, workers=workers, indices=indices, engine=engine, progress=progress,
                            band_sample=0)
    for f in FIGURES:
        out[f][:, run] = result.metric(f).reshape(n, len(run))
    return out


def at_rate(scenario: Scenario, multiplier: float) -> Scenario:
    """``scenario`` with every incident process's rate times ``multiplier``."""
    if multiplier == 1.0:
        return scenario
    incidents = tuple(i.model_copy(update={"rate_per_year": scaled(i.rate_per_year, multiplier)})
                      for i in scenario.incidents)
    return scenario.model_copy(update={"incidents": incidents})


@dataclass(frozen=True)
class Valuation:
    """One option's value in each replication, and the discounted cost that every replication shares."""

    npv_usd: np.ndarray
    """Net present value of each replication [USD]."""
    benefit_usd: np.ndarray
    """Discounted avoided budget loss of each replication [USD]."""
    cost_usd: float
    """Discounted capital and running cost [USD]."""
    payback_year: np.ndarray
    """First year (1 = the first) whose cumulative discounted net value is 0 or more; inf if none [yr]."""
    cumulative_usd: np.ndarray
    """Cumulative discounted avoided budget loss at the end of each year [n x years, USD]."""
    avoided_budget_usd: np.ndarray
    """Budget loss avoided, undiscounted, per replication and year [n x years, USD]."""
    avoided_revenue_usd: np.ndarray
    """Export revenue loss avoided, undiscounted, likewise [n x years, USD]."""


def value(base: dict[str, np.ndarray], option: dict[str, np.ndarray], investment: Investment,
          appraisal: Appraisal) -> Valuation:
    """The option's value against the base, replication by replication (see the module's notes)."""
    years, rate = appraisal.years, appraisal.discount_rate_per_year
    t = np.arange(years)
    start, end = (1 + rate) ** -t, (1 + rate) ** -(t + 1.0)  # discount factors at the start and end of each year
    service = (t >= investment.lead_time_years) & (t < investment.lead_time_years + investment.lifetime_years)
    avoided_budget = (base["budget_loss_usd"] - option["budget_loss_usd"]) * service
    avoided_revenue = (base["revenue_loss_usd"] - option["revenue_loss_usd"]) * service
    capex = np.zeros(years)
    paid = investment.capex_usd[:years]
    capex[: len(paid)] = paid
    outflow = capex * start + investment.opex_usd_per_year * service * end  # [years]
    inflow = avoided_budget * end  # [n x years]
    net = np.cumsum(inflow - outflow, axis=1)
    paid_back = net >= 0
    payback = np.where(paid_back.any(axis=1), paid_back.argmax(axis=1) + 1.0, math.inf)
    cost = float(outflow.sum())
    benefit = inflow.sum(axis=1)
    return Valuation(benefit - cost, benefit, cost, payback, np.cumsum(inflow, axis=1), avoided_budget,
                     avoided_revenue)


def table_row(name: str, v: Valuation) -> dict[str, Any]:
    """appraisal.csv's row of an option."""
    npv = v.npv_usd
    n = len(npv)
    half = 1.959963984540054 * float(npv.std(ddof=1)) / math.sqrt(n) if n > 1 else 0.0
    p5, p50, p95 = (float(x) for x in np.percentile(npv, [5, 50, 95]))
    payback = float(np.percentile(v.payback_year, 50, method="inverted_cdf"))  # a year, or inf: never
    benefit = float(v.benefit_usd.mean())
    years = v.avoided_budget_usd.shape[1]
    return {
        "option": name,
        "npv_usd_mean": float(npv.mean()),
        "npv_usd_mean_ci95_low": float(npv.mean()) - half,
        "npv_usd_mean_ci95_high": float(npv.mean()) + half,
        "npv_usd_p5": p5,
        "npv_usd_p50": p50,
        "npv_usd_p95": p95,
        "prob_npv_positive": float(np.mean(npv > 0)),
        "benefit_cost_ratio": benefit / v.cost_usd if v.cost_usd > 0 else None,
        "payback_year_p50": payback if math.isfinite(payback) else None,
        "pv_benefit_usd_mean": benefit,
        "pv_cost_usd": v.cost_usd,
        "avoided_budget_loss_usd_per_year_mean": float(v.avoided_budget_usd.sum(axis=1).mean()) / years,
        "avoided_revenue_loss_usd_per_year_mean": float(v.avoided_revenue_usd.sum(axis=1).mean()) / years,
    }


def break_even(rates: Sequence[float], npv_means: Sequence[float]) -> float | None:
    """The incident-rate multiplier at which the mean NPV first turns positive, by linear interpolation
    between the rates run; the lowest rate if it is positive there already; None if it never is."""
    pairs = sorted(zip(rates, npv_means))
    if pairs[0][1] > 0:
        return pairs[0][0]
    for (r0, v0), (r1, v1) in itertools.pairwise(pairs):
        if v0 <= 0 < v1:
            return r0 + (r1 - r0) * (0 - v0) / (v1 - v0)
    return None


@dataclass(frozen=True)
class Appraised:
    """Every option's valuation at every rate multiplier."""

    plan: Plan
    valuations: dict[float, dict[str, Valuation]]
    """By rate multiplier, then by option name."""

    def rows(self, rate: float = 1.0) -> list[dict[str, Any]]:
        """appraisal.csv: one row per option at ``rate``."""
        return [table_row(name, v) for name, v in self.valuations[rate].items()]

    def by_rate(self) -> list[dict[str, Any]]:
        """appraisal_rates.csv: each option's NPV at each rate multiplier."""
        rows = []
        for rate, options in sorted(self.valuations.items()):
            for name, v in options.items():
                row = table_row(name, v)
                rows.append({"option": name, "rate_multiplier": rate,
                             **{k: row[k] for k in ("npv_usd_mean", "npv_usd_mean_ci95_low", "npv_usd_mean_ci95_high",
                                                    "npv_usd_p5", "npv_usd_p95", "prob_npv_positive")}})
        return rows

    def break_even(self) -> dict[str, float | None]:
        """Each option's break-even multiplier of the incident rate (:func:`break_even`)."""
        rates = sorted(self.valuations)
        return {o.name: break_even(rates, [float(self.valuations[r][o.name].npv_usd.mean()) for r in rates])
                for o in self.plan.options}


def appraise(the_plan: Plan, overrides: Sequence[str], workers: int = 1, engine: str = "auto",
             progress: Callable[[int, int], None] | None = None) -> Appraised:
    """Run the base and every option at every rate of a checked plan, on one seed, and value the options."""
    pinned = [*overrides, f"seed={the_plan.seed}"]  # one seed: common random numbers
    base = load_scenario(the_plan.base, pinned)
    options = {o.name: load_scenario(o.path, pinned) for o in the_plan.options}
    n, years = the_plan.replications, the_plan.appraisal.years
    done, total = 0, the_plan.replication_years

    def counted(scenario: Scenario, only: Sequence[int] | None = None,
                otherwise: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
        nonlocal done
        report = None if progress is None else (lambda d, _all, start=done: progress(start + d, total))
        figures = yearly(scenario, n, years, workers, engine, report, only, otherwise)
        done += n * (years if only is None else len(only))
        return figures

    valuations: dict[float, dict[str, Valuation]] = {}
    for rate in the_plan.rates:
        base_years = counted(at_rate(base, rate))
        valuations[rate] = {
            o.name: value(base_years, counted(at_rate(options[o.name], rate),
                                              service_years(o.investment, the_plan.appraisal), base_years),
                          o.investment, the_plan.appraisal)
            for o in the_plan.options}
    return Appraised(the_plan, valuations)


def write(out_dir: Path, appraised: Appraised, command: list[str], plots: bool = True) -> None:
    """appraisal.json, appraisal.csv, the per-replication, per-year and per-rate CSVs and the plots, all at once."""
    from routesim.outputs import files, rundir
    from routesim.version import __version__

    the_plan = appraised.plan
    main_rate = 1.0
    setup = {
        "base": str(the_plan.base), "base_name": the_plan.base_name,
        "options": [{"name": o.name, "file": str(o.path), "investment": o.investment.model_dump(mode="json")}
                    for o in the_plan.options],
        "years": the_plan.appraisal.years, "discount_rate_per_year": the_plan.appraisal.discount_rate_per_year,
        "replications": the_plan.replications, "seed": the_plan.seed, "rates": list(the_plan.rates),
        "command": command, "routesim_version": __version__,
    }
    rows = appraised.rows(main_rate)
    with files.atomic_dir(out_dir) as tmp:
        rundir.write_json(tmp / "appraisal.json", {**setup, "options_valued": _json_ready(rows),
                                                   "break_even_rate_multiplier": appraised.break_even(),
                                                   "by_rate": _json_ready(appraised.by_rate())})
        rundir.write_rows(tmp / "appraisal.csv", rows)
        rundir.write_rows(tmp / "appraisal_rates.csv", appraised.by_rate())
        rundir.write_rows(tmp / "appraisal_replications.csv", _replication_rows(appraised.valuations[main_rate]))
        rundir.write_rows(tmp / "appraisal_years.csv", _year_rows(appraised.valuations[main_rate]))
        if plots:
            from routesim.outputs import plots as figures

            costs = {name: v.cost_usd for name, v in appraised.valuations[main_rate].items()}
            npv = {name: v.npv_usd for name, v in appraised.valuations[main_rate].items()}
            cumulative = {name: v.cumulative_usd for name, v in appraised.valuations[main_rate].items()}
            title = f"{the_plan.base_name}: {the_plan.appraisal.years} years, {the_plan.replications:,} replications"
            made = {"npv_distribution": figures.npv_distribution(npv, title),
                    "avoided_fan": figures.avoided_fan(cumulative, costs, title)}
            if len(the_plan.rates) > 1:
                made["npv_by_rate"] = figures.npv_by_rate(appraised.by_rate(), appraised.break_even(), title)
            for stem, fig in made.items():
                fig.savefig(tmp / f"{stem}.png", dpi=130)


def _json_ready(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with NaN and infinity as None (JSON has neither)."""
    return [{k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in r.items()} for r in rows]


def _replication_rows(valuations: dict[str, Valuation]) -> list[dict[str, Any]]:
    """appraisal_replications.csv: each option's figures in each replication."""
    return [
        {"option": name, "replication": k, "npv_usd": float(v.npv_usd[k]), "pv_benefit_usd": float(v.benefit_usd[k]),
         "avoided_budget_loss_usd": float(v.avoided_budget_usd[k].sum()),
         "avoided_revenue_loss_usd": float(v.avoided_revenue_usd[k].sum()),
         "payback_year": None if math.isinf(v.payback_year[k]) else int(v.payback_year[k])}
        for name, v in valuations.items() for k in range(len(v.npv_usd))
    ]


def _year_rows(valuations: dict[str, Valuation]) -> list[dict[str, Any]]:
    """appraisal_years.csv: per option and year, the mean avoided losses and the spread of the cumulative
    discounted avoided budget loss."""
    rows = []
    for name, v in valuations.items():
        bands = np.percentile(v.cumulative_usd, [5, 50, 95], axis=0)
        for y in range(v.cumulative_usd.shape[1]):
            rows.append({"option": name, "year": y + 1,
                         "avoided_budget_loss_usd_mean": float(v.avoided_budget_usd[:, y].mean()),
                         "avoided_revenue_loss_usd_mean": float(v.avoided_revenue_usd[:, y].mean()),
                         "cumulative_discounted_avoided_usd_p5": float(bands[0, y]),
                         "cumulative_discounted_avoided_usd_p50": float(bands[1, y]),
                         "cumulative_discounted_avoided_usd_p95": float(bands[2, y]),
                         "pv_cost_usd": v.cost_usd})
    return rows
