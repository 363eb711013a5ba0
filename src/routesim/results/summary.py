"""A run's results on disk, typed and versioned: :class:`RunSummary` (summary.json, the statistics of every
metric) and :class:`Manifest` (manifest.json, the provenance).

Each file carries ``"schema_version"``. A file without one was written before versioning and is read as
version 1 when its fields fit. Reading checks that every field is there with its type, and names the file
and the key of each problem: ``results/base/summary.json: metrics.budget_loss_usd.mean: missing``.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import numpy as np
from pydantic import TypeAdapter, ValidationError

from routesim.errors import ScenarioError
from routesim.results import measure, moorings
from routesim.scenario.bottleneck import bottleneck
from routesim.scenario.model import PipelineRoute
from routesim.units import DAYS_PER_YEAR

if TYPE_CHECKING:
    from pydantic_core import ErrorDetails

    from routesim.results.run import RunResult

LOSS_METRICS = ("shut_in_bbl", "lost_production_bbl", "export_loss_bbl", "budget_loss_share", *measure.LOSSES)
"""Metrics where more is worse: they also get VaR, CVaR and the probability of any loss."""
PERCENTILES = (1, 5, 10, 50, 90, 95, 99)
"""The percentiles of every statistic: the fields ``p1`` to ``p99`` of :class:`Stats`."""
Z95 = 1.959963984540054
"""The 97.5 % quantile of the standard normal distribution: a two-sided 95 % interval is +- Z95 sd."""

_T = TypeVar("_T")
_ADAPTERS: dict[type[Any], TypeAdapter[Any]] = {}


@dataclass(frozen=True)
class Stats:
    """One figure across a run's replications, each statistic in the figure's unit (its name says which)."""

    mean: float
    std: float
    """Standard deviation (n - 1; 0 for one replication)."""
    p1: float
    p5: float
    p10: float
    p50: float
    p90: float
    p95: float
    p99: float
    mean_ci95_low: float
    """The 95 % confidence interval of the mean: mean -+ 1.96 std / sqrt(n)."""
    mean_ci95_high: float
    var95: float | None = None
    """A loss's 95 % value at risk, its 95th percentile; None for a figure that is not a loss."""
    cvar95: float | None = None
    """A loss's mean over the replications at or above ``var95``."""
    prob_loss: float | None = None
    """A loss's share of replications with any loss [-]."""

    @classmethod
    def of(cls, values: np.ndarray, loss: bool = False) -> Stats:
        """The statistics of ``values`` (one per replication); with ``loss`` also VaR, CVaR, prob_loss."""
        n = len(values)
        mean = float(values.mean())
        std = float(values.std(ddof=1)) if n > 1 else 0.0
        half = Z95 * std / math.sqrt(n)
        p1, p5, p10, p50, p90, p95, p99 = (float(v) for v in np.percentile(values, PERCENTILES))
        var95 = cvar95 = prob_loss = None
        if loss:
            scale = float(np.max(np.abs(values))) if n else 0.0
            var95, cvar95 = p95, float(values[values >= p95].mean())
            # a loss below a billionth of the largest is rounding in the baseline difference, not a loss
            prob_loss = float(np.mean(values > 1e-9 * scale)) if scale > 0 else 0.0
        return cls(mean, std, p1, p5, p10, p50, p90, p95, p99, mean - half, mean + half, var95, cvar95, prob_loss)

    def to_json(self) -> dict[str, float]:
        """The statistics by name, without the loss figures of a figure that is not a loss."""
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}


INTERVAL_STATISTICS = ("mean", "var95", "cvar95")
"""The statistics :func:`interval95` gives an interval for."""
BOOTSTRAP_RESAMPLES = 500
"""Resamples of the CVaR's bootstrap interval."""


