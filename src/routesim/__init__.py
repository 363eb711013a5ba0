"""routesim: an export-route disruption simulator.

Public API::

    from routesim import load_scenario, simulate, run
    scenario = load_scenario("scenarios/cpc-closure-30d.yaml", ["routes.cpc.capacity_bpd=1200000"])
    result = run(scenario)              # every replication, with its no-outage baseline
    result.summary().metrics["budget_loss_usd"].mean   # a typed RunSummary: what summary.json holds

    saved = read_run("results/cpc-closure-30d")   # a run directory as pandas DataFrames (routesim[pandas])
    saved.timeseries["exported_bpd"].plot()         # the mean over replications, by date

Importing the engine loads neither YAML nor matplotlib; those come with ``load_scenario`` and the plots.
"""

from __future__ import annotations

from typing import Any

from routesim.version import __version__

__all__ = ["__version__", "load_scenario", "plots", "read_run", "run", "simulate"]


def __getattr__(name: str) -> Any:
    if name == "load_scenario":
        from routesim.scenario.loader import load_scenario

        return load_scenario
    if name == "simulate":
        from routesim.engine import simulate

        return simulate
    if name == "run":
        from routesim.runs.montecarlo import run

        return run
    if name == "read_run":
        from routesim.outputs.frames import read_run

        return read_run
    if name == "plots":  # the run's figures, each a matplotlib Figure that a notebook shows inline
        from routesim.outputs import plots

        return plots
    raise AttributeError(f"module 'routesim' has no attribute {name!r}")
