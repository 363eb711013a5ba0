"""A chunk's results computed array-wise equal, bit for bit, those of each replication on its own.

The oracle is the plain path: :func:`montecarlo.run_replication` (one trace, numpy call by call) and
``np.interp``; the chunk path (:func:`montecarlo.run_chunk`, :func:`measure.measure_chunk`) must give the
same bits, not merely close numbers, because summary.json and the CSVs must not change.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import SCENARIOS
from routesim.results import measure
from routesim.runs import montecarlo
from routesim.runs.executors import BLOCK
from routesim.scenario.loader import load_scenario

FAILURES = ("failures=[{target: rail, time_to_failure_days: {distribution: exponential, mean: 40}, "
            "repair_days: {distribution: exponential, mean: 5}, capacity_factor: 0.3}]")
BRENT = ("market.brent_process={initial_usd_per_bbl: 80, long_run_usd_per_bbl: 70, reversion_per_year: 1.2, "
         "volatility_per_year: 0.35}")
EFFECTS = "market.disruption_effects=[{route: cpc, differential_change_usd_per_bbl: -4, brent_change_usd_per_bbl: 2}]"
INCIDENTS = ("incidents=[{name: cpc-inc, target: cpc, rate_per_year: 6, duration_days: {distribution: exponential, "
             "mean: 8}, capacity_factor: {distribution: uniform, low: 0, high: 0.8}}]")
CASES = {
    "incidents (tank farm, tankers)": ("cpc-incident-risk.yaml", ["horizon_days=120"]),
    "storms": ("cpc-storms.yaml", ["horizon_days=120", "start_date=2024-11-01"]),
    "failures, Brent path, price effects": ("cpc-incident-risk.yaml", ["horizon_days=90", FAILURES, BRENT, EFFECTS]),
    "taxes": ("fiscal-official.yaml", ["horizon_days=60", INCIDENTS, EFFECTS]),
    "several producers": ("network.yaml", ["horizon_days=60", INCIDENTS]),
    "one outage, no randomness": ("cpc-closure-30d.yaml", ["horizon_days=75"]),
    "make-up, a window, the ramp": ("cpc-incident-risk.yaml", [
        "horizon_days=120", "producers.kazakhstan.max_production_bpd=1500000",
        "producers.kazakhstan.makeup_share=0.8", "producers.kazakhstan.makeup_window_days=20"]),
    "make-up by some producers, discounted": ("network.yaml", [
        "horizon_days=60", INCIDENTS, "producers.tengiz.max_production_bpd=800000",
        "producers.other_fields.max_production_bpd=400000", "fiscal.discount_rate_per_year=0.1"]),
    "a foreign shipper joining part-way, quotas": ("cpc-shippers.yaml", ["horizon_days=90", INCIDENTS]),
}


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and np.array_equal(a.view(np.int64), b.view(np.int64))


@pytest.mark.parametrize("case", list(CASES))
def test_a_chunk_equals_its_replications_one_at_a_time_bit_for_bit(case, monkeypatch):
    path, overrides = CASES[case]
    s = load_scenario(SCENARIOS / path, overrides)
    indices = list(range(3, 3 + 2 * BLOCK + 3))  # two whole blocks and a partial one
    monkeypatch.setattr(measure, "MAX_CELLS", 20_000)  # several slices of replications in the chunk
    chunk = montecarlo.run_chunk(s, indices, keep_through=indices[5])
    plain = [montecarlo.run_replication(s, k) for k in indices]
    layout = chunk.layout
    for i, rep in enumerate(plain):
        assert _same_bits(chunk.figures[i], layout.row(rep)), (case, i)
        assert chunk.events[i] == rep.events
    assert chunk.series == tuple(plain[0].daily)
    stacks = [np.stack([rep.daily[key] for key in chunk.series]) for rep in plain]
    assert _same_bits(chunk.daily, np.array(stacks[:6]))  # indices up to keep_through
    assert chunk.kept.tolist() == [k <= indices[5] for k in indices]
    for b, a in enumerate(range(0, len(indices), BLOCK)):  # each block summed one replication after the other
        total = stacks[a].copy()
        for stack in stacks[a + 1 : a + BLOCK]:
            total += stack
        assert _same_bits(chunk.block_sums[b], total)


def test_a_chunk_with_losses_and_without_is_not_trivially_equal():
    """The comparison above has teeth: replications of the incident case differ from each other."""
    s = load_scenario(SCENARIOS / "cpc-incident-risk.yaml", ["horizon_days=120"])
    chunk = montecarlo.run_chunk(s, list(range(16)))
    losses = chunk.figures[:, chunk.layout.position["revenue_loss_usd"]]
    assert len(set(losses.tolist())) > 8 and losses.max() > 0


def test_interp_padded_is_np_interp_bit_for_bit():
    rng = np.random.default_rng(7)
    n, columns = 9, 4
    traces = []
    for _ in range(n):
        m = int(rng.integers(2, 30))
        t = np.sort(np.concatenate(([0.0, 20.0], rng.uniform(0, 20, m - 2))))
        t[rng.integers(1, m - 1)] = t[rng.integers(1, m - 1)]  # a repeated time, as a lift makes
        t = np.sort(t)
        if rng.uniform() < 0.5:
            t[1:4] = np.round(t[1:4])  # records on whole days, where queries fall exactly
            t = np.sort(t)
        traces.append((t, np.cumsum(rng.uniform(0, 5, (columns, m)), axis=1)))
    length = max(len(t) for t, _ in traces)
    times = np.array([np.concatenate((t, np.full(length - len(t), t[-1]))) for t, _ in traces])
    cum = np.array([np.concatenate((c, np.repeat(c[:, -1:], length - c.shape[1], axis=1)), axis=1) for _, c in traces])
    at = np.concatenate((np.arange(-3.0, 21.0, 0.5), [20.0, 25.0], rng.uniform(-1, 21, 40)))
    index = np.array([np.searchsorted(row, at, side="right") - 1 for row in times])
    got = measure.interp_padded(times, cum, at, index)
    for r, (t, c) in enumerate(traces):
        for j in range(columns):
            assert _same_bits(got[r, j], np.interp(at, t, c[j], left=0.0)), (r, j)


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("case", ["incidents (tank farm, tankers)", "failures, Brent path, price effects",
                                  "several producers"])
def test_both_integration_paths_equal_the_plain_path(case, compiled, monkeypatch):
    """The compiled kernel and the padded numpy arrays each give every replication's own bits."""
    if compiled and not measure.COMPILED:
        pytest.skip("numba is missing")
    monkeypatch.setattr(measure, "COMPILED", compiled)
    path, overrides = CASES[case]
    s = load_scenario(SCENARIOS / path, overrides)
    indices = list(range(BLOCK + 2))
    chunk = montecarlo.run_chunk(s, indices)
    plain = [montecarlo.run_replication(s, k) for k in indices]
    for i, rep in enumerate(plain):
        assert _same_bits(chunk.figures[i], chunk.layout.row(rep)), (case, i)
        assert _same_bits(chunk.daily[i], np.stack([rep.daily[key] for key in chunk.series]))


