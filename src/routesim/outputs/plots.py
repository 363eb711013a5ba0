"""Figure builders: a run in, a matplotlib Figure out. Nothing here writes files or shows windows.

All figures share one style (size, fonts, colours per route, dates on the x axis, units on every axis,
the scenario's name in the title), so that the plots of two runs can be compared side by side.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import matplotlib.dates as mdates
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure  # object-oriented: no pyplot, so no backend is chosen or switched
from matplotlib.patches import Rectangle
from matplotlib.ticker import FuncFormatter, MaxNLocator

from routesim.results.run import RunResult
from routesim.scenario.bottleneck import bottleneck
from routesim.scenario.model import PipelineRoute, Route, Scenario, TankerShuttleRoute
from routesim.units import DAYS_PER_YEAR

from .labels import budget_words, capital, display_name, in_words, key_label, metric_axis, number, split_unit

if TYPE_CHECKING:
    from routesim.analysis.calibrate import Calibration

SIZE_IN = (10.0, 5.0)
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")
BASELINE_COLOR = "#7f7f7f"


def _dates(result: RunResult) -> np.ndarray:
    """Each output day as a calendar date (the same dates as timeseries.csv)."""
    s = result.scenario
    return np.array([s.start_date + dt.timedelta(days=d) for d in range(len(_first(result)))])


def _first(result: RunResult) -> np.ndarray:
    return result.daily_mean(result.series[0])


def distinct_colors(n: int, palette: Sequence[str] = PALETTE) -> list[str]:
    """``n`` colours that differ: ``palette``'s while it lasts, then matplotlib's 20 of ``tab20`` (repeating
    only past 20)."""
    if n <= len(palette):
        return list(palette[:n])
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    more = [to_hex(c) for c in colormaps["tab20"].colors]  # type: ignore[attr-defined]
    return [more[i % len(more)] for i in range(n)]


def _route_colors(result: RunResult) -> dict[str, str]:
    routes = result.scenario.routes
    return dict(zip(routes, distinct_colors(len(routes))))


def _figure(result: RunResult, what: str, rows: int = 1, bands: str = "mean and 5-95 % band",
            timeline: bool = False) -> tuple[Figure, list[Axes]]:
    """A figure of ``rows`` panels with the run's title; a ``timeline`` (panels of dates) also gets the outage
    windows: a strip above the panels with a lane per impaired part, and its shade across every panel."""
    lanes = _lanes(result.scenario) if timeline else {}
    height = SIZE_IN[1] * (1 if rows == 1 else min(0.75, 2.4 / rows) * rows) + (0.3 * len(lanes) + 0.2 if lanes else 0)
    fig = Figure(figsize=(SIZE_IN[0], height), layout="constrained")
    ratios = ([0.09 * len(lanes) + 0.04] if lanes else []) + [1.0] * rows
    grid = fig.add_gridspec(len(ratios), 1, height_ratios=ratios)
    axes = [fig.add_subplot(grid[len(ratios) - rows + i]) for i in range(rows)]
    for ax in axes[1:]:
        ax.sharex(axes[0])
    _suptitle(fig, result, what)
    top = fig.add_subplot(grid[0], sharex=axes[0]) if lanes else axes[0]
    top.set_title(f"{_runs(result, bands)}; seed {result.scenario.seed}", fontsize=9, color="#444444")
    for ax in axes:
        _grid(ax)
        ax.spines[["top", "right"]].set_visible(False)
        if timeline:
            _shade(result.scenario, ax, lanes)
            _date_axis(ax, _dates(result))
    if lanes:
        _draw_lanes(result.scenario, top, lanes)
    return fig, axes


def _suptitle(fig: Figure, result: RunResult, what: str) -> None:
    """``<scenario>: <what>``, and a second line with the ``--set`` assignments of a changed scenario."""
    lines = [f"{result.scenario.name}: {what}"]
    if result.settings:
        lines.append(textwrap.shorten("with --set " + ", ".join(result.settings), width=110, placeholder=" ..."))
    fig.suptitle("\n".join(lines), fontsize=13, fontweight="bold")


def _grid(ax: Axes) -> None:
    """Light grid lines, behind what is drawn."""
    ax.grid(True, color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)


def _runs(result: RunResult, bands: str) -> str:
    """``200 replications, mean and 5-95 % band``: what a figure's lines are made of."""
    n = len(result.replications)
    if n == 1:
        return "1 replication"
    if _one_outcome(result):
        return f"{n} replications, all alike"
    runs = f"{n} replications" + (f", {bands}" if bands else "")
    if n > result.band_sample and ("band" in bands or "P5" in bands):  # percentiles of the daily series
        runs += f" (percentiles of the first {result.band_sample:,})"
    return runs


def _date_axis(ax: Axes, days: np.ndarray | None = None) -> None:
    """Concise dates on the x axis, over the run's ``days`` when given (no margin: a margin past the horizon
    put a tick, and so the offset, in the next month or year); under day ticks the offset names the year
    only (``2023``, not ``2024-Jan`` for a run that ends in December 2023)."""
    locator = mdates.AutoDateLocator()  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    offsets = ["", "%Y", "%Y", "%Y-%b-%d", "%Y-%b-%d", "%Y-%b-%d %H:%M"]
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, offset_formats=offsets))  # type: ignore[no-untyped-call]
    if days is not None and len(days) > 1:
        ax.set_xlim(_num(days[0]), _num(days[-1]))


def _band(ax: Axes, x: np.ndarray, bands: dict[str, np.ndarray], key: str, color: str, label: str, scale: float = 1.0,
          **line: Any) -> None:
    ax.plot(x, bands[key] / scale, color=color, linewidth=1.6, label=label, **line)
    if f"{key}_p5" in bands:
        ax.fill_between(x, bands[f"{key}_p5"] / scale, bands[f"{key}_p95"] / scale, color=color, alpha=0.18, linewidth=0)


SHADES = ("#f4a582", "#92c5de", "#b8e186", "#c2a5cf", "#fdb863", "#80cdc1", "#de77ae", "#bababa")
"""One shade per impaired part (route or ``route/part``), in the order the scenario's outages name them."""
Window = tuple[float, float, float]
"""An outage window: start and end [days from the start, end clipped to the horizon] and capacity factor [-]."""


def _lanes(s: Scenario) -> dict[str, list[Window]]:
    """The scheduled outage windows within the horizon, by impaired part."""
    lanes: dict[str, list[Window]] = {}
    for outage in s.outages:
        start, end = outage.window_days(s.start_date)
        if start < s.horizon_days and end > start:
            lanes.setdefault(outage.target, []).append((start, min(end, s.horizon_days), outage.capacity_factor))
    return lanes


def _day(s: Scenario, day: float) -> float:
    """A day of the run as a matplotlib date number."""
    return _num(dt.datetime.combine(s.start_date, dt.time()) + dt.timedelta(days=day))


def _num(when: dt.date) -> float:
    return float(mdates.date2num(when))  # type: ignore[no-untyped-call]


