"""Pure allocation of oil between producers and routes at one instant (no SimPy, no state).

The engine calls :func:`allocate` whenever something changes; between two calls every rate is constant.

The rule, in the order a shipper would see it:

1. Each route entry offers a capacity: first the committed part of every route with a contracted minimum
   (``committed_bpd``), then what is left of every route, both in netback order.
2. An entry's capacity is shared among the producers that reach the route and still have oil to send,
   pro rata to their nominal production (a quota), and a producer that has less than its share gives the
   rest to the others (water-filling). Under the ``stranded_first`` rule the producers with no other open
   route (every other route they may use has no capacity now) share it first, the others what they leave.
3. A producer with stock in storage can send as much as the routes take; with its storage empty, only
   what it produces; with its storage full, it produces only what the routes take.
4. A shipper keeps its planned routes first: when a producer cannot send the planned flows (:mod:`.plan`)
   of the entries it may use, every producer first fills each entry up to its plan (plans asking more than
   an entry's capacity scaled down to it; a producer short of its plans fills them pro rata), and only
   what is left goes by 1 and 2. When every producer can send its plans this is the allocation of 1 and 2.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Supplier:
    """A producer at one instant.

    Attributes:
        potential_bpd: what it could produce now (nominal, or on its restart ramp) [bbl/day].
        empty: its storage is empty, so it can send only what it produces.
        full: its storage is full, so it produces only what it sends.
        weight: its quota weight on shared routes (its nominal production) [bbl/day].
        entries: indices of the entries (see :func:`allocate`) it may use.
        plan_bpd: its planned flow into each entry (empty: none) [bbl/day].
    """

    potential_bpd: float
    empty: bool
    full: bool
    weight: float
    entries: frozenset[int]
    plan_bpd: tuple[float, ...] = ()


@dataclass(frozen=True)
class Allocation:
    """Rates that hold until the next event.

    Attributes:
        production_bpd: per producer, what it actually produces [bbl/day].
        flows_bpd: per producer, what it sends into each entry [bbl/day].
    """

    production_bpd: tuple[float, ...]
    flows_bpd: tuple[tuple[float, ...], ...]

    def drawn_bpd(self, producer: int) -> float:
        """What producer ``producer`` sends in total [bbl/day]."""
        return sum(self.flows_bpd[producer])

    def entry_bpd(self, entry: int) -> float:
        """What all producers send into entry ``entry`` [bbl/day]."""
        return sum(flows[entry] for flows in self.flows_bpd)


def share(capacity: float, supplies: Sequence[float], weights: Sequence[float]) -> list[float]:
    """Water-fill ``capacity`` over suppliers pro rata to ``weights``, none above its supply [bbl/day]."""
    out = [0.0] * len(supplies)
    active = [i for i, s in enumerate(supplies) if s > 0]
    left = max(capacity, 0.0)
    while active and left > 0:
        if len(active) == 1:
            i = active[0]
            out[i] = min(left, supplies[i])
            break
        total = sum(weights[i] for i in active)
        fair = {i: left * (weights[i] / total if total > 0 else 1 / len(active)) for i in active}
        short = [i for i in active if supplies[i] <= fair[i]]
        if not short:
            for i in active:
                out[i] = fair[i]
            break
        for i in short:
            out[i] = supplies[i]
            left -= supplies[i]
        active = [i for i in active if i not in short]
    return out


def allocate(suppliers: Sequence[Supplier], capacities_bpd: Sequence[float], routes: Sequence[int] = (),
             stranded_first: bool = False) -> Allocation:
    """Rates of every producer into every entry, entries taken in the order given (priority first).

    Args:
        suppliers: the producers now.
        capacities_bpd: available capacity of each entry, in priority order [bbl/day].
        routes: the route of each entry (its committed part and its rest share one); needed by
            ``stranded_first``.
        stranded_first: the ``stranded_first`` sharing rule (rule 2), else ``pro_rata``.

    Returns:
        The allocation (see the module's rule).
    """
    left = [s.potential_bpd if s.empty else math.inf for s in suppliers]
    flows = [[0.0] * len(capacities_bpd) for _ in suppliers]
    open_bpd = capacities_bpd
    capacities_bpd = plans_first(suppliers, capacities_bpd, left, flows)
    if len(suppliers) == 1:  # one producer: fill the entries in order
        one, flow = suppliers[0], flows[0]
        supply = left[0]
        for e, capacity in enumerate(capacities_bpd):
            take = min(capacity, supply) if e in one.entries and supply > 0 and capacity > 0 else 0.0
            flow[e] += take
            supply -= take
        drawn = sum(flow)
        return Allocation((min(one.potential_bpd, drawn) if one.full else one.potential_bpd,), (tuple(flow),))
    weights = [s.weight for s in suppliers]
    for e, capacity in enumerate(capacities_bpd):
        offers = [left[i] if e in s.entries else 0.0 for i, s in enumerate(suppliers)]
        if stranded_first:
            stranded = [not any(open_bpd[f] > 0 for f in s.entries if routes[f] != routes[e]) for s in suppliers]
            amounts = share(capacity, [o if alone else 0.0 for o, alone in zip(offers, stranded)], weights)
            taken = sum(amounts)
            others = share(capacity - taken, [0.0 if alone else o for o, alone in zip(offers, stranded)], weights)
            amounts = [a + b for a, b in zip(amounts, others)]
        else:
            amounts = share(capacity, offers, weights)
        for i, amount in enumerate(amounts):
            if amount > 0:
                flows[i][e] += amount
                left[i] -= amount
    production = tuple(
        min(s.potential_bpd, sum(f)) if s.full else s.potential_bpd for s, f in zip(suppliers, flows)
    )
    return Allocation(production, tuple(tuple(f) for f in flows))


def plans_first(suppliers: Sequence[Supplier], capacities_bpd: Sequence[float], left: list[float],
                flows: list[list[float]]) -> Sequence[float]:
    """Rule 4: if a producer cannot send its plans, fill every plan first, into ``flows`` and out of ``left``;
    returns the capacities left to the other rules [bbl/day]."""
    n_e = len(capacities_bpd)
    asked = [0.0] * n_e
    for s in suppliers:
        for e in s.entries:
            if s.plan_bpd:
                asked[e] += s.plan_bpd[e]
    wants = []
    for s in suppliers:
        # the plans scaled down to an entry's capacity, where they ask more (written so that a capacity
        # far above a vanishing ask does not overflow)
        wants.append([s.plan_bpd[e] * (1.0 if capacities_bpd[e] >= asked[e] else max(capacities_bpd[e], 0.0) / asked[e])
                      if s.plan_bpd and e in s.entries and asked[e] > 0 else 0.0 for e in range(n_e)])
    if all(supply >= sum(want) for supply, want in zip(left, wants)):
        return capacities_bpd
    rest = list(capacities_bpd)
    for i, want in enumerate(wants):
        total = sum(want)
        if total <= 0:
            continue
        scale = 1.0 if left[i] >= total else left[i] / total
        for e in range(n_e):
            take = want[e] * scale
            flows[i][e] = take
            rest[e] -= take
        left[i] = max(left[i] - total * scale, 0.0)
    return rest


def shuttle_throughput_bpd(
    capacity_bpd: float, tankers: int, cargo_bbl: float, berths: int, load_days: float, cycle_days: float
) -> float:
    """Long-run throughput of a tanker shuttle with ample stock [bbl/day].

    The least of the terminal cap, the fleet limit (``tankers x cargo / cycle``) and the berth limit
    (``berths x cargo / load``): the circuit means of the shuttle's max-plus recurrence.
    """
    fleet = tankers * cargo_bbl / cycle_days if cycle_days > 0 else float("inf")
    berth = berths * cargo_bbl / load_days if load_days > 0 else float("inf")
    return min(capacity_bpd, fleet, berth)
