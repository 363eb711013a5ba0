"""A progress bar for long runs (tqdm): a widget in a notebook, a bar on a terminal, and a line every few
seconds where stderr is a file or a pipe (``nohup``, CI logs, Jupyter's ``!routesim``)."""

from __future__ import annotations

import sys
import time
from typing import Any

TTY_INTERVAL_S = 0.1
"""Least time between updates on a terminal or in a notebook [s]."""
LOG_INTERVAL_S = 5.0
"""Least time between updates written to a file or a pipe [s]: a log gets a line, not a flood."""


class Bar:
    """Called with (done, total) as work comes back; shows nothing until ``delay_s`` has passed, so that a
    short run prints no bar. ``close()`` ends the line."""

    def __init__(self, label: str, enabled: bool = True, delay_s: float = 1.0, unit: str = "replications") -> None:
        self.label, self.enabled, self.delay_s, self.unit = label, enabled, delay_s, unit
        self.started = time.perf_counter()
        self.bar: Any = None

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            from tqdm.auto import tqdm  # only when a bar may be shown: the CLI starts faster

            waited = time.perf_counter() - self.started  # the delay counts from the start, not the first chunk
            live = sys.stderr.isatty() or "ipykernel" in sys.modules
            self.bar = tqdm(total=total, desc=self.label, unit=f" {self.unit}", delay=max(self.delay_s - waited, 0.0),
                            file=sys.stderr, mininterval=TTY_INTERVAL_S if live else LOG_INTERVAL_S)
        if total != self.bar.total:  # a run to a precision adds rounds
            self.bar.total = total
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            if time.perf_counter() - self.started >= self.delay_s:  # past the delay: the last line shows, even in a
                self.bar.delay = 0  # log that had no line yet (tqdm closes a bar it never drew without one)
            self.bar.close()
            self.bar = None