def _shade(s: Scenario, ax: Axes, lanes: dict[str, list[Window]]) -> None:
    """Grey where any part is out (one shade, however many parts overlap); the strip says which."""
    spans = sorted((start, end) for windows in lanes.values() for start, end, _ in windows)
    merged: list[list[float]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    for start, end in merged:
        ax.axvspan(_day(s, start), _day(s, end), color="#000000", alpha=0.07, linewidth=0)


def _draw_lanes(s: Scenario, ax: Axes, lanes: dict[str, list[Window]]) -> None:
    """Each impaired part's outage windows as bars in its own lane, named on the left; what each window lost
    and when is written by :func:`_label_lanes` once the figure's layout is known."""
    n = len(lanes)
    for i, (windows, shade) in enumerate(zip(lanes.values(), itertools.cycle(SHADES))):
        for start, end, _factor in windows:
            ax.barh(n - 1 - i, _day(s, end) - _day(s, start), left=_day(s, start), height=0.72, color=shade,
                    linewidth=0)
    ax.set_yticks(range(n), [display_name(t) for t in reversed(lanes)], fontsize=8.5)
    ax.set_ylim(-0.6, n - 0.4)
    ax.tick_params(axis="x", labelbottom=False, length=0)
    ax.tick_params(axis="y", length=0)
    ax.spines[["top", "right", "left"]].set_visible(False)
    ax.grid(True, axis="x", color="#eeeeee", linewidth=0.6)
    ax.set_gid(STRIP)


STRIP = "outage strip"
"""The gid of a timeline figure's strip of outage windows."""
LABEL_PAD_PT = 3.0
"""Space between a window's label and the bars and labels around it [pt]."""


def _label_lanes(fig: Figure, s: Scenario) -> Figure:
    """Write each outage window's label where it fits in full: inside its bar, else beside it, clear of every
    other bar and label of its lane and inside the strip; else shorter (without the year); else a number,
    with the window in full in a note under the figure. Called last, on a laid-out figure, so that the
    strip's width is final (the labels take no part in the layout)."""
    strip = next((ax for ax in fig.axes if ax.get_gid() == STRIP), None)
    if strip is None:
        return fig
    lanes = _lanes(s)
    fig.draw_without_rendering()
    pad = LABEL_PAD_PT * fig.dpi / 72
    left, right = strip.get_window_extent().x0, strip.get_window_extent().x1
    to_px = strip.transData.transform
    numbered: list[str] = []
    for i, (target, windows) in enumerate(lanes.items()):
        y = len(lanes) - 1 - i
        bars = [(to_px((_day(s, a), y))[0], to_px((_day(s, b), y))[0]) for a, b, _f in windows]
        taken: list[tuple[float, float]] = []
        for (start, end, factor), bar in zip(windows, bars):
            tag = str(len(numbered) + 1)
            for text in (_window_text(s, start, end, factor), _window_text(s, start, end, factor, short=True), tag):
                label = strip.text(0.0, y, text, va="center", ha="left", fontsize=8, in_layout=False)
                width = label.get_window_extent().width
                spot = _spot(bar, width, pad, (left, right), [b for b in bars if b is not bar], taken)
                if spot is not None:
                    label.set_x(strip.transData.inverted().transform((spot, 0.0))[0])
                    taken.append((spot - pad, spot + width + pad))
                    break
                label.remove()
            if text == tag:
                numbered.append(f"{tag}: {display_name(target)} {_window_text(s, start, end, factor)}")
    if numbered:
        fig.supxlabel(textwrap.fill("Outage windows: " + "; ".join(numbered), 160), fontsize=8, color="#444444",
                      ha="left", x=0.01)
    return fig


def _spot(bar: tuple[float, float], width: float, pad: float, edges: tuple[float, float],
          others: list[tuple[float, float]], taken: list[tuple[float, float]]) -> float | None:
    """Where a label ``width`` wide starts [px]: inside its ``bar``, else after it, else before it; clear of
    the ``taken`` labels, and outside its bar clear of the ``others`` bars too and within the ``edges``; None
    if nowhere."""
    def clear(a: float, b: float, blocks: list[tuple[float, float]]) -> bool:
        return edges[0] <= a and b <= edges[1] and all(b <= x0 or a >= x1 for x0, x1 in blocks)

    x0, x1 = bar
    if width + 2 * pad <= x1 - x0 and clear(x0 + pad, x0 + pad + width, taken):
        return x0 + pad
    for a in (x1 + pad, x0 - pad - width):
        if clear(a - pad, a + width + pad, [*taken, *others, bar]):
            return a
    return None


def _window_text(s: Scenario, start: float, end: float, factor: float, short: bool = False) -> str:
    """``stopped, 2 Mar to 31 Mar 2022`` or ``at 65 % of capacity ...``: an outage window in words; ``short``:
    ``stopped 2 Mar-31 Mar``, ``65 %, 2 Mar-31 Mar``."""
    first, last = (s.start_date + dt.timedelta(days=int(d)) for d in (start, math.ceil(end) - 1))
    if short:
        return f"{'stopped' if factor == 0 else f'{factor * 100:.0f} %,'} {first:%-d %b}-{last:%-d %b}"
    how = "stopped" if factor == 0 else f"at {factor * 100:.0f} % of capacity"
    return f"{how}, {first:%-d %b} to {last:%-d %b %Y}"


def _thousands(ax: Axes) -> None:
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:,.0f}"))


def _legend(ax: Axes, **kw: Any) -> None:
    """The legend beside the axes, off the data."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, frameon=False, **kw)


def flows(result: RunResult) -> Figure:
    """Daily exports per route at the sale point (after transit), with the outage windows shaded and, dashed,
    each route's no-outage baseline where the run departs from it; routes far smaller than the largest get a
    panel of their own, on their own scale. The first days, before the first barrels reach the sale point
    (no sales in the baseline either), are hatched.

    A tanker route delivers whole cargoes, so its daily line is spiky; its 7-day mean is drawn bold over it.
    """
    bands, colors = result.daily_bands(), _route_colors(result)
    panels = _route_panels(result, bands)
    fig, axes = _figure(result, "exports by route at the sale point", rows=len(panels), timeline=True)
    x = _dates(result)
    for ax, routes in zip(axes, panels):
        if sum([_route_line(result, ax, x, bands, route, colors[route]) for route in routes]):
            ax.plot([], [], color="#666666", linewidth=1.0, linestyle="--", label="no-outage baseline")
        _mark_transit(ax, x, np.sum([bands[f"baseline_{r}_exported_bpd"] for r in routes], axis=0))
        ax.set_ylabel("exported [thousand bbl/day]")
        ax.set_ylim(bottom=0, top=max(ax.get_ylim()[1], 1.0) * 1.12)  # room for the transit note
        _thousands(ax)
        _legend(ax)
    if len(panels) > 1:
        axes[1].set_title("smaller routes, on their own scale", loc="left", fontsize=9, color="#444444")
    return _label_lanes(fig, result.scenario)


SMALL_ROUTE = 0.25
"""A route whose highest daily flow is below this share of the largest route's gets the second panel of the
flows, a store smaller than this share of the largest store the second of the storage [-]."""


def _route_panels(result: RunResult, bands: dict[str, np.ndarray]) -> list[list[str]]:
    """The routes of each flows panel: the large ones, and (if any) those far smaller."""
    routes = list(result.scenario.routes)
    peak = {r: max(float(bands[f"{r}_exported_bpd"].max()), float(bands[f"baseline_{r}_exported_bpd"].max()))
            for r in routes}
    small = [r for r in routes if peak[r] < SMALL_ROUTE * max(peak.values())]
    return [[r for r in routes if r not in small], small] if small else [routes]


def _route_line(result: RunResult, ax: Axes, x: np.ndarray, bands: dict[str, np.ndarray], route: str, color: str) -> bool:
    """A route's daily exports, and its baseline where they differ; whether the baseline was drawn."""
    run, base = bands[f"{route}_exported_bpd"], bands[f"baseline_{route}_exported_bpd"]
    if isinstance(result.scenario.routes[route], TankerShuttleRoute):
        ax.plot(x, run / 1e3, color=color, linewidth=0.5, alpha=0.2)
        run, base = (np.convolve(v, np.ones(7) / 7, mode="full")[: len(x)] for v in (run, base))
        ax.plot(x, run / 1e3, color=color, linewidth=1.8, label=f"{display_name(route)} (7-day mean)")
    else:
        _band(ax, x, bands, f"{route}_exported_bpd", color, display_name(route), scale=1e3)
    departs = bool(np.any(np.abs(run - base) > 1e-6 * max(float(np.abs(base).max()), 1.0)))
    if departs:
        ax.plot(x, base / 1e3, color=color, linewidth=1.0, linestyle="--", alpha=0.7)
    return departs


def _mark_transit(ax: Axes, x: np.ndarray, baseline: np.ndarray) -> None:
    """Hatch the first days, when no barrel has reached the sale point yet even without outages."""
    days = int(np.argmax(baseline > 0)) if np.any(baseline > 0) else 0
    if days == 0:
        return
    ax.axvspan(_num(x[0]), _num(x[days]), facecolor="none", edgecolor="#aaaaaa", hatch="////", linewidth=0)
    ax.annotate(f"first sales after {days} days of transit", (_num(x[days]), 1.0), xycoords=("data", "axes fraction"),
                xytext=(4, -3), textcoords="offset points", va="top", fontsize=8, color="#666666")