class _Times:
    """What the integrals read of :class:`~routesim.engine.trace.Traces`: the runs' record times, one after
    the other, and where each starts."""

    def __init__(self, runs):
        self.times = np.concatenate(runs)
        self.starts = np.cumsum([0, *(len(t) for t in runs)])


@pytest.mark.skipif(not measure.COMPILED, reason="numba is missing")
@pytest.mark.parametrize("seed", range(6))
def test_the_compiled_integrals_are_the_padded_ones_bit_for_bit(seed):
    """Edge cases the scenarios rarely reach: one record, records of zero length, negative and signed-zero
    rates, an infinite rate (numpy's NaN fallback), queries before, on and after the records."""
    rng = np.random.default_rng(seed)
    horizon = 20.0
    times, columns, levels, nets = [], [], [], []
    for m in (1, 2, 3, 7, 30, 30):
        t = np.sort(np.round(rng.uniform(0, horizon, m), 0 if m > 3 else 3))
        t[0] = 0.0 if m > 1 else t[0]
        times.append(t)
        rates = rng.choice([0.0, -0.0, 1.0, -2.5, 0.3, 7.0, np.inf], size=(4, m))
        rates[-2:] = rng.choice([1.0, 0.5, 0.0], size=(2, m))  # two capacity factors
        columns.append(rates)
        levels.append(rng.uniform(-1, 5, (2, m)))
        nets.append(rng.choice([0.0, -0.0, -1.5, 2.0], size=(2, m)))
    columns[0][0] = -2.5  # one record: its padding makes a zero of its sign
    edges = np.append(np.arange(0.0, horizon, 1.0), horizon)
    queries = np.array([np.append(edges - s, horizon) for s in (0.0, 1.5, 3.0)])
    args = (_Times(times), np.concatenate(columns, axis=1), 2, queries, [0, 1, 2, 0, -1, -1],
            np.concatenate(levels, axis=1), np.concatenate(nets, axis=1), edges[1:])
    with np.errstate(all="ignore"):
        padded, padded_levels = measure._integrate_padded(*args)
        value, node_level = measure._integrate_compiled(*args)
    assert len(value) == len(padded) == 6
    for a, b in zip(value, padded):
        assert _same_bits(a, b)
    assert _same_bits(node_level, padded_levels)
    assert any(np.isnan(v).any() for v in padded) and any(np.signbit(v[v == 0]).any() for v in padded)


