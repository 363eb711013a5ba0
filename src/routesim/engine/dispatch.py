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
5. Where producers join a pipe part-way, the stretches above a joining point carry only the oil of the
   producers that join above it: together they send no more than the stretch's room, across every entry of
   the route (:class:`Stretch`). Within an entry the shares are water-filled under these caps as well
   (a producer held back by a stretch gives the rest to the others).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple


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
        quotas: its quota weight in each entry, where it nominates (empty: ``weight`` in every entry) [bbl/day].
    """

    potential_bpd: float
    empty: bool
    full: bool
    weight: float
    entries: frozenset[int]
    plan_bpd: tuple[float, ...] = ()
    quotas: tuple[float, ...] = ()


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


class Stretch(NamedTuple):
    """A stretch of a route above a joining point: only the oil of ``members`` passes it.

    A route's stretches are nested (each one's members include those of the stretches above it) and listed
    from the head down; the last stretch, which every shipper's oil passes, is not one of them: it is the
    route's entry capacity.
    """

    members: frozenset[int]
    """The producers (by index) whose oil passes it."""
    room_bpd: float
    """What it can carry now [bbl/day]."""


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


def share_within(capacity: float, supplies: Sequence[float], weights: Sequence[float],
                 stretches: Sequence[Stretch]) -> list[float]:
    """:func:`share`, with the members of each of ``stretches`` (nested, from the head down) together below
    its room [bbl/day].

    Progressive filling: every supplier's amount rises with one water level (pro rata to its weight, up to
    its supply); the cap (a stretch, or ``capacity`` over everyone) that the lowest level fills freezes its
    members there, and the others go on rising under the caps below it. Its sums run in index order, as
    the compiled engine's do.
    """
    if not stretches:
        return share(capacity, supplies, weights)
    out = [0.0] * len(supplies)
    frozen: set[int] = set()
    caps = [*stretches, Stretch(frozenset(range(len(supplies))), capacity)]
    while caps:
        best: tuple[float, int, list[float]] | None = None
        for k, (members, room) in enumerate(caps):
            free = [i for i in range(len(supplies)) if i in members and i not in frozen]
            left = room - sum(out[i] for i in range(len(supplies)) if i in members and i in frozen)
            amounts = share(left, [supplies[i] if i in free else 0.0 for i in range(len(supplies))], weights)
            level = _level(amounts, supplies, weights, free)
            if best is None or level < best[0]:
                best = (level, k, amounts)
        assert best is not None
        _, k, amounts = best
        for i in caps[k].members - frozen:
            out[i] = amounts[i]
        frozen |= caps[k].members
        caps = caps[k + 1:]
    return out


def _level(amounts: Sequence[float], supplies: Sequence[float], weights: Sequence[float], free: Sequence[int]) -> float:
    """The water level of a :func:`share`: an unsaturated supplier's amount per unit weight (inf when every
    supplier in ``free`` got its whole supply; with zero weights, the equal amount)."""
    open_ = [i for i in free if amounts[i] < supplies[i]]
    if not open_:
        return math.inf
    weighted = [float(amounts[i]) / float(weights[i]) for i in open_ if weights[i] > 0]  # inf, unwarned, past the floats
    return max(weighted) if weighted else max(amounts[i] for i in open_)


def allocate(suppliers: Sequence[Supplier], capacities_bpd: Sequence[float], routes: Sequence[int] = (),
             stranded_first: bool = False, stretches: Mapping[int, Sequence[Stretch]] | None = None) -> Allocation:
    """Rates of every producer into every entry, entries taken in the order given (priority first).

    Args:
        suppliers: the producers now.
        capacities_bpd: available capacity of each entry, in priority order [bbl/day].
        routes: the route of each entry (its committed part and its rest share one); needed by
            ``stranded_first``.
        stranded_first: the ``stranded_first`` sharing rule (rule 2), else ``pro_rata``.
        stretches: per route (as in ``routes``) where producers join part-way, its stretches above the
            joining points (rule 5).

    Returns:
        The allocation (see the module's rule).
    """
    left = [s.potential_bpd if s.empty else math.inf for s in suppliers]
    flows = [[0.0] * len(capacities_bpd) for _ in suppliers]
    open_bpd = capacities_bpd
    rooms = {r: list(s) for r, s in (stretches or {}).items()}
    """Each route's stretches with their rooms left, as entries take oil."""
    capacities_bpd = plans_first(suppliers, capacities_bpd, left, flows, routes, rooms)
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
    nominated = any(s.quotas for s in suppliers)
    for e, capacity in enumerate(capacities_bpd):
        if nominated:
            weights = [s.quotas[e] if s.quotas else s.weight for s in suppliers]
        offers = [left[i] if e in s.entries else 0.0 for i, s in enumerate(suppliers)]
        above = rooms.get(routes[e], []) if rooms else []
        if stranded_first:
            stranded = [not any(open_bpd[f] > 0 for f in s.entries if routes[f] != routes[e]) for s in suppliers]
            amounts = _fill(capacity, [o if alone else 0.0 for o, alone in zip(offers, stranded)], weights, above)
            taken = sum(amounts)
            others = _fill(capacity - taken, [0.0 if alone else o for o, alone in zip(offers, stranded)], weights,
                           above)
            amounts = [a + b for a, b in zip(amounts, others)]
        else:
            amounts = _fill(capacity, offers, weights, above)
        for i, amount in enumerate(amounts):
            if amount > 0:
                flows[i][e] += amount
                left[i] -= amount
    production = tuple(
        min(s.potential_bpd, sum(f)) if s.full else s.potential_bpd for s, f in zip(suppliers, flows)
    )
    return Allocation(production, tuple(tuple(f) for f in flows))


def _fill(capacity: float, offers: Sequence[float], weights: Sequence[float], above: list[Stretch]) -> list[float]:
    """:func:`share_within` an entry's ``capacity``, taking the amounts out of its route's stretches' rooms."""
    amounts = share_within(capacity, offers, weights, above)
    _take(above, amounts)
    return amounts


def _take(stretches: list[Stretch], amounts: Sequence[float]) -> None:
    """What ``amounts`` (per producer) take of each of ``stretches``' room."""
    for k, (members, room) in enumerate(stretches):
        stretches[k] = Stretch(members, room - sum(amounts[i] for i in range(len(amounts)) if i in members))


def plans_first(suppliers: Sequence[Supplier], capacities_bpd: Sequence[float], left: list[float],
                flows: list[list[float]], routes: Sequence[int] = (),
                rooms: dict[int, list[Stretch]] | None = None) -> Sequence[float]:
    """Rule 4: if a producer cannot send its plans, fill every plan first, into ``flows`` and out of ``left``
    (and of ``rooms``, the stretches' of rule 5); returns the capacities left to the other rules [bbl/day]."""
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
    for r, stretches in (rooms or {}).items():  # and to each stretch's room, from the head down
        on = [e for e in range(n_e) if routes[e] == r]
        for members, room in stretches:
            total = sum(wants[i][e] for i in range(len(wants)) if i in members for e in on)
            if total > room:
                scale = max(room, 0.0) / total
                for i in members:
                    for e in on:
                        wants[i][e] *= scale
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
    for r, stretches in (rooms or {}).items():
        _take(stretches, [sum(flows[i][e] for e in range(n_e) if routes[e] == r) for i in range(len(suppliers))])
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
