"""routesim: an export-route disruption simulator.

Public API::

    from routesim import load_scenario, simulate, run
    scenario = load_scenario("scenarios/cpc-closure-30d.yaml", ["routes.cpc.capacity_bpd=1200000"])
    result = run(scenario)              # every replication, with its no-outage baseline
    result.summary()["metrics"]["budget_loss_usd"]

Importing the engine loads neither YAML nor matplotlib; those come with ``load_scenario`` and the plots.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["__version__", "load_scenario", "run", "simulate"]


def __getattr__(name: str) -> Any:
    if name == "load_scenario":
        from .scenario_io import load_scenario

        return load_scenario
    if name == "simulate":
        from .engine import simulate

        return simulate
    if name == "run":
        from .montecarlo import run

        return run
    raise AttributeError(f"module 'routesim' has no attribute {name!r}")