def interval95(values: np.ndarray, statistic: str = "mean") -> tuple[float, float, float]:
    """A statistic of ``values`` (one per replication) as :class:`Stats` computes it, and its 95 % confidence
    interval: for the mean, mean -+ 1.96 sd / sqrt(n); for VaR 95 (the 95th percentile), the order statistics
    whose ranks bound it with 95 % confidence, ``n p -+ 1.96 sqrt(n p (1 - p))`` (distribution-free); for
    CVaR 95, the 2.5 and 97.5 % points of a bootstrap (:data:`BOOTSTRAP_RESAMPLES` resamples drawn from a
    fixed seed, so the interval is a function of the values alone).

    Returns:
        (statistic, low, high).
    """
    n = len(values)
    if statistic == "mean":
        stats = Stats.of(values)
        return stats.mean, stats.mean_ci95_low, stats.mean_ci95_high
    if statistic == "var95":
        p, ordered = 0.95, np.sort(values)
        spread = Z95 * math.sqrt(n * p * (1 - p))
        low, high = max(math.floor(n * p - spread), 1), min(math.ceil(n * p + spread), n)  # ranks from 1
        return float(np.percentile(values, 95)), float(ordered[low - 1]), float(ordered[high - 1])
    if statistic == "cvar95":
        rng = np.random.default_rng(0)
        resampled = np.array([_cvar95(values[rng.integers(0, n, n)]) for _ in range(BOOTSTRAP_RESAMPLES)])
        low, high = np.percentile(resampled, [2.5, 97.5])
        return _cvar95(values), float(low), float(high)
    raise ValueError(f"no interval for {statistic!r} (one of {', '.join(INTERVAL_STATISTICS)})")


def _cvar95(values: np.ndarray) -> float:
    """The mean of the values at or above their 95th percentile, as :class:`Stats` has it."""
    return float(values[values >= np.percentile(values, 95)].mean())


@dataclass(frozen=True)
class Reached:
    """What a run to a precision reached: the statistic of a metric, its 95 % interval, the interval's
    half-width relative to the statistic, and whether that met the target or the cap stopped the run."""

    metric: str
    statistic: str
    target: float
    """The half-width asked for, as a share of the statistic [-]."""
    max_replications: int
    replications: int
    value: float
    low: float
    high: float
    relative: float
    """The interval's half-width over the statistic's size [-] (0 for a statistic known exactly)."""
    met: bool

    @classmethod
    def of(cls, values: np.ndarray, metric: str, statistic: str, target: float, max_replications: int) -> Reached:
        value, low, high = interval95(values, statistic)
        half = (high - low) / 2
        relative = 0.0 if half <= 0 else half / abs(value) if value != 0 else math.inf
        return cls(metric, statistic, target, max_replications, len(values), value, low, high, relative,
                   relative <= target)

    def to_json(self) -> dict[str, Any]:
        """What manifest.json records: the rule and what it reached (an unbounded share as None)."""
        return {**dataclasses.asdict(self), "relative": None if math.isinf(self.relative) else self.relative}

    def sentence(self) -> str:
        """``precision reached: budget_loss_usd mean within 1.9 % (95 % CI) after 4,096 replications``."""
        what = f"{self.metric} {self.statistic}"
        shown = "unbounded" if math.isinf(self.relative) else f"{self.relative * 100:.1f} %"
        if self.met:
            return f"precision reached: {what} within {shown} (95 % CI) after {self.replications:,} replications"
        return (f"precision not reached: {what} within {shown} (95 % CI), not {self.target * 100:.1f} %, at the cap "
                f"of {self.max_replications:,} replications")


@dataclass(frozen=True)
class MooringStats:
    """A terminal's moorings across a run's replications (:mod:`routesim.results.moorings`: a mooring is up
    while no impairment of its own stops it)."""

    active_moorings: int
    """k: how many moorings load at once."""
    availability: Stats
    """Share of the horizon with at least k moorings up [-]."""
    days_by_moorings_up: tuple[Stats, ...]
    """Days with exactly j moorings up, j = 0..n [days]."""

    def to_json(self) -> dict[str, Any]:
        """The figures' statistics by name."""
        return {"active_moorings": self.active_moorings, "availability": self.availability.to_json(),
                "days_by_moorings_up": [d.to_json() for d in self.days_by_moorings_up]}


