"""The scenario as frozen, typed, validated objects.

Every quantity carries its unit in its name: ``_bpd`` barrels per day, ``_bbl`` barrels, ``_days`` days,
``_usd_per_bbl`` US dollars per barrel, ``_usd`` US dollars. The engine only ever sees these objects;
the loader is the one place that turns YAML into them. How much memory a run of them keeps is
checked by :mod:`routesim.runs.budget`.
"""

from __future__ import annotations

import datetime as dt
import difflib
import itertools
import math
from typing import Annotated, ClassVar, Literal

from pydantic import Field, WithJsonSchema, field_validator, model_validator

from routesim.units import BBL_PER_TONNE_KAZAKH_CRUDE

from .distributions import Fixed, Quantity, check_support
from .records import Date, Fraction, Frozen, NonNegative, Positive, Signed


class Producer(Frozen):
    """An oil producer (a field or a country's pooled output) with a storage buffer before the routes."""

    production_bpd: NonNegative
    """Nominal production rate [bbl/day]."""
    storage_bbl: NonNegative = 0.0
    """Storage capacity between the fields and the export routes [bbl]."""
    initial_storage_bbl: NonNegative = 0.0
    """Storage level at the start of the horizon [bbl]."""
    restart_ramp_days: NonNegative = 0.0
    """Time for a curtailed production rate to climb linearly back to full [days]."""
    routes: Annotated[tuple[str, ...], Field(strict=False)] | None = None
    """Names of the routes this producer can reach (default: every route); ``route/<segment>`` joins a
    pipeline part-way, at the head of that segment (its oil passes that segment and the ones after it, not
    the ones before)."""
    max_production_bpd: NonNegative | None = None
    """What its fields can deliver, at most [bbl/day]; above ``production_bpd`` it makes up deferred oil.
    Default: the plan, so nothing is made up and shut-in oil is lost, as without this key."""
    makeup_share: Fraction = 1.0
    """Share of shut-in oil that can be made up later; the rest is lost at once [-]."""
    makeup_window_days: Positive | None = None
    """Oil not made up within this many days of being shut in is lost [days]; default: no limit."""
    nominations_bpd: Annotated[dict[str, NonNegative], Field(strict=False)] = {}
    """Per route it reaches, what it nominates there: its quota, to which the route's capacity is shared
    among its shippers [bbl/day]; a route without one: its ``production_bpd``. A shipper whose oil can go
    elsewhere nominates on a shared route only what it plans there (Kazakh crude in CPC beside the Russian
    shippers, who have no other route)."""
    foreign: bool = False
    """A foreign shipper (Russian crude in CPC): its oil shares the routes' capacity, but its output, exports
    and revenue are not the country's, so no metric, money stream or budget figure counts them; its own
    figures (shut-in, ...) are still reported."""

    @model_validator(mode="after")
    def _initial_fits(self) -> Producer:
        if self.initial_storage_bbl > self.storage_bbl:
            raise ValueError(
                f"initial_storage_bbl: {self.initial_storage_bbl:g} exceeds storage_bbl ({self.storage_bbl:g})"
            )
        if self.max_production_bpd is not None and self.max_production_bpd < self.production_bpd:
            raise ValueError(
                f"max_production_bpd: {self.max_production_bpd:g} is below production_bpd ({self.production_bpd:g})"
            )
        return self

    @property
    def peak_bpd(self) -> float:
        """What it can produce at most: ``max_production_bpd``, or the plan [bbl/day]."""
        return self.production_bpd if self.max_production_bpd is None else self.max_production_bpd

    @property
    def makes_up(self) -> bool:
        """Whether shut-in oil goes into a backlog that is made up later: it can run above plan and some
        of its shut-in oil can be made up (with the plan as its maximum, every shut-in barrel is lost)."""
        return self.peak_bpd > self.production_bpd and self.makeup_share > 0


Name = Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]


class Segment(Frozen):
    """A pipeline section between pump stations: a further cap on the route, impaired as ``route/segment``."""

    capacity_bpd: NonNegative
    """Capacity of the section [bbl/day]."""
    transit_days: NonNegative = 0.0
    """Time oil takes through the section (its linefill over the flow) [days]; added to the route's."""


class TankFarm(Frozen):
    """Tanks before a route's terminal (or a tanker route's load port). While loading stops they fill, and
    stop the pipe once full; afterwards the terminal loads them back down to their working stock. The
    working stock is not loaded out while the pipe delivers less (refilling it would take those barrels
    back later): tanks with none, at the end of a pipe that stops, keep loading until empty."""

    storage_bbl: Positive
    """Working capacity of the tanks [bbl]."""
    initial_storage_bbl: NonNegative = 0.0
    """Level at the start of the horizon [bbl]."""
    working_storage_bbl: NonNegative = 0.0
    """Stock the terminal keeps in normal operation [bbl]: above it the terminal loads at its full rate
    (catching up after a stop), at or below it what the pipe brings. A pipeline route's tanks only."""
    after: Name | None = None
    """The segment after which the tanks sit: ``capacity_bpd`` and the segments up to it fill them, the
    segments after it and the terminal draw from them; default: at the end of the pipe, before the
    terminal. A pipeline route's tanks only."""

    @model_validator(mode="after")
    def _levels_fit(self) -> TankFarm:
        for key in ("initial_storage_bbl", "working_storage_bbl"):
            if getattr(self, key) > self.storage_bbl:
                raise ValueError(f"{key}: {getattr(self, key):g} exceeds storage_bbl ({self.storage_bbl:g})")
        return self


