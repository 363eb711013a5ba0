"""routesim benchmarks: wall time, replications per second, engine events per second, peak memory.

    python benchmarks/run.py                 # every case (about 10 minutes on 2 cores)
    python benchmarks/run.py --quick         # smaller counts, for a first look
    python benchmarks/run.py --case default-1000-w2
    python benchmarks/run.py --memory        # peak memory of 20,000-100,000 replications (about 30 minutes)
    python benchmarks/run.py --case stream-1000000-w2   # the 1,000,000 target (about 2 hours on 2 cores)

Each case runs in its own process, so that its peak resident set size (itself and its worker
processes) is its own. Results go to stdout as a table and to benchmarks/results.json.
Not a test: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SCENARIOS = HERE.parent / "scenarios"


def cases(quick: bool) -> dict[str, dict]:
    big = 2_000 if quick else 20_000
    out = {
        "default-1000-w1": {"reps": 1_000, "workers": 1},
        "default-1000-w2": {"reps": 1_000, "workers": 2},
        f"default-{big}-w1": {"reps": big, "workers": 1},
        f"default-{big}-w2": {"reps": big, "workers": 2},
        "ten-years-w2": {"reps": 200, "workers": 2, "set": ["horizon_days=3650"]},
        "busy-incidents-w2": {"reps": 500, "workers": 2, "set": ["incidents[0].rate_per_year=100"]},
        "sweep-50-points": {"sweep": 50},
        "reference-loop": {"reference": 1_000},
        "engine-vs-reference": {"ratio": 10 if quick else 20, "block": 50},
    }
    for years in (1, 2, 5, 10):
        out[f"scale-horizon-{years}y"] = {"reps": 50, "workers": 1, "repeat": 3, "set": [f"horizon_days={365 * years}"]}
    for rate in (0, 25, 50, 100):
        out[f"scale-incidents-{rate}"] = {"reps": 100, "workers": 1, "repeat": 3,
                                          "set": [f"incidents[0].rate_per_year={rate}"]}
    for tankers in (1, 3, 6, 12):
        out[f"scale-tankers-{tankers}"] = {"reps": 100, "workers": 1, "repeat": 3,
                                           "set": [f"routes.trans_caspian.tankers={tankers}",
                                                   "routes.trans_caspian.capacity_bpd=1000000"]}
    return out


def memory_cases() -> dict[str, dict]:
    """Streaming aggregation: a whole run (replications, summary, bands, the output files without plots)
    at growing replication counts, one year and a 30-day horizon; memory should grow only by the
    per-replication figures. Not in the default set: they take long."""
    out = {}
    for reps in (20_000, 50_000, 100_000):
        out[f"stream-{reps}-w2"] = {"reps": reps, "workers": 2, "stream": True}
        out[f"stream-short-{reps}-w2"] = {"reps": reps, "workers": 2, "stream": True, "set": ["horizon_days=30"]}
    out["stream-1000000-w2"] = {"reps": 1_000_000, "workers": 2, "stream": True}
    return out


def run_case(name: str, spec: dict) -> dict:
    """Run one case in this process and measure it."""
    from routesim import montecarlo, sweep
    from routesim.scenario_io import load_scenario

    if "reference" in spec:
        return reference_case(spec["reference"])
    if "ratio" in spec:
        return ratio_case(spec["ratio"], spec["block"])
    if "sweep" in spec:
        import tempfile

        started = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            params = [sweep.Param("routes.trans_caspian.tankers", tuple(range(1, spec["sweep"] + 1)))]
            sweep.sweep([SCENARIOS / "cpc-closure-30d.yaml"], params, [], Path(tmp) / "s", 1, ["bench"])
        wall = time.perf_counter() - started
        return {"wall_s": wall, "runs": spec["sweep"], "runs_per_s": spec["sweep"] / wall}
    scenario = load_scenario(SCENARIOS / "cpc-incident-risk.yaml", [f"replications={spec['reps']}", *spec.get("set", [])])
    wall = math.inf
    for _ in range(spec.get("repeat", 1)):  # small cases: the fastest of a few runs, the machine's noise aside
        started = time.perf_counter()
        result = montecarlo.run(scenario, workers=spec["workers"])
        wall = min(wall, time.perf_counter() - started)
    events = int(result.events.sum())
    extra = {}
    if spec.get("stream"):
        import tempfile

        from routesim import output

        with tempfile.TemporaryDirectory() as tmp:
            output.write_run(result, Path(tmp) / "run", {"benchmark": True}, plots=False)
        extra = {"wall_with_outputs_s": time.perf_counter() - started,
                 "horizon_days": scenario.horizon_days,
                 "kept_figures_mib": (result.figures.nbytes + result.indices.nbytes + result.events.nbytes) / 2**20,
                 "kept_daily_mib": (result.sample.nbytes + result.daily_sums.nbytes) / 2**20,
                 "band_sample": result.band_sample}
    return {
        **extra,
        "wall_s": wall,
        "replications": spec["reps"],
        "workers": spec["workers"],
        "replications_per_s": spec["reps"] / wall,
        "ms_per_replication_per_worker": 1e3 * wall * spec["workers"] / spec["reps"],
        "engine_events": events,
        "events_per_s": events / wall,
        "events_per_replication": events / spec["reps"],
    }


def reference_case(reps: int) -> dict:
    """The bare SimPy loop below, for the engine's cost as a ratio against it."""
    started = time.perf_counter()
    events = sum(reference_loop(k) for k in range(reps))
    wall = time.perf_counter() - started
    return {"wall_s": wall, "replications": reps, "replications_per_s": reps / wall,
            "ms_per_replication_per_worker": 1e3 * wall / reps, "events_per_s": events / wall,
            "events_per_replication": events / reps}