@dataclass(frozen=True)
class RouteStats:
    """One route's figures across a run's replications."""

    exported_bbl: Stats
    """Barrels that reached the route's sale point within the horizon [bbl]."""
    availability: Stats
    """Time-weighted mean of the route's available capacity fraction [-]."""
    days_impaired: Stats
    """Days with any impairment of the route [days]."""
    binding_constraint: str | None = None
    """The route's least cap with nothing impaired, in the scenario's words (None in a file written before
    it was recorded)."""
    binding_bpd: float | None = None
    """What that cap carries [bbl/day]."""
    moorings: MooringStats | None = None
    """A route with a terminal: its moorings' states (None for other routes, and in a file written before
    they were recorded)."""
    loaded_bbl: Stats | None = None
    """A route a foreign shipper reaches: every shipper's barrels that left it within the horizon, its whole
    throughput (None for other routes, whose ``exported_bbl`` is all they carry) [bbl]."""

    def to_json(self) -> dict[str, Any]:
        """The figures' statistics by name, and the binding constraint."""
        return {
            "exported_bbl": self.exported_bbl.to_json(),
            **({} if self.loaded_bbl is None else {"loaded_bbl": self.loaded_bbl.to_json()}),
            "availability": self.availability.to_json(),
            "days_impaired": self.days_impaired.to_json(),
            "binding_constraint": self.binding_constraint,
            "binding_bpd": self.binding_bpd,
            **({} if self.moorings is None else {"moorings": self.moorings.to_json()}),
        }