class Terminal(Frozen):
    """A marine terminal: named moorings, each with its loading rate, of which ``active_moorings`` may load
    at once.

    The terminal loads with its best available moorings: its capacity is the sum of the ``active_moorings``
    largest of rate x factor. With equal rates and moorings simply up or down, ``min(active_moorings,
    moorings up) x rate``. Each mooring is a target ``route/<mooring>``; the whole terminal is
    ``route/terminal``.
    """

    moorings: Annotated[tuple[Name, ...], Field(min_length=1, strict=False)]
    """Names of the moorings (single point moorings, berths), e.g. ``[spm-1, spm-2, spm-3]``."""
    active_moorings: Annotated[int, Field(ge=1)]
    """How many moorings may load at the same time; the others stand by."""
    mooring_rate_bpd: NonNegative | None = None
    """Loading rate of a mooring, averaged over tanker changes, for each mooring not in
    ``mooring_rates_bpd`` [bbl/day]."""
    mooring_rates_bpd: Annotated[dict[Name, NonNegative], Field(strict=False)] = {}
    """Loading rate of each listed mooring, e.g. ``{spm-3: 1_000_000}`` [bbl/day]."""

    @model_validator(mode="after")
    def _consistent(self) -> Terminal:
        if len(set(self.moorings)) != len(self.moorings):
            raise ValueError(f"moorings: names must differ, got {list(self.moorings)}")
        if "terminal" in self.moorings:
            raise ValueError("moorings: 'terminal' names the whole terminal; call the mooring something else")
        if self.active_moorings > len(self.moorings):
            raise ValueError(f"active_moorings: {self.active_moorings} is more than the {len(self.moorings)} moorings")
        for name in self.mooring_rates_bpd:
            if name not in self.moorings:
                raise ValueError(f"mooring_rates_bpd.{name}: not one of the moorings {list(self.moorings)}")
        unrated = [m for m in self.moorings if m not in self.mooring_rates_bpd]
        if unrated and self.mooring_rate_bpd is None:
            raise ValueError(f"mooring_rate_bpd: missing, and mooring_rates_bpd gives no rate for {', '.join(unrated)}")
        return self

    @property
    def rates_bpd(self) -> tuple[float, ...]:
        """Each mooring's loading rate, in mooring order [bbl/day]."""
        return tuple(float(self.mooring_rates_bpd.get(m, self.mooring_rate_bpd or 0.0)) for m in self.moorings)

    @property
    def top_rate_bpd(self) -> float:
        """The fastest mooring's rate [bbl/day]."""
        return max(self.rates_bpd)

    @property
    def equal_rates(self) -> bool:
        """Every mooring loads at the same rate."""
        return len(set(self.rates_bpd)) == 1

    @property
    def nominal_bpd(self) -> float:
        """Capacity with every mooring up: its ``active_moorings`` fastest together [bbl/day]."""
        return sum(sorted(self.rates_bpd, reverse=True)[: self.active_moorings])


