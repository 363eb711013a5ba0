"""What a route or a part of it can carry under its impairments: pure functions, no SimPy, no state.

A factor is the available share of a target (a route, or a part ``route/<part>``): the smallest factor of
its active impairments, 1 when none is active; targets missing from ``factors`` are fully available. A
storm (``stormy``) stops a terminal's loading, or a tanker route's lifts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from routesim.scenario.model import PipelineRoute, TankerShuttleRoute


class Capacities(NamedTuple):
    """What a route can take in and what it can deliver, now [bbl/day].

    ``intake_bpd``: ``capacity_bpd`` and the segments before any tank farm (without one: the whole line).
    ``delivery_bpd``: below the tank farm, the segments after it and the terminal (a tanker route: its port
    cap; tanks with nothing below them: ``capacity_bpd``; without a tank farm: the terminal, inf without one).
    """

    intake_bpd: float
    delivery_bpd: float


def factor(factors: Mapping[str, float], target: str) -> float:
    """Available share of ``target`` [-]."""
    return factors.get(target, 1.0)


class MooringShares(NamedTuple):
    """A terminal's mooring rates as the fastest one and each one's share of it."""

    top_bpd: float
    """The fastest mooring's rate [bbl/day]."""
    shares: tuple[float, ...]
    """Each mooring's rate / the fastest (exactly 1 for equal rates; 0 when every rate is 0) [-]."""


def mooring_shares(rates_bpd: Sequence[float]) -> MooringShares:
    """``rates_bpd`` as the fastest rate and each mooring's share of it (both engines take theirs from here)."""
    top = max(rates_bpd)
    return MooringShares(top, tuple(r / top if top > 0 else 0.0 for r in rates_bpd))


def k_of_n_bpd(rates_bpd: Sequence[float], active_moorings: int, mooring_factors: Sequence[float]) -> float:
    """A terminal's loading capacity: the sum of the ``active_moorings`` largest of each mooring's rate x
    its factor; with equal rates and moorings up or down, ``min(active, up) x rate`` [bbl/day].

    Summed as the fastest rate times the largest of share x factor (:func:`mooring_shares`), so that equal
    rates give the rate times the sum of the factors, bit for bit.
    """
    top, shares = mooring_shares(rates_bpd)
    loads = [s * f for s, f in zip(shares, mooring_factors, strict=True)]
    return top * sum(sorted(loads, reverse=True)[:active_moorings])


def pipeline_bpd(name: str, route: PipelineRoute, factors: Mapping[str, float], stormy: bool) -> Capacities:
    """Intake and delivery capacity of pipeline route ``name`` under ``factors`` [bbl/day].

    The whole route's factor scales every part; a storm stops its terminal's loading.
    """
    whole = factor(factors, name)
    intake = route.capacity_bpd * whole
    before, after = route.split_segments()
    for segment in before:
        intake = min(intake, route.segments[segment].capacity_bpd * factor(factors, f"{name}/{segment}") * whole)
    delivery = math.inf
    for segment in after:
        delivery = min(delivery, route.segments[segment].capacity_bpd * factor(factors, f"{name}/{segment}") * whole)
    terminal = route.terminal
    if terminal is not None:
        moorings = [factor(factors, f"{name}/{m}") for m in terminal.moorings]
        loading = 0.0 if stormy else (
            k_of_n_bpd(terminal.rates_bpd, terminal.active_moorings, moorings)
            * factor(factors, f"{name}/terminal") * whole
        )
        delivery = min(delivery, loading)
    if delivery == math.inf and route.tank_farm is not None:  # tanks at the pipe's end drain at its rate
        delivery = route.capacity_bpd * whole
    return Capacities(intake, delivery)


