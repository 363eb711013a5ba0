"""The two engines agree: the SimPy reference and the compiled engine give the same run.

On every shipped scenario (every replication of the deterministic ones, 200 of each stochastic one) and
on generated networks: every metric of every replication equal to 1e-9 relative (or 1 bbl / 1 USD
absolute), the same lifts and discharges (times to 1e-9 days), and the same event counts. The last tests
show that the check fails when either engine is shifted by a little. The model tier (-m "not e2e") checks
the first few replications of each shipped scenario and the profile's count of networks; the e2e tier all.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import SCENARIOS
from routesim.engine import choose, compiled, reference
from routesim.engine.trace import Trace
from routesim.results import measure
from routesim.runs import montecarlo
from routesim.scenario.loader import load_scenario, validate
from routesim.scenario.model import Scenario
from test_network import networks

REL, ABS, DAYS = 1e-9, 1.0, 1e-9
SHIPPED = sorted([*SCENARIOS.glob("*.yaml"), *SCENARIOS.glob("history/**/*.yaml")])
STOCHASTIC = [p for p in SHIPPED if load_scenario(p).has_random_disruptions]
FIRST_REPS, STOCHASTIC_REPS = 3, 200
"""Replications of each stochastic scenario compared in the model tier, and in the e2e tier."""
NETWORKS = max(500, settings().max_examples)
"""Generated networks in the e2e tier: at least 500, more under HYPOTHESIS_PROFILE=thorough."""


def _name(path: Path) -> str:
    return str(path.relative_to(SCENARIOS))


def _close(a: float, b: float, absolute: float = ABS) -> bool:
    return math.isclose(a, b, rel_tol=REL, abs_tol=absolute)


def disagreements(scenario: Scenario, a: Trace, b: Trace) -> list[str]:
    """Where two traces of ``scenario`` differ beyond the tolerances (empty when they agree)."""
    out = []
    va, vb = measure.volumes(scenario, a), measure.volumes(scenario, b)
    for key in ("produced_bbl", "shut_in_bbl", "storage_end_bbl"):
        if not _close(getattr(va, key), getattr(vb, key)):
            out.append(f"{key}: {getattr(va, key)!r} vs {getattr(vb, key)!r}")
    for key in ("exported_bbl", "in_transit_bbl", "tanker_cargo_bbl", "availability", "impaired_days"):
        x, y = getattr(va, key), getattr(vb, key)
        tol = ABS if key.endswith("_bbl") else DAYS
        out += [f"{key}[{r}]: {x[r]!r} vs {y[r]!r}" for r in x if not _close(x[r], y[r], tol)]
    for what in ("loads", "discharges"):
        for r, x in getattr(a, what).items():
            y = getattr(b, what)[r]
            if len(x) != len(y):
                out.append(f"{what}[{r}]: {len(x)} vs {len(y)}")
            elif len(x) and np.max(np.abs(x - y)) > DAYS:
                out.append(f"{what}[{r}]: times differ by up to {np.max(np.abs(x - y)):.3g} days")
    for r in a.foreign_bpd:  # the foreign shippers' oil in each flow (issue #15)
        if r not in b.foreign_bpd:
            out.append(f"foreign_bpd[{r}]: missing")
            continue
        fx, fy = (float(measure.cumulative(t, t.foreign_bpd[r], t.horizon_days)) for t in (a, b))
        if not _close(fx, fy):
            out.append(f"foreign_bpd[{r}]: {fx!r} vs {fy!r} bbl")
    if a.foreign_producers != b.foreign_producers:
        out.append(f"foreign_producers: {a.foreign_producers} vs {b.foreign_producers}")
    for p, figures in va.producers.items():  # the make-up figures: shut in, deferred, recovered, lost, owed
        out += [f"producers[{p}].{k}: {x!r} vs {vb.producers[p][k]!r}" for k, x in figures.items()
                if not _close(x, vb.producers[p][k])]
    if a.events != b.events:
        out.append(f"events: {a.events} vs {b.events}")
    return out


def test_auto_picks_the_compiled_engine_and_says_why(scenarios_dir: Path) -> None:
    s = load_scenario(scenarios_dir / "base.yaml")
    assert choose(s).engine == "compiled"
    assert choose(s, "simpy").engine == "simpy"
    assert choose(s, event_log=True).engine == "simpy"  # the event log is the reference's
    with pytest.raises(ValueError, match="unknown engine"):
        choose(s, "fast")


def assert_agree(s: Scenario, n: int) -> None:
    """The engines agree on the first ``n`` replications of ``s``: their traces and every metric."""
    for k in range(n):
        a, b = reference.simulate(s, k), compiled.simulate(s, k)
        assert not disagreements(s, a, b), (k, disagreements(s, a, b))
        ra = montecarlo.run_replication(s, k, engine="simpy")
        rb = montecarlo.run_replication(s, k, engine="compiled")
        for m, value in ra.metrics.items():
            assert _close(value, rb.metrics[m], ABS if not m.endswith("_share") else 1e-12), (k, m, value, rb.metrics[m])


@pytest.mark.parametrize("path", SHIPPED, ids=_name)
def test_the_engines_agree_on_every_shipped_scenario(path: Path) -> None:
    """The first replications: all of a deterministic scenario (it has one), a few of a stochastic one."""
    s = load_scenario(path)
    assert_agree(s, min(s.replications, FIRST_REPS))


@pytest.mark.e2e
@pytest.mark.parametrize("path", STOCHASTIC, ids=_name)
def test_the_engines_agree_on_200_replications_of_every_stochastic_scenario(path: Path) -> None:
    assert_agree(load_scenario(path), STOCHASTIC_REPS)


@st.composite
def makeup_keys(draw, production_bpd: float):  # type: ignore[no-untyped-def]
    """A producer's make-up keys: a maximum above its plan, a share, a window or none (issue #15)."""
    keys = {"max_production_bpd": production_bpd * (1 + draw(st.sampled_from([0.05, 0.3, 1.0, 2.5]))),
            "makeup_share": draw(st.sampled_from([1.0, 0.0, 0.6])) if draw(st.booleans()) else draw(st.floats(0, 1))}
    if draw(st.booleans()):
        keys["makeup_window_days"] = draw(st.floats(0.5, 90))
    return keys