class RouteBase(Frozen):
    """What every export route has: a capacity, a transit time to the sale point, a cost and a price."""

    capacity_bpd: NonNegative
    """Capacity of the route [bbl/day]; for a tanker shuttle, the port/terminal cap."""
    transit_days: NonNegative = 0.0
    """Time from leaving the producer's storage (shuttle: from discharge) to the sale point [days]."""
    cost_usd_per_bbl: Signed | None = None
    """Tariff and freight to the sale point [USD/bbl]; or give cost_usd_per_tonne (default 0)."""
    cost_usd_per_tonne: Signed | None = None
    """Tariff and freight to the sale point [USD/t], converted with bbl_per_tonne."""
    bbl_per_tonne: Positive = BBL_PER_TONNE_KAZAKH_CRUDE
    """Barrels per tonne of the grade on this route [bbl/t] (Kazakh crude ~7.5, CPC Blend ~7.9)."""
    differential_usd_per_bbl: Signed = 0.0
    """Price of the grade at the sale point relative to Brent [USD/bbl]."""
    committed_bpd: NonNegative = 0.0
    """Contracted minimum: served before netback order decides the rest (e.g. a ship-or-pay deal) [bbl/day]."""
    plan_bpd: NonNegative | None = None
    """What shippers nominate on this route, apart from its technical capacity [bbl/day]; default: its
    capacity. Producers fill every route up to its plan (and commitment) before any route's spare above its
    plan; the spare takes what is left: production above the plans, stock catching up, made-up oil,
    displaced oil."""
    reroute_lag_days: NonNegative = 0.0
    """How long after a displacement starts (some route's capacity falls below its planned flow) this route
    takes no more than its own planned flow before it takes up to its capacity: a nomination cycle [days];
    0: at once."""
    segments: Annotated[dict[Name, Segment], Field(strict=False)] = {}
    """Pipeline sections, each a further cap and a target ``route/<segment>``; their transit adds to the route's."""
    tank_farm: TankFarm | None = None
    """Tanks at the end of the pipe, before the terminal (tanker route: at the load port)."""

    @model_validator(mode="after")
    def _one_cost(self) -> RouteBase:
        if self.cost_usd_per_bbl is not None and self.cost_usd_per_tonne is not None:
            raise ValueError("cost_usd_per_tonne: give cost_usd_per_bbl or cost_usd_per_tonne, not both")
        return self

    @model_validator(mode="after")
    def _components(self) -> RouteBase:
        if "terminal" in self.segments:
            raise ValueError("segments: 'terminal' names the route's terminal; call the segment something else")
        if self.committed_bpd > self.capacity_bpd:
            raise ValueError(f"committed_bpd: {self.committed_bpd:g} is above capacity_bpd ({self.capacity_bpd:g})")
        if self.plan_bpd is not None and self.plan_bpd > self.capacity_bpd:
            raise ValueError(f"plan_bpd: {self.plan_bpd:,.0f} is above capacity_bpd ({self.capacity_bpd:,.0f})")
        if self.plan_bpd is not None and self.plan_bpd < self.committed_bpd:
            raise ValueError(f"plan_bpd: {self.plan_bpd:,.0f} is below committed_bpd ({self.committed_bpd:,.0f})")
        return self

    @property
    def total_transit_days(self) -> float:
        """From the producer's storage (a tanker route: from discharge) to the sale point [days]."""
        return self.transit_days + sum(s.transit_days for s in self.segments.values())

    @property
    def components(self) -> tuple[str, ...]:
        """Names of the parts that can be impaired as ``route/<part>``."""
        return tuple(self.segments)

    @property
    def unit_cost_usd_per_bbl(self) -> float:
        """Tariff and freight per barrel, whichever way it was given [USD/bbl]."""
        if self.cost_usd_per_tonne is not None:
            return self.cost_usd_per_tonne / self.bbl_per_tonne
        return self.cost_usd_per_bbl or 0.0


class PipelineRoute(RouteBase):
    """A continuous route: flow is a rate, up to ``capacity_bpd`` times the outage factor."""

    kind: Literal["pipeline"]
    terminal: Terminal | None = None
    """The marine terminal that loads the pipe's oil onto tankers; without it the pipe delivers at its end."""

    @model_validator(mode="after")
    def _tanks_after_a_segment(self) -> PipelineRoute:
        if self.terminal is not None:
            same = sorted(set(self.segments) & set(self.terminal.moorings))
            if same:
                raise ValueError(f"terminal.moorings: {', '.join(same)} also name segments; each part needs its own name")
        after = None if self.tank_farm is None else self.tank_farm.after
        if after is not None and after not in self.segments:
            raise ValueError(f"tank_farm.after: {after!r} is not one of the segments ({', '.join(self.segments) or 'none'})")
        return self

    @property
    def components(self) -> tuple[str, ...]:
        if self.terminal is None:
            return tuple(self.segments)
        return (*self.segments, "terminal", *self.terminal.moorings)

    def split_segments(self) -> tuple[list[str], list[str]]:
        """The segments before the tank farm and those after it (all before, without a tank farm)."""
        names = list(self.segments)
        after = None if self.tank_farm is None else self.tank_farm.after
        cut = len(names) if after is None else names.index(after) + 1
        return names[:cut], names[cut:]


class TankerShuttleRoute(RouteBase):
    """A discrete route: a fleet of tankers shuttles full cargoes between a load and a discharge port."""

    kind: Literal["tanker_shuttle"]
    tankers: Annotated[int, Field(ge=1)]
    """Number of tankers in the fleet."""
    tanker_capacity_bbl: Positive
    """Cargo of one tanker [bbl]; a tanker sails only with a full cargo."""
    load_berths: Annotated[int, Field(ge=1)] = 1
    """Berths at the load port: how many tankers may load at once."""
    load_days: NonNegative = 1.0
    """Time to load one cargo [days]."""
    voyage_days: NonNegative = 1.0
    """One-way voyage time; the return leg takes the same [days]."""
    unload_days: NonNegative = 1.0
    """Time to discharge one cargo [days]."""

    @model_validator(mode="after")
    def _segments_feed_tanks(self) -> TankerShuttleRoute:
        if self.segments and self.tank_farm is None:
            raise ValueError("segments: a tanker route's segments feed its load port's tank_farm; give tank_farm too")
        if self.tank_farm is not None and self.tank_farm.working_storage_bbl > 0:
            raise ValueError("tank_farm.working_storage_bbl: tankers lift whole cargoes from a load port's tanks; "
                             "only a pipeline's terminal keeps a working stock")
        if self.tank_farm is not None and self.tank_farm.after is not None:
            raise ValueError("tank_farm.after: a tanker route's tanks are at its load port, after every segment")
        return self

    @property
    def total_transit_days(self) -> float:
        """From discharge to the sale point [days]; the segments feed the load port, before any cargo."""
        return self.transit_days

    @property
    def cycle_days(self) -> float:
        """Round trip of one tanker with no waiting: load, sail, discharge, sail back [days]."""
        return self.load_days + 2 * self.voyage_days + self.unload_days


