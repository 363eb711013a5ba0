"""Replications to a stated precision (``routesim run -n auto --precision 0.02``): run in rounds until the
95 % confidence interval of a metric's statistic is within a share of the statistic, or a cap is reached.

A round adds replications after the last, so the run that stops after n replications is, bit for bit, the
run of n replications: the result is a function of the seed and the count used, as any run's is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .executors import BLOCK

if TYPE_CHECKING:  # the command line reads this module's defaults without loading the statistics
    import numpy as np

    from routesim.results.summary import Reached

FIRST_ROUND = 256
"""Replications of the first round: enough for a first estimate of the spread."""
MAX_REPLICATIONS = 100_000
"""The default cap."""
DEFAULT_TARGET = 0.02
"""The default precision: the interval's half-width within 2 % of the statistic."""
STATISTICS = ("mean", "var95", "cvar95")
"""The statistics a precision can be asked of (those of :func:`routesim.results.summary.interval95`)."""
GROWTH = 4.0
"""A round at most multiplies the replications by this: a first estimate of a heavy tail is rough."""


@dataclass(frozen=True)
class Precision:
    """The rule: the 95 % interval's half-width of ``statistic`` of ``metric`` within ``target`` of it."""

    target: float
    """Half-width over the statistic, in (0, 1) [-]."""
    metric: str = "budget_loss_usd"
    statistic: str = "mean"
    """``mean``, ``var95`` or ``cvar95`` (see :func:`routesim.results.summary.interval95`)."""
    max_replications: int = MAX_REPLICATIONS
    first: int = FIRST_ROUND

    def reached(self, values: np.ndarray) -> Reached:
        """What the replications so far (their values of the metric) reach."""
        from routesim.results.summary import Reached

        return Reached.of(values, self.metric, self.statistic, self.target, self.max_replications)

    def next_total(self, reached: Reached) -> int:
        """The replications in all after the next round: what the interval's 1/sqrt(n) narrowing says is
        needed, and 10 % more; at least one block more, at most :data:`GROWTH` times as many, a whole number
        of blocks (so that the sums fold as in one run), and never past the cap."""
        done = reached.replications
        need = done * (reached.relative / self.target) ** 2 if math.isfinite(reached.relative) else GROWTH * done
        total = min(max(math.ceil(1.1 * need), done + BLOCK), math.ceil(GROWTH * done))
        return min(BLOCK * math.ceil(total / BLOCK), self.max_replications)

    def first_total(self) -> int:
        """The replications of the first round."""
        return min(BLOCK * math.ceil(self.first / BLOCK), self.max_replications)
