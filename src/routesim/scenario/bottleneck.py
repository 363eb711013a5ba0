"""What binds a route when nothing is impaired: the least of its caps, named, so that a user who raises a
capacity that does not bind is told which does (3 tankers x 90,000 bbl over a 6-day cycle carry 45,000
bbl/day, whatever the port's capacity_bpd)."""

from __future__ import annotations

from typing import NamedTuple

from .model import PipelineRoute, Route


class Bottleneck(NamedTuple):
    """A route's binding cap: what it is, in the scenario's words, and how much it carries [bbl/day]."""

    constraint: str
    bpd: float


def bottleneck(route: Route) -> Bottleneck:
    """The least of ``route``'s unimpaired caps: its capacity, each segment, its terminal's moorings, or for a
    tanker shuttle its fleet (tankers x cargo / cycle) and its load berths (berths x cargo / load time)."""
    caps = [Bottleneck(f"capacity_bpd {route.capacity_bpd:,.0f}", route.capacity_bpd)]
    caps += [Bottleneck(f"segments.{name}.capacity_bpd {s.capacity_bpd:,.0f}", s.capacity_bpd)
             for name, s in route.segments.items()]
    if isinstance(route, PipelineRoute):
        if route.terminal is not None:
            t = route.terminal
            rates = (f"x {t.top_rate_bpd:,.0f} bbl/d" if t.equal_rates else
                     "at " + ", ".join(f"{m} {r:,.0f}" for m, r in zip(t.moorings, t.rates_bpd))
                     + f" bbl/d, the best together {t.nominal_bpd:,.0f}")
            caps.append(Bottleneck(f"terminal: {t.active_moorings} active moorings {rates}", t.nominal_bpd))
        return min(caps, key=lambda c: c.bpd)
    cargo = route.tanker_capacity_bbl
    if route.cycle_days > 0:
        caps.append(Bottleneck(f"tankers: {route.tankers} x {cargo:,.0f} bbl over a {route.cycle_days:g}-day cycle",
                               route.tankers * cargo / route.cycle_days))
    if route.load_days > 0:
        caps.append(Bottleneck(f"load_berths: {route.load_berths} x {cargo:,.0f} bbl per {route.load_days:g}-day load",
                               route.load_berths * cargo / route.load_days))
    return min(caps, key=lambda c: c.bpd)