Route = Annotated[PipelineRoute | TankerShuttleRoute, Field(discriminator="kind")]
ROUTE_KINDS = ("pipeline", "tanker_shuttle")


Band = Annotated[tuple[NonNegative, Signed], Field(strict=False)]
Bands = Annotated[tuple[Band, ...], Field(min_length=1, strict=False)]
"""A step function of Brent: ``[[from_usd_per_bbl, value], ...]``, ascending; 0 below the first band."""


def _check_bands(bands: tuple[tuple[float, float], ...] | None, key: str, low: float, high: float) -> None:
    if bands is None:
        return
    starts = [b[0] for b in bands]
    if any(b <= a for a, b in itertools.pairwise(starts)):
        raise ValueError(f"{key}: bands must start at increasing Brent prices, got {starts}")
    if any(not low <= v <= high for _, v in bands):
        raise ValueError(f"{key}: every band's value must lie in [{low:g}, {high:g}]")


class BrentPoint(Frozen):
    """Brent from ``date`` until the next point."""

    date: Date
    usd_per_bbl: NonNegative


class BrentSeries(Frozen):
    """A dated Brent series: a step function, each value holding from its date to the next."""

    csv: str | None = None
    """CSV file (columns date, usd_per_bbl), relative to the scenario that names it; read into values."""
    values: Annotated[tuple[BrentPoint, ...], Field(strict=False)] = ()
    """The points; before the first the first holds, after the last the last."""

    @model_validator(mode="after")
    def _ordered(self) -> BrentSeries:
        if not self.values and self.csv is None:
            raise ValueError("values: give csv or values")
        dates = [p.date for p in self.values]
        if dates != sorted(set(dates)):
            raise ValueError("values: dates must increase")
        return self


class BrentProcess(Frozen):
    """Mean-reverting log price (Ornstein-Uhlenbeck in log Brent), one path per replication."""

    initial_usd_per_bbl: Positive
    """Brent on day 0 [USD/bbl]."""
    long_run_usd_per_bbl: Positive
    """Level the log price reverts to [USD/bbl]."""
    reversion_per_year: NonNegative
    """Speed of mean reversion kappa [1/yr]: half-life ln 2 / kappa years."""
    volatility_per_year: NonNegative
    """Volatility of the log price sigma [1/sqrt(yr)]."""


class DisruptionEffect(Frozen):
    """How prices move while a route is impaired."""

    route: str
    """The route whose impairment moves prices."""
    differential_change_usd_per_bbl: Signed = 0.0
    """Change of that route's grade differential while it is impaired (negative = wider discount) [USD/bbl]."""
    brent_change_usd_per_bbl: Signed = 0.0
    """Change of Brent, for every route's sales, while it is impaired [USD/bbl]."""


class Market(Frozen):
    """Prices: Brent constant, a dated series or a random path, and how disruptions move them."""

    brent_usd_per_bbl: NonNegative = 80.0
    """Brent price, constant over the horizon (unless brent_series or brent_process) [USD/bbl]."""
    brent_series: BrentSeries | None = None
    """A dated Brent series instead of the constant."""
    brent_process: BrentProcess | None = None
    """A random mean-reverting Brent path instead of the constant."""
    disruption_effects: Annotated[tuple[DisruptionEffect, ...], Field(strict=False)] = ()

    @model_validator(mode="after")
    def _one_brent(self) -> Market:
        if self.brent_series is not None and self.brent_process is not None:
            raise ValueError("brent_process: give brent_series or brent_process, not both")
        return self


class ExportDuty(Frozen):
    """Export customs duty: USD per tonne exported, by Brent band."""

    usd_per_tonne_by_brent: Bands
    """``[[from Brent USD/bbl, duty USD/t], ...]``."""
    exempt_share: Fraction = 0.0
    """Share of exports that do not pay it (e.g. from fields under production-sharing agreements) [-]."""
    national_fund_share: Fraction = 1.0
    """Share of its receipts that go to the National Fund rather than the budget [-]."""

    @model_validator(mode="after")
    def _bands(self) -> ExportDuty:
        _check_bands(self.usd_per_tonne_by_brent, "usd_per_tonne_by_brent", 0.0, math.inf)
        return self


