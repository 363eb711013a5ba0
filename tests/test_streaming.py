"""Streaming aggregation: chunks come back as compact aggregates and are folded in as they arrive.

The daily means are exact over every replication, the percentile bands come from the first BAND_SAMPLE
replications (all of a smaller run), every scalar figure of every replication is kept, and the result is
the same bits on any number of workers.
"""

from __future__ import annotations

import csv
import pickle
import time

import numpy as np
import pytest

from conftest import pipeline, scenario, shuttle
from routesim.money import fiscal
from routesim.outputs import rundir
from routesim.results import measure
from routesim.results.run import FAN_PERCENTILES, FAN_SERIES
from routesim.results.summary import LOSS_METRICS, Stats
from routesim.runs import montecarlo
from routesim.runs.executors import BLOCK, chunks, map_chunks

INCIDENT = {"name": "cpc", "target": "main", "rate_per_year": 12.0,
            "duration_days": {"distribution": "lognormal", "median": 3, "sigma": 0.9},
            "capacity_factor": {"distribution": "uniform", "low": 0.0, "high": 0.6}}


def _small(replications: int, horizon_days: int = 30):
    routes = {"main": pipeline(1_100_000, 3), "tc": shuttle(tankers=3, transit_days=2)}
    return scenario(production_bpd=1_100_000, storage_bbl=2e6, initial_storage_bbl=1e6, routes=routes,
                    horizon_days=horizon_days, incidents=[INCIDENT], seed=5, replications=replications)


def _every_replication(s):
    """Each replication run on its own, the plain way: the reference for the streamed result."""
    return [montecarlo.run_replication(s, k) for k in range(s.replications)]


def test_streamed_daily_means_equal_the_plain_mean_of_every_replication():
    s = _small(45)  # 6 blocks, the last one short
    result = montecarlo.run(s)
    reps = _every_replication(s)
    assert set(result.series) == set(reps[0].daily)
    for key in result.series:
        plain = np.mean([r.daily[key] for r in reps], axis=0)
        np.testing.assert_allclose(result.daily_mean(key), plain, rtol=1e-12, atol=1e-6)
        np.testing.assert_allclose(result.daily_bands()[key], plain, rtol=1e-12, atol=1e-6)
    # the price curve uses the means of the exported series only, and stays exact
    width = np.diff(measure.day_edges(s.horizon_days))
    run = {r: np.mean([x.daily[f"{r}_exported_bpd"] for x in reps], axis=0) * width for r in s.routes}
    base = {r: np.mean([x.daily[f"baseline_{r}_exported_bpd"] for x in reps], axis=0) * width for r in s.routes}
    expected = fiscal.loss_vs_price(s, run, base, np.arange(20.0, 161.0, 5.0))
    curve = result.price_curve()
    for key, values in expected.items():
        np.testing.assert_allclose(curve[key], values, rtol=1e-10, atol=1e-3)
    assert np.any(result.daily_bands()["revenue_loss_usd"] != 0)  # the disruptions did something


def test_bands_of_a_run_within_the_sample_are_percentiles_of_every_replication():
    s = _small(30)
    result = montecarlo.run(s)
    reps = _every_replication(s)
    bands = result.daily_bands()
    assert result.band_sample == 30
    for key in result.series:
        stack = np.vstack([r.daily[key] for r in reps])
        levels = FAN_PERCENTILES if key in FAN_SERIES else (5, 95)
        for q, expected in zip(levels, np.percentile(stack, levels, axis=0)):
            assert np.array_equal(bands[f"{key}_p{q}"], expected), (key, q)
    assert not np.array_equal(bands["revenue_loss_usd_p5"], bands["revenue_loss_usd_p95"])
    for k, rep in enumerate(result.replications):  # every replication rebuilt exactly, daily series included
        assert rep.index == k and rep.metrics == reps[k].metrics and rep.incidents == reps[k].incidents
        assert rep.route_availability == reps[k].route_availability and rep.events == reps[k].events
        assert all(np.array_equal(rep.daily[key], reps[k].daily[key]) for key in reps[k].daily)


def test_one_and_two_workers_give_the_same_bits_though_the_chunks_differ():
    s = _small(100)
    assert chunks(list(range(100)), 1) != chunks(list(range(100)), 2)
    one, two = montecarlo.run(s, workers=1), montecarlo.run(s, workers=2)
    assert one.summary() == two.summary()
    for name in ("indices", "events", "figures", "daily_sums", "sample_positions", "sample"):
        assert np.array_equal(getattr(one, name), getattr(two, name)), name
    a, b = one.daily_bands(), two.daily_bands()
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    assert np.array_equal(one.price_curve()["budget_oil_revenue_loss_usd"],
                          two.price_curve()["budget_oil_revenue_loss_usd"])


