"""Runtime records of one run (storage, producers, routes) and the protocol every route kind follows."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple, Protocol

from routesim.scenario.model import Producer, Route

from .backlog import Backlog
from .capacity import Capacities
from .limits import LEVEL_TOL_BBL
from .parcels import Parcels

if TYPE_CHECKING:
    from .reference import Network



def slack_days(now: float) -> float:
    """How far apart two computations of the same instant ``now`` can be: a few of its ulps [days]."""
    return 4 * math.ulp(now if now > 1.0 else 1.0)


class Bounds(NamedTuple):
    """Where a storage level stands: what the allocation depends on."""

    empty: bool
    full: bool
    above_working: bool


@dataclass
class Storage:
    """A storage node: a level between 0 and a capacity, moving linearly at ``net_bpd`` between refreshes."""

    name: str
    capacity_bbl: float
    level_bbl: float
    working_bbl: float = 0.0
    """A terminal tank farm's working stock: its outflow drops to the inflow when the level falls to it."""
    net_bpd: float = 0.0
    tol_bbl: float = LEVEL_TOL_BBL
    """Levels this close to a bound are on it; grows with the rate and the time (see Network._advance)."""

    @property
    def bounds(self) -> Bounds:
        """Empty, full, above its working stock (each within ``tol_bbl``)."""
        level, tol = self.level_bbl, self.tol_bbl
        return Bounds(level <= tol, level >= self.capacity_bbl - tol, level > self.working_bbl + tol)


@dataclass
class Ramp:
    """Linear climb from a curtailed rate back to nominal, in steps whose midpoint values make the volume exact."""

    start_day: float
    from_bpd: float
    to_bpd: float
    steps: int
    step_days: float
    k: int = 0

    def advance(self, now: float) -> None:
        """Move to the step that holds at ``now``."""
        while self.k < self.steps and now >= self.next_day - 1e-12:
            self.k += 1

    @property
    def done(self) -> bool:
        return self.k >= self.steps

    @property
    def next_day(self) -> float:
        """When the next step begins [days]."""
        return self.start_day + (self.k + 1) * self.step_days

    @property
    def value_bpd(self) -> float:
        """Rate of the current step: the ramp's value at the step's midpoint [bbl/day]."""
        return self.from_bpd + (self.to_bpd - self.from_bpd) * (self.k + 0.5) / self.steps


@dataclass
class Curtailment:
    """A producer's curtailment: from its first cut to its restart, through the refills of room freed by
    tanker lifts, with what it produced meanwhile (its restart ramp starts from the mean)."""

    start_day: float
    low_bpd: float
    """The least and the greatest rate it produced at in the curtailment [bbl/day]."""
    high_bpd: float
    produced_bbl: float = 0.0

    def hold(self, rate_bpd: float) -> None:
        """It produces at ``rate_bpd`` from now on [bbl/day]."""
        self.low_bpd = min(self.low_bpd, rate_bpd)
        self.high_bpd = max(self.high_bpd, rate_bpd)

    def mean_bpd(self, now: float) -> float:
        """Its mean production rate up to ``now``; a rate held throughout is its own mean [bbl/day]."""
        if self.low_bpd == self.high_bpd or now <= self.start_day:
            return self.low_bpd
        return self.produced_bbl / (now - self.start_day)


@dataclass
class ProducerState:
    """Runtime state of a producer."""

    name: str
    spec: Producer
    storage: Storage
    reach: frozenset[str]
    """Names of the routes it can send oil to."""
    curtailed_bpd: float | None = None
    """Production while cut back because its storage is full; None when not cut."""
    cut: Curtailment | None = None
    """The curtailment it is in (from its first cut to its restart), or None."""
    ramp: Ramp | None = None
    production_bpd: float = 0.0
    backlog: Backlog | None = None
    """Its deferred oil, if it makes up shut-in oil (see :attr:`Producer.makes_up`)."""

    @property
    def ceiling_bpd(self) -> float:
        """What it may produce with no ramp: its maximum while it owes oil, else its plan [bbl/day]."""
        if self.backlog is not None and self.backlog.amounts:
            return self.spec.peak_bpd
        return self.spec.production_bpd

    @property
    def ramp_to_bpd(self) -> float:
        """Where a restart ramp climbs to: its maximum if it makes up oil, else its plan [bbl/day]."""
        return self.spec.peak_bpd if self.backlog is not None else self.spec.production_bpd

    def potential_bpd(self, now: float) -> float:
        """What it could produce now: its ceiling, or the value of its restart ramp below it [bbl/day]."""
        ceiling = self.ceiling_bpd
        if self.ramp is not None:
            self.ramp.advance(now)
            if not self.ramp.done:
                return self.ramp.value_bpd if self.backlog is None else min(self.ramp.value_bpd, ceiling)
            self.ramp = None
        return ceiling


