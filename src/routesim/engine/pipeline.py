"""The pipeline route component: segments, an optional tank farm and an optional terminal with moorings.

Oil is a rate: producers send it up to the intake capacity; without tanks it leaves at once (up to the
terminal's loading), with tanks the pipe above them fills them and the parts below empty them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from routesim.scenario.model import PipelineRoute

from . import capacity
from .capacity import Capacities
from .state import RouteState, Settled

if TYPE_CHECKING:
    from .reference import Network


class Pipeline:
    """A continuous route (see :class:`.state.RouteComponent`)."""

    continuous = True
    is_entry = True

    def __init__(self, state: RouteState) -> None:
        assert isinstance(state.spec, PipelineRoute)
        self.state = state
        self.spec: PipelineRoute = state.spec

    def capacities(self, factors: dict[str, float], stormy: bool) -> Capacities:
        return capacity.pipeline_bpd(self.state.name, self.spec, factors, stormy)

    def availability(self, factors: dict[str, float]) -> float:
        if not self.spec.segments and self.spec.terminal is None:
            return capacity.simple_availability(capacity.factor(factors, self.state.name), self.state.storms > 0)
        return capacity.availability(self.state.caps, self.state.nominal)

    def entry_bpd(self) -> float:
        farm, caps, rooms = self.state.tank_farm, self.state.caps, self.state.rooms_bpd
        if rooms:  # every shipper's oil passes the last stretch; the ones above cap only some
            caps = Capacities(rooms[-1], caps.delivery_bpd)
        return capacity.entry_bpd(caps, farm is not None, farm is not None and farm.bounds.full, True)

    def stretches_bpd(self, factors: dict[str, float]) -> tuple[float, ...]:
        starts = self.state.starts
        return capacity.stretches_bpd(self.state.name, self.spec, factors, starts) if starts != (0,) else ()

    def settle(self, inflow_bpd: float) -> Settled:
        farm, delivery = self.state.tank_farm, self.state.caps.delivery_bpd
        if farm is None:
            return Settled(None, inflow_bpd)
        out = capacity.farm_outflow_bpd(delivery, inflow_bpd, farm.bounds.above_working)
        return Settled(inflow_bpd - out, out)

    def weather(self) -> None:
        """A storm only stops the terminal's loading, through the capacities."""

    def start(self, network: Network) -> None:
        """A pipeline has no process of its own."""