def _same_trace(a, b) -> bool:
    fields = ("levels_bbl", "net_bpd", "production", "flows_bpd", "capacity_factor", "loads", "discharges",
              "backlog_bbl", "backlog_net_bpd", "foreign_bpd")
    return (a.horizon_days == b.horizon_days and _same_bits(a.times, b.times) and a.events == b.events
            and a.impairments == b.impairments and a.foreign_producers == b.foreign_producers
            and all(getattr(a, f).keys() == getattr(b, f).keys()
                    and all(_same_bits(getattr(a, f)[k], getattr(b, f)[k]) for k in getattr(a, f)) for f in fields))


@pytest.mark.parametrize("case", ["incidents (tank farm, tankers)", "make-up, a window, the ramp",
                                  "a foreign shipper joining part-way, quotas"])
def test_runs_recorded_one_after_the_other_are_each_runs_own_trace(case):
    """The compiled engine's records of a chunk, and any traces joined (the SimPy engine's), give back each
    run's trace; a part of them, the runs of the part."""
    from routesim.engine import compiled, reference
    from routesim.engine.trace import Traces

    path, overrides = CASES[case]
    s = load_scenario(SCENARIOS / path, overrides)
    indices = [4, 0, 9, 2, 7]
    alone = [compiled.simulate(s, k) for k in indices]
    many = compiled.simulate_many(s, indices)
    assert len(many) == len(indices) and many.events.tolist() == [t.events for t in alone]
    assert all(_same_trace(a, b) for a, b in zip(many, alone))
    part = many.part(1, 4)
    assert len(part) == 3 and all(_same_trace(part[i], alone[1 + i]) for i in range(3))
    assert part.loads.keys() == many.loads.keys() and part.starts[0] == 0
    references = [reference.simulate(s, k) for k in indices[:2]]
    joined = Traces.of(references)
    assert all(_same_trace(joined[i], references[i]) for i in range(2))
    assert not _same_trace(many[0], many[1])  # the runs differ: the comparison can fail


def test_a_chunk_whose_later_runs_are_longer_grows_its_records_and_keeps_each_run():
    """The compiled engine sizes a chunk's records from its first runs: runs ordered shortest first, each
    longer than the chunk so far foretold, make it grow them, and every run is still its own trace."""
    from routesim.engine import compiled

    s = load_scenario(SCENARIOS / "cpc-incident-risk.yaml", ["horizon_days=365", INCIDENTS])
    alone = {k: compiled.simulate(s, k) for k in range(12)}
    indices = sorted(alone, key=lambda k: len(alone[k].times))
    lengths = [len(alone[k].times) for k in indices]
    # more records than the first run foretold (compiled._room: its length for each run, and an eighth more)
    assert sum(lengths) > lengths[0] * len(lengths) * 9 / 8 + 16
    many = compiled.simulate_many(s, indices)
    assert many.starts.tolist() == np.concatenate(([0], np.cumsum(lengths))).tolist()
    assert all(_same_trace(many[i], alone[k]) for i, k in enumerate(indices))