@dataclass
class RouteState:
    """Runtime state of a route, whatever its kind.

    Priorities: the committed part of the route of netback rank ``rank`` has priority ``rank``, the rest
    ``n + rank`` (n routes). A tanker waiting for a cargo takes its route's priority (committed while the
    route's lifts are behind its committed volume).
    """

    name: str
    spec: Route
    rank: int
    tank_farm: Storage | None
    nominal: Capacities
    """Intake and delivery capacity with every part available [bbl/day]."""
    caps: Capacities
    """Intake and delivery capacity now, updated when an impairment or storm of the route starts or ends."""
    storms: int = 0
    """Storms on the route now."""
    outflow_bpd: float = 0.0
    """What leaves a continuous route towards its sale point, from the last solve [bbl/day]."""
    starts: tuple[int, ...] = (0,)
    """The segments producers join it at, head first (``(0,)``: all at the head; see :func:`.plan.joining`)."""
    members: tuple[frozenset[int], ...] = ()
    """Per stretch above its last joining point, the producers whose oil passes it."""
    rooms_bpd: tuple[float, ...] = ()
    """Where producers join it part-way, what each stretch can carry now, the last one's included (empty:
    none joins part-way) [bbl/day]."""
    inflow_bpd: float = 0.0
    """What producers send it, from the last solve [bbl/day]."""
    foreign_share: float = 0.0
    """The foreign shippers' share of that inflow [-]."""
    parcels: Parcels | None = None
    """Whose oil its tank farm holds, where a foreign shipper reaches it (:mod:`.parcels`)."""


class Settled(NamedTuple):
    """Where what producers send a route goes [bbl/day]."""

    farm_net_bpd: float | None
    """Its tank farm's rate of change (None without a tank farm)."""
    outflow_bpd: float
    """What leaves it towards its sale point as a rate (0 for a route that carries cargoes)."""


class RouteComponent(Protocol):
    """A route kind as the core sees it; outside its component nothing asks which kind a route is."""

    state: RouteState
    continuous: bool
    """Whether it delivers a rate (a flow in the trace) rather than discrete cargoes."""
    is_entry: bool
    """Whether producers send it oil as a rate (a pipeline, or a tanker route's load-port tanks)."""

    def capacities(self, factors: dict[str, float], stormy: bool) -> Capacities:
        """Intake and delivery capacity under ``factors`` (see :mod:`.capacity`) [bbl/day]."""

    def availability(self, factors: dict[str, float]) -> float:
        """Share of its nominal capacity available now [-]."""

    def entry_bpd(self) -> float:
        """What producers may send it now, if it is an entry [bbl/day]."""

    def stretches_bpd(self, factors: dict[str, float]) -> tuple[float, ...]:
        """Where producers join it part-way, what each stretch can carry under ``factors`` (see
        :func:`.capacity.stretches_bpd`); empty when none does [bbl/day]."""

    def settle(self, inflow_bpd: float) -> Settled:
        """Where ``inflow_bpd``, what producers send it, goes [bbl/day]."""

    def weather(self) -> None:
        """Its storm count changed (``state.storms``): react (tankers wait for calm)."""

    def start(self, network: Network) -> None:
        """Start its processes at day 0 (tankers)."""


class Entry(NamedTuple):
    """A capacity producers share, in priority order: a route's committed part, its part up to its plan, or
    its spare above the plan (``part``: :data:`.capacity.COMMITTED`, ``PLANNED`` or ``SPARE``)."""

    route: RouteComponent
    part: int
    priority: int
