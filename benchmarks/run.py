"""routesim benchmarks: end-to-end CLI runs, engine ratios, cost per event, peak memory.

    python benchmarks/run.py                 # every case but the memory ones (about 10 minutes on 2 cores)
    python benchmarks/run.py --quick         # fewer rounds and repeats, for a first look
    python benchmarks/run.py --case engine-ratio-cpc
    python benchmarks/run.py --only e2e- --only ratio   # the cases whose names contain these (merged into results.json)
    python benchmarks/run.py --memory        # peak memory of 20,000-100,000 replications
    python benchmarks/run.py --case stream-1000000-w2   # the 1,000,000 target (28 min on the shared 2 cores, compiled)

Every case names its engine (``-compiled``, ``-simpy``, or the ``engine`` key of its spec; the in-process
cases default to the compiled engine). Numba compiles the compiled engine on first use (60-90 s) and caches
it next to its source (``__pycache__``); ``main`` runs one untimed warm-up first, and every case process
runs one replication on each engine it times before its clock starts, so no timing includes compilation.

Kinds of case:

- ``e2e-*``: the CLI as a subprocess (``python -m routesim run ... --no-plots --workers 2 --out <tmp>``),
  process start to exit, repeated; median and range, peak RSS of the process tree (``os.wait4``).
- ``*-ratio-*`` and ``*-vs-*``: two or three things timed in rounds interleaved in one process, so that a
  slow spell of the (shared, noisy) machine weighs on all alike; the median of the per-round ratios and
  their range.
- ``scale-*``: the compiled engine alone and a whole chunk (engine and results) in one process, median of
  rounds, as time per replication and per engine event, so that linearity in events shows.
- the rest: ``montecarlo.run`` in the case's process, as before (wall, replications per second, RSS).

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
CPC = SCENARIOS / "cpc-incident-risk.yaml"
BASE = SCENARIOS / "base.yaml"
SIMPLE = HERE / "simple.yaml"  # the bare loop's model as a scenario


def cases(quick: bool) -> dict[str, dict]:
    few = 1 if quick else 3
    out: dict[str, dict] = {
        # End to end: the CLI, process start to exit.
        "e2e-cpc-20000-w2-compiled": {"cli": ["run", CPC, "-n", "20000"], "engine": "compiled", "repeat": few},
        "e2e-cpc-1000-w2-compiled": {"cli": ["run", CPC, "-n", "1000"], "engine": "compiled",
                                     "repeat": 3 if quick else 7},
        "e2e-cpc-1000-w2-simpy": {"cli": ["run", CPC, "-n", "1000"], "engine": "simpy", "repeat": 1},
        "e2e-sweep-50x1000-w2-compiled": {"cli": ["sweep", CPC, "--param", "incidents[0].rate_per_year=0:10:50",
                                                  "-n", "1000"], "engine": "compiled", "repeat": 1},
        # Engines per replication, interleaved rounds in one process.
        "engine-ratio-base": {"engines": BASE, "rounds": 5 if quick else 15},
        "engine-ratio-cpc": {"engines": CPC, "rounds": 5 if quick else 15},
        # The bare SimPy loop; the engines and a whole CLI run of the same model against it, interleaved.
        "reference-loop": {"reference": 1_000},
        "engine-vs-reference": {"ratio": 5 if quick else 15, "block": 40},
        "run-vs-reference": {"runs": 3 if quick else 7, "reps": 1_000},
        # montecarlo.run in one process, on the compiled engine.
        "default-1000-w1": {"reps": 1_000, "workers": 1, "repeat": 3},
        "default-1000-w2": {"reps": 1_000, "workers": 2, "repeat": 3},
        "default-20000-w1": {"reps": 20_000, "workers": 1},
        "default-20000-w2": {"reps": 20_000, "workers": 2},
        "ten-years-w2": {"reps": 2_000, "workers": 2, "set": ["horizon_days=3650"]},
        "busy-incidents-w2": {"reps": 5_000, "workers": 2, "set": ["incidents[0].rate_per_year=100"]},
    }
    # Cost against events: every variant in each round (interleaved), so drift weighs on all alike.
    variants: dict[str, tuple[list[str], int]] = {}
    for years in (1, 2, 5, 10):
        variants[f"horizon-{years}y"] = ([f"horizon_days={365 * years}"], 512 // years)
    for rate in (0, 25, 50, 100):
        variants[f"incidents-{rate}"] = ([f"incidents[0].rate_per_year={rate}"], 256)
    variants["10y-100-incidents"] = (["horizon_days=3650", "incidents[0].rate_per_year=100"], 32)
    for tankers in (1, 3, 6, 12):
        variants[f"tankers-{tankers}"] = ([f"routes.trans_caspian.tankers={tankers}",
                                           "routes.trans_caspian.capacity_bpd=1000000"], 256)
    out["scale"] = {"scale": variants, "rounds": 3 if quick else 5}
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


def warm_up(*paths: Path) -> None:
    """One replication of each scenario on each engine, before any clock starts: numba loads its cached
    machine code (or compiles it, 60-90 s, on the very first use), SimPy and the results code are imported."""
    from routesim import engine
    from routesim.scenario.loader import load_scenario

    for path in paths:
        scenario = load_scenario(path, [])
        engine.simulate(scenario, 0, engine="compiled")
        engine.simulate(scenario, 0, engine="simpy")


CHUNK = 256
"""Replications per chunk in the chunk timings: the largest chunk a run sends a worker (``executors.chunks``)."""


def engine_chunks(scenario, ks: range) -> int:
    """``ks`` on the compiled engine alone as a run's workers call it (``engine.simulate_many`` on pieces of
    :data:`CHUNK`); the engine events of them all."""
    from routesim import engine

    return sum(int(engine.simulate_many(scenario, ks[a:a + CHUNK], engine="compiled").events.sum())
               for a in range(0, len(ks), CHUNK))


def run_chunks(scenario, ks: range) -> None:
    """``ks`` as a run's workers take them: ``montecarlo.run_chunk`` on pieces of :data:`CHUNK`, each with its
    one baseline run."""
    from routesim.runs import montecarlo

    for a in range(0, len(ks), CHUNK):
        montecarlo.run_chunk(scenario, ks[a:a + CHUNK], engine="compiled")


def spread(values: list[float] | np.ndarray) -> dict:
    v = np.asarray(values, dtype=float)
    return {"median": float(np.median(v)), "min": float(v.min()), "max": float(v.max()), "n": int(v.size)}


def run_case(name: str, spec: dict) -> dict:
    """Run one case in this process and measure it."""
    from routesim.runs import montecarlo
    from routesim.scenario.loader import load_scenario

    if "cli" in spec:
        return cli_case(spec)
    if "engines" in spec:
        return engines_case(spec["engines"], spec["rounds"])
    if "reference" in spec:
        return reference_case(spec["reference"])
    if "ratio" in spec:
        return ratio_case(spec["ratio"], spec["block"])
    if "runs" in spec:
        return run_vs_reference_case(spec["runs"], spec["reps"])
    if "scale" in spec:
        return scale_case(spec["scale"], spec["rounds"])
    engine_name = spec.get("engine", "compiled")
    scenario = load_scenario(CPC, [f"replications={spec['reps']}", *spec.get("set", [])])
    montecarlo.run_chunk(scenario, [0], engine=engine_name)  # warm-up, untimed
    walls = []
    for _ in range(spec.get("repeat", 1)):
        started = time.perf_counter()
        result = montecarlo.run(scenario, workers=spec["workers"], engine=engine_name)
        walls.append(time.perf_counter() - started)
    wall = float(np.median(walls))
    events = int(result.events.sum())
    extra = {}
    if spec.get("stream"):
        import tempfile

        from routesim.outputs import rundir

        with tempfile.TemporaryDirectory() as tmp:
            manifest = rundir.manifest(["benchmarks/run.py"], str(CPC), result, 0.0, spec["workers"])
            rundir.write_run(result, Path(tmp) / "run", manifest, plots=False)
        extra = {"wall_with_outputs_s": time.perf_counter() - started,
                 "horizon_days": scenario.horizon_days,
                 "kept_figures_mib": (result.figures.nbytes + result.indices.nbytes + result.events.nbytes) / 2**20,
                 "kept_daily_mib": (result.sample.nbytes + result.daily_sums.nbytes) / 2**20,
                 "band_sample": result.band_sample}
    return {
        **extra,
        "engine": result.engine,
        "wall_s": wall,
        "wall_s_range": [min(walls), max(walls)],
        "replications": spec["reps"],
        "workers": spec["workers"],
        "replications_per_s": spec["reps"] / wall,
        "ms_per_replication_per_worker": 1e3 * wall * spec["workers"] / spec["reps"],
        "engine_events": events,
        "events_per_s": events / wall,
        "events_per_replication": events / spec["reps"],
    }


def time_cli(args: list[str], engine: str, workers: int = 2) -> tuple[float, float]:
    """One CLI run as a subprocess, process start to exit: (wall seconds, peak RSS MiB of its process tree).
    Output goes to a temporary directory; plots are off."""
    import os
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        argv = [sys.executable, "-m", "routesim", *map(str, args), "--no-plots", "--workers", str(workers),
                "--engine", engine, "--quiet", "--out", str(Path(tmp) / "out")]
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        err = proc.stderr.read().decode() if proc.stderr else ""
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode:
            raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}): {err}")
    return wall, usage.ru_maxrss / 1024  # wait4's maxrss: the largest of the child and its descendants


def cli_case(spec: dict) -> dict:
    """The CLI end to end (a subprocess each time, after one untimed warm-up run of the same command)."""
    time_cli(spec["cli"][:2] + ["-n", "8"] + (["--param", spec["cli"][3].split("=")[0] + "=0:1:2"]
                                               if spec["cli"][0] == "sweep" else []), spec["engine"])
    walls, rss = [], []
    for _ in range(spec["repeat"]):
        wall, peak = time_cli(spec["cli"], spec["engine"])
        walls.append(wall)
        rss.append(peak)
    return {"engine": spec["engine"], "command": " ".join(map(str, ["routesim", *spec["cli"]])), "workers": 2,
            "wall_s": float(np.median(walls)), "wall": spread(walls), "walls_s": walls,
            "peak_rss_tree_mib": max(rss)}


def engines_case(path: Path, rounds: int) -> dict:
    """SimPy against the compiled engine per replication of one scenario, in rounds interleaved in one process:
    each round times a block of SimPy replications (``engine.simulate``), then a block of compiled ones: the
    engine alone as a run's workers call it (``engine.simulate_many`` on chunks of :data:`CHUNK`), the engine
    one call a replication (``engine.simulate``, which also assembles each run's records on their own), and
    the same replications as a run's workers do them (``montecarlo.run_chunk``: engine, results, daily series,
    each chunk's one baseline run). The compiled block is larger (its replications are ~100x cheaper), so each
    block takes a comparable, measurable time. Replication indices differ per round."""
    from routesim import engine
    from routesim.scenario.loader import load_scenario

    scenario = load_scenario(path, [])
    warm_up(path)
    slow, fast = 10, 1_000
    t: dict[str, list[float]] = {"simpy": [], "compiled": [], "compiled_single": [], "compiled_chunk": []}
    ev = {"simpy": 0, "compiled": 0}
    begun = time.perf_counter()
    for r in range(rounds):
        started = time.perf_counter()
        for k in range(r * slow, (r + 1) * slow):
            ev["simpy"] += engine.simulate(scenario, k, engine="simpy").events
        t["simpy"].append(1e6 * (time.perf_counter() - started) / slow)
        ks = range(r * fast, (r + 1) * fast)
        started = time.perf_counter()
        ev["compiled"] += engine_chunks(scenario, ks)
        t["compiled"].append(1e6 * (time.perf_counter() - started) / fast)
        started = time.perf_counter()
        for k in ks:
            engine.simulate(scenario, k, engine="compiled")
        t["compiled_single"].append(1e6 * (time.perf_counter() - started) / fast)
        started = time.perf_counter()
        run_chunks(scenario, range(r * fast, (r + 1) * fast))
        t["compiled_chunk"].append(1e6 * (time.perf_counter() - started) / fast)
    a = {name: np.array(v) for name, v in t.items()}
    return {
        "scenario": path.name, "wall_s": time.perf_counter() - begun, "rounds": rounds,
        "simpy_block": slow, "compiled_block": fast,
        **{f"{name}_us": spread(v) for name, v in a.items()},
        "simpy_events_per_replication": ev["simpy"] / (rounds * slow),
        "compiled_events_per_replication": ev["compiled"] / (rounds * fast),
        "speedup_engine": spread(a["simpy"] / a["compiled"]),
        "speedup_engine_one_call_a_replication": spread(a["simpy"] / a["compiled_single"]),
        "speedup_vs_whole_compiled_replication": spread(a["simpy"] / a["compiled_chunk"]),
        "ms_per_replication_per_worker": float(np.median(a["compiled_chunk"])) / 1e3,
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
    """Both engines against the bare reference loop on the same model (benchmarks/simple.yaml is the loop's
    model as a scenario), per replication, in rounds of ``block`` replications of each in turn in one
    process: the SimPy engine, the compiled engine, a whole chunk on the compiled engine (engine and
    results), the bare loop. Reports the median over rounds of each per-round ratio and its range."""
    from routesim import engine
    from routesim.scenario.loader import load_scenario

    scenario = load_scenario(SIMPLE, [])
    warm_up(SIMPLE)
    fast = 25 * block
    runs = {
        "simpy": (block, lambda ks: [engine.simulate(scenario, k, engine="simpy") for k in ks]),
        "compiled": (fast, lambda ks: engine_chunks(scenario, ks)),
        "compiled_chunk": (fast, lambda ks: run_chunks(scenario, ks)),
        "reference": (block, lambda ks: [reference_loop(k) for k in ks]),
    }
    ms: dict[str, list[float]] = {name: [] for name in runs}
    begun = time.perf_counter()
    for r in range(rounds):
        for name, (n, run) in runs.items():
            started = time.perf_counter()
            run(range(r * n, (r + 1) * n))
            ms[name].append(1e3 * (time.perf_counter() - started) / n)
    t = {name: np.array(v) for name, v in ms.items()}
    return {
        "wall_s": time.perf_counter() - begun, "rounds": rounds, "block": block, "compiled_block": fast,
        "ms_per_replication_per_worker": float(np.median(t["compiled"])),
        **{f"{name}_ms": spread(v) for name, v in t.items()},
        **{f"{name}_ratio": spread(t[name] / t["reference"]) for name in ("simpy", "compiled", "compiled_chunk")},
    }


def run_vs_reference_case(rounds: int, reps: int) -> dict:
    """A whole ``routesim run`` of the bare loop's model (benchmarks/simple.yaml: CLI subprocess, process start
    to exit, ``--no-plots``, compiled engine) against ``reps`` replications of the bare SimPy loop in this
    process, in interleaved rounds: each round times the CLI on 2 workers, the CLI on 1 worker, and the loop
    (which runs on one core). Ratio below 1: the whole run is faster than the bare loop alone."""
    warm_up(SIMPLE)
    time_cli(["run", SIMPLE, "-n", "8"], "compiled")
    t: dict[str, list[float]] = {"run_w2": [], "run_w1": [], "reference": []}
    for _ in range(rounds):
        t["run_w2"].append(time_cli(["run", SIMPLE, "-n", str(reps)], "compiled", workers=2)[0])
        t["run_w1"].append(time_cli(["run", SIMPLE, "-n", str(reps)], "compiled", workers=1)[0])
        started = time.perf_counter()
        for k in range(reps):
            reference_loop(k)
        t["reference"].append(time.perf_counter() - started)
    a = {name: np.array(v) for name, v in t.items()}
    return {"replications": reps, "rounds": rounds, "wall_s": float(np.median(a["run_w2"])),
            **{f"{name}_s": spread(v) for name, v in a.items()},
            "ratio_w2": spread(a["run_w2"] / a["reference"]), "ratio_w1": spread(a["run_w1"] / a["reference"])}


def scale_case(variants: dict[str, tuple[list[str], int]], rounds: int) -> dict:
    """Cost against events, on the compiled engine: for each variant of the default scenario (overrides, and
    how many replications), the engine alone and the same replications in chunks (engine and results), per
    replication and per engine event; every variant in each round, ``rounds`` rounds in one process,
    medians and ranges."""
    from routesim.runs import montecarlo
    from routesim.scenario.loader import load_scenario

    scenarios = {name: load_scenario(CPC, overrides) for name, (overrides, _) in variants.items()}
    for scenario in scenarios.values():
        montecarlo.run_chunk(scenario, [0], engine="compiled")  # warm-up, untimed
    alone: dict[str, list[float]] = {name: [] for name in variants}
    chunk: dict[str, list[float]] = {name: [] for name in variants}
    events: dict[str, int] = dict.fromkeys(variants, 0)
    begun = time.perf_counter()
    for r in range(rounds):
        for name, scenario in scenarios.items():
            reps = variants[name][1]
            ks = range(r * reps, (r + 1) * reps)
            started = time.perf_counter()
            events[name] += engine_chunks(scenario, ks)
            alone[name].append(1e6 * (time.perf_counter() - started) / reps)
            started = time.perf_counter()
            run_chunks(scenario, ks)
            chunk[name].append(1e6 * (time.perf_counter() - started) / reps)
    out = {}
    for name, (overrides, reps) in variants.items():
        per_rep = events[name] / (rounds * reps)
        out[name] = {"overrides": overrides, "replications": reps, "events_per_replication": per_rep,
                     "engine_us": spread(alone[name]), "chunk_us": spread(chunk[name]),
                     "engine_us_per_event": float(np.median(alone[name])) / per_rep,
                     "chunk_us_per_event": float(np.median(chunk[name])) / per_rep}
    return {"rounds": rounds, "wall_s": time.perf_counter() - begun, "variants": out}


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
    parser.add_argument("--quick", action="store_true", help="fewer rounds and repeats")
    parser.add_argument("--case", help="run one case in this process and print its JSON")
    parser.add_argument("--only", action="append", default=[],
                        help="run only the cases whose names contain this (repeatable); results.json keeps the others")
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
    todo = {name: spec for name, spec in cases(args.quick).items()
            if not args.only or any(part in name for part in args.only)}
    started = time.perf_counter()  # numba's cache: loaded, or compiled once here, before any case is timed
    subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {str(HERE)!r}); import run; "
                    f"run.warm_up(run.CPC, run.BASE, run.SIMPLE)"], check=True)
    print(f"warm-up (numba cache load or compile): {time.perf_counter() - started:.1f} s", flush=True)
    path = HERE / "results.json"
    old = json.loads(path.read_text()) if path.exists() else {}
    results = old.get("cases", {}) if args.only else {}
    print(f"{'case':<32} {'wall s':>8} {'ms/rep/wkr':>11} {'RSS MiB':>8}  headline")
    for name in todo:
        done = subprocess.run([sys.executable, __file__, "--case", name, *(["--quick"] if args.quick else [])],
                              capture_output=True, text=True, check=True)
        r = json.loads(done.stdout.strip().splitlines()[-1])
        r["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        results[name] = r
        rss = max(r["peak_rss_mib"], r["peak_rss_workers_mib"], r.get("peak_rss_tree_mib", 0))
        print(f"{name:<32} {r['wall_s']:>8.2f} {r.get('ms_per_replication_per_worker', float('nan')):>11.3f} "
              f"{rss:>8.0f}  {headline(r)}", flush=True)
        machine = {"python": platform.python_version(), "platform": platform.platform(),
                   "processor": platform.processor(), "cpus": __import__("os").cpu_count(), "commit": git_commit()}
        r["commit"] = machine["commit"]  # each case as it ends, so that a stopped run keeps what it measured
        doc = {**(old if args.only else {}), "machine": machine, "quick": args.quick, "cases": results}
        path.write_text(json.dumps(doc, indent=2) + "\n")


def headline(r: dict) -> str:
    """The case's main figure, for the table."""
    def s(d: dict, fmt: str = ".2f") -> str:
        return f"{d['median']:{fmt}} [{d['min']:{fmt}}-{d['max']:{fmt}}]"
    if "wall" in r:
        return f"wall median [range] {s(r['wall'])} s over {r['wall']['n']}"
    if "speedup_engine" in r:
        return (f"simpy/compiled {s(r['speedup_engine'], '.0f')}x engine alone "
                f"({s(r['speedup_engine_one_call_a_replication'], '.0f')}x one call a replication), "
                f"{s(r['speedup_vs_whole_compiled_replication'], '.0f')}x whole replication")
    if "compiled_ratio" in r:
        return (f"vs bare loop: simpy {s(r['simpy_ratio'])}, compiled {s(r['compiled_ratio'], '.3f')}, "
                f"compiled chunk {s(r['compiled_chunk_ratio'], '.3f')}")
    if "ratio_w2" in r:
        return f"whole run / bare loop: w2 {s(r['ratio_w2'])}, w1 {s(r['ratio_w1'])}"
    if "variants" in r:
        return "; ".join(f"{name} {v['events_per_replication']:.0f} ev {v['engine_us_per_event']:.2f}/"
                         f"{v['chunk_us_per_event']:.2f} us/ev" for name, v in r["variants"].items())
    if "events_per_replication" in r:
        return f"{r['events_per_replication']:.0f} events/rep, {r.get('replications_per_s', 0):.0f} reps/s"
    return ""


def git_commit() -> str:
    done = subprocess.run(["git", "-C", str(HERE), "describe", "--always", "--dirty"], capture_output=True, text=True)
    return done.stdout.strip()


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
