"""Tolerances and guards shared by both engines: they must decide every threshold alike."""

LEVEL_TOL_BBL = 1e-6
"""Levels this close to a bound are on it [bbl]."""
RATE_TOL_BPD = 1e-9
"""Rates this close to zero are zero [bbl/day]."""
MAX_EVENTS = 20_000_000
"""Guard against a run that never ends."""
MAX_EVENTS_AT_ONE_TIME = 10_000
"""Guard against events that keep firing without time moving on (or moving on by ever smaller steps)."""
SAME_TIME_DAYS = 1e-11
"""Events closer together than this (relative to the day, about a microsecond), over and over, mean time
no longer moves [days]."""
TIME_TOL_DAYS = 1e-9
"""A make-up backlog's expiry line this close behind its oldest barrel has reached it [days]."""