class ValueTax(Frozen):
    """A tax on the value of exports (Brent + differential) at a flat rate: the mineral extraction tax."""

    rate: Fraction
    """Share of value [-]."""
    exempt_share: Fraction = 0.0
    national_fund_share: Fraction = 1.0


class RentTax(Frozen):
    """Rent tax on exports: a share of value that rises with Brent."""

    rate_by_brent: Bands
    """``[[from Brent USD/bbl, rate], ...]``."""
    exempt_share: Fraction = 0.0
    national_fund_share: Fraction = 1.0

    @model_validator(mode="after")
    def _bands(self) -> RentTax:
        _check_bands(self.rate_by_brent, "rate_by_brent", 0.0, 1.0)
        return self


class ProfitTax(Frozen):
    """Corporate income tax, approximated on export revenue less costs and the other taxes."""

    rate: Fraction
    production_cost_usd_per_bbl: NonNegative = 0.0
    """Lifting cost and depreciation per barrel, deducted before tax [USD/bbl]."""
    exempt_share: Fraction = 0.0
    national_fund_share: Fraction = 1.0


class Taxes(Frozen):
    """The tax-by-tax form of the fiscal regime; each instrument is optional."""

    export_duty: ExportDuty | None = None
    mineral_extraction_tax: ValueTax | None = None
    rent_tax: RentTax | None = None
    profit_tax: ProfitTax | None = None


class Fiscal(Frozen):
    """How export revenue reaches the state: a flat take, or tax by tax; and the budget / National Fund split."""

    government_take_share: Fraction = 0.45
    """Share of export revenue that reaches the state, when ``taxes`` is not given [-]."""
    national_fund_share: Fraction = 0.0
    """With the flat take: share of the state's oil revenue that goes to the National Fund [-]."""
    budget_revenue_usd_per_year: Positive = 40e9
    """State budget revenue, to express a loss as a share of it [USD/yr]."""
    taxes: Taxes | None = None
    """Tax by tax instead of the flat take."""
    discount_rate_per_year: Annotated[float, Field(ge=0, lt=1)] = 0.0
    """Annual rate at which every money stream is discounted to the start of the horizon, each day's cash
    at the day's end: day d (0, 1, ...) weighs (1 + rate) ** -((d + 1) / 365) [1/yr]; 0 = undiscounted."""


_SUMS = {"anyOf": [{"type": "number", "minimum": 0},
                   {"type": "array", "items": {"type": "number", "minimum": 0}, "minItems": 1}]}
"""JSON Schema of a sum or a list of sums by year."""


class Appraisal(Frozen):
    """How ``routesim appraise`` values a resilience option against this scenario (set on the base)."""

    years: Annotated[int, Field(ge=1, le=100)] = 20
    """Years appraised: each a one-year replication of the scenario [yr]."""
    discount_rate_per_year: Annotated[float, Field(ge=0, lt=1)] = 0.08
    """Rate at which a year's money is discounted: a sum in year t is worth 1 / (1 + r)^t today [1/yr]."""


class Investment(Frozen):
    """What an option costs: set on a scenario that extends the appraisal's base and changes it."""

    capex_usd: Annotated[tuple[NonNegative, ...], Field(strict=False), WithJsonSchema(_SUMS)]
    """Capital cost [USD]: one sum paid at the start, or a list, one sum at the start of each year."""
    opex_usd_per_year: NonNegative = 0.0
    """Running cost of each year the option is in service [USD/yr]."""
    lead_time_years: Annotated[int, Field(ge=0, le=100)] = 0
    """Years to build: the option avoids nothing before [yr]."""
    lifetime_years: Annotated[int, Field(ge=1, le=100)] = 30
    """Years in service once built [yr]."""

    @field_validator("capex_usd", mode="before")
    @classmethod
    def _one_sum(cls, value: object) -> object:
        """A single number is the sum paid at the start: a list of one."""
        return (value,) if isinstance(value, (int, float)) and not isinstance(value, bool) else value

    @model_validator(mode="after")
    def _some_capex(self) -> Investment:
        if not self.capex_usd:
            raise ValueError("capex_usd: give the sum paid at the start, or one sum for each year")
        return self