def ratio_case(rounds: int, block: int) -> dict:
    """The engine against the reference loop on the same machine state: rounds of ``block`` replications
    of each in turn (the engine alone; a whole replication: engine, results and the shared baseline; the
    reference loop), in one process, so that a slow spell of the machine weighs on all three alike.
    Reports the median over rounds of each per-round ratio and of each time."""
    from routesim import engine, montecarlo, results
    from routesim.scenario_io import load_scenario

    scenario = load_scenario(SCENARIOS / "cpc-incident-risk.yaml", [])
    baseline = results.measure(scenario, engine.simulate(scenario.without_disruptions(), 0))
    runs = {
        "engine": lambda k: engine.simulate(scenario, k),
        "replication": lambda k: montecarlo.run_replication(scenario, k, baseline),
        "reference": reference_loop,
    }
    ms: dict[str, list[float]] = {name: [] for name in runs}
    begun = time.perf_counter()
    for r in range(rounds):
        for name, run in runs.items():
            started = time.perf_counter()
            for k in range(r * block, (r + 1) * block):
                run(k)
            ms[name].append(1e3 * (time.perf_counter() - started) / block)
    t = {name: np.array(v) for name, v in ms.items()}
    return {
        "wall_s": time.perf_counter() - begun, "rounds": rounds, "block": block,
        "ms_per_replication_per_worker": float(np.median(t["engine"])),
        **{f"{name}_ms_median": float(np.median(v)) for name, v in t.items()},
        **{f"{name}_ms_min": float(v.min()) for name, v in t.items()},
        "engine_ratio_median": float(np.median(t["engine"] / t["reference"])),
        "replication_ratio_median": float(np.median(t["replication"] / t["reference"])),
        "engine_ratio_range": [float(x) for x in np.percentile(t["engine"] / t["reference"], [0, 100])],
        "replication_ratio_range": [float(x) for x in np.percentile(t["replication"] / t["reference"], [0, 100])],
    }


