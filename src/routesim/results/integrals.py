"""The integrals of :func:`routesim.results.measure_chunk`, compiled with numba: for each trace, its
piecewise-constant rates integrated up to query points, and its levels at day ends.

Bit for bit the numpy path of :mod:`routesim.results` (padded arrays, ``np.cumsum``, :func:`interp_padded`),
which stays the reference and the fallback without numba: the same products, the same running sums in the
same order, the same interpolation and its rules at the ends, IEEE arithmetic without fast-math or fused
multiply-adds; one trace at a time, so nothing is padded but what the padding would change (a zero's sign).
The tests hold the two paths equal.
"""

from __future__ import annotations

import numpy as np

try:
    from numba import njit
except ImportError as exc:  # pragma: no cover - numba is a core dependency
    NUMBA_MISSING: str | None = f"numba cannot be imported ({exc})"
else:
    NUMBA_MISSING = None


def integrals(
    times: np.ndarray,
    starts: np.ndarray,
    rates: np.ndarray,
    length: int,
    queries: np.ndarray,
    column_shift: np.ndarray,
    levels: np.ndarray,
    nets: np.ndarray,
    day_ends: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Integrals of every trace's rates at its columns' query points, and node levels at the day ends.

    Args:
        times: the traces' record times, one trace after the other [records of all].
        starts: where each trace's records start in ``times``, and the end [n + 1].
        rates: rate columns at every record, in ``times`` order [columns x records of all].
        length: the padded length of the numpy path (the most records of a trace in the slice).
        queries: query points of each shift, the last one the horizon [shifts x queries].
        column_shift: the row of ``queries`` of each column; -1 for one wanted at the horizon only.
        levels, nets: node levels [bbl] and net rates [bbl/day] at every record [nodes x records of all].
        day_ends: the ends of the output days [days].

    Returns:
        The integrals [n x columns x queries] (a horizon-only column filled at the last query only), and
        each node's level at each day end [n x nodes x days].
    """
    if NUMBA_MISSING is not None:
        raise RuntimeError(NUMBA_MISSING)
    n = len(starts) - 1
    out = np.zeros((n, rates.shape[0], queries.shape[1]))
    storage = np.empty((n, levels.shape[0], len(day_ends)))
    _integrals(times, starts, rates, length, queries, column_shift, levels, nets, day_ends, out, storage)
    return out, storage


def _jit(fn):  # type: ignore[no-untyped-def]
    # error_model="numpy": a division by zero gives inf or NaN, as numpy's (no exception)
    return fn if NUMBA_MISSING is not None else njit(cache=True, error_model="numpy")(fn)


@_jit
def _integrals(times, starts, rates, length, queries, column_shift, levels, nets, day_ends, out, storage):  # type: ignore[no-untyped-def]
    n_cols, n_q = rates.shape[0], queries.shape[1]
    n_shift = queries.shape[0]
    index = np.empty((n_shift, n_q), dtype=np.int64)
    cum = np.empty(length)
    for i in range(len(starts) - 1):
        a, m = starts[i], starts[i + 1] - starts[i]
        t = times[a : a + m]
        last = length - 1  # the padded path's last record
        for s in range(n_shift):
            k = 0  # searchsorted(t, x, 'right'): a walk on from the last query's, else from the start
            for q in range(n_q):
                x = queries[s, q]
                if q > 0 and x < queries[s, q - 1]:
                    k = 0
                while k < m and not x < t[k]:
                    k += 1
                index[s, q] = last if k - 1 >= m - 1 else k - 1  # past the records: the padded last
        for c in range(n_cols):
            r = rates[c, a : a + m]
            # np.cumsum of rate x duration from a zero: the first sum is the first product itself
            cum[0] = 0.0
            for j in range(m - 1):
                p = r[j] * (t[j + 1] - t[j])
                cum[j + 1] = p if j == 0 else cum[j] + p
            end = cum[m - 1]
            if m < length:  # the padding: records of zero length at the last rate (only a zero's sign moves)
                end = end + r[m - 1] * 0.0 if m > 1 else r[m - 1] * 0.0
            row = column_shift[c]
            first = 0 if row >= 0 else n_q - 1
            s_row = row if row >= 0 else 0
            for q in range(first, n_q):
                k = index[s_row, q]
                x = queries[s_row, q]
                if k < 0:
                    out[i, c, q] = 0.0
                elif k >= last:
                    out[i, c, q] = end
                else:
                    # interp_padded: slope from record k to k + 1, with numpy's fallbacks
                    y0, y1, t0, t1 = cum[k], cum[k + 1], t[k], t[k + 1]
                    slope = (y1 - y0) / (t1 - t0)
                    v = slope * (x - t0)
                    v += y0
                    if np.isnan(v):
                        retry = slope * (x - t1) + y1
                        if np.isnan(retry) and y0 == y1:
                            retry = y0
                        v = retry
                    if x == t0:
                        v = y0
                    out[i, c, q] = v
        for d in range(len(day_ends)):
            k = index[0, d + 1]  # the day end's record (queries[0] are the day edges, then the horizon)
            if k < 0:
                k = 0
            if k > m - 1:
                k = m - 1
            for j in range(levels.shape[0]):
                storage[i, j, d] = levels[j, a + k] + nets[j, a + k] * (day_ends[d] - t[k])