@dataclass(frozen=True)
class RunSummary:
    """What summary.json holds: the statistics of every metric and route figure of a run."""

    SCHEMA_VERSION: ClassVar[int] = 1

    scenario: str
    seed: int
    replications: int
    horizon_days: int
    metrics: Mapping[str, Stats]
    """Every metric of :data:`measure.METRICS`, in its order."""
    routes: Mapping[str, RouteStats]
    incidents_per_year: Mapping[str, float]
    """Each incident process's mean count per year [1/year]."""
    settings: tuple[str, ...] = ()
    """The ``--set`` assignments that changed the scenario file (none in a file written before they were
    recorded)."""
    producers: Mapping[str, Mapping[str, Stats]] | None = None
    """Per producer, the statistics of its make-up figures (:data:`measure.PRODUCER_FIGURES`; shut-in and
    lost production as losses); None in a file written before they were recorded."""

    @property
    def title(self) -> str:
        """The scenario's name, with its ``--set`` assignments when it has any."""
        return titled(self.scenario, self.settings)

    @classmethod
    def of(cls, result: RunResult) -> RunSummary:
        """The summary of ``result``; every statistic is exact over every replication."""
        s = result.scenario
        years = s.horizon_days / DAYS_PER_YEAR
        return cls(
            scenario=s.name,
            seed=s.seed,
            replications=len(result.indices),
            horizon_days=s.horizon_days,
            metrics={m: Stats.of(result.metric(m), loss=m in LOSS_METRICS) for m in measure.METRICS},
            routes={
                r: RouteStats(
                    exported_bbl=Stats.of(result.metric(f"{r}_exported_bbl")),
                    availability=Stats.of(result.metric(f"{r}_availability")),
                    days_impaired=Stats.of(result.metric(f"{r}_days_impaired")),
                    binding_constraint=bottleneck(route).constraint,
                    binding_bpd=bottleneck(route).bpd,
                    moorings=_mooring_stats(result, r),
                    loaded_bbl=Stats.of(result.metric(f"{r}_loaded_bbl")) if r in result.layout.loaded else None,
                )
                for r, route in s.routes.items()
            },
            incidents_per_year={
                i.stream_name: float(np.mean(result.metric(f"{i.stream_name}_count"))) / years for i in s.incidents
            },
            settings=result.settings,
            producers={
                p: {k: Stats.of(result.metric(f"{p}_{k}"), loss=k in LOSS_METRICS) for k in measure.PRODUCER_FIGURES}
                for p in s.producers
            },
        )

    def rows(self) -> list[dict[str, Any]]:
        """The summary flat, one row per figure (what summary.csv holds): ``figure`` named as in
        replications.csv (``budget_loss_usd``, ``cpc_exported_bbl``, ``kazakhstan_deferred_bbl``), ``route`` or
        ``producer`` for a route's or a producer's figures (empty for a whole-run metric), and every statistic;
        a loss's VaR, CVaR and probability of a loss are empty for the rest."""
        names = [f.name for f in dataclasses.fields(Stats)]
        figures = [(m, "", "", stats) for m, stats in self.metrics.items()]
        figures += [(f"{r}_{f}", r, "", getattr(route, f)) for r, route in self.routes.items()
                    for f in ("exported_bbl", "loaded_bbl", "availability", "days_impaired")
                    if getattr(route, f) is not None]
        figures += [(f"{r}_{f}", r, "", stats) for r, route in self.routes.items() if route.moorings is not None
                    for f, stats in (("mooring_availability", route.moorings.availability),
                                     *((f"moorings_up_{j}_days", d) for j, d in enumerate(route.moorings.days_by_moorings_up)))]
        figures += [(f"{p}_{f}", "", p, stats) for p, own in (self.producers or {}).items() for f, stats in own.items()]
        return [{"figure": figure, "route": route, "producer": producer, **{n: getattr(stats, n) for n in names}}
                for figure, route, producer, stats in figures]

    def to_json(self) -> dict[str, Any]:
        """The summary.json document."""
        return {
            "schema_version": self.SCHEMA_VERSION,
            "scenario": self.scenario,
            "seed": self.seed,
            "replications": self.replications,
            "horizon_days": self.horizon_days,
            "metrics": {m: stats.to_json() for m, stats in self.metrics.items()},
            "routes": {r: stats.to_json() for r, stats in self.routes.items()},
            "incidents_per_year": dict(self.incidents_per_year),
            "settings": list(self.settings),
            **({} if self.producers is None else {"producers": {
                p: {k: stats.to_json() for k, stats in figures.items()} for p, figures in self.producers.items()
            }}),
        }

    @classmethod
    def from_json(cls, data: Any, source: str) -> RunSummary:
        """A summary.json document (parsed JSON) read back.

        Raises:
            ScenarioError: a newer or unknown schema_version, a field missing or of the wrong type, or a
                metric missing; each line names ``source`` and the key.
        """
        summary = _read(cls, data, source, cls.SCHEMA_VERSION)
        missing = [f"{source}: metrics.{m}: missing" for m in measure.METRICS if m not in summary.metrics]
        if missing:
            raise ScenarioError(missing)
        return summary


@dataclass(frozen=True)
class Manifest:
    """What manifest.json holds: the provenance of a run, enough to reproduce it a year later."""

    SCHEMA_VERSION: ClassVar[int] = 1

    routesim_version: str | None
    """None when routesim runs from a source tree without being installed."""
    command: tuple[str, ...]
    scenario_file: str
    scenario: str
    scenario_sha256: str
    """SHA-256 of the resolved scenario's text, as scenario.resolved.yaml holds it."""
    seed: int
    replications: int
    replication_indices: str
    """``0-1999`` for a contiguous run of replications, else the indices separated by commas."""
    workers: int
    horizon_days: int
    created_utc: str
    """When the run ended, ISO 8601 in UTC to the second."""
    wall_time_s: float
    """Wall time of the run and its outputs [s]."""
    events: int
    """Engine events over every replication."""
    engine: str
    engine_reason: str
    python: str
    platform: str
    dependencies: Mapping[str, str | None]
    """Version of each dependency; None for one not installed."""
    git_commit: str | None
    """Commit of routesim's work tree (``-dirty`` with local changes); None outside git."""
    scenario_git_commit: str | None
    """Commit of the scenario file's work tree, likewise."""
    precision: Mapping[str, Any] | None = None
    """For a run to a precision (``-n auto``): the rule and what it reached (:meth:`Reached.to_json`)."""

    def to_json(self) -> dict[str, Any]:
        """The manifest.json document."""
        return {"schema_version": self.SCHEMA_VERSION, **dataclasses.asdict(self), "command": list(self.command)}

    @classmethod
    def from_json(cls, data: Any, source: str) -> Manifest:
        """A manifest.json document (parsed JSON) read back.

        Raises:
            ScenarioError: a newer or unknown schema_version, or a field missing or of the wrong type;
                each line names ``source`` and the key.
        """
        if isinstance(data, dict) and "schema_version" not in data:  # before versioning, runs named no engine
            data = {"engine": "simpy", "engine_reason": "not recorded", **data}
        return _read(cls, data, source, cls.SCHEMA_VERSION)