@pytest.mark.parametrize("workers", [1, 2])
def test_a_run_beyond_the_band_sample_keeps_exact_metrics_and_samples_the_bands(monkeypatch, tmp_path, workers):
    monkeypatch.setattr(montecarlo, "BAND_SAMPLE", 16)
    s = _small(60)
    result = montecarlo.run(s, workers=workers)
    reps = _every_replication(s)
    # every replication's figures are kept: the summary's percentiles, VaR and CVaR are exact
    summary = result.summary()
    assert summary.replications == 60
    for m in measure.METRICS:
        values = np.array([r.metrics[m] for r in reps])
        assert summary.metrics[m] == Stats.of(values, loss=m in LOSS_METRICS), m
    loss = np.array([r.metrics["revenue_loss_usd"] for r in reps])
    assert summary.metrics["revenue_loss_usd"].p99 == float(np.percentile(loss, 99))
    assert len(set(loss)) > 20  # they do differ
    # the bands come from the first 16 replications, the means from all 60
    assert result.band_sample == 16 and result.sample_positions.tolist() == list(range(16))
    bands = result.daily_bands()
    for key in ("storage_bbl", "revenue_loss_usd"):
        first = np.vstack([r.daily[key] for r in reps[:16]])
        assert np.array_equal(bands[f"{key}_p95"], np.percentile(first, 95, axis=0))
        every = np.mean([r.daily[key] for r in reps], axis=0)
        np.testing.assert_allclose(bands[key], every, rtol=1e-12, atol=1e-6)
    sample_mean = np.mean([r.daily["revenue_loss_usd"] for r in reps[:16]], axis=0)
    assert not np.allclose(bands["revenue_loss_usd"], sample_mean)
    # replications outside the sample keep their figures, not their daily series
    assert result.replications[15].daily and result.replications[16].daily == {}
    assert result.replications[59].metrics == reps[59].metrics
    # the outputs: every replication in replications.csv, the exact means in timeseries.csv
    rundir.write_run(result, tmp_path / "run", rundir.manifest(["test"], "test.yaml", result, 0.0), plots=False)
    with (tmp_path / "run" / "replications.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["replication"]) for r in rows] == list(range(60))
    assert [float(r["budget_loss_usd"]) for r in rows] == [r.metrics["budget_loss_usd"] for r in reps]
    assert [int(r["cpc_count"]) for r in rows] == [r.incidents["cpc"] for r in reps]
    with (tmp_path / "run" / "timeseries.csv").open() as fh:
        storage = [float(r["storage_bbl"]) for r in csv.DictReader(fh)]
    np.testing.assert_allclose(storage, bands["storage_bbl"], rtol=1e-9)


def test_a_run_of_given_indices_samples_its_lowest_indices(monkeypatch):
    monkeypatch.setattr(montecarlo, "BAND_SAMPLE", 3)
    result = montecarlo.run(_small(1), indices=[9, 4, 7, 2, 30])
    assert result.indices.tolist() == [9, 4, 7, 2, 30]
    assert sorted(result.indices[result.sample_positions].tolist()) == [2, 4, 7]
    assert [r.index for r in result.replications if r.daily] == [4, 7, 2]


def test_a_chunk_is_compact():
    s = _small(1, horizon_days=365)
    chunk = montecarlo.run_chunk(s, list(range(2 * BLOCK)), keep_through=-1)  # none in the band sample
    assert len(chunk) == 2 * BLOCK and chunk.daily.shape[0] == 0
    assert chunk.block_sums.shape == (2, len(chunk.series), 365)
    full = 2 * BLOCK * len(chunk.series) * 365 * 8  # every replication's daily series
    assert len(pickle.dumps(chunk)) < full / 4
    kept = montecarlo.run_chunk(s, list(range(2 * BLOCK)))
    assert kept.daily.shape == (2 * BLOCK, len(chunk.series), 365)
    assert np.array_equal(kept.block_sums, chunk.block_sums)
    second = kept.daily[BLOCK].copy()  # a block's sum: one replication after the other
    for daily in kept.daily[BLOCK + 1 :]:
        second += daily
    assert np.array_equal(kept.block_sums[1], second)


def slow_first(scenario, part):
    """A chunk function whose first chunk comes back last."""
    if part[0] == 0:
        time.sleep(1.0)
    return part


def test_fold_receives_chunks_in_order_as_they_arrive():
    folded: list[list[int]] = []
    indices = list(range(64))
    done = map_chunks(slow_first, None, indices, workers=2, fold=folded.append)
    assert done == [] and folded == chunks(indices, 2) and len(folded) > 2
    assert all(len(part) % BLOCK == 0 for part in folded)