def storage(result: RunResult) -> Figure:
    """Storage levels against their capacities, and production with the shut-in it could not place. Stores far
    smaller than the largest get a panel of their own, on their own scale (as small routes do in the flows);
    with bands, shut in gets its own panel too, since its band would lie across production's."""
    s, x, bands = result.scenario, _dates(result), result.daily_bands()
    nodes = s.storage_nodes()
    per_node = len(nodes) > 1 and all(f"{n}_storage_bbl" in bands for n in nodes)
    groups = _store_panels(nodes) if per_node else [[]]
    spread = "shut_in_bpd_p5" in bands and not _one_outcome(result)
    fig, axes = _figure(result, "storage and production", rows=len(groups) + 1 + spread, timeline=True)
    stores, rates = axes[: len(groups)], axes[len(groups):]
    if per_node:
        colors = dict(zip(nodes, itertools.cycle(STORE_COLORS)))
        for ax, group in zip(stores, groups):
            for node in group:
                label = (f"{display_name(node.removesuffix('_tank_farm'))} tank farm" if node not in s.producers
                         else f"{display_name(node)} storage")
                _band(ax, x, bands, f"{node}_storage_bbl", colors[node], label, scale=1e6)
                ax.axhline(nodes[node] / 1e6, color=colors[node], linestyle="--", linewidth=1)
            ax.plot([], [], color="#4c4c4c", linestyle="--", linewidth=1, label="capacity of each")
            ax.set_ylim(bottom=0, top=max(max(nodes[n] for n in group) / 1e6 * 1.08, 1e-6))
        if len(groups) > 1:
            stores[1].set_title("smaller stores, on their own scale", loc="left", fontsize=9, color="#444444")
    else:
        _band(stores[0], x, bands, "storage_bbl", "#4c4c4c", "storage level", scale=1e6)
        stores[0].axhline(s.storage_capacity_bbl / 1e6, color="#4c4c4c", linestyle="--", linewidth=1,
                          label="storage capacity")
        stores[0].set_ylim(bottom=0, top=max(s.storage_capacity_bbl / 1e6 * 1.08, 1e-6))
    for ax in stores:
        ax.set_ylabel("storage [million bbl]")
        _legend(ax)
    _band(rates[0], x, bands, "production_bpd", "#2ca02c", "production", scale=1e3)
    _band(rates[-1], x, bands, "shut_in_bpd", "#d62728", "shut in", scale=1e3)
    for ax in rates:
        ax.set_ylabel("rate [thousand bbl/day]")
        ax.set_ylim(bottom=0)
        _thousands(ax)
        _legend(ax)
    return _label_lanes(fig, result.scenario)


STORE_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")


def _store_panels(nodes: dict[str, float]) -> list[list[str]]:
    """The stores of each storage panel: the large ones, and (if any) those far smaller [bbl]."""
    largest = max(nodes.values())
    small = [n for n, size in nodes.items() if size < SMALL_ROUTE * largest]
    return [[n for n in nodes if n not in small], small] if small else [list(nodes)]


def revenue(result: RunResult) -> Figure:
    """Cumulative export revenue against the no-outage baseline, and the cumulative losses, with the budget
    loss at the horizon written on the plot. A run that loses nothing gets no empty loss panel: the revenue
    panel says so (``no disruptions: no loss``, or ``the disruptions cost nothing``)."""
    s, x, bands = result.scenario, _dates(result), result.daily_bands()
    losses = [v for k, v in bands.items() if k.startswith(("revenue_loss_usd", "budget_loss_usd"))]
    lossless = not any(np.any(v != 0) for v in losses)
    disrupted = bool(s.outages or s.incidents or s.failures or s.weather)
    fig, axes = _figure(result, "cumulative revenue vs no-outage baseline", rows=1 if lossless else 2, timeline=True)
    top = axes[0]
    _band(top, x, bands, "export_revenue_usd", "#1f77b4", "with the disruptions" if disrupted else "the run", scale=1e9)
    _band(top, x, bands, "baseline_export_revenue_usd", BASELINE_COLOR, "no-outage baseline", scale=1e9, linestyle="--")
    top.set_ylabel("export revenue [USD bn]")
    _legend(top)
    if lossless:
        top.set_title("the disruptions cost nothing: no loss" if disrupted else "no disruptions: no loss", loc="left",
                      fontsize=10, fontweight="bold", color="#444444")
        return _label_lanes(fig, s)
    bottom = axes[1]
    _band(bottom, x, bands, "revenue_loss_usd", "#ff7f0e", "export revenue loss", scale=1e9)
    _band(bottom, x, bands, "budget_loss_usd", "#d62728", "budget loss", scale=1e9)
    if min(v.min() for v in losses) >= 0:
        bottom.set_ylim(bottom=0)  # no gain anywhere: no negative half of the axis
    bottom.set_ylabel("cumulative loss [USD bn]")
    _legend(bottom)
    bottom.set_title(f"at the horizon: {headline(result)}", loc="left", fontsize=10, fontweight="bold", color="#d62728")
    return _label_lanes(fig, s)


def headline(result: RunResult) -> str:
    """The budget loss at the horizon in USD bn and as a share of the horizon's budget revenue (means over
    replications)."""
    usd, share = (float(result.metric(m).mean()) for m in ("budget_loss_usd", "budget_loss_share"))
    mean = "" if _one_outcome(result) else "mean "
    return (f"{mean}budget loss USD {usd / 1e9:,.2f} bn = {_percent(share * 100)} % of "
            f"{budget_words(result.scenario.horizon_days)}")


def _percent(value: float) -> str:
    return f"{value:,.1f}" if abs(value) >= 1 else f"{value:.2g}"


def _one_outcome(result: RunResult) -> bool:
    """Whether every replication of the run gave the same figures and daily series (one replication, or a run
    with nothing random): its spread, bands and exceedance are those of a single number."""
    figures, sample = result.figures, result.sample
    return bool(np.all(figures == figures[:, :1]) and np.all(sample == sample[:, :1]))