def titled(name: str, settings: tuple[str, ...]) -> str:
    """``cpc-closure-30d (--set routes.cpc.capacity_bpd=1e6)``: a scenario's name with the settings that
    changed it, so that a variant never passes for the scenario file's own run."""
    return f"{name} (--set {', '.join(settings)})" if settings else name


def _mooring_stats(result: RunResult, route: str) -> MooringStats | None:
    """The statistics of ``route``'s mooring states, if it has a terminal."""
    spec = result.scenario.routes[route]
    terminal = spec.terminal if isinstance(spec, PipelineRoute) else None
    if terminal is None:
        return None
    days = np.array([result.metric(f"{route}_moorings_up_{j}_days") for j in range(len(terminal.moorings) + 1)])
    share = moorings.availability(days, terminal.active_moorings, result.scenario.horizon_days)
    return MooringStats(terminal.active_moorings, Stats.of(share), tuple(Stats.of(d) for d in days))


def _read(cls: type[_T], data: Any, source: str, supported: int) -> _T:
    """``data`` as a ``cls``, every field checked for presence and type (no conversion but int to float)."""
    if not isinstance(data, dict):
        raise ScenarioError([f"{source}: expected a JSON object, got {_show(data)}"])
    _check_version(data.get("schema_version", 1), supported, source)  # a file without one predates versioning
    try:
        # pydantic's strict mode checks a dataclass's fields from JSON, not from a dict: hence the text
        read: _T = _adapter(cls).validate_json(json.dumps(data), strict=True)
    except ValidationError as exc:
        raise ScenarioError([f"{source}: {_key(e['loc'])}: {_problem(e)}" for e in exc.errors()]) from None
    return read


def _check_version(version: Any, supported: int, source: str) -> None:
    """Refuse a schema_version this routesim did not write."""
    if isinstance(version, bool) or not isinstance(version, int):
        raise ScenarioError([f"{source}: schema_version: expected a whole number, got {_show(version)}"])
    if version > supported:
        raise ScenarioError(
            [f"{source}: schema_version: {version} is newer than this routesim reads ({supported}); upgrade routesim"]
        )
    if version < 1:
        raise ScenarioError([f"{source}: schema_version: {version} is not a version routesim writes"])


def _adapter(cls: type[Any]) -> TypeAdapter[Any]:
    """The validator of ``cls``, built once: building one takes tens of milliseconds."""
    if cls not in _ADAPTERS:
        _ADAPTERS[cls] = TypeAdapter(cls)
    return _ADAPTERS[cls]


def _key(loc: tuple[int | str, ...]) -> str:
    """``("metrics", "budget_loss_usd", "mean")`` -> ``metrics.budget_loss_usd.mean``; ``command[0]``."""
    text = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).removeprefix(".")
    return text or "(top level)"


def _problem(error: ErrorDetails) -> str:
    """What is wrong with a field, in a few words."""
    if error["type"] == "missing":
        return "missing"
    return f"{error['msg'].replace('Input should be', 'expected')}, got {_show(error['input'])}"


def _show(value: Any) -> str:
    """A value as JSON, cut short."""
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."
