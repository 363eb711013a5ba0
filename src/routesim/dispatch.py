"""Pure allocation of oil between production, storage and routes at one instant (no SimPy, no state).

The engine calls :func:`dispatch` whenever something changes; between two calls every rate is constant.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Allocation:
    """Rates that hold until the next event.

    Attributes:
        production_bpd: what the producer actually produces [bbl/day].
        flows_bpd: what each continuous route draws from storage, in the order given [bbl/day].
    """

    production_bpd: float
    flows_bpd: tuple[float, ...]

    @property
    def net_bpd(self) -> float:
        """Rate of change of the storage level [bbl/day]."""
        return self.production_bpd - sum(self.flows_bpd)


def fill_in_order(supply: float, capacities: Sequence[float]) -> tuple[float, ...]:
    """Give ``supply`` to the capacities in order, each up to its capacity [bbl/day]."""
    flows = []
    for cap in capacities:
        take = min(cap, max(supply, 0.0))
        flows.append(take)
        supply -= take
    return tuple(flows)


def dispatch(empty: bool, full: bool, potential_bpd: float, capacities_bpd: Sequence[float]) -> Allocation:
    """Rates for a storage node fed by a producer and drained by continuous routes.

    Args:
        empty: the storage level is zero, so routes can only take what is produced.
        full: the storage level is at capacity, so production is cut to what routes take.
        potential_bpd: what the producer could produce now (nominal, or the restart ramp) [bbl/day].
        capacities_bpd: available capacity of each route, best netback first [bbl/day].

    Returns:
        The allocation. With stock in storage every route runs at its capacity; with the storage empty,
        production is shared out in netback order; with it full, production is cut to the total draw.
    """
    flows = fill_in_order(potential_bpd, capacities_bpd) if empty else tuple(capacities_bpd)
    production = min(potential_bpd, sum(flows)) if full else potential_bpd
    return Allocation(production, flows)


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
