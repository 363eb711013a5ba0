"""The percentile bands of the daily series: exactly np.percentile, bit for bit, computed faster."""

from __future__ import annotations

import numpy as np
import pytest

from routesim.results.run import FAN_PERCENTILES, percentiles_by_day


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and np.array_equal(a.view(np.int64), b.view(np.int64))


@pytest.mark.parametrize("n", [1, 2, 3, 7, 20, 101, 10_000])
def test_bands_are_np_percentile_bit_for_bit(n):
    rng = np.random.default_rng(n)
    days = 40
    stack = np.cumsum(rng.lognormal(size=(n, days)), axis=1) * rng.choice([-1.0, 1.0], size=(n, days))
    stack[:, 3] = 2.5  # a day every replication shares
    stack[:, 4] = rng.integers(0, 3, n).astype(float)  # many ties
    stack[:, 5] = np.where(rng.uniform(size=n) < 0.5, 0.0, -0.0)  # zeros of both signs
    stack[: n // 2, 6] = -0.0  # a shared zero of one sign, then the other
    stack[:, 7] = np.where(rng.uniform(size=n) < 0.7, 0.0, stack[:, 7])  # zeros of one sign among other values
    stack[:, 8] = np.where(rng.uniform(size=n) < 0.7, -0.0, stack[:, 8])  # the other sign
    for levels in ((5, 95), FAN_PERCENTILES, (0, 100), (1, 50, 99), (33.3,)):
        assert _same_bits(percentiles_by_day(stack, levels), np.percentile(stack, levels, axis=0)), levels


def test_bands_keep_numpys_answer_with_nan():
    stack = np.arange(12.0).reshape(4, 3)
    stack[1, 2] = np.nan
    got, want = percentiles_by_day(stack, (5, 95)), np.percentile(stack, (5, 95), axis=0)
    assert np.array_equal(got, want, equal_nan=True) and np.isnan(got[:, 2]).all()


def test_bands_are_not_the_mean_or_the_extremes():
    """The comparison has teeth: the 5th and 95th percentiles sit strictly inside the range."""
    stack = np.random.default_rng(3).normal(size=(1000, 5))
    p5, p95 = percentiles_by_day(stack, (5, 95))
    assert (stack.min(axis=0) < p5).all() and (p5 < np.median(stack, axis=0)).all()
    assert (p95 < stack.max(axis=0)).all() and (p95 > np.median(stack, axis=0)).all()