def stretches_bpd(name: str, route: PipelineRoute, factors: Mapping[str, float], starts: Sequence[int]
                  ) -> tuple[float, ...]:
    """What each stretch of pipeline route ``name`` above its tank farm can carry under ``factors``, where
    producers join it part-way [bbl/day].

    Stretch m runs from segment ``starts[m]`` (a joining point; 0 is the head) to the next joining point;
    only the oil of the producers that join at or above it passes it. The last runs to the tank farm (the
    end of the pipe without one) and carries every shipper's oil, so ``capacity_bpd`` caps it. With one
    stretch (no producer joins part-way) this is the intake of :func:`pipeline_bpd`.
    """
    whole = factor(factors, name)
    before, _ = route.split_segments()
    caps = []
    for m, start in enumerate(starts):
        last = m == len(starts) - 1
        cap = route.capacity_bpd * whole if last else math.inf
        for segment in before[start:len(before) if last else starts[m + 1]]:
            cap = min(cap, route.segments[segment].capacity_bpd * factor(factors, f"{name}/{segment}") * whole)
        caps.append(cap)
    return tuple(caps)


def shuttle_bpd(name: str, route: TankerShuttleRoute, factors: Mapping[str, float], stormy: bool) -> Capacities:
    """Intake (the segments feeding the load port's tanks) and port cap of tanker route ``name`` [bbl/day];
    a storm stops its lifts."""
    whole = factor(factors, name)
    intake = route.capacity_bpd * whole
    for segment, part in route.segments.items():
        intake = min(intake, part.capacity_bpd * factor(factors, f"{name}/{segment}") * whole)
    return Capacities(intake, 0.0 if stormy else route.capacity_bpd * whole)


def availability(caps: Capacities, nominal: Capacities) -> float:
    """Share of a route's nominal capacity it can carry through now: the lesser of intake and delivery,
    against the same with every part available (1 when that is 0 or unbounded) [-]."""
    full = min(nominal)
    return min(1.0, min(caps) / full) if 0 < full < math.inf else 1.0


def simple_availability(whole_factor: float, stormy: bool) -> float:
    """Availability of a route with no parts: its own factor, 0 in a storm [-]."""
    return 0.0 if stormy else whole_factor


def entry_bpd(caps: Capacities, has_farm: bool, farm_full: bool, continuous: bool) -> float:
    """What producers may send a route now [bbl/day].

    Without tanks: intake and delivery together. A tanker route's load-port tanks take the intake until
    full. A pipeline's tanks take the intake, and once full only what is delivered below them.
    """
    if not has_farm:
        return min(caps)
    if not continuous:
        return 0.0 if farm_full else caps.intake_bpd
    return min(caps) if farm_full else caps.intake_bpd


COMMITTED, PLANNED, SPARE = 0, 1, 2
"""The parts of a route's entry capacity, in the order producers are offered them: its commitment
(``committed_bpd``), the rest up to its plan (``plan_bpd``), and the spare above the plan."""


def entry_part_bpd(capacity_bpd: float, committed_bpd: float, plan_bpd: float, part: int) -> float:
    """One part of a route's entry capacity: the committed part (the commitment, up to the capacity), the
    rest up to the plan (inf: no plan, so all of it), or the spare above the plan [bbl/day]."""
    committed = min(committed_bpd, capacity_bpd) if committed_bpd > 0 else 0.0
    if part == COMMITTED:
        return committed
    planned = min(capacity_bpd, plan_bpd)
    return planned - committed if part == PLANNED else capacity_bpd - planned


def farm_outflow_bpd(delivery_bpd: float, inflow_bpd: float, above_working: bool) -> float:
    """What a pipeline's tank farm delivers: the full delivery capacity above its working stock (catching
    up), else no more than what arrives [bbl/day]."""
    return delivery_bpd if above_working else min(delivery_bpd, inflow_bpd)


def lift_gap_days(cargo_bbl: float, port_cap_bpd: float) -> float:
    """Least time between two lifts under a port cap (inf while the cap is 0) [days]."""
    return cargo_bbl / port_cap_bpd if port_cap_bpd > 0 else math.inf
