"""Whose oil a tank farm holds: its stock as parcels in order of arrival, each with its foreign share (pure,
no SimPy).

Oil leaves first in, first out, as a plug moving through the tanks: a shipper's loadings follow its deliveries
into the system, in order. Between two events the inflow's share is constant, so a parcel's share is too,
and the share of what leaves changes only when a parcel has gone: the engine refreshes then
(:meth:`Parcels.head_bbl`). With every shipper's oil in one share (one parcel), nothing more happens.
"""

from __future__ import annotations

import math
from collections import deque

SAME_SHARE = 1e-12
"""Two parcels whose foreign shares differ by less than this are one."""


class Parcels:
    """A tank farm's stock by arrival: [volume (bbl), foreign share (-)], oldest first."""

    def __init__(self, level_bbl: float, share: float) -> None:
        self.parcels: deque[list[float]] = deque([[level_bbl, share]] if level_bbl > 0 else [])

    def advance(self, in_bbl: float, in_share: float, out_bbl: float, tol_bbl: float) -> float:
        """``in_bbl`` arrives (foreign share ``in_share``) and ``out_bbl`` leaves, first in first out;
        returns the foreign barrels that left [bbl]. An oldest parcel left within ``tol_bbl`` of empty (the
        level's tolerance: its time to leave is below the spacing of floats) has left."""
        if in_bbl > 0:
            if self.parcels and abs(self.parcels[-1][1] - in_share) < SAME_SHARE:
                self.parcels[-1][0] += in_bbl
            else:
                self.parcels.append([in_bbl, in_share])
        foreign = 0.0
        while out_bbl > 0 and self.parcels:
            head = self.parcels[0]
            take = min(head[0], out_bbl)
            foreign += take * head[1]
            head[0] -= take
            out_bbl -= take
            if head[0] <= 0 or (len(self.parcels) > 1 and head[0] <= 1e-9 * take):
                self.parcels.popleft()
        while len(self.parcels) > 1 and self.parcels[0][0] <= tol_bbl:
            self.parcels.popleft()
        return foreign

    def match(self, level_bbl: float, share: float) -> None:
        """Bring the parcels' total to the storage's level (snapped onto a bound by the engine); oil missing
        from the parcels has the inflow's foreign share ``share``."""
        if level_bbl <= 0:
            self.parcels.clear()
            return
        gap = level_bbl - self.total_bbl
        while gap < 0 and self.parcels:  # less than the parcels hold: the newest oil is what was not there
            tail = self.parcels[-1]
            cut = min(tail[0], -gap)
            tail[0] -= cut
            gap += cut
            if tail[0] <= 0:
                self.parcels.pop()
        if gap > 0:
            if self.parcels:
                self.parcels[-1][0] += gap
            else:
                self.parcels.append([gap, share])

    @property
    def total_bbl(self) -> float:
        return sum(v for v, _ in self.parcels)

    def out_share(self, in_share: float) -> float:
        """The foreign share of what leaves now: the oldest parcel's, or the inflow's with the tanks empty [-]."""
        return self.parcels[0][1] if self.parcels else in_share

    def head_bbl(self, in_share: float) -> float:
        """What must leave before the share of what leaves changes, with oil arriving at foreign share
        ``in_share`` (inf: it does not) [bbl]."""
        if len(self.parcels) > 1 or (self.parcels and abs(self.parcels[0][1] - in_share) >= SAME_SHARE):
            return self.parcels[0][0]
        return math.inf