@st.composite
def rich_networks(draw, makeup=None):  # type: ignore[no-untyped-def]
    """The networks of test_network.py, with several berths, random incidents and failures, a tanker
    route fed straight from one producer's storage, and producers that make up deferred oil (each with
    probability ``makeup``; default: a half of the networks, each producer in them with a half)."""
    raw = draw(networks())
    horizon = raw["horizon_days"]
    if "tc" in raw["routes"]:
        raw["routes"]["tc"]["load_berths"] = draw(st.integers(1, 3))
        raw["routes"]["tc"]["tankers"] = draw(st.integers(1, 6))
    if draw(st.booleans()):
        cargo = draw(st.floats(1e4, 1e5))
        raw["routes"]["direct"] = {"kind": "tanker_shuttle", "capacity_bpd": draw(st.floats(1e4, 3e5)),
                                   "tankers": draw(st.integers(1, 4)), "tanker_capacity_bbl": cargo,
                                   "load_berths": draw(st.integers(1, 2)), "load_days": draw(st.floats(0.1, 2)),
                                   "voyage_days": draw(st.floats(0.1, 3)), "unload_days": draw(st.floats(0.1, 2)),
                                   "cost_usd_per_bbl": draw(st.floats(0, 20)),
                                   "committed_bpd": draw(st.sampled_from([0.0, 3e3]))}
        raw["producers"]["solo"] = {"production_bpd": draw(st.floats(0, 2e5)),
                                    "storage_bbl": cargo * draw(st.floats(1, 4)),
                                    "restart_ramp_days": draw(st.floats(0, 5)), "routes": ["direct"]}
        for name, producer in raw["producers"].items():  # the direct route has one feeder
            if name != "solo" and "direct" in producer.get("routes", []):
                producer["routes"].remove("direct")
    for route in raw["routes"].values():  # moorings with their own rates, some of them equal (issue #15)
        if "terminal" in route and draw(st.booleans()):
            moorings = route["terminal"]["moorings"]
            route["terminal"]["active_moorings"] = draw(st.integers(1, len(moorings)))
            route["terminal"]["mooring_rates_bpd"] = {
                m: draw(st.sampled_from([route["terminal"]["mooring_rate_bpd"], 0.0]) | st.floats(1e4, 1e6))
                for m in moorings if draw(st.booleans())}
    for route in raw["routes"].values():  # rerouting that takes time, and the sharing rule (issue #15)
        if draw(st.booleans()):
            route["reroute_lag_days"] = draw(st.sampled_from([0.5, 3.0]) | st.floats(0, horizon / 2))
        if draw(st.booleans()):  # capacity apart from plan
            floor = route.get("committed_bpd", 0.0)  # a plan is at least the commitment
            share = draw(st.sampled_from([0.0, 0.5, 1.0]) | st.floats(0, 1))
            route["plan_bpd"] = min(floor + (route["capacity_bpd"] - floor) * share, route["capacity_bpd"])
    raw["sharing_rule"] = draw(st.sampled_from(["pro_rata", "stranded_first"]))
    for name, route in raw["routes"].items():  # a shipper joining a pipe part-way (issue #15)
        if route["kind"] == "pipeline" and "s1" in route.get("segments", {}) and draw(st.booleans()):
            route["segments"] = {"s0": {"capacity_bpd": draw(st.floats(0, 2e6))}, **route["segments"]}
            joiners = [p for p, spec in raw["producers"].items() if name in spec.get("routes", [])]
            if joiners:
                spec = raw["producers"][draw(st.sampled_from(joiners))]
                spec["routes"] = [f"{name}/s1" if r == name else r for r in spec["routes"]]
    for spec in raw["producers"].values():  # nominations: quotas on shared routes (issue #15)
        if spec.get("routes") and draw(st.booleans()):
            route = draw(st.sampled_from(spec["routes"])).split("/")[0]
            spec["nominations_bpd"] = {route: draw(st.sampled_from([0.0]) | st.floats(0, 1.5e6))}
    ashore = [p for p, spec in raw["producers"].items() if p != "solo"
              and all(raw["routes"][r.split("/")[0]]["kind"] == "pipeline" for r in spec.get("routes", []))]
    if ashore and len(raw["producers"]) > 1 and draw(st.booleans()):  # a foreign shipper (issue #15)
        raw["producers"][draw(st.sampled_from(ashore))]["foreign"] = True
    targets = validate(raw).targets()
    raw["incidents"] = [{"name": f"inc{i}", "target": draw(st.sampled_from(targets)),
                         "rate_per_year": draw(st.floats(0, 60)),
                         "duration_days": {"distribution": "exponential", "mean": draw(st.floats(0.1, 20))},
                         "capacity_factor": {"distribution": "uniform", "low": 0.0, "high": 1.0}}
                        for i in range(draw(st.integers(0, 2)))]
    raw["failures"] = [{"name": f"fail{i}", "target": draw(st.sampled_from(targets)),
                        "time_to_failure_days": {"distribution": "exponential", "mean": draw(st.floats(1, 60))},
                        "repair_days": {"distribution": "exponential", "mean": draw(st.floats(0.1, 10))}}
                       for i in range(draw(st.integers(0, 1)))]
    raw["seed"] = draw(st.integers(0, 1000))
    raw["horizon_days"] = horizon
    if draw(st.booleans()):  # a full stop and a ramp after it: producers short of their plans (dispatch rule 4)
        name = draw(st.sampled_from(sorted(set(raw["producers"]) - {"solo"})))  # solo's storage holds a cargo
        producer = raw["producers"][name]
        producer["restart_ramp_days"] = draw(st.floats(1, 5))
        producer["storage_bbl"] = producer["initial_storage_bbl"] = draw(st.floats(0, 2e5))
        reach = producer.get("routes") or sorted(raw["routes"])
        raw["outages"] = [*raw.get("outages", []), {"target": draw(st.sampled_from(reach)), "start_day": horizon / 4,
                                                    "duration_days": horizon / 4, "capacity_factor": 0.0}]
    some = draw(st.booleans()) if makeup is None else True
    for producer in raw["producers"].values():
        if some and (draw(st.booleans()) if makeup is None else draw(st.floats(0, 1)) < makeup):
            producer.update(draw(makeup_keys(producer["production_bpd"])))
    return raw