def loss_distribution(result: RunResult) -> Figure:
    """Histogram of the budget loss as a share of the budget, across replications, with its median, mean,
    VaR 95 % and CVaR 95 % (the statistics of summary.json); the top axis gives the loss in USD bn."""
    fig, (ax,) = _figure(result, "distribution of the budget loss", bands="")
    values = result.metric("budget_loss_share") * 100
    ax.hist(values, bins=min(60, max(10, len(values) // 25)), color="#d62728", alpha=0.6)
    st = result.summary().metrics["budget_loss_share"]
    for key, text, style, color in (("p50", "median", "-", "black"), ("mean", "mean", "--", "black"),
                                    ("var95", "VaR 95 %", "-", "#7a0000"),
                                    ("cvar95", "CVaR 95 % (mean of the worst 5 %)", ":", "#7a0000")):
        value = float(getattr(st, key)) * 100
        ax.axvline(value, color=color, linestyle=style, linewidth=1.4, label=f"{text}: {value:.2f} %")
    ax.set_xlabel(f"budget loss over the horizon [% of {budget_words(result.scenario.horizon_days)}]")
    ax.set_ylabel("replications [count]")
    budget_bn = result.scenario.fiscal.budget_revenue_usd_per_year * result.scenario.horizon_days / DAYS_PER_YEAR / 1e9
    top = ax.secondary_xaxis("top", functions=(lambda v: np.multiply(v, budget_bn / 100),
                                                lambda v: np.multiply(v, 100 / budget_bn)))
    top.set_xlabel("budget loss over the horizon [USD bn]")
    _legend(ax, title=f"any loss in {(st.prob_loss or 0.0) * 100:.0f} % of replications")
    return fig


def loss_fan(result: RunResult) -> Figure:
    """Fan chart of the cumulative export revenue loss: median, P10-P90 and P5-P95 bands.

    The median, not the mean: on/off disruptions make outcomes bimodal, and the mean may lie where no
    replication does.
    """
    fig, (ax,) = _figure(result, "cumulative export revenue loss, fan chart", bands="median, P10-P90 and P5-P95",
                         timeline=True)
    x = _dates(result)
    p5, p10, p50, p90, p95 = np.percentile(result.daily_stack("revenue_loss_usd") / 1e9, (5, 10, 50, 90, 95), axis=0)
    ax.fill_between(x, p5, p95, color="#ff7f0e", alpha=0.18, linewidth=0, label="P5-P95")
    ax.fill_between(x, p10, p90, color="#ff7f0e", alpha=0.35, linewidth=0, label="P10-P90")
    ax.plot(x, p50, color="#b35900", linewidth=1.8, label="median")
    ax.set_ylabel("cumulative revenue loss [USD bn]")
    _legend(ax)
    return _label_lanes(fig, result.scenario)


RETURN_PERIODS = (10, 20, 50, 100, 200, 500, 1000)


def loss_exceedance(result: RunResult) -> Figure:
    """Probability that the budget loss, annualised, exceeds x: the loss-exceedance curve, on a log scale down
    to one replication in all, with the losses of the return periods the run resolves marked (inside the
    axes; to 2 significant digits, with the count, where few replications are beyond)."""
    fig, (ax,) = _figure(result, "budget loss exceedance", bands="")
    horizon = result.scenario.horizon_days
    annual = np.sort(result.metric("budget_loss_usd")) / 1e9 * DAYS_PER_YEAR / horizon
    exceed = 1.0 - np.arange(1, len(annual) + 1) / len(annual)
    ax.step(annual, exceed, where="post", color="#d62728", linewidth=1.8)
    unit = " years" if horizon == DAYS_PER_YEAR else f" runs of {horizon} days"
    ax.set_xlabel("budget loss per year [USD bn/yr]")
    ax.set_xlim(left=min(0.0, float(annual[0])))
    left, right = ax.get_xlim()
    for k in _tail_axis(ax, len(annual)):
        loss = float(np.percentile(annual, 100 - 100 / k))
        ax.plot(loss, 1 / k, "o", color="#7a0000", markersize=4)
        beyond = len(annual) // k  # the replications the return period's loss rests on
        text = (f"USD {loss:,.2f} bn/yr" if beyond >= FEW_TAIL else
                f"USD {number(loss, 2)} bn/yr ({beyond} replication{'s' if beyond != 1 else ''})")
        late = loss > left + 0.55 * (right - left)  # written to the left of its point, inside the axes
        ax.annotate(f"1 in {k}{unit}: {text}", (loss, 1 / k), xytext=(-6 if late else 6, 3),
                    textcoords="offset points", ha="right" if late else "left", fontsize=8, color="#7a0000")
    ax.set_xlim(left, right)
    return fig


FEW_TAIL = 10
"""A return period's loss resting on fewer replications than this is written to 2 significant digits, with
the count it rests on."""


def _tail_axis(ax: Axes, n: int) -> list[int]:
    """A log probability-of-exceeding axis down to one in ``n``, with the return periods that at least two
    of ``n`` replications exceed drawn across; those return periods."""
    ax.set_yscale("log")
    ax.set_ylim(0.5 / n, 1.15)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v * 100:g} %"))
    ax.set_ylabel("probability of exceeding [%]")
    periods = [k for k in RETURN_PERIODS if 2 * k <= n]
    for k in periods:
        ax.axhline(1 / k, color="#999999", linewidth=0.8, linestyle="--")
    return periods


WATERFALL = (
    ("company_loss_usd", "companies", "#8c564b"),
    ("export_duty_loss_usd", "export duty", "#1f77b4"),
    ("mineral_extraction_tax_loss_usd", "mineral extraction tax", "#2ca02c"),
    ("rent_tax_loss_usd", "rent tax", "#ff7f0e"),
    ("profit_tax_loss_usd", "profit tax", "#9467bd"),
)


def loss_waterfall(result: RunResult) -> Figure:
    """Where the export revenue lost to the disruptions lands: companies and each tax (means), and how the
    government's part splits between the state budget and the National Fund. A part that loses nothing (0.00
    bn) gets no bar; the note names it."""
    fig, (ax,) = _figure(result, "where the revenue loss lands", bands="means")
    ax.grid(False, axis="x")
    mean = {k: float(result.metric(k).mean()) / 1e9 for k in result.replications[0].metrics}
    parts = [(label, mean[key], color) for key, label, color in WATERFALL]
    if result.scenario.fiscal.taxes is None:  # the flat take: one government slice
        parts = [parts[0], ("government (flat take)", mean["government_loss_usd"], "#d62728")]
    nothing = [label for label, value, _ in parts if round(value, 2) == 0]  # a bar of 0.00: no bar, but named
    parts = [p for p in parts if p[0] not in nothing]
    bottom = 0.0
    for i, (_label, value, color) in enumerate(parts):
        ax.bar(i, value, bottom=bottom, color=color, width=0.6)
        ax.text(i, bottom + value, f"{value:,.2f}", ha="center", va="bottom" if value >= 0 else "top", fontsize=9)
        bottom += value
    total = mean["revenue_loss_usd"]
    ax.bar(len(parts), total, color="#444444", width=0.6)
    ax.text(len(parts), total, f"{total:,.2f}", ha="center", va="bottom" if total >= 0 else "top", fontsize=9)
    ax.set_xticks(range(len(parts) + 1), [p[0] for p in parts] + ["export revenue loss"], rotation=15)
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_ylabel("loss over the horizon [USD bn]")
    low, high = ax.get_ylim()
    ax.set_ylim(low, high + 0.2 * (high - low))  # room for the note
    none = f"\nno loss (below USD 0.005 bn): {', '.join(nothing)}" if nothing else ""
    ax.text(0.01, 0.97, f"{headline(result)}\ngovernment {mean['government_loss_usd']:,.2f}: state budget "
            f"{mean['budget_loss_usd']:,.2f}, National Fund {mean['national_fund_loss_usd']:,.2f}{none}",
            transform=ax.transAxes, ha="left", va="top", fontsize=9, linespacing=1.5)
    return fig


# ------------------------------------------------------------------------------------------ network

SCHEDULED, RANDOM, SOUND = "#d62728", "#e08a00", "#333333"
"""Colours of a part with a scheduled outage, with random impairments only, and with neither."""
Part = tuple[str, str, str]
"""A part of a route as the network draws it: its kind (segment, tank_farm, terminal, tankers), its target
name (``route/part``) and its label."""


def network(result: RunResult) -> Figure:
    """The export network as a schematic: producers on the left, each route a line to its sale point with its
    parts in order (pipeline segments, tank farm, terminal with its moorings, tanker shuttle) and their
    capacities (and the cap that binds, where one binds below the route's capacity); the line's width is the
    run's mean flow after the first sales against the network's largest route capacity, so that two runs'
    schematics compare. Parts with scheduled outages are red, those with random impairments orange, and every
    impairment is listed below."""
    s = result.scenario
    notes = _impairments(s)
    fig = Figure(figsize=(12.0, 1.5 + 1.1 * len(s.routes) + 0.2 * len(notes)), layout="constrained")
    grid = fig.add_gridspec(2, 1, height_ratios=[1.1 * len(s.routes), 0.2 * (len(notes) + 1)])
    ax, listing = fig.add_subplot(grid[0]), fig.add_subplot(grid[1])
    _suptitle(fig, result, "the export network")
    widest = max(r.capacity_bpd for r in s.routes.values())
    first = _first_sale(result)
    after = f" after the first sales, from day {first + 1}" if first else ""
    ax.set_title(f"capacities as given; line widths: the run's mean flows{after} ({_runs(result, 'means')}),\n"
                 f"on one scale for every run of this network: full width = {_kbpd(widest)}, its largest route capacity",
                 fontsize=9, color="#444444")
    rows = {route: len(s.routes) - 1 - i for i, route in enumerate(s.routes)}
    flows = {r: float(np.mean(result.daily_mean(f"{r}_exported_bpd")[first:])) for r in s.routes}
    for (route, y), color in zip(rows.items(), _route_colors(result).values()):
        _network_route(ax, s, route, y, color, flows[route], 1.5 + 12.5 * min(flows[route] / widest, 1.0))
    _network_producers(ax, result, rows)
    ax.set_xlim(0, 10.4)
    ax.set_ylim(-0.75, len(s.routes) - 0.35)
    ax.set_axis_off()
    listing.set_axis_off()
    listing.text(0.0, 1.0, "\n".join(["Impairments:", *notes]) if notes else "Nothing impaired.",
                 transform=listing.transAxes, va="top", fontsize=9, linespacing=1.5)
    return fig


def _first_sale(result: RunResult) -> int:
    """The first day [index] on which any barrel reaches a sale point without outages: the days before it are
    transit, not flow, and would pull a short run's mean flows down."""
    sold = np.sum([result.daily_mean(f"baseline_{r}_exported_bpd") for r in result.scenario.routes], axis=0)
    return int(np.argmax(sold > 0)) if np.any(sold > 0) else 0


def _kbpd(bpd: float) -> str:
    return f"{bpd / 1e3:,.0f} kbbl/d" if bpd >= 1e4 else f"{bpd / 1e3:,.1f} kbbl/d"


def _status(s: Scenario, target: str) -> str:
    """The colour of a part: scheduled outage, random impairments only, or neither."""
    if any(o.target == target for o in s.outages):
        return SCHEDULED
    randoms = [p.target for p in s.incidents] + [p.target for p in s.failures] + [p.target for p in s.weather]
    return RANDOM if target in randoms else SOUND


PRODUCER_COLORS = ("#b8860b", "#008b8b", "#c71585", "#556b2f", "#4b0082", "#708090", "#6a3d9a", "#8b4513")
"""One colour per producer, for its box and its links to the routes it reaches (apart from the routes')."""


def _network_producers(ax: Axes, result: RunResult, rows: dict[str, int]) -> None:
    """Each producer as a box with its output and storage, linked to the routes it can reach in its own colour,
    so that crossing links can be told apart."""
    s = result.scenario
    ys = np.linspace(max(rows.values()), 0, len(s.producers)) if len(s.producers) > 1 else [max(rows.values()) / 2]
    for (name, producer), y, color in zip(s.producers.items(), ys, distinct_colors(len(s.producers), PRODUCER_COLORS)):
        key = f"{name}_production_bpd" if f"{name}_production_bpd" in result.series else "production_bpd"
        for route in s.reach(name):
            ax.plot([1.55, _joining_x(s, name, route)], [y, rows[route]], color=color, linewidth=1.4, alpha=0.85,
                    zorder=1, gid=f"link {name} {route}")
        foreign = "\nforeign shipper" if producer.foreign else ""
        ax.text(0.05, y, f"{display_name(name)}{foreign}\n{_kbpd(producer.production_bpd)} capacity\n"
                f"{_kbpd(float(np.mean(result.daily_mean(key))))} produced (mean)\n"
                f"storage {producer.storage_bbl / 1e6:,.1f} M bbl", va="center", ha="left", fontsize=8,
                bbox={"boxstyle": "round", "facecolor": "#f2f2f2", "edgecolor": color, "linewidth": 1.6}, zorder=3,
                gid=f"producer {name}")


def _part_xs(s: Scenario, route: str) -> np.ndarray:
    """Where a route's parts (:func:`_parts`) sit along its line."""
    n = len(_parts(s, route))
    return np.linspace(3.4, 8.0, n) if n > 1 else np.array([5.7])


def _joining_x(s: Scenario, producer: str, route: str) -> float:
    """Where ``producer``'s oil enters ``route``'s line: its start, or just above the segment it joins at."""
    k = s.joins_at(producer, route)
    if k == 0:
        return 2.3
    xs = _part_xs(s, route)
    return float((xs[k - 1] + xs[k]) / 2)


def _network_route(ax: Axes, s: Scenario, route: str, y: float, color: str, flow: float, width: float) -> None:
    """One route: its line from the junction to the sale point, its parts in order, and its figures."""
    r = s.routes[route]
    parts = _parts(s, route)
    xs = _part_xs(s, route)
    sea = next((x for x, part in zip(xs, parts) if part[0] == "tankers"), None)
    ax.plot([2.3, 8.9 if sea is None else sea], [y, y], color=color, linewidth=width, solid_capstyle="butt", zorder=2,
            gid=f"route {route}")
    if sea is not None:  # the crossing: cargoes, not a continuous flow
        ax.plot([sea, 8.9], [y, y], color=color, linewidth=width, linestyle=(0, (2, 1.5)), zorder=2)
    kind = "tanker shuttle" if isinstance(r, TankerShuttleRoute) else "pipeline"
    committed = f", {_kbpd(r.committed_bpd)} committed" if r.committed_bpd else ""
    ax.text(2.35, y + 0.2, f"{display_name(route)}: {kind}, capacity {_kbpd(r.capacity_bpd)}{_binding(r)}{committed}, "
            f"transit {r.total_transit_days:g} d", fontsize=9, fontweight="bold", color=_status(s, route), va="bottom")
    ax.plot(8.9, y, marker=">", markersize=9, color=color, zorder=3)
    whose = "\n(the country's oil)" if route in s.foreign_routes() else ""
    ax.text(9.05, y, f"sold: mean\n{_kbpd(flow)}{whose}", va="center", fontsize=9)
    for x, part in zip(xs, parts):
        _network_part(ax, s, route, x, y, part)


def _binding(r: Route) -> str:
    """``, carries at most 45 kbbl/d (3 tankers)``: the cap that binds a route below its capacity, if one does."""
    bound = bottleneck(r)
    if bound.bpd >= r.capacity_bpd * (1 - 1e-9):
        return ""
    kind, _, rest = bound.constraint.partition(":")
    if isinstance(r, TankerShuttleRoute):
        what = (f"{r.tankers} tanker{'s' if r.tankers != 1 else ''}" if kind == "tankers"
                else f"{r.load_berths} load berth{'s' if r.load_berths != 1 else ''}" if kind == "load_berths" else kind)
    elif kind == "terminal":
        what = f"{rest.split(' active')[0].strip()} active moorings"
    else:
        what = "segment " + kind.split(".")[1] if kind.startswith("segments.") else kind.split()[0]
    return f", carries at most {_kbpd(bound.bpd)} ({what})"


def _network_part(ax: Axes, s: Scenario, route: str, x: float, y: float, part: Part) -> None:
    kind, target, label = part
    status = _status(s, target)
    if kind == "terminal":
        _network_terminal(ax, s, route, x, y)
    else:
        ax.plot(x, y, marker={"segment": "|", "tank_farm": "s", "tankers": "D"}[kind], markersize=12, markeredgewidth=2,
                markerfacecolor="white", markeredgecolor=status, zorder=4)
    ax.text(x, y - 0.24, label, ha="center", va="top", fontsize=7.5, color=status)


def _parts(s: Scenario, route: str) -> list[Part]:
    """A route's parts in the order oil passes them."""
    r = s.routes[route]
    segment = {n: ("segment", f"{route}/{n}", f"{n}\n{_kbpd(seg.capacity_bpd)}") for n, seg in r.segments.items()}
    before, after = r.split_segments() if isinstance(r, PipelineRoute) else (list(r.segments), [])
    parts = [segment[n] for n in before]
    if r.tank_farm is not None:
        parts.append(("tank_farm", f"{route}/tank_farm", f"tank farm\n{r.tank_farm.storage_bbl / 1e6:,.1f} M bbl"))
    parts += [segment[n] for n in after]
    if isinstance(r, PipelineRoute) and r.terminal is not None:
        t = r.terminal
        rates = (f"x {_kbpd(t.top_rate_bpd)}" if t.equal_rates else  # each mooring's, in the order drawn above
                 "at " + ", ".join(f"{rate / 1e3:,.0f}" for rate in t.rates_bpd) + " kbbl/d")
        parts.append(("terminal", f"{route}/terminal", f"terminal: {t.active_moorings} of {len(t.moorings)}\nmoorings {rates}"))
    if isinstance(r, TankerShuttleRoute):
        berths = f"{r.load_berths} load berth" + ("s" if r.load_berths > 1 else "")
        parts.append(("tankers", route, f"{r.tankers} tankers x {r.tanker_capacity_bbl / 1e3:,.0f} k bbl\n"
                      f"{berths}, voyage {r.voyage_days:g} d"))
    return parts


def _network_terminal(ax: Axes, s: Scenario, route: str, x: float, y: float) -> None:
    """A terminal on the line, its moorings in a row above it, each named and coloured by its own impairments."""
    r = s.routes[route]
    assert isinstance(r, PipelineRoute) and r.terminal is not None
    moorings = r.terminal.moorings
    ax.plot(x, y, marker="|", markersize=22, markeredgewidth=2.5, color=_status(s, f"{route}/terminal"), zorder=4)
    for dx, mooring in zip(0.32 * (np.arange(len(moorings)) - (len(moorings) - 1) / 2), moorings):
        status = _status(s, f"{route}/{mooring}")
        ax.plot([x, x + dx], [y, y + 0.3], color="#999999", linewidth=0.8, zorder=3)
        ax.plot(x + dx, y + 0.3, marker="o", markersize=7, markerfacecolor="white", markeredgecolor=status,
                markeredgewidth=1.6, zorder=4)
        ax.text(x + dx, y + 0.38, mooring, ha="center", va="bottom", fontsize=7, color=status)


def _impairments(s: Scenario) -> list[str]:
    """Every scheduled outage window and random impairment of the scenario, one line each."""
    lines = [f"{display_name(target)}: {_window_text(s, start, end, factor)}"
             for target, windows in _lanes(s).items() for start, end, factor in windows]
    lines += [f"{display_name(p.target)}: {what}, {p.rate_per_year.mean:.3g} a year, {p.duration_days.mean:.3g} days each on "
              "average" for what, processes in (("random incidents", s.incidents), ("storms", s.weather)) for p in processes]
    lines += [f"{display_name(p.target)}: failures after {p.time_to_failure_days.mean:.3g} days up on average, "
              f"{p.repair_days.mean:.3g} days to repair" for p in s.failures]
    return lines


PRICE_CURVES = (
    ("export_revenue_loss_usd", "export revenue loss", "#ff7f0e", "-"),
    ("government_revenue_loss_usd", "government loss", "#9467bd", "-"),
    ("budget_oil_revenue_loss_usd", "state budget loss", "#d62728", "-"),
    ("national_fund_revenue_loss_usd", "National Fund loss", "#17becf", "--"),
)


def price_curve(result: RunResult, curve: dict[str, np.ndarray]) -> Figure:
    """Losses of the run's barrels (mean volumes) against a constant Brent price. A curve the same as the one
    before it (the government's loss when none goes to the National Fund) is named with it, not drawn over
    it; a curve zero throughout is not drawn."""
    fig, (ax,) = _figure(result, "loss against the Brent price", bands="mean volumes")
    x = curve["brent_usd_per_bbl"]
    groups: list[tuple[np.ndarray, list[str], str, str]] = []
    for key, label, color, style in PRICE_CURVES:
        y = curve[key] / 1e9
        if groups and np.allclose(y, groups[-1][0], rtol=1e-9, atol=0):
            groups[-1][1].append(label)
        elif np.any(y != 0):
            groups.append((y, [label], color, style))
    for y, labels, color, style in groups:
        ax.plot(x, y, color=color, linewidth=1.8, linestyle=style, label=" = ".join(labels))
    ax.axvline(float(np.mean(result.daily_mean("brent_usd_per_bbl"))), color="#7f7f7f", linewidth=1, linestyle=":",
               label="the run's mean Brent")
    ax.set_xlabel("Brent [USD/bbl]")
    ax.set_ylabel("loss over the horizon [USD bn]")
    _legend(ax)
    return fig


def figures(result: RunResult, curve: dict[str, np.ndarray] | None = None) -> dict[str, Figure]:
    """Every plot of a run, keyed by file stem; none that would be degenerate: no waterfall or price curve
    without a loss, no spread of outcomes (distribution, fan, exceedance) for a run with one outcome."""
    out = {"network": network(result), "flows": flows(result), "storage": storage(result), "revenue": revenue(result)}
    if np.any(result.metric("revenue_loss_usd") != 0):
        out["loss_waterfall"] = loss_waterfall(result)
    if curve is not None and any(np.any(curve[key] != 0) for key, *_ in PRICE_CURVES):
        out["price_curve"] = price_curve(result, curve)
    if not _one_outcome(result):
        out["loss_distribution"] = loss_distribution(result)
        out["loss_fan"] = loss_fan(result)
        out["loss_exceedance"] = loss_exceedance(result)
    return out


def qq(calibration: Calibration) -> Figure:
    """Quantile-quantile plot of the observed incident durations against every fitted family."""
    fig = Figure(figsize=(6.5, 6.0), layout="constrained")
    ax = fig.add_subplot()
    observed = np.sort(np.asarray(calibration.durations_days))
    probs = (np.arange(1, len(observed) + 1) - 0.5) / len(observed)
    markers = ("o", "s", "^", "D")
    for fit, marker, color in zip(calibration.fits, markers, PALETTE):
        label = f"{fit.family} (AIC {fit.aic:.1f})"
        ax.scatter(fit.frozen.ppf(probs), observed, marker=marker, s=28, color=color, alpha=0.8, label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    lo, hi = ax.get_xlim()
    lo, hi = min(lo, ax.get_ylim()[0]), max(hi, ax.get_ylim()[1])
    ax.plot([lo, hi], [lo, hi], color="black", linewidth=1, linestyle="--", label="y = x")
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_xlabel("fitted quantile [days]")
    ax.set_ylabel("observed duration [days]")
    ax.set_title(f"{calibration.target}: incident durations, QQ plot ({calibration.count} incidents)", fontsize=12)
    _grid(ax)
    ax.legend(loc="upper left", frameon=False, fontsize=9)
    return fig


def _plain_figure(title: str, subtitle: str) -> tuple[Figure, Axes]:
    fig = Figure(figsize=SIZE_IN, layout="constrained")
    ax = fig.add_subplot()
    fig.suptitle(title, fontsize=13, fontweight="bold")
    ax.set_title(subtitle, fontsize=9, color="#444444")
    _grid(ax)
    ax.spines[["top", "right"]].set_visible(False)
    return fig, ax


def sweep_curve(rows: list[dict[str, Any]], key: str, metric: str, naive: dict[str, float] | None = None,
                scenarios: Sequence[Scenario] = ()) -> Figure:
    """A metric against one swept parameter: each scenario's mean with its 95 % confidence band. ``scenarios``
    (those swept) name what the key's outage hits."""
    label, scale = metric_axis(metric, scenarios)
    names = list(dict.fromkeys(r["scenario"] for r in rows))
    x_label = key_label(key, scenarios)
    fig, ax = _plain_figure(f"{capital(label)} against {in_words(x_label)}",
                            f"{_sweep_band(rows)}; " + ", ".join(names))
    for i, name in enumerate(names):
        mine = [r for r in rows if r["scenario"] == name]
        x = np.array([float(r[key]) for r in mine])
        color = PALETTE[i % len(PALETTE)]
        ax.plot(x, np.array([r[f"{metric}_mean"] for r in mine]) / scale, color=color, linewidth=1.8, marker="o",
                markersize=3.5, label=name)
        ax.fill_between(x, np.array([r[f"{metric}_mean_ci95_low"] for r in mine]) / scale,
                        np.array([r[f"{metric}_mean_ci95_high"] for r in mine]) / scale, color=color, alpha=0.2,
                        linewidth=0)
        if naive and name in naive:
            ax.plot(x, x * naive[name] / scale, color=color, linewidth=1.2, linestyle="--",
                    label=f"{name}: naive, linear in days")
    ax.set_xlabel(x_label)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: number(v)))
    ax.set_ylabel(label)
    _legend(ax)
    return fig


def _sweep_band(rows: list[dict[str, Any]]) -> str:
    """What a sweep curve's band is: the 95 % confidence band of the mean, or with one replication a point
    (rows of a sweep.csv from before replications were recorded: as if several)."""
    if all(int(r.get("replications", 2)) == 1 for r in rows):
        return "1 replication a point: no band"
    return "mean and 95 % confidence band of the mean"


def sweep_heatmap(rows: list[dict[str, Any]], keys: tuple[str, str], metric: str, scenario: str,
                  scenarios: Sequence[Scenario] = ()) -> Figure:
    """A metric's mean over two swept parameters, each cell's value written in it."""
    label, scale = metric_axis(metric, scenarios)
    mine = [r for r in rows if r["scenario"] == scenario]
    xs = sorted({float(r[keys[0]]) for r in mine})
    ys = sorted({float(r[keys[1]]) for r in mine})
    grid = np.full((len(ys), len(xs)), np.nan)
    for r in mine:
        grid[ys.index(float(r[keys[1]])), xs.index(float(r[keys[0]]))] = r[f"{metric}_mean"] / scale
    x_label, y_label = (key_label(k, scenarios) for k in keys)
    fig, ax = _plain_figure(f"{scenario}: {label}",
                            f"mean over the grid of {in_words(x_label)} and {in_words(y_label)}")
    image = ax.imshow(grid, origin="lower", aspect="auto", cmap="viridis",
                      extent=(-0.5, len(xs) - 0.5, -0.5, len(ys) - 0.5))
    _cell_values(ax, grid)
    ax.set_xticks(range(len(xs)), [number(v, 3) for v in xs], rotation=45 if len(xs) > 6 else 0)
    ax.set_yticks(range(len(ys)), [number(v, 3) for v in ys])
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    ax.grid(False)
    ax.spines[["top", "right"]].set_visible(True)
    fig.colorbar(image, ax=ax, label=label)
    return fig


def _cell_values(ax: Axes, grid: np.ndarray) -> None:
    """Each cell's value in the cell, light on the dark end of the colour scale and dark on the light end."""
    low, high = np.nanmin(grid), np.nanmax(grid)
    for (row, column), value in np.ndenumerate(grid):
        if np.isnan(value):
            continue
        dark = high == low or (value - low) / (high - low) < 0.6  # viridis runs from dark to light
        ax.text(column, row, cell_text(value), ha="center", va="center", fontsize=9,
                color="white" if dark else "black")


def cell_text(value: float) -> str:
    """A heatmap cell's value as written in it."""
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"


def _dates_of(texts: list[str]) -> np.ndarray:
    return np.array([dt.date.fromisoformat(t) for t in texts])


def overlays(data: dict[str, dict[str, Any]], names: list[str]) -> dict[str, Figure]:
    """The overlay plots of a comparison: one colour per run, same axes, a legend naming each scenario. The
    exceedance curves only when some run's budget loss varies between its replications."""
    subtitle = "compared: " + ", ".join(names)
    colors = [OVERLAY_COLORS[i % len(OVERLAY_COLORS)] for i in range(len(names))]
    out = {"overlay_flows": _overlay_flows(data["flows"], names, colors, subtitle),
           "overlay_loss_fan": _overlay_fan(data["loss_fan"], names, colors, subtitle)}
    exceedance = data["loss_exceedance"]
    if any(len(set(np.asarray(exceedance[f"{n}_budget_loss_usd_per_year"]).tolist())) > 1 for n in names):
        out["overlay_loss_exceedance"] = _overlay_exceedance(exceedance, names, colors, subtitle)
    out["overlay_budget_loss_share"] = _overlay_share(data["budget_loss_share"], names, colors, subtitle)
    return out


OVERLAY_COLORS = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#000000", "#f0e442")
"""The runs of a comparison, in Okabe and Ito's colour-blind safe order: blue, orange, green, ... (never red
against green for the first two)."""
OVERLAY_STYLES = ("-", (0, (5, 2)), (0, (1, 1.5)), (0, (5, 2, 1, 2)))
"""Each run's line style in turn: solid, dashed, dotted, dash-dot; with the narrowing widths below, a run
whose line lies exactly on another's still shows."""


def _overlay_flows(col: dict[str, Any], names: list[str], colors: list[str], subtitle: str) -> Figure:
    """Each run's exports, later runs dashed, narrower and drawn over the earlier ones, so that every run
    shows where two lines coincide."""
    fig, ax = _plain_figure("exports, all routes", subtitle + "; mean")
    x = _dates_of(col["date"])
    for i, (name, color) in enumerate(zip(names, colors)):
        ax.plot(x, np.asarray(col[name]) / 1e3, color=color, linewidth=max(2.4 - 0.5 * i, 0.9),
                linestyle=OVERLAY_STYLES[i % len(OVERLAY_STYLES)], zorder=2 + i, label=name)
    _mark_transit(ax, x, np.min([np.asarray(col[n]) for n in names], axis=0))
    ax.set_ylabel("exported [thousand bbl/day]")
    ax.set_ylim(bottom=0, top=ax.get_ylim()[1] * 1.12)
    _thousands(ax)
    _date_axis(ax)
    _legend(ax)
    return fig


def _overlay_fan(col: dict[str, Any], names: list[str], colors: list[str], subtitle: str) -> Figure:
    fig, ax = _plain_figure("cumulative export revenue loss", subtitle + "; median and P5-P95 band")
    x = _dates_of(col["date"])
    for name, color in zip(names, colors):
        ax.fill_between(x, np.asarray(col[f"{name}_p5"]) / 1e9, np.asarray(col[f"{name}_p95"]) / 1e9, color=color,
                        alpha=0.15, linewidth=0)
        ax.plot(x, np.asarray(col[f"{name}_p50"]) / 1e9, color=color, linewidth=1.8, label=name)
    ax.set_ylabel("cumulative revenue loss [USD bn]")
    _date_axis(ax)
    _legend(ax)
    return fig


def _overlay_exceedance(col: dict[str, Any], names: list[str], colors: list[str], subtitle: str) -> Figure:
    fig, ax = _plain_figure("budget loss exceedance", subtitle)
    for name, color in zip(names, colors):
        ax.step(np.asarray(col[f"{name}_budget_loss_usd_per_year"]) / 1e9, col[f"{name}_probability_exceeded"],
                where="post", color=color, linewidth=1.8, label=name)
    ax.set_xlabel("budget loss per year [USD bn/yr]")
    for k in _tail_axis(ax, min(len(col[f"{name}_probability_exceeded"]) for name in names)):
        ax.annotate(f"1 in {k}", (1.0, 1 / k), xycoords=("axes fraction", "data"), xytext=(-4, 2),
                    textcoords="offset points", ha="right", fontsize=8, color="#666666")
    _legend(ax)
    return fig


def _overlay_share(share: dict[str, Any], names: list[str], colors: list[str], subtitle: str) -> Figure:
    fig, ax = _plain_figure("budget loss share", subtitle + "; mean and 95 % confidence interval")
    mean, low, high = (np.asarray(share[k]) * 100 for k in ("mean", "ci95_low", "ci95_high"))
    ax.bar(range(len(names)), mean, yerr=np.vstack([mean - low, high - mean]), color=colors, capsize=6, width=0.6)
    for i, (value, top) in enumerate(zip(mean, high)):  # above the error bar's cap, not through it
        ax.annotate(f"{value:,.2f} %", (i, max(value, top)), xytext=(0, 5), textcoords="offset points", ha="center",
                    va="bottom", fontsize=9)
    ax.set_xticks(range(len(names)), names)
    horizons = set(share["horizon_days"])
    ax.set_ylabel(f"budget loss [% of {budget_words(horizons.pop()) if len(horizons) == 1 else 'each run’s budget'}]")
    ax.margins(y=0.15)
    return fig


def tornado(oat: dict[str, Any], metric: str, scenario: str, scenarios: Sequence[Scenario] = ()) -> Figure:
    """One-at-a-time swings of a metric, widest first: each bar spans the metric at a key's low and high."""
    label, scale = metric_axis(metric, scenarios)
    rows = oat["rows"]
    n = oat.get("replications")
    runs = "" if n is None else f" ({n:,} replication{'s' if n != 1 else ''})"
    fig, ax = _plain_figure(f"{scenario}: sensitivity of {in_words(label)}",
                            "one key at a time between its low and high; other keys as in the scenario"
                            + ("" if n is None else f"; each bar end a mean over {n:,} replication{'s' if n != 1 else ''}"))
    base = oat["base"] / scale
    for i, row in enumerate(reversed(rows)):
        ends = {end: row[f"metric_at_{end}"] / scale for end in ("high", "low")}
        for (end, value), color in zip(ends.items(), ("#d62728", "#1f77b4")):
            ax.barh(i, value - base, left=base, color=color, height=0.6, label=f"key at its {end}" if i == 0 else None)
            if not np.isclose(value, base, rtol=1e-6, atol=0):
                ax.text(value, i, f" {value:,.2f} ", ha="left" if value >= base else "right", va="center", fontsize=8)
        if np.allclose(list(ends.values()), base, rtol=1e-6, atol=0):
            ax.text(base, i, "  no effect", ha="left", va="center", fontsize=8, color="#444444")
    ax.axvline(base, color="black", linewidth=1, label=f"scenario as is{runs}: {base:,.2f}")
    ax.set_yticks(range(len(rows)), [_range_label(r, scenarios) for r in reversed(rows)], fontsize=9)
    ax.margins(x=0.12)
    ax.set_xlabel(label)
    _legend(ax)
    return fig


def _range_label(row: dict[str, Any], scenarios: Sequence[Scenario]) -> str:
    """``Length of the CPC stop`` over ``10 to 60 days``: a tornado bar's key and the range it spans."""
    words, unit = split_unit(key_label(row["key"], scenarios))
    shown = f" {unit}" if unit not in ("-", "count") else ""
    return f"{_wrap(words)}\n{number(row['low_value'])} to {number(row['high_value'])}{shown}"


def _wrap(text: str, width: int = 28) -> str:
    return "\n".join(textwrap.wrap(text, width))


def sobol_bars(result: dict[str, Any], metric: str, scenario: str, scenarios: Sequence[Scenario] = ()) -> Figure:
    """First-order and total Sobol indices with their 95 % bootstrap confidence intervals."""
    label, _ = metric_axis(metric, scenarios)
    rows = result["rows"]
    fig, ax = _plain_figure(f"{scenario}: Sobol indices of {in_words(label)}",
                            f"{result['samples']} Saltelli samples, {result['evaluations']} runs; 95 % bootstrap CI")
    x = np.arange(len(rows))
    for offset, kind, color in ((-0.18, "first_order", "#1f77b4"), (0.18, "total_order", "#ff7f0e")):
        values = np.array([r[kind] for r in rows])
        err = np.vstack([values - [r[f"{kind}_ci95_low"] for r in rows], [r[f"{kind}_ci95_high"] for r in rows] - values])
        ax.bar(x + offset, values, width=0.36, yerr=np.clip(err, 0, None), capsize=4, color=color,
               label=kind.replace("_", " "))
    ax.set_xticks(x, [_wrap(key_label(r["key"], scenarios), 24) for r in rows], fontsize=9)
    ax.set_ylabel("Sobol index [-]")
    ax.axhline(0, color="black", linewidth=0.8)
    _legend(ax)
    return fig


# ------------------------------------------------------------------------------------ appraisal


def npv_distribution(npv: dict[str, np.ndarray], subtitle: str) -> Figure:
    """Each option's net present value across replications: its 5-95 % range, the middle half as a box, the
    median and the mean, beside the zero line; the share of replications that pay is written by each."""
    fig = Figure(figsize=(SIZE_IN[0], 1.6 + 0.8 * len(npv)), layout="constrained")
    ax = fig.add_subplot()
    fig.suptitle("What each option is worth: net present value of the avoided budget loss less its cost",
                 fontsize=13, fontweight="bold")
    ax.set_title(f"{subtitle}; box: the middle half, whiskers: 5-95 %, dot: mean", fontsize=9, color="#444444")
    names = list(npv)
    for i, values in enumerate(npv.values()):
        row, color = len(names) - 1 - i, PALETTE[i % len(PALETTE)]  # the first option on top
        p5, p25, p50, p75, p95 = np.percentile(values, [5, 25, 50, 75, 95]) / 1e9
        ax.plot([p5, p95], [row, row], color=color, linewidth=1.5)
        ax.add_patch(Rectangle((p25, row - 0.25), max(p75 - p25, 1e-12), 0.5, facecolor=color, alpha=0.35,
                               edgecolor=color))
        ax.plot([p50, p50], [row - 0.25, row + 0.25], color=color, linewidth=2.0)
        ax.plot(values.mean() / 1e9, row, "o", color="black", markersize=5)
        ax.annotate(f"P(NPV > 0) = {np.mean(values > 0) * 100:.0f} %", (p95, row), xytext=(6, 0),
                    textcoords="offset points", va="center", fontsize=9)
    ax.axvline(0, color="#444444", linewidth=1.0, linestyle="--")
    ax.set_yticks(range(len(names)), list(reversed(names)))
    ax.set_ylim(-0.6, len(names) - 0.4)
    ax.set_xlabel("net present value [USD bn]")
    _grid(ax)
    ax.margins(x=0.15)
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def avoided_fan(cumulative: dict[str, np.ndarray], costs: dict[str, float], subtitle: str) -> Figure:
    """Each option's cumulative discounted avoided budget loss over the years (median, 10-90 % band) against
    its discounted cost (dashed): where the median crosses the cost, the option has paid for itself."""
    fig, ax = _plain_figure("Cumulative avoided budget loss against the option's cost (discounted)",
                            f"{subtitle}; median with 10-90 % band; dashed: the discounted cost")
    for i, (name, values) in enumerate(cumulative.items()):
        color = PALETTE[i % len(PALETTE)]
        years = np.arange(1, values.shape[1] + 1)
        p10, p50, p90 = np.percentile(values, [10, 50, 90], axis=0) / 1e9
        ax.fill_between(years, p10, p90, color=color, alpha=0.15, linewidth=0)
        ax.plot(years, p50, color=color, linewidth=2.0, label=name)
        ax.axhline(costs[name] / 1e9, color=color, linewidth=1.2, linestyle="--")
    ax.set_xlabel("year of the appraisal")
    ax.set_ylabel("USD bn, discounted to year 0")
    ax.set_xlim(1, max(v.shape[1] for v in cumulative.values()))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    _legend(ax)
    return fig


def npv_by_rate(rows: list[dict[str, Any]], break_even: dict[str, float | None], subtitle: str) -> Figure:
    """Each option's mean NPV against a multiplier of the fitted incident rate, with its 95 % interval; where
    it crosses zero the option starts to pay."""
    fig, ax = _plain_figure("From which incident rate does each option pay?",
                            f"{subtitle}; mean NPV with its 95 % confidence interval; 1 = the fitted rate")
    names = list(dict.fromkeys(r["option"] for r in rows))
    for i, name in enumerate(names):
        mine = sorted((r for r in rows if r["option"] == name), key=lambda r: r["rate_multiplier"])
        color = PALETTE[i % len(PALETTE)]
        x = np.array([r["rate_multiplier"] for r in mine])
        ax.fill_between(x, [r["npv_usd_mean_ci95_low"] / 1e9 for r in mine],
                        [r["npv_usd_mean_ci95_high"] / 1e9 for r in mine], color=color, alpha=0.2, linewidth=0)
        crossing = break_even.get(name)
        label = name + (f" (pays from x{crossing:.1f})" if crossing is not None else " (never pays)")
        ax.plot(x, [r["npv_usd_mean"] / 1e9 for r in mine], color=color, linewidth=2.0, marker="o", markersize=4,
                label=label)
    ax.axhline(0, color="#444444", linewidth=1.0, linestyle="--")
    ax.axvline(1, color="#999999", linewidth=0.8, linestyle=":")
    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"x{v:g}"))
    ax.set_xlabel("incident rate, as a multiple of the fitted rate")
    ax.set_ylabel("net present value, mean [USD bn]")
    _legend(ax)
    return fig
