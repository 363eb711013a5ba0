"""The engine: a scenario and a replication in, a :class:`~routesim.engine.trace.Trace` out.

One model, two engines, chosen by one keyword (as pandas' ``engine="numba"``):

- ``"simpy"``: :mod:`.reference`, the SimPy model. It is the specification: every new mechanism is
  written here first.
- ``"compiled"``: :mod:`.compiled`, the same model as an event loop compiled with numba, fed the same
  impairments (:mod:`routesim.disruptions`) and returning the same trace; the agreement tests hold it
  equal to the reference.
- ``"auto"`` (default): compiled where it can express the scenario and numba imports, else SimPy.

Both share :mod:`.dispatch` (who ships what at an instant) and :mod:`.capacity` (what a route can carry
under its impairments).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # importing the engine's choice loads neither pydantic nor numpy
    from routesim.scenario.model import Scenario

    from .trace import Trace, Traces

Engine = Literal["auto", "simpy", "compiled"]
ENGINES: tuple[str, ...] = ("auto", "simpy", "compiled")


@dataclass(frozen=True)
class Choice:
    """The engine that runs a scenario, and why."""

    engine: Literal["simpy", "compiled"]
    reason: str


def choose(scenario: Scenario, engine: str = "auto", event_log: bool = False) -> Choice:
    """Which engine runs ``scenario`` when ``engine`` is asked for.

    Raises:
        ValueError: ``engine`` is not one of :data:`ENGINES`, or ``"compiled"`` was asked for a run that
            it cannot express (the message says why).
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r} (engines: {', '.join(ENGINES)})")
    if engine == "simpy":
        return Choice("simpy", "asked for")
    from . import compiled

    why_not = "the event log is kept by the SimPy engine" if event_log else compiled.unsupported(scenario)
    if why_not is None:
        return Choice("compiled", "asked for" if engine == "compiled" else "it expresses the scenario")
    if engine == "compiled":
        raise ValueError(f"the compiled engine cannot run this: {why_not}; use engine 'simpy' or 'auto'")
    return Choice("simpy", why_not)


def simulate(scenario: Scenario, replication: int = 0, log: bool = False, engine: str = "auto") -> Trace:
    """Run replication ``replication`` of ``scenario``.

    Args:
        scenario: validated scenario.
        replication: index k; random inputs come from ``scenario.seed`` and k (see :mod:`routesim.disruptions`).
        log: keep an event log (time, event, target, detail) in the trace (SimPy engine only).
        engine: ``"auto"``, ``"simpy"`` or ``"compiled"`` (see the module).

    Returns:
        The run's trace; a pure function of ``(scenario, replication)``, the same from either engine.
    """
    if choose(scenario, engine, log).engine == "compiled":
        from . import compiled

        return compiled.simulate(scenario, replication)
    from . import reference

    return reference.simulate(scenario, replication, log)


def simulate_many(scenario: Scenario, replications: Sequence[int], engine: str = "auto") -> Traces:
    """Replications ``replications`` of ``scenario`` (at least one), their records one run after the other:
    run i's :class:`~routesim.engine.trace.Trace` is ``simulate(scenario, replications[i], engine=engine)``."""
    if choose(scenario, engine).engine == "compiled":
        from . import compiled

        return compiled.simulate_many(scenario, replications)
    from . import reference
    from .trace import Traces

    return Traces.of([reference.simulate(scenario, k) for k in replications])


__all__ = ["ENGINES", "Choice", "Engine", "choose", "simulate", "simulate_many"]