class Outage(Frozen):
    """A scheduled impairment of a route: capacity times ``capacity_factor`` for a while."""

    target: str
    """The impaired route, a part ``route/<part>``, or a producer (its output at ``capacity_factor`` of what
    it could produce)."""
    start_day: NonNegative | None = None
    """Start, in days from the scenario's start_date [days]; or give start_date."""
    start_date: Date | None = None
    """Start as a calendar date; or give start_day."""
    duration_days: NonNegative | None = None
    """Length [days]; or give end_date."""
    end_date: Date | None = None
    """End as a calendar date (exclusive); or give duration_days."""
    capacity_factor: Fraction = 0.0
    """Share of the capacity left while the outage lasts: 0 = stopped, 0.5 = half [-]."""

    @model_validator(mode="after")
    def _one_start_one_end(self) -> Outage:
        if (self.start_day is None) == (self.start_date is None):
            raise ValueError("start_day: give exactly one of start_day and start_date")
        if (self.duration_days is None) == (self.end_date is None):
            raise ValueError("duration_days: give exactly one of duration_days and end_date")
        if self.end_date is not None and self.start_date is not None and self.end_date < self.start_date:
            raise ValueError(f"end_date: {self.end_date} is before start_date {self.start_date}")
        return self

    def window_days(self, scenario_start: dt.date) -> tuple[float, float]:
        """Start and end of the outage in days from the scenario start [days]."""
        if self.start_day is not None:
            start = self.start_day
        else:
            assert self.start_date is not None
            start = float((self.start_date - scenario_start).days)
        if self.duration_days is not None:
            return start, start + self.duration_days
        assert self.end_date is not None
        return start, float((self.end_date - scenario_start).days)


class Arrivals(Frozen):
    """Poisson arrivals in calendar time, independent of the target's state, each lasting a while."""

    kind: ClassVar[str] = "arrivals"
    name: Name | None = None
    """Stable name of the process: it keys the process's random stream (default ``<target>-incidents`` or
    ``<target>-storms``)."""
    target: str
    """What it hits: a route or a part ``route/<part>`` (a storm: a route with a terminal, or a tanker route)."""
    rate_per_year: Quantity
    """Mean arrivals per year [1/yr] (times the month's factor when monthly_rate_factor is given); a
    distribution for a rate known only so well: drawn once per replication (a gamma posterior, say)."""
    monthly_rate_factor: Annotated[tuple[NonNegative, ...], Field(min_length=12, max_length=12, strict=False)] | None = None
    """Twelve multipliers of the rate, January to December [-]."""
    duration_days: Quantity
    """How long one lasts [days]."""

    @model_validator(mode="after")
    def _duration_range(self) -> Arrivals:
        check_support(self.rate_per_year, "rate_per_year", 0.0)
        check_support(self.duration_days, "duration_days", 0.0)
        return self

    @property
    def stream_name(self) -> str:
        return self.name or f"{self.target}-{self.kind}"


class Incident(Arrivals):
    """External shocks on a target: a route or a part of it runs at a share of its capacity while one lasts."""

    kind: ClassVar[str] = "incidents"
    capacity_factor: Quantity = Fixed(distribution="fixed", value=0.0)
    """Share of capacity left during an incident [-]."""

    @model_validator(mode="after")
    def _factor_range(self) -> Incident:
        check_support(self.capacity_factor, "capacity_factor", 0.0, 1.0)
        return self


class Failure(Frozen):
    """Equipment that fails only while it is up: up for time_to_failure_days, down for repair_days, again."""

    name: Name | None = None
    """Stable name of the process: it keys the process's random stream (default ``<target>-failures``)."""
    target: str
    """Name of the impaired route."""
    time_to_failure_days: Quantity
    """Up time before a failure [days]."""
    repair_days: Quantity
    """Down time of a failure [days]."""
    capacity_factor: Quantity = Fixed(distribution="fixed", value=0.0)
    """Share of capacity left while failed [-]."""

    @model_validator(mode="after")
    def _ranges(self) -> Failure:
        check_support(self.time_to_failure_days, "time_to_failure_days", 0.0)
        check_support(self.repair_days, "repair_days", 0.0)
        check_support(self.capacity_factor, "capacity_factor", 0.0, 1.0)
        if self.time_to_failure_days.mean <= 0:
            raise ValueError("time_to_failure_days: the mean up time must be above 0")
        return self

    @property
    def stream_name(self) -> str:
        return self.name or f"{self.target}-failures"


class Storm(Arrivals):
    """Weather that stops a sea terminal's loading, or a tanker route's loading and sailing, while it lasts."""

    kind: ClassVar[str] = "storms"