def assert_network_agrees(raw) -> None:  # type: ignore[no-untyped-def]
    s = validate(raw)
    a, b = reference.simulate(s), compiled.simulate(s)
    assert not disagreements(s, a, b)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])  # the profile's example count
@given(rich_networks())
def test_the_engines_agree_on_generated_networks(raw) -> None:  # type: ignore[no-untyped-def]
    assert_network_agrees(raw)


@pytest.mark.e2e
@settings(max_examples=NETWORKS, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rich_networks())
def test_the_engines_agree_on_many_generated_networks(raw) -> None:  # type: ignore[no-untyped-def]
    assert_network_agrees(raw)


MAKEUP_NETWORKS = max(1000, settings().max_examples)
"""Generated networks whose producers (each with probability 0.8) make up deferred oil, in the e2e tier."""


@pytest.mark.e2e
@settings(max_examples=MAKEUP_NETWORKS, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rich_networks(makeup=0.8))
def test_the_engines_agree_on_many_generated_networks_that_make_up_oil(raw) -> None:  # type: ignore[no-untyped-def]
    assert_network_agrees(raw)


def _shifted(s: Scenario, route: str, **changes: float) -> Scenario:
    spec = s.routes[route]
    return s.model_copy(update={"routes": {**s.routes, route: spec.model_copy(update=changes)}})