def reference_loop(k: int, horizon: float = 365.0) -> int:
    """The base scenario's two routes with Poisson CPC outages, hard-coded, no generality: a pipeline
    draining a tank at a fixed rate, 3 tankers lifting 90,000 bbl cargoes, outages cutting the pipeline
    to 0. The tank level is integrated between events; a crossing is rescheduled on every change."""
    import simpy

    rng = np.random.default_rng(np.random.SeedSequence(7, spawn_key=(k,)))
    env = simpy.Environment()
    st = {"level": 3.7e6, "t": 0.0, "pipe": 1.13e6, "prod": 1.17e6, "events": 0, "version": 0}
    cap, cargo = 6.0e6, 90_000.0
    berth = simpy.Resource(env, 1)
    waiting: list[simpy.Event] = []

    def net() -> float:
        flow = st["pipe"] if st["level"] > 0 else min(st["pipe"], st["prod"])
        prod = st["prod"] if st["level"] < cap else min(st["prod"], flow)
        return prod - flow

    def update() -> None:
        st["events"] += 1
        now = env.now
        level = st["level"] + net() * (now - st["t"])
        st["level"] = 0.0 if level < 1e-6 else cap if level > cap - 1e-6 else level
        st["t"] = now
        while waiting and st["level"] >= cargo - 1e-6:
            st["level"] = max(0.0, st["level"] - cargo)
            waiting.pop(0).succeed()
        rate = net()
        st["version"] += 1
        version = st["version"]
        if rate > 0 and st["level"] < cap:
            dt = (cap - st["level"]) / rate
            if waiting:
                dt = min(dt, max(0.0, (cargo - st["level"]) / rate))
        elif rate < 0 and st["level"] > 0:
            dt = st["level"] / -rate
        else:
            return
        env.timeout(dt).callbacks.append(lambda _e: update() if version == st["version"] else None)

    def outages():
        while True:
            yield env.timeout(rng.exponential(365 / 2.565))
            st["pipe"] = 0.0
            update()
            yield env.timeout(rng.lognormal(math.log(6.352), 1.913))
            st["pipe"] = 1.13e6
            update()

    def tanker():
        while True:
            with berth.request() as req:
                yield req
                ev = env.event()
                waiting.append(ev)
                update()
                yield ev
                yield env.timeout(1.0)
            yield env.timeout(2.0 + 1.0 + 2.0)

    env.process(outages())
    for _ in range(3):
        env.process(tanker())
    update()
    env.run(until=horizon)
    return st["events"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller replication counts")
    parser.add_argument("--case", help="run one case in this process and print its JSON")
    parser.add_argument("--memory", action="store_true",
                        help="only the streaming memory cases of 20,000-100,000 replications (not 1,000,000)")
    args = parser.parse_args()
    all_cases = {**cases(args.quick), **memory_cases()}
    if args.case:
        result = run_case(args.case, all_cases[args.case])
        result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        result["peak_rss_workers_mib"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(json.dumps(result))
        return
    if args.memory:
        memory(all_cases)
        return
    all_cases = cases(args.quick)
    results = {}
    print(f"{'case':<24} {'wall s':>8} {'reps/s':>9} {'ms/rep/wkr':>11} {'events/s':>10} {'ev/rep':>8} {'RSS MiB':>8}")
    for name in all_cases:
        done = subprocess.run([sys.executable, __file__, "--case", name, *(["--quick"] if args.quick else [])],
                              capture_output=True, text=True, check=True)
        r = json.loads(done.stdout.strip().splitlines()[-1])
        results[name] = r
        rss = max(r["peak_rss_mib"], r["peak_rss_workers_mib"])
        print(f"{name:<24} {r['wall_s']:>8.2f} {r.get('replications_per_s', r.get('runs_per_s', 0)):>9.1f} "
              f"{r.get('ms_per_replication_per_worker', float('nan')):>11.2f} {r.get('events_per_s', float('nan')):>10.0f} "
              f"{r.get('events_per_replication', float('nan')):>8.0f} {rss:>8.0f}", flush=True)
    ratio = results["engine-vs-reference"]
    print(f"\nengine / bare reference loop, per replication, median of {ratio['rounds']} interleaved rounds: "
          f"{ratio['engine_ratio_median']:.2f}x the engine alone ({ratio['engine_ms_median']:.2f} ms against "
          f"{ratio['reference_ms_median']:.2f} ms), {ratio['replication_ratio_median']:.2f}x a whole replication "
          f"(engine and results, {ratio['replication_ms_median']:.2f} ms)")
    machine = {"python": platform.python_version(), "platform": platform.platform(), "processor": platform.processor(),
               "cpus": __import__("os").cpu_count()}
    (HERE / "results.json").write_text(json.dumps({"machine": machine, "quick": args.quick, "cases": results},
                                                  indent=2) + "\n")


def memory(all_cases: dict[str, dict]) -> None:
    """Run the streaming memory cases (but the 1,000,000 one), print peak RSS, write memory.json."""
    results = {}
    print(f"{'case':<24} {'reps':>8} {'days':>5} {'wall s':>8} {'+out s':>7} {'RSS MiB':>8} {'wkr MiB':>8} "
          f"{'figures MiB':>11} {'daily MiB':>9}")
    for name, spec in all_cases.items():
        if not spec.get("stream") or spec["reps"] > 100_000:
            continue
        done = subprocess.run([sys.executable, __file__, "--case", name], capture_output=True, text=True, check=True)
        r = results[name] = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"{name:<24} {r['replications']:>8} {r['horizon_days']:>5} {r['wall_s']:>8.1f} "
              f"{r['wall_with_outputs_s'] - r['wall_s']:>7.1f} {r['peak_rss_mib']:>8.0f} {r['peak_rss_workers_mib']:>8.0f} "
              f"{r['kept_figures_mib']:>11.1f} {r['kept_daily_mib']:>9.1f}", flush=True)
    (HERE / "memory.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