class Scenario(Frozen):
    """A whole scenario: producers, routes, prices, fiscal terms, and what goes wrong."""

    name: Name
    """Short name; default results folder is results/<name>/."""
    description: str = ""
    """The question the scenario answers."""
    horizon_days: Annotated[int, Field(ge=1, le=365 * 100)] = 365
    """Simulated period [days]."""
    start_date: Date = dt.date(2022, 1, 1)
    """Calendar date of day 0."""
    seed: Annotated[int, Field(ge=0)] = 0
    """Root of all random numbers of the run."""
    replications: Annotated[int, Field(ge=1)] = 1
    """Number of replications."""
    producers: Annotated[dict[Name, Producer], Field(min_length=1)]
    """Producers (fields, or a country's pooled output) keyed by name."""
    routes: Annotated[dict[Name, Route], Field(min_length=1)]
    """Export routes keyed by name."""
    sharing_rule: Literal["pro_rata", "stranded_first"] = "pro_rata"
    """How producers share a route's capacity: ``pro_rata`` to their nominal production, or
    ``stranded_first``: those with no other open route (every other route they reach has no capacity now)
    first, then the others pro rata."""
    market: Market = Market()
    fiscal: Fiscal = Fiscal()
    outages: Annotated[tuple[Outage, ...], Field(strict=False)] = ()
    """Scheduled impairments."""
    incidents: Annotated[tuple[Incident, ...], Field(strict=False)] = ()
    """Random external shocks (Poisson arrivals)."""
    failures: Annotated[tuple[Failure, ...], Field(strict=False)] = ()
    """Random equipment failures (alternating up and repair times)."""
    weather: Annotated[tuple[Storm, ...], Field(strict=False)] = ()
    """Storms at sea terminals and on sea crossings (Poisson arrivals)."""
    appraisal: Appraisal | None = None
    """How ``routesim appraise`` values options against this scenario; the simulation ignores it."""
    investment: Investment | None = None
    """What this scenario costs as an option of ``routesim appraise``; the simulation ignores it."""

    @property
    def production_bpd(self) -> float:
        """Nominal production of the country's producers together (foreign shippers' not counted) [bbl/day]."""
        return sum(p.production_bpd for p in self.producers.values() if not p.foreign)

    def foreign_routes(self) -> list[str]:
        """The routes a foreign shipper reaches, in file order."""
        foreign = [p for p, spec in self.producers.items() if spec.foreign]
        return [r for r in self.routes if any(r in self.reach(p) for p in foreign)]

    @property
    def storage_capacity_bbl(self) -> float:
        """Storage of every producer and tank farm together [bbl]."""
        farms = (r.tank_farm.storage_bbl for r in self.routes.values() if r.tank_farm is not None)
        return sum(p.storage_bbl for p in self.producers.values()) + sum(farms)

    def storage_nodes(self) -> dict[str, float]:
        """Capacity of every storage node: each producer's (by its name) and each tank farm's
        (``<route>_tank_farm``) [bbl]."""
        nodes = {name: p.storage_bbl for name, p in self.producers.items()}
        nodes.update({f"{n}_tank_farm": r.tank_farm.storage_bbl for n, r in self.routes.items() if r.tank_farm})
        return nodes

    def reach(self, producer: str) -> tuple[str, ...]:
        """The routes ``producer`` can send oil to."""
        routes = self.producers[producer].routes
        return tuple(self.routes) if routes is None else tuple(r.split("/")[0] for r in routes)

    def joins_at(self, producer: str, route: str) -> int:
        """Where ``producer``'s oil enters ``route``: the index of the segment it joins at (0: the head)."""
        for reached in self.producers[producer].routes or ():
            name, _, segment = reached.partition("/")
            if name == route and segment:
                return list(self.routes[route].segments).index(segment)
        return 0

    def feeders(self, route: str) -> list[str]:
        """The producers that can send oil to ``route``."""
        return [p for p in self.producers if route in self.reach(p)]

    def targets(self) -> list[str]:
        """What outages, incidents and failures may impair: each route, each route's ``route/<part>``, then
        each producer (its output)."""
        parts = [t for name, r in self.routes.items() for t in (name, *(f"{name}/{c}" for c in r.components))]
        return [*parts, *(p for p in self.producers if p not in self.routes)]  # a shared name: targeted by neither

    def netback_usd_per_bbl(self, route: str) -> float:
        """What one barrel earns on ``route`` at its sale point at the constant Brent: Brent + differential
        - cost [USD/bbl]."""
        r = self.routes[route]
        return self.market.brent_usd_per_bbl + r.differential_usd_per_bbl - r.unit_cost_usd_per_bbl

    def routes_by_netback(self) -> list[str]:
        """Route names, best netback first (ties keep file order). Brent is common to every route, so the
        order holds whatever its level or path."""
        return sorted(self.routes, key=lambda name: -self.netback_usd_per_bbl(name))

    def without_disruptions(self) -> Scenario:
        """The same scenario with nothing impaired (no outages, incidents or failures): the loss baseline."""
        return self.model_copy(update={"outages": (), "incidents": (), "failures": (), "weather": ()})

    @property
    def has_random_disruptions(self) -> bool:
        """Whether the physical run draws random numbers (prices never change the physics)."""
        return bool(self.incidents or self.failures or self.weather)

    def consistency_issues(self) -> list[str]:
        """Problems that span several keys, as ``key.path: message`` lines (empty when consistent)."""
        issues = []
        if (dt.date.max - self.start_date).days < self.horizon_days:
            issues.append(f"start_date: {self.start_date} + horizon_days {self.horizon_days} runs past the year 9999")
        targets = self.targets()

        def check_target(where: str, target: str) -> None:
            if target in self.routes and target in self.producers:
                issues.append(f"{where}.target: {target!r} names both a route and a producer; rename one")
            elif target not in targets:
                near = difflib.get_close_matches(target, targets, n=1)
                guess = f"; did you mean {near[0]!r}?" if near else ""
                issues.append(f"{where}.target: unknown route, component or producer {target!r}{guess} "
                              f"(targets: {', '.join(targets)})")

        for i, outage in enumerate(self.outages):
            check_target(f"outages[{i}]", outage.target)
            start, end = outage.window_days(self.start_date)
            if start < 0:
                issues.append(f"outages[{i}].start_date: {outage.start_date} is before start_date {self.start_date}")
            if end < start:
                issues.append(f"outages[{i}].end_date: ends before it starts")
        names: dict[str, str] = {}
        processes: list[tuple[str, int, Incident | Failure | Storm]] = [
            *(("incidents", i, p) for i, p in enumerate(self.incidents)),
            *(("failures", i, p) for i, p in enumerate(self.failures)),
            *(("weather", i, p) for i, p in enumerate(self.weather)),
        ]
        for key, i, process in processes:
            where = f"{key}[{i}]"
            if isinstance(process, Storm):
                at = self.routes.get(process.target)
                if not isinstance(at, TankerShuttleRoute) and getattr(at, "terminal", None) is None:
                    at_sea = [n for n, r in self.routes.items()
                              if isinstance(r, TankerShuttleRoute) or getattr(r, "terminal", None) is not None]
                    issues.append(f"{where}.target: {process.target!r} is not a route with a terminal or a tanker "
                                  f"route (these are: {', '.join(at_sea) or 'none'})")
            else:
                check_target(where, process.target)
            if process.stream_name in names:
                issues.append(f"{where}.name: {process.stream_name!r} is already the name of "
                              f"{names[process.stream_name]}; give each random process its own name")
            names.setdefault(process.stream_name, where)
        for i, effect in enumerate(self.market.disruption_effects):
            if effect.route not in self.routes:
                issues.append(f"market.disruption_effects[{i}].route: unknown route {effect.route!r}")
        series = self.market.brent_series
        if series is not None and not series.values:
            issues.append("market.brent_series.csv: the series was not read (load scenarios with load_scenario)")
        for name, producer in self.producers.items():
            seen: set[str] = set()
            for j, reached in enumerate(producer.routes or ()):
                route_name, _, segment = reached.partition("/")
                where = f"producers.{name}.routes[{j}]"
                if route_name not in self.routes:
                    issues.append(f"{where}: unknown route {route_name!r} (routes: {', '.join(self.routes)})")
                elif route_name in seen:
                    issues.append(f"{where}: {route_name!r} is already listed; a producer reaches a route at one point")
                elif segment:
                    issues += self._joining_issues(where, route_name, segment)
                seen.add(route_name)
            for route_name in producer.nominations_bpd:
                if route_name not in self.reach(name):
                    issues.append(f"producers.{name}.nominations_bpd.{route_name}: not a route it reaches "
                                  f"({', '.join(self.reach(name))})")
            if producer.foreign:
                at_sea = [r for r in self.reach(name) if isinstance(self.routes[r], TankerShuttleRoute)]
                if at_sea:
                    issues.append(f"producers.{name}.foreign: a foreign shipper reaches tanker route {at_sea[0]!r}; "
                                  "whose cargoes the tankers carry is not modelled, so list only pipelines in "
                                  f"producers.{name}.routes")
        if all(p.foreign for p in self.producers.values()):
            issues.append(f"producers.{next(iter(self.producers))}.foreign: every producer is a foreign shipper; "
                          "the model measures a country's exports, so give it one of its own")
        for name, route in self.routes.items():
            if not isinstance(route, TankerShuttleRoute):
                continue
            if route.tank_farm is not None:
                space, where = route.tank_farm.storage_bbl, f"routes.{name}.tank_farm.storage_bbl"
            else:
                feeders = self.feeders(name)
                if len(feeders) > 1:
                    issues.append(f"routes.{name}.tank_farm: {len(feeders)} producers reach this tanker route; "
                                  "give it a tank_farm (its load port's tanks) for them to fill")
                if len(feeders) != 1:  # none: the route stays idle
                    continue
                space = self.producers[feeders[0]].storage_bbl
                where = f"producers.{feeders[0]}.storage_bbl"
            if route.tanker_capacity_bbl > space:
                issues.append(f"{where}: {space:g} is smaller than one cargo of routes.{name}.tanker_capacity_bbl "
                              f"({route.tanker_capacity_bbl:g}); no tanker could load")
        return issues

    def _joining_issues(self, where: str, route: str, segment: str) -> list[str]:
        """Why ``route/segment`` is not a point a producer can join at (empty if it is)."""
        spec = self.routes[route]
        if not isinstance(spec, PipelineRoute):
            return [f"{where}: {route!r} is a {spec.kind} route; a producer joins only a pipeline part-way"]
        if segment not in spec.segments:
            return [f"{where}: {segment!r} is not a segment of route {route!r} "
                    f"(segments: {', '.join(spec.segments) or 'none'})"]
        before, _ = spec.split_segments()
        if segment not in before:
            return [f"{where}: {segment!r} is below {route!r}'s tank farm; a producer joins a pipe above its tanks"]
        return []