def test_the_check_fails_when_the_compiled_engine_is_shifted(scenarios_dir: Path) -> None:
    s = load_scenario(scenarios_dir / "cpc-closure-30d.yaml")
    voyage = s.routes["trans_caspian"].voyage_days  # type: ignore[union-attr]
    shifted = _shifted(s, "trans_caspian", voyage_days=voyage + 1e-6)
    wrong = disagreements(s, reference.simulate(s), compiled.simulate(shifted))
    assert any(line.startswith("discharges[trans_caspian]") for line in wrong), wrong


def test_the_check_fails_when_the_reference_is_shifted(scenarios_dir: Path) -> None:
    s = load_scenario(scenarios_dir / "cpc-closure-30d.yaml")
    shifted = _shifted(s, "atyrau_samara", capacity_bpd=s.routes["atyrau_samara"].capacity_bpd * (1 + 1e-7))
    wrong = disagreements(s, reference.simulate(shifted), compiled.simulate(s))
    assert any(line.startswith("exported_bbl[atyrau_samara]") for line in wrong), wrong


def test_without_numba_runs_fall_back_to_simpy_with_one_warning(monkeypatch, caplog, scenarios_dir: Path) -> None:
    monkeypatch.setattr(compiled, "NUMBA_MISSING", "numba cannot be imported (test)")
    monkeypatch.setattr(compiled, "_warned", False)
    s = load_scenario(scenarios_dir / "base.yaml")
    with caplog.at_level("WARNING"):
        assert [choose(s).engine for _ in range(3)] == ["simpy"] * 3
    assert choose(s).reason == "numba cannot be imported (test)"
    assert sum("numba cannot be imported" in r.message for r in caplog.records) == 1
    with pytest.raises(ValueError, match="cannot run this: numba cannot be imported"):
        choose(s, "compiled")


@pytest.mark.e2e
def test_the_cli_takes_the_engine_and_the_manifest_says_which_ran(tmp_path, capsys, monkeypatch, scenarios_dir: Path):
    import json

    from routesim.cli import main

    for engine in ("simpy", "compiled", "auto"):
        out = tmp_path / engine
        assert main(["run", str(scenarios_dir / "cpc-closure-30d.yaml"), "--out", str(out), "--no-plots", "--quiet",
                     "--engine", engine]) == 0
        manifest = json.loads((out / "manifest.json").read_text())
        assert manifest["engine"] == ("simpy" if engine == "simpy" else "compiled")
        assert manifest["engine_reason"]
    same = [json.loads((tmp_path / e / "summary.json").read_text())["metrics"] for e in ("simpy", "compiled")]
    for m, stats in same[0].items():
        assert stats["mean"] == pytest.approx(same[1][m]["mean"], rel=REL, abs=ABS), m
    monkeypatch.setattr(compiled, "NUMBA_MISSING", "numba cannot be imported (test)")
    out = tmp_path / "refused"
    assert main(["run", str(scenarios_dir / "base.yaml"), "--out", str(out), "--engine", "compiled"]) == 2
    assert "--engine: the compiled engine cannot run this" in capsys.readouterr().err
    assert not out.exists()


def test_a_run_that_outgrows_its_room_runs_again_with_more(scenarios_dir: Path) -> None:
    """The compiled loop's arrays never grow: a run that needs more records, events, lifts or backlog
    segments than it was given stops and runs again with twice as much, until it fits; the result is the same run."""
    s = load_scenario(scenarios_dir / "cpc-incident-risk.yaml", ["horizon_days=1825"])
    model, _ = compiled._lowered(s)
    compiled._ROOM[id(model)] = (4, 4, 4, 1)
    b = compiled.simulate(s, 3)
    assert min(compiled._ROOM[id(model)][:3]) >= 64
    assert not disagreements(s, reference.simulate(s, 3), b)
