"""A producer's backlog of deferred oil: shut-in barrels owed, oldest first, each stamped with the time it
was shut in (pure arithmetic, no SimPy; the compiled engine repeats it over arrays, operation for
operation).

Oil enters while the producer runs below plan (``inflow_bpd``: the make-up share of the shortfall) and
leaves while it runs above plan (``draw_bpd``: the excess), the oldest first. A barrel not made up within
the window after it was shut in expires. Between two events rates are constant, so the oil shut in over
an interval has one density over the stamps of that interval: the backlog is a queue of segments, each
with its last stamp, its density and the barrels left of it, whose oldest barrel (the front) moves as
they leave.

The oldest barrel expires when the expiry line (now minus the window) reaches it. If the draw takes the
front's barrels faster than time moves the line (``draw_bpd >= density``), none expires; else the front
moves with the line, the draw takes ``draw_bpd`` and the rest of the front's density expires. The events
that change the backlog's rate -- the front reaching the end of its segment (the backlog empty after the
last), the expiry line reaching the front -- are crossings the engine schedules (:meth:`Backlog.wait_days`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .limits import LEVEL_TOL_BBL, TIME_TOL_DAYS


def expiring(end_day: float, density_bpd: float, left_bbl: float, draw_bpd: float, now: float,
             window_days: float) -> bool:
    """Whether the front segment's oldest barrel is expiring now: the expiry line has reached it and the
    draw does not outrun the line."""
    front = end_day - left_bbl / density_bpd
    return now - window_days >= front - TIME_TOL_DAYS and draw_bpd < density_bpd


@dataclass
class Backlog:
    """Deferred oil of one producer, in segments oldest first (see the module)."""

    window_days: float = math.inf
    """Oil older than this is lost [days]."""
    ends: list[float] = field(default_factory=list)
    """Per segment, the stamp of its newest barrel [days]."""
    densities: list[float] = field(default_factory=list)
    """Per segment, barrels per day of stamps [bbl/day]."""
    amounts: list[float] = field(default_factory=list)
    """Per segment, the barrels left of it (its oldest gone first) [bbl]."""
    inflow_bpd: float = 0.0
    """Oil entering now (the make-up share of the shortfall below plan) [bbl/day]."""
    draw_bpd: float = 0.0
    """Oil made up now (production above plan) [bbl/day]."""

    @property
    def level_bbl(self) -> float:
        """Barrels owed [bbl]."""
        total = 0.0
        for amount in self.amounts:
            total += amount
        return total

    def net_bpd(self, now: float) -> float:
        """The level's rate of change from ``now`` on [bbl/day]."""
        if not self.amounts:
            return self.inflow_bpd
        b, q, r = self.ends[0], self.densities[0], self.amounts[0]
        out = q if expiring(b, q, r, self.draw_bpd, now, self.window_days) else self.draw_bpd
        return self.inflow_bpd - out

    def advance(self, start: float, now: float, slack: float) -> None:
        """Apply the rates from ``start`` to ``now`` (no event of :meth:`wait_days` falls between): the front
        segment drawn (and expiring), the oil shut in meanwhile appended as a segment (merged into the
        newest if that one ends at ``start`` with the same density); then drop the front segments that are
        spent: within a level tolerance, or so little that their time to run out is below the resolution
        of the clock (``slack``), where an event to end them would never move time on."""
        dt = now - start
        if dt > 0 and self.amounts:
            b, q, r = self.ends[0], self.densities[0], self.amounts[0]
            rate = q if expiring(b, q, r, self.draw_bpd, start, self.window_days) else self.draw_bpd
            self.amounts[0] = r - rate * dt
        q = self.inflow_bpd
        if dt > 0 and q > 0:
            if self.amounts and self.ends[-1] == start and self.densities[-1] == q:
                self.ends[-1] = now
                self.amounts[-1] += q * dt
            else:
                self.ends.append(now)
                self.densities.append(q)
                self.amounts.append(q * dt)
        while self.amounts and self.amounts[0] <= LEVEL_TOL_BBL + max(self.densities[0], self.draw_bpd) * slack:
            del self.ends[0], self.densities[0], self.amounts[0]

    def wait_days(self, now: float) -> float:
        """Time from ``now`` to the next change of the backlog's rate (inf: none) [days]."""
        w = self.window_days
        if not self.amounts:
            return w if self.inflow_bpd > 0 else math.inf  # what is shut in from now on expires after w
        b, q, r, d = self.ends[0], self.densities[0], self.amounts[0], self.draw_bpd
        if expiring(b, q, r, d, now, w):
            return r / q  # the front, moving with the line, reaches the end of its segment
        wait = r / d if d > 0 else math.inf  # the draw empties the front segment
        if w < math.inf and d < q:  # the line, moving faster than the front, reaches it
            front = b - r / q
            catch = (front + w - now) / (1.0 - d / q)
            if catch < wait:
                wait = catch
        return max(wait, 0.0)
