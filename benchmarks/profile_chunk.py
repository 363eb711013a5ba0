"""Where a chunk's time goes: cProfile of one chunk of 256 replications on the compiled engine, after warm-up.

    PYTHONPATH=src python benchmarks/profile_chunk.py [SCENARIO]
    perf record -F 499 --delay 4000 -o perf.data python benchmarks/profile_chunk.py --perf [SCENARIO]
    perf report -i perf.data --no-children --sort dso --stdio -g none

With ``--perf``, a 12-second loop of chunks (after the warm-up, which ``--delay`` skips) for a native profile.
"""

import cProfile
import pstats
import sys
import time
from pathlib import Path

from routesim.runs import montecarlo
from routesim.scenario.loader import load_scenario

args = [a for a in sys.argv[1:] if a != "--perf"]
path = Path(args[0]) if args else Path(__file__).resolve().parent.parent / "scenarios" / "cpc-incident-risk.yaml"
scenario = load_scenario(path, [])
montecarlo.run_chunk(scenario, range(256), engine="compiled")  # warm-up: numba's cache, imports
if "--perf" in sys.argv:
    started, n = time.perf_counter(), 0
    while time.perf_counter() - started < 12:
        montecarlo.run_chunk(scenario, range(256 * (n + 1), 256 * (n + 2)), engine="compiled")
        n += 1
    print(f"{n} chunks, {(time.perf_counter() - started) / (256 * n) * 1e6:.0f} us a replication")
    sys.exit()
for r in range(3):
    started = time.perf_counter()
    montecarlo.run_chunk(scenario, range(256 * (r + 1), 256 * (r + 2)), engine="compiled")
    print(f"unprofiled chunk of 256: {(time.perf_counter() - started) / 256 * 1e6:.0f} us a replication")
profile = cProfile.Profile()
profile.enable()
montecarlo.run_chunk(scenario, range(256 * 10, 256 * 11), engine="compiled")
profile.disable()
stats = pstats.Stats(profile)
stats.sort_stats("cumulative").print_stats(40)
stats.sort_stats("tottime").print_stats(25)
