"""A self-contained HTML report of a run, compare, sweep or sensitivity directory: one file, opens from disk,
no network. Each opens on one sentence that says what was found, and names files by paths relative to
the report, so that a report sent on shows no local folders.

Every plot is embedded as a base64 data URI, the CSS is inline, and a Content-Security-Policy forbids
the page from loading anything else. Every key figure carries ``data-metric`` / ``data-stat`` (and, in
a comparison, ``data-run``) attributes so that tools and tests can find it.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import html
import json
import os
import shlex
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from routesim.errors import ScenarioError
from routesim.outputs.rundir import read_manifest, read_summary
from routesim.results.summary import Manifest, RouteStats, RunSummary, Stats
from routesim.scenario.loader import Source, extends_chain, load_scenario, parse_yaml
from routesim.scenario.model import Scenario
from routesim.version import __version__

from .files import write_text
from .labels import budget_words, capital, in_words, key_at, key_label, key_words, metric_axis, number

REPORT_NAME = "report.html"
KINDS = ("summary.json", "compare.json", "sweep.csv", "sensitivity.json", "appraisal.json")
"""The file that makes a directory a run, a comparison, a sweep, a sensitivity study or an appraisal."""

KEY_METRICS: tuple[tuple[str, str], ...] = (
    ("exported_bbl", "Exported"),
    ("shut_in_bbl", "Shut in"),
    ("export_revenue_usd", "Export revenue"),
    ("revenue_loss_usd", "Export revenue loss"),
    ("government_revenue_usd", "Government revenue"),
    ("budget_loss_usd", "Budget loss"),
    ("budget_loss_share", "Budget loss share of the annual budget"),
)
"""The metrics of the key-figures table, in order, with their labels."""

KEY_STATS: tuple[tuple[str, str], ...] = (("mean", "Mean"), ("p5", "P5"), ("p50", "Median (P50)"), ("p95", "P95"))
"""The statistics of the key-figures table, in order, with their column headings."""

PLOT_CAPTIONS: dict[str, str] = {
    "network": "The export network: producers, routes and their parts with capacities and the cap that binds; line "
    "widths are the run's mean flows against the network's largest route capacity (the same scale in every run of "
    "the network), impaired parts are marked and listed.",
    "flows": "Daily exports per route at the sale point (after transit); the strip above marks each outage.",
    "storage": "Storage levels against their capacities (small stores on a panel of their own); production and the "
    "shut-in it could not place (below; on a panel each when their bands would overlap).",
    "revenue": "Cumulative export revenue against the no-outage baseline (top) and the cumulative losses (bottom; "
    "none when nothing is lost).",
    "loss_waterfall": "Where the lost export revenue lands: companies and each tax, and the government's part "
    "split between the state budget and the National Fund (means).",
    "price_curve": "Losses of the run's barrels (mean volumes) if Brent were held at each constant price.",
    "loss_distribution": "Distribution of the budget loss, as a share of the budget, across replications.",
    "loss_fan": "Cumulative export revenue loss over time: median with P10-P90 and P5-P95 bands.",
    "loss_exceedance": "Loss-exceedance curve: the probability that the annualised budget loss exceeds each amount.",
}
"""Captions of the plots a run writes, keyed by file stem; also their order in the report."""

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
"""The page may load nothing but its own inline styles and data-URI images."""

CSS = """
:root { --ink: #1a1a1a; --muted: #5a5a5a; --rule: #c8c8c8; --band: #f3f4f6; --accent: #1f4e79; }
* { box-sizing: border-box; }
body { font-family: "Helvetica Neue", Helvetica, Arial, "Liberation Sans", sans-serif; color: var(--ink);
       max-width: 60rem; margin: 2rem auto; padding: 0 1.5rem; line-height: 1.45; font-size: 15px; }
h1 { font-size: 1.6rem; margin: 0 0 .3rem; color: var(--accent); }
h2 { font-size: 1.2rem; margin: 2.2rem 0 .6rem; padding-bottom: .2rem; border-bottom: 2px solid var(--accent);
     color: var(--accent); }
h3 { font-size: 1rem; margin: 1.4rem 0 .4rem; }
p.lead { font-size: 1.05rem; margin: .2rem 0 .6rem; }
p.meta, p.note, figcaption, .muted { color: var(--muted); font-size: .85rem; }
table { border-collapse: collapse; width: 100%; margin: .4rem 0 1rem; font-size: .9rem; }
th, td { padding: .3rem .55rem; border-bottom: 1px solid var(--rule); text-align: left; vertical-align: top; }
thead th { border-bottom: 2px solid var(--ink); background: var(--band); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.num { white-space: nowrap; }
tbody tr:nth-child(even) { background: #fafafa; }
table.kv th { width: 14rem; font-weight: 600; background: none; }
figure { margin: 1rem 0 1.6rem; break-inside: avoid; page-break-inside: avoid; }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid var(--rule); }
figcaption { margin-top: .3rem; }
pre { background: var(--band); border: 1px solid var(--rule); padding: .7rem .9rem; font-size: .8rem;
      line-height: 1.35; overflow-x: auto; white-space: pre-wrap; word-break: break-word; }
code { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; }
footer { margin-top: 2.5rem; border-top: 1px solid var(--rule); padding-top: .5rem; }
@media print {
  body { margin: 0; max-width: none; font-size: 11pt; }
  h2 { break-after: avoid; page-break-after: avoid; }
  table, pre { break-inside: auto; }
  tr { break-inside: avoid; page-break-inside: avoid; }
  tbody tr:nth-child(even) { background: none; }
}
@page { margin: 18mm 15mm; }
"""


# --------------------------------------------------------------------------- public API


def write_report(directory: str | Path) -> Path:
    """Write ``report.html`` for a run, compare, sweep or sensitivity directory into it (atomically) and
    return its path.

    Raises:
        FileNotFoundError: the directory holds none of the files that say what it is (:data:`KINDS`).
    """
    directory = Path(directory)
    page = _page_of(directory)
    if page is None:
        raise FileNotFoundError(f"{directory}: not a run, compare, sweep, sensitivity or appraisal directory (none of "
                                f"{', '.join(KINDS)} found)")
    target = directory / REPORT_NAME
    write_text(target, page(directory))
    return target


def _page_of(directory: Path) -> Callable[[Path], str] | None:
    """The page builder for what ``directory`` holds, or None."""
    pages = (_run_page, _compare_page, _sweep_page, _sensitivity_page, _appraisal_page)
    return next((page for marker, page in zip(KINDS, pages) if (directory / marker).is_file()), None)


def reportable(directory: Path) -> bool:
    """Whether ``directory`` holds a run, comparison, sweep, sensitivity study or appraisal."""
    return _page_of(Path(directory)) is not None


# --------------------------------------------------------------------------- formatting


def _e(value: Any) -> str:
    """``value`` as HTML-escaped text."""
    return html.escape(str(value), quote=True)


def unit_of(metric: str) -> tuple[str, float, int]:
    """Display unit, divisor and decimals for a metric, from its name."""
    if metric.endswith("_share"):
        return "%", 0.01, 1
    if metric.endswith("_bbl"):
        return "M bbl", 1e6, 1
    if metric.endswith("_usd"):
        return "USD bn", 1e9, 2
    return "", 1.0, 2


def format_value(metric: str, value: float | None, signed: bool = False) -> str:
    """``value`` of ``metric`` in its display unit (number only), e.g. ``1.45`` for USD 1.45 bn."""
    if value is None:
        return "–"
    _, scale, decimals = unit_of(metric)
    shown = round(float(value) / scale, decimals) + 0.0  # + 0.0 turns -0.0 into 0.0
    return f"{shown:+,.{decimals}f}" if signed else f"{shown:,.{decimals}f}"


def _label(text: str, metric: str) -> str:
    """A row label with the metric's unit, e.g. ``Budget loss (USD bn)``."""
    unit = unit_of(metric)[0]
    return f"{text} ({unit})" if unit else text


def _humanize(name: str) -> str:
    """``budget_loss_usd`` -> ``Budget loss usd``; a fallback label for metrics without one."""
    return name.replace("_", " ").strip().capitalize()


def _metric_label(metric: str) -> str:
    """The label of a metric, with its unit."""
    text = dict(KEY_METRICS).get(metric)
    if text is None:
        stem = metric
        for suffix in ("_bbl", "_usd", "_share"):
            stem = stem.removesuffix(suffix)
        text = _humanize(stem)
    return _label(text, metric)


def _num_td(value: str, **attrs: Any) -> str:
    """A right-aligned table cell with ``data-*`` attributes."""
    data = "".join(f' data-{_e(k.replace("_", "-"))}="{_e(v)}"' for k, v in attrs.items())
    return f'<td class="num"{data}>{_e(value)}</td>'


def _table(headers: Sequence[str], rows: Iterable[str], num_from: int = 1, attrs: str = "") -> str:
    """A table with escaped headers; ``rows`` are ready-made ``<tr>`` elements."""
    cells = "".join(
        f'<th class="num" scope="col">{_e(h)}</th>' if i >= num_from else f'<th scope="col">{_e(h)}</th>'
        for i, h in enumerate(headers)
    )
    return f"<table{attrs}><thead><tr>{cells}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _kv_table(pairs: Iterable[tuple[str, str]], attr: str) -> str:
    """A two-column key/value table; each value cell carries ``data-<attr>="key"``."""
    rows = "".join(f'<tr><th scope="row">{_e(k)}</th><td data-{attr}="{_e(k)}">{_e(v)}</td></tr>' for k, v in pairs)
    return f'<table class="kv"><tbody>{rows}</tbody></table>'


# --------------------------------------------------------------------------- page frame


def _page(title: str, body: str) -> str:
    """A complete HTML document with the inline style and the no-network policy."""
    stamp = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="generator" content="routesim {_e(__version__)}">\n'
        f"<title>{_e(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f"{body}\n"
        f'<footer class="muted">Written by routesim {_e(__version__)} on {_e(stamp)}. '
        "Self-contained: every figure is embedded in this file.</footer>\n"
        "</body>\n</html>\n"
    )


def _section(title: str, content: str, ident: str) -> str:
    """A titled section with a stable id."""
    return f'<section id="{_e(ident)}">\n<h2>{_e(title)}</h2>\n{content}\n</section>\n'


def _figure(path: Path, caption: str) -> str:
    """A PNG embedded as a data URI, with its caption."""
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return (
        f'<figure id="plot-{_e(path.stem)}">'
        f'<img src="data:image/png;base64,{data}" alt="{_e(caption)}">'
        f"<figcaption><strong>{_e(path.name)}</strong> — {_e(caption)}</figcaption></figure>\n"
    )


def _figures(pngs: Sequence[tuple[Path, str]]) -> str:
    """Every plot, or a note that there are none."""
    if not pngs:
        return '<p class="note">No plots in this directory (run without <code>--no-plots</code> to get them).</p>'
    return "".join(_figure(path, caption) for path, caption in pngs)


# --------------------------------------------------------------------------- run report


def _read_json(path: Path) -> dict[str, Any]:
    """A JSON object from ``path``, or ``{}`` if the file is missing."""
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _read_resolved(directory: Path) -> tuple[str, dict[str, Any]]:
    """The resolved scenario's text and its parsed content (empty if missing or unreadable)."""
    path = directory / "scenario.resolved.yaml"
    if not path.is_file():
        return "", {}
    text = path.read_text(encoding="utf-8")
    try:
        data = parse_yaml(text, str(path))
    except ScenarioError:
        data = None
    return text, data if isinstance(data, dict) else {}


def _run_page(directory: Path) -> str:
    """The HTML of a run directory's report."""
    summary, manifest = read_summary(directory), read_manifest(directory)
    resolved_text, resolved = _read_resolved(directory)
    name = summary.scenario or str(resolved.get("name") or directory.name)
    body = "".join(
        (
            _run_header(name, summary, resolved),
            _section("Key figures", _key_figures(summary), "key-figures"),
            _section("Routes", _routes_table(summary), "routes"),
            _section("Producers", _producers_table(summary), "producers") if summary.producers else "",
            _section("Terminals", _terminals_table(summary), "terminals")
            if any(r.moorings is not None for r in summary.routes.values()) else "",
            _section("Plots", _figures(_run_plots(directory)), "plots"),
            _section("Resolved scenario", _resolved_block(resolved_text), "resolved-scenario"),
            _section("Assumptions and sources", _sources(directory, manifest), "assumptions"),
            _section("Provenance", _provenance(manifest, directory), "provenance"),
        )
    )
    return _page(f"routesim report: {name}", body)


def _run_header(name: str, summary: RunSummary, resolved: dict[str, Any]) -> str:
    """Title, description and the run's shape (horizon, replications, seed)."""
    description = resolved.get("description") or ""
    reps = summary.replications
    parts = [
        f"horizon {summary.horizon_days} days",
        f"starting {resolved['start_date']}" if resolved.get("start_date") else "",
        f"{reps} replication{'s' if reps != 1 else ''}",
        f"seed {summary.seed}",
    ]
    meta = ", ".join(p for p in parts if p)
    incidents = summary.incidents_per_year
    if incidents:
        rates = "; ".join(f"{k}: {v:,.2f}" for k, v in incidents.items())
        meta += f". Incidents per year (mean over replications): {rates}"
    lead = f'<p class="lead" id="description">{_e(description)}</p>' if description else ""
    settings = ""
    if summary.settings:
        items = ", ".join(f"<code>{_e(item)}</code>" for item in summary.settings)
        settings = (f'<p class="lead" id="settings">Changed from the scenario file by <code>--set</code>: {items}. '
                    "Losses are against this changed scenario without its disruptions.</p>\n")
    return (
        f'<header>\n<h1 id="title">Scenario: <span id="scenario-name">{_e(name)}</span></h1>\n'
        f'<p class="lead" id="finding"><strong>{_e(run_sentence(summary))}</strong></p>\n{settings}{lead}\n'
        f'<p class="meta">{_e(meta)}.</p>\n</header>\n'
    )


def run_sentence(summary: RunSummary) -> str:
    """What a run found, in one sentence: the budget loss (with its spread, when outcomes differ) and the
    oil shut in, over the horizon."""
    m = summary.metrics
    loss, share, shut_in = m["budget_loss_usd"], m["budget_loss_share"], m["shut_in_bbl"]
    horizon = f"{summary.horizon_days:,}-day horizon"
    of = budget_words(summary.horizon_days, "its annual revenue")
    if loss.std == 0:
        if loss.mean <= 0 and shut_in.mean <= 0:
            return f"Nothing is lost: over the {horizon} no oil is shut in and the state budget loses nothing."
        return (f"Over the {horizon}, the disruptions shut in {_amount('shut_in_bbl', shut_in.mean)} of oil"
                f"{_made_up(m)} and cost the state budget {_amount('budget_loss_usd', loss.mean)}, "
                f"{_amount('budget_loss_share', share.mean)} of {of}.")
    tail = (f"; in 1 replication in 20 it loses {_amount('budget_loss_usd', loss.p95)} or more"
            if loss.p95 > loss.mean else "")
    chance = f" (a loss in {loss.prob_loss * 100:.0f} % of them)" if loss.prob_loss is not None else ""
    return (f"Across {summary.replications:,} replications{chance} of a {horizon}, the state budget loses "
            f"{_amount('budget_loss_usd', loss.mean)} on average, {_amount('budget_loss_share', share.mean)} of {of}, "
            f"with {_amount('shut_in_bbl', shut_in.mean)} of oil shut in{_made_up(m)}{tail}.")


def _made_up(metrics: Mapping[str, Stats]) -> str:
    """``, 8.5 M bbl of it made up later``, when producers made up oil within the horizon."""
    recovered = metrics.get("recovered_bbl")
    if recovered is None or recovered.mean <= 0:
        return ""
    return f", {_amount('recovered_bbl', recovered.mean)} of it made up later"


def _amount(metric: str, value: float | None) -> str:
    """``USD 1.23 bn``, ``44.9 M bbl``, ``4.5 %``: a figure in words with its unit where a reader expects it."""
    unit = unit_of(metric)[0]
    number = format_value(metric, value)
    if unit.startswith("USD"):
        return f"USD {number} {unit.removeprefix('USD ')}"
    return f"{number} {unit}".strip()


def _key_figures(summary: RunSummary) -> str:
    """The key-figures table: mean, P5, P50, P95 of the headline metrics in human units."""
    rows = []
    for metric, text in KEY_METRICS:
        stats = summary.metrics[metric]
        if metric == "budget_loss_share":
            text = f"Budget loss share of {budget_words(summary.horizon_days, 'the annual budget')}"
        cells = "".join(
            _num_td(format_value(metric, getattr(stats, stat)), metric=metric, stat=stat) for stat, _ in KEY_STATS
        )
        rows.append(f'<tr data-metric-row="{_e(metric)}"><th scope="row">{_e(_label(text, metric))}</th>{cells}</tr>')
    table = _table(["Metric", *(h for _, h in KEY_STATS)], rows, attrs=' id="key-figures-table"')
    return table + _key_note(summary) + _risk_line(summary)


def _key_note(summary: RunSummary) -> str:
    """How to read the key figures, depending on the number of replications."""
    reps = summary.replications
    if reps == 1:
        text = "One replication: the scenario is deterministic, so the percentiles equal the mean."
    else:
        text = (
            f"Across {reps} replications: P5 and P95 bound the middle 90 % of outcomes. Losses are measured "
            "against the same run without outages; the budget loss share is relative to "
            f"{budget_words(summary.horizon_days, 'the annual budget revenue')}."
        )
    return f'<p class="note">{_e(text)}</p>'


def _risk_line(summary: RunSummary) -> str:
    """Probability of a budget loss, its VaR and CVaR at 95 %, when the summary has them."""
    m = "budget_loss_usd"
    stats = summary.metrics[m]
    if stats.prob_loss is None or stats.var95 is None or stats.cvar95 is None:
        return ""
    prob = f"{stats.prob_loss * 100:.0f} %"
    var95, cvar95 = format_value(m, stats.var95), format_value(m, stats.cvar95)
    return (
        '<p class="note" id="risk">Budget loss: probability of any loss '
        f'<span data-metric="{m}" data-stat="prob_loss">{_e(prob)}</span>; 95 % value at risk USD '
        f'<span data-metric="{m}" data-stat="var95">{_e(var95)}</span> bn; expected loss in the worst 5 % '
        f'(CVaR) USD <span data-metric="{m}" data-stat="cvar95">{_e(cvar95)}</span> bn.</p>'
    )


def _routes_table(summary: RunSummary) -> str:
    """Per-route exports, availability and days impaired."""
    routes = summary.routes
    if not routes:
        return '<p class="note">No per-route figures in summary.json.</p>'
    rows = [_route_row(route, stats) for route, stats in routes.items()]
    headers = ["Route", "Exported, mean (M bbl)", "Exported, P5–P95 (M bbl)", "Availability, mean",
               "Days impaired, mean", "Days impaired, P95", "Binding cap, unimpaired"]
    note = ('<p class="note">Availability: the share of the route\'s capacity usable over the horizon. Binding '
            'cap: the least of the route\'s caps with nothing impaired; raising any other cap moves nothing.</p>')
    return _table(headers, rows, attrs=' id="routes-table"') + note


PRODUCER_COLUMNS = (("shut_in_bbl", "Shut in"), ("deferred_bbl", "Deferred"), ("recovered_bbl", "Made up"),
                    ("lost_production_bbl", "Lost"), ("backlog_end_bbl", "Still owed at the horizon"))
"""The producers table's figures, in order, with their headings."""


def _producers_table(summary: RunSummary) -> str:
    """Each producer's oil shut in, deferred, made up, lost and still owed (means)."""
    rows = []
    for producer, own in (summary.producers or {}).items():
        cells = "".join(_num_td(format_value(f, own[f].mean), producer=producer, metric=f, stat="mean")
                        for f, _ in PRODUCER_COLUMNS)
        rows.append(f'<tr data-producer="{_e(producer)}"><th scope="row">{_e(producer)}</th>{cells}</tr>')
    headers = ["Producer", *(f"{text}, mean (M bbl)" for _, text in PRODUCER_COLUMNS)]
    note = ('<p class="note">Deferred: shut-in oil that can be made up later (its make-up share); made up: '
            "produced above plan within the horizon; lost: never made up (the share not made up, or older than "
            "the make-up window).</p>")
    return _table(headers, rows, attrs=' id="producers-table"') + note


def _terminals_table(summary: RunSummary) -> str:
    """Each terminal's k-of-n availability and the mean days with each number of moorings up."""
    terminals = {r: stats.moorings for r, stats in summary.routes.items() if stats.moorings is not None}
    n = max(len(m.days_by_moorings_up) for m in terminals.values()) - 1
    rows = []
    for route, own in terminals.items():
        cells = [f"<td>{own.active_moorings} of {len(own.days_by_moorings_up) - 1}</td>",
                 _num_td(f"{own.availability.mean * 100:.1f} %", route=route, metric="mooring_availability", stat="mean"),
                 *(_num_td(_days(d.mean), route=route, metric=f"moorings_up_{j}_days", stat="mean")
                   for j, d in enumerate(own.days_by_moorings_up)),
                 *("<td></td>" for _ in range(n + 1 - len(own.days_by_moorings_up)))]
        rows.append(f'<tr data-route="{_e(route)}"><th scope="row">{_e(route)}</th>{"".join(cells)}</tr>')
    headers = ["Terminal", "Moorings (k of n)", "Availability, mean",
               *(f"Days with {j} up, mean" for j in range(n + 1))]
    note = ('<p class="note">A mooring is up while no impairment of its own stops it; availability: the share of '
            "the horizon with at least k moorings up. Storms and stops of the whole terminal or route are in the "
            "routes' availability, not here.</p>")
    return _table(headers, rows, num_from=2, attrs=' id="terminals-table"') + note


def _route_row(route: str, stats: RouteStats) -> str:
    """One route's row of the routes table."""
    exp, days = stats.exported_bbl, stats.days_impaired
    band = f"{format_value('exported_bbl', exp.p5)} – {format_value('exported_bbl', exp.p95)}"
    cells = (
        _num_td(format_value("exported_bbl", exp.mean), route=route, metric="exported_bbl", stat="mean"),
        _num_td(band, route=route, metric="exported_bbl", stat="p5-p95"),
        _num_td(f"{stats.availability.mean * 100:.1f} %", route=route, metric="availability", stat="mean"),
        _num_td(_days(days.mean), route=route, metric="days_impaired", stat="mean"),
        _num_td(_days(days.p95), route=route, metric="days_impaired", stat="p95"),
        "<td>" + ("" if stats.binding_constraint is None else
                  f"{_e(stats.binding_constraint)} = {stats.binding_bpd or 0:,.0f} bbl/d") + "</td>",
    )
    return f'<tr data-route="{_e(route)}"><th scope="row">{_e(route)}</th>{"".join(cells)}</tr>'


def _days(value: float) -> str:
    """A number of days with one decimal."""
    return f"{round(value, 1) + 0.0:,.1f}"


def _run_plots(directory: Path) -> list[tuple[Path, str]]:
    """The run's PNGs with captions: known plots in a fixed order, then any others by name."""
    pngs = {p.stem: p for p in sorted(directory.glob("*.png")) if p.is_file()}
    known = [(pngs.pop(stem), caption) for stem, caption in PLOT_CAPTIONS.items() if stem in pngs]
    return known + [(path, _humanize(stem) + ".") for stem, path in pngs.items()]


def _resolved_block(text: str) -> str:
    """The resolved scenario as preformatted, escaped text."""
    if not text:
        return '<p class="note">scenario.resolved.yaml is missing from this directory.</p>'
    intro = ('<p class="note">What the run simulated: the scenario after <code>extends</code> and '
             "<code>--set</code>, with every default written out.</p>")
    return f'{intro}<pre id="resolved-yaml"><code>{_e(text)}</code></pre>'


# --------------------------------------------------------------------------- sources and provenance


def _candidates(name: str, directory: Path) -> list[Path]:
    """Where a scenario path recorded in the manifest may be: as given, from here, or from the run's parents."""
    path = Path(name)
    if path.is_absolute():
        return [path]
    bases = [Path.cwd(), directory, *directory.resolve().parents]
    return [base / path for base in bases]


def _locate(name: str, directory: Path) -> Path | None:
    """The first existing file for a manifest's scenario path, if any."""
    return next((p for p in _candidates(name, directory) if p.is_file()), None)


def _extends_chain(first: Path) -> tuple[list[Source], str | None]:
    """``first`` and the files it ``extends`` as they are on disk now, and the problem that ended the chain
    early (a file missing, unreadable or invalid, a cycle), if one did."""
    chain: list[Source] = []
    try:
        for source in extends_chain(first):
            chain.append(source)
    except ScenarioError as exc:
        return chain, exc.issues[0]
    return chain, None


def _sources(directory: Path, manifest: Manifest | None) -> str:
    """The scenario file and its ``extends`` chain, verbatim with their comments."""
    name = manifest.scenario_file if manifest is not None else None
    if not name:
        return '<p class="note">manifest.json names no scenario file.</p>'
    first = _locate(str(name), directory)
    if first is None:
        return (f'<p class="note" id="sources-missing">The scenario file {_e(name)} was not found on disk; '
                "the resolved scenario above is the complete record of what was simulated.</p>")
    intro = ('<p class="note">The scenario file and every file it extends, as found on disk when this report was '
             "written; their comments carry the assumptions and sources. If a file changed after the run, the "
             "resolved scenario above is what was simulated.</p>")
    blocks = [intro]
    chain, problem = _extends_chain(first)
    for i, source in enumerate(chain):
        role = "Scenario file" if i == 0 else "Extends"
        path = source.path  # the scenario file as the run was given it; the rest from its folder
        where = _relative(str(name), directory) if i == 0 else os.path.relpath(path, first.resolve().parent)
        blocks.append(f'<h3>{role}: <code>{_e(path.name)}</code></h3>'
                      f'<p class="muted">{_e(where)}</p>'
                      f'<pre class="source" data-file="{_e(path.name)}"><code>{_e(source.text)}</code></pre>')
    if problem is not None:
        blocks.append(f'<p class="note" id="sources-problem">{_e(problem)}; skipped.</p>')
    return "\n".join(blocks)


def _relative(path: str | Path, directory: Path) -> str:
    """``path`` as seen from the report's ``directory`` when it is absolute (``../../scenarios/base.yaml``, or
    only its name when the two share nothing but the root), so that no local folder shows; a relative path as
    it was given."""
    if not Path(path).is_absolute():
        return str(path)
    here = directory.resolve()
    if os.path.commonpath([path, here]) == here.anchor:  # nothing in common but the root: the name alone
        return Path(path).name
    return os.path.relpath(path, here)


def _local_free(text: str, directory: Path) -> str:
    """A command-line word with any absolute path in it (``--out=/home/me/x``) made relative to ``directory``."""
    flag, eq, value = text.rpartition("=") if text.startswith("-") else ("", "", text)
    return f"{flag}{eq}{_relative(value, directory)}" if value.startswith("/") else text


def _show(value: Any) -> str:
    """A manifest value as one line of text."""
    if value is None:
        return "–"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _provenance(manifest: Manifest | None, directory: Path) -> str:
    """The manifest as a key/value table, with the command line and dependencies readable, and paths relative
    to the report."""
    if manifest is None:
        return '<p class="note">manifest.json is missing from this directory.</p>'
    pairs = []
    for key, value in manifest.to_json().items():
        if key == "command" and isinstance(value, list):
            value = shlex.join(_local_free(str(v), directory) for v in value)
        elif key == "scenario_file":
            value = _relative(str(value), directory)
        elif key == "dependencies" and isinstance(value, dict):
            value = ", ".join(f"{k} {v or '?'}" for k, v in value.items())
        pairs.append((key, _show(value)))
    return _kv_table(pairs, "provenance")


# --------------------------------------------------------------------------- compare report


def _compare_page(directory: Path) -> str:
    """The HTML of a compare directory's report."""
    data = _read_json(directory / "compare.json")
    runs = [r for r in data.get("runs") or [] if isinstance(r, dict)]
    names = [str(r.get("name", f"run {i + 1}")) for i, r in enumerate(runs)]
    title = "Comparison: " + " vs ".join(names) if names else "Comparison"
    pngs = [(p, _overlay_caption(p.stem)) for p in sorted(directory.glob("overlay_*.png")) if p.is_file()]
    finding = compare_sentence(data.get("metrics") or {}, names)
    header = (
        f'<header>\n<h1 id="title">{_e(title)}</h1>\n'
        f'<p class="lead" id="finding"><strong>{_e(finding)}</strong></p>\n<p class="lead">'
        f"{_e(_compare_lead(names, bool(data.get('paired'))))}</p>\n</header>\n"
    )
    body = "".join(
        (
            header,
            _section("Runs", _runs_table(runs, directory), "runs"),
            _section("Differences in the inputs", _inputs_diff(data.get("inputs_diff") or [], names), "inputs-diff"),
            _section("Metrics", _compare_metrics(data.get("metrics") or {}, names), "metrics"),
            _section("Plots", _figures(pngs), "plots"),
        )
    )
    return _page(f"routesim report: {title}", body)


def compare_sentence(metrics: dict[str, Any], names: Sequence[str]) -> str:
    """What a comparison found, in one sentence: each run's mean budget loss above or below the reference's
    (a difference between scenarios, not what one change causes: they may differ in more than one input),
    and whether its 95 % interval excludes no difference."""
    m = "budget_loss_usd"
    entries = [e for e in metrics.get(m) or [] if isinstance(e, dict) and e.get("diff") is not None]
    if not names or not entries:
        return "No differences to report."
    parts = []
    for entry in entries:
        low, high, diff = entry.get("ci95_low"), entry.get("ci95_high"), float(entry["diff"])
        run = entry.get("run", "?")
        which = (f"has a mean budget loss {_amount(m, abs(diff))} {'above' if diff > 0 else 'below'} {names[0]}'s"
                 if diff != 0 else f"has the same mean budget loss as {names[0]}")
        if low is None or high is None or low == high:
            noise = ""
        elif low <= 0 <= high:
            noise = " (within the Monte Carlo noise)"
        else:
            noise = f" (95 % CI {format_value(m, low, signed=True)} to {format_value(m, high, signed=True)} bn)"
        parts.append(f"{run} {which}{noise}")
    return f"Against {names[0]}: " + "; ".join(parts) + "."


def _compare_lead(names: Sequence[str], paired: bool) -> str:
    """One sentence on what is compared and how."""
    if not names:
        return "compare.json lists no runs."
    how = ("Paired: the runs share their random draws, so differences are computed replication by replication."
           if paired else "Unpaired: the runs' replications are independent.")
    return f"Each run against the reference run {names[0]}. {how}"


def _overlay_caption(stem: str) -> str:
    """A caption for ``overlay_<what>.png``."""
    what = stem.removeprefix("overlay_")
    base = PLOT_CAPTIONS.get(what)
    return f"All runs overlaid: {base[0].lower() + base[1:]}" if base else f"All runs overlaid: {_humanize(what)}."


def _runs_table(runs: Sequence[dict[str, Any]], directory: Path) -> str:
    """Name, directory, seed, horizon and replications of each run."""
    if not runs:
        return '<p class="note">No runs.</p>'
    rows = []
    for i, run in enumerate(runs):
        name = str(run.get("name", f"run {i + 1}"))
        ref = " (reference)" if i == 0 else ""
        where = _relative(str(run.get("dir", "")), directory)
        rows.append(
            f'<tr data-run="{_e(name)}"><th scope="row">{_e(name + ref)}</th><td><code>{_e(where)}'
            f"</code></td>{_num_td(_show(run.get('seed')))}{_num_td(_show(run.get('horizon_days')))}"
            f"{_num_td(_show(run.get('replications')))}</tr>"
        )
    return _table(["Run", "Directory", "Seed", "Horizon (days)", "Replications"], rows, num_from=2,
                  attrs=' id="runs-table"')


def _inputs_diff(diffs: Sequence[dict[str, Any]], names: Sequence[str]) -> str:
    """Each scenario key whose value differs between the runs, with the value of each run."""
    if not diffs:
        return '<p class="note">The runs have the same inputs.</p>'
    rows = []
    for item in diffs:
        key = str(item.get("key", ""))
        values = list(item.get("values") or [])
        cells = "".join(f'<td data-key="{_e(key)}" data-run="{_e(n)}">{_e(_show(v))}</td>'
                        for n, v in zip(names, values))
        rows.append(f'<tr><th scope="row"><code>{_e(key)}</code></th>{cells}</tr>')
    return _table(["Scenario key", *names], rows, num_from=len(names) + 1, attrs=' id="inputs-diff-table"')


def _compare_metrics(metrics: dict[str, Any], names: Sequence[str]) -> str:
    """Per metric and run: the mean, and its difference to the reference with a 95 % CI."""
    if not metrics:
        return '<p class="note">No metrics.</p>'
    rows = []
    for metric, entries in metrics.items():
        entries = [e for e in entries or [] if isinstance(e, dict)]
        for i, entry in enumerate(entries):
            label = (f'<th scope="rowgroup" rowspan="{len(entries)}">{_e(_metric_label(metric))}</th>'
                     if i == 0 else "")
            rows.append(_compare_row(metric, entry, label))
    ref = names[0] if names else "the first run"
    headers = ["Metric", "Run", "Mean", f"Difference to {ref}", "95 % CI of the difference"]
    note = ('<p class="note">Differences are run minus reference; a 95 % confidence interval that excludes 0 '
            "marks a difference larger than the Monte Carlo noise.</p>")
    return _table(headers, rows, num_from=2, attrs=' id="metrics-table"') + note


def _compare_row(metric: str, entry: dict[str, Any], label: str) -> str:
    """One run's row of a metric in the comparison table."""
    run = str(entry.get("run", ""))
    low, high = entry.get("ci95_low"), entry.get("ci95_high")
    ci = "–" if low is None or high is None else (
        f"{format_value(metric, low, signed=True)} to {format_value(metric, high, signed=True)}")
    diff = entry.get("diff")
    cells = (
        _num_td(format_value(metric, entry.get("mean")), metric=metric, run=run, stat="mean"),
        _num_td("reference" if diff is None else format_value(metric, diff, signed=True),
                metric=metric, run=run, stat="diff"),
        _num_td(ci, metric=metric, run=run, stat="ci95"),
    )
    return f'<tr data-metric-row="{_e(metric)}">{label}<td>{_e(run)}</td>{"".join(cells)}</tr>'


# --------------------------------------------------------------------------- sweep report


def _sweep_page(directory: Path) -> str:
    """The HTML of a sweep directory's report: the grid, every point's figures and the sweep's plots."""
    with (directory / "sweep.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    keys = [p["key"] for p in _read_json(directory / "sweep.json").get("params") or [] if isinstance(p, dict)]
    scenarios = list(dict.fromkeys(r["scenario"] for r in rows))
    swept = _swept(directory, rows)
    title = "Sweep: " + ", ".join(scenarios)
    pngs = [(p, _sweep_caption(p.stem, keys, swept)) for p in sorted(directory.glob("*.png")) if p.is_file()]
    body = "".join(
        (
            f'<header>\n<h1 id="title">{_e(title)}</h1>\n'
            f'<p class="lead" id="finding"><strong>{_e(sweep_sentence(rows, keys, swept))}</strong></p>\n'
            f'<p class="meta">{_e(_grid_text(rows, keys, swept))}</p>\n</header>\n',
            _section("Plots", _figures(pngs), "plots"),
            _section("Every point", _sweep_table(rows, keys, len(scenarios) > 1, swept), "points"),
        )
    )
    return _page(f"routesim report: {title}", body)


def _swept(directory: Path, rows: Sequence[dict[str, str]]) -> list[Scenario]:
    """Each swept scenario as its first point ran it (``<scenario>/p000/scenario.resolved.yaml``), to name what
    a key's outage hits as the plots do; a point that cannot be read is left out."""
    out = []
    for name in dict.fromkeys(r["scenario"] for r in rows):
        first = next(r for r in rows if r["scenario"] == name)
        try:
            out.append(load_scenario(directory / first["run_dir"] / "scenario.resolved.yaml"))
        except (ScenarioError, OSError):
            continue
    return out


_SWEEP_FIGURES = ("budget_loss_usd", "budget_loss_share")
"""The figures of a sweep's table, by metric (sweep.csv has more)."""


def sweep_sentence(rows: Sequence[dict[str, str]], keys: Sequence[str], scenarios: Sequence[Scenario] = ()) -> str:
    """What a sweep found, in one sentence: the range of the mean budget loss over the grid, and where; the
    swept ``scenarios`` name what a key's outage hits."""
    m = "budget_loss_usd"
    means = [float(r[f"{m}_mean"]) for r in rows]
    low, high = rows[means.index(min(means))], rows[means.index(max(means))]
    if min(means) == max(means):
        return f"The mean budget loss is {_amount(m, means[0])} at every one of the {len(rows)} points."
    several = len({r["scenario"] for r in rows}) > 1
    return (f"Over {len(rows)} runs of the grid, the mean budget loss runs from {_amount(m, min(means))} "
            f"({_point_text(low, keys, several, scenarios)}) to {_amount(m, max(means))} "
            f"({_point_text(high, keys, several, scenarios)}).")


def _point_text(row: dict[str, str], keys: Sequence[str], scenario: bool, scenarios: Sequence[Scenario]) -> str:
    """``length of the CPC stop 10 days``: a grid point in words, after its scenario's name if asked."""
    text = ", ".join(key_at(key, float(row[key]), scenarios) for key in keys)
    return f"{row['scenario']}: {text}" if scenario else text


def _grid_text(rows: Sequence[dict[str, str]], keys: Sequence[str], scenarios: Sequence[Scenario]) -> str:
    """The grid's keys and their values, one clause each."""
    clauses = []
    for key in keys:
        values = list(dict.fromkeys(number(float(r[key]), 3) for r in rows))
        clauses.append(f"{key_label(key, scenarios)} ({key}): {', '.join(values)}")
    return "Grid: " + "; ".join(clauses) + "."


def _sweep_table(rows: Sequence[dict[str, str]], keys: Sequence[str], scenario: bool,
                 scenarios: Sequence[Scenario]) -> str:
    """One row per run: its point, the budget loss and its share with the 95 % interval of the mean."""
    headers = [*(["Scenario"] if scenario else []), *(key_label(k, scenarios) for k in keys),
               "Budget loss, mean (USD bn)", "95 % CI of the mean (USD bn)", "Budget loss, mean (% of budget)",
               "Run folder"]
    body = []
    for row in rows:
        cells = [f"<td>{_e(row['scenario'])}</td>"] if scenario else []
        cells += [_num_td(number(float(row[k])), key=k) for k in keys]
        for metric in _SWEEP_FIGURES:
            cells.append(_num_td(format_value(metric, float(row[f"{metric}_mean"])), metric=metric, stat="mean"))
            if metric == "budget_loss_usd":
                ci = (f"{format_value(metric, float(row[f'{metric}_mean_ci95_low']))} – "
                      f"{format_value(metric, float(row[f'{metric}_mean_ci95_high']))}")
                cells.append(_num_td(ci, metric=metric, stat="ci95"))
        cells.append(f"<td><code>{_e(row['run_dir'])}</code></td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return _table(headers, body, num_from=1 if scenario else 0, attrs=' id="points-table"')


def _sweep_caption(stem: str, keys: Sequence[str], scenarios: Sequence[Scenario]) -> str:
    """A caption for ``sweep_<metric>.png`` or ``heatmap_<scenario>_<metric>.png``."""
    if stem.startswith("sweep_"):
        label = metric_axis(stem.removeprefix("sweep_"))[0]
        return (f"{capital(in_words(label))} against {in_words(key_label(keys[0], scenarios))}: the mean with its 95 % "
                "confidence band; a dashed line is the naive estimate, linear in the outage's days.")
    if stem.startswith("heatmap_"):
        return (f"Mean budget loss share over the grid of "
                f"{' and '.join(in_words(key_label(k, scenarios)) for k in keys)}; "
                "each cell's value is written in it.")
    return _humanize(stem) + "."


# --------------------------------------------------------------------------- sensitivity report


def _sensitivity_page(directory: Path) -> str:
    """The HTML of a sensitivity directory's report: the tornado table and, when computed, the Sobol indices."""
    data = _read_json(directory / "sensitivity.json")
    metric, oat, sobol = str(data.get("metric", "")), data.get("one_at_a_time") or {}, data.get("sobol")
    title = f"Sensitivity of {data.get('scenario', directory.name)}"
    pngs = [(p, SENSITIVITY_CAPTIONS.get(p.stem, _humanize(p.stem) + "."))
            for p in sorted(directory.glob("*.png")) if p.is_file()]
    sections = [
        f'<header>\n<h1 id="title">{_e(title)}</h1>\n'
        f'<p class="lead" id="finding"><strong>{_e(sensitivity_sentence(metric, oat))}</strong></p>\n</header>\n',
        _section("Plots", _figures(pngs), "plots"),
        _section("One key at a time", _tornado_table(metric, oat), "one-at-a-time"),
    ]
    if isinstance(sobol, dict):
        sections.append(_section("Sobol indices", _sobol_table(sobol), "sobol"))
    return _page(f"routesim report: {title}", "".join(sections))


SENSITIVITY_CAPTIONS = {
    "tornado": "The metric with each key at the low and at the high end of its range, every other key at the "
               "scenario's own value; the longest bar moves the metric most.",
    "sobol": "Sobol indices: the share of the metric's variance each key explains alone (first order) and with "
             "its interactions (total), with bootstrap 95 % intervals.",
}


def sensitivity_sentence(metric: str, oat: dict[str, Any]) -> str:
    """What a sensitivity study found, in one sentence: the key that moves the metric most, and how far."""
    rows = [r for r in oat.get("rows") or [] if isinstance(r, dict)]
    if not rows:
        return "No keys were varied."
    top, label = rows[0], in_words(metric_axis(metric)[0])
    base = oat.get("base")
    n = oat.get("replications")
    runs = "" if n is None else f" ({n:,} replication{'s' if n != 1 else ''} each)"
    at_base = "" if base is None else f"; {_amount(metric, float(base))} at the scenario's own values{runs}"
    words, unit = key_words(top["key"])
    which = f"Of the {len(rows)} keys varied, {words} moves the {label} most" if len(rows) > 1 else (
        f"Over its range, {words} moves the {label}")
    return (f"{which}: {_amount(metric, top['metric_at_low'])} at {number(top['low_value'])}{unit} and "
            f"{_amount(metric, top['metric_at_high'])} at {number(top['high_value'])}{unit}{at_base}.")


def _tornado_table(metric: str, oat: dict[str, Any]) -> str:
    """Each key's range and the metric at its ends, the widest swing first."""
    rows = []
    for r in oat.get("rows") or []:
        cells = (_num_td(number(r["low_value"])), _num_td(number(r["high_value"])),
                 _num_td(format_value(metric, r["metric_at_low"]), key=r["key"], stat="low"),
                 _num_td(format_value(metric, r["metric_at_high"]), key=r["key"], stat="high"),
                 _num_td(format_value(metric, r["swing"]), key=r["key"], stat="swing"))
        rows.append(f'<tr><th scope="row">{_e(key_label(r["key"]))}<br><code>{_e(r["key"])}</code></th>'
                    f"{''.join(cells)}</tr>")
    unit = unit_of(metric)[0]
    headers = ["Key", "Low", "High", f"At low ({unit})", f"At high ({unit})", f"Swing ({unit})"]
    return _table(headers, rows, attrs=' id="tornado-table"')


def _sobol_table(sobol: dict[str, Any]) -> str:
    """First-order and total Sobol index of each key with its bootstrap 95 % interval."""
    rows = []
    for r in sobol.get("rows") or []:
        cells = "".join(
            _num_td(f"{r[f'{order}']:.2f} ({r[f'{order}_ci95_low']:.2f} – {r[f'{order}_ci95_high']:.2f})",
                    key=r["key"], stat=order)
            for order in ("first_order", "total_order"))
        rows.append(f'<tr><th scope="row">{_e(key_label(r["key"]))}<br><code>{_e(r["key"])}</code></th>{cells}</tr>')
    note = (f'<p class="note">From {sobol.get("samples", "?")} Saltelli samples ({sobol.get("evaluations", "?")} '
            "runs). A total index well above the first-order one marks a key that acts through interactions.</p>")
    return _table(["Key", "First order (95 % CI)", "Total (95 % CI)"], rows, attrs=' id="sobol-table"') + note


# --------------------------------------------------------------------------- appraisal report


APPRAISAL_CAPTIONS = {
    "npv_distribution": "Each option's net present value across replications: the discounted budget loss it "
                        "avoids less its discounted cost; box the middle half, whiskers 5-95 %, dot the mean.",
    "avoided_fan": "The cumulative discounted budget loss each option avoids (median and 10-90 % band) against "
                   "its discounted cost (dashed): where the median crosses the cost, the option has paid for itself.",
    "npv_by_rate": "Each option's mean NPV at multiples of the fitted incident rate, with its 95 % interval: where "
                   "a line crosses zero, the option starts to pay.",
}


def appraisal_sentence(rows: Sequence[dict[str, Any]], break_even: dict[str, float | None],
                       rates: Sequence[float]) -> str:
    """What an appraisal found, in one sentence: how many options pay on average, and for each its mean NPV,
    the chance that it pays, and the multiple of the incident rate (of ``rates``, those tried) from which it
    does."""
    paying = sum(1 for r in rows if r["npv_usd_mean"] > 0)
    clauses = []
    for r in rows:
        crossing = break_even.get(r["option"])
        pays = ("does not pay at any rate tried" if crossing is None
                else f"pays at every rate tried, from {crossing:g} times the incident rate" if crossing == min(rates)
                else f"pays from {crossing:.1f} times the incident rate")
        clauses.append(f"{r['option']}: mean NPV USD {format_value('npv_usd', r['npv_usd_mean'], signed=True)} bn, "
                       f"P(NPV > 0) {r['prob_npv_positive'] * 100:.0f} %, {pays}")
    return (f"At the fitted incident rate, {paying} of {len(rows)} option{'s' if len(rows) != 1 else ''} pay"
            f"{'s' if paying == 1 else ''} for {'itself' if paying == 1 else 'themselves'} on average; "
            + "; ".join(clauses) + ".")


def _appraisal_page(directory: Path) -> str:
    """The HTML of an appraisal directory's report: the verdict, the options table and the plots."""
    data = _read_json(directory / "appraisal.json")
    rows = [r for r in data.get("options_valued") or [] if isinstance(r, dict)]
    title = f"Appraisal of {len(rows)} option{'s' if len(rows) != 1 else ''} against {data.get('base_name', '?')}"
    meta = (f"{data.get('years')} years, {data.get('replications', 0):,} replications each, discount rate "
            f"{float(data.get('discount_rate_per_year', 0)) * 100:g} % a year, seed {data.get('seed')}; "
            "common random numbers: replication k of every option meets the incidents of the base's.")
    pngs = [(p, APPRAISAL_CAPTIONS.get(p.stem, _humanize(p.stem) + "."))
            for p in sorted(directory.glob("*.png")) if p.is_file()]
    finding = appraisal_sentence(rows, data.get("break_even_rate_multiplier") or {}, data.get("rates") or [1.0])
    body = "".join((
        f'<header>\n<h1 id="title">{_e(title)}</h1>\n'
        f'<p class="lead" id="finding"><strong>{_e(finding)}</strong></p>\n<p class="meta">{_e(meta)}</p>\n</header>\n',
        _section("Options", _options_table(rows), "options"),
        _section("Plots", _figures(pngs), "plots"),
    ))
    return _page(f"routesim report: {title}", body)


def _options_table(rows: Sequence[dict[str, Any]]) -> str:
    """Each option's NPV statistics, P(NPV > 0), benefit-cost ratio and payback year."""
    m = "npv_usd"
    body = []
    for r in rows:
        bcr, payback = r.get("benefit_cost_ratio"), r.get("payback_year_p50")
        cells = (
            _num_td(format_value(m, r["npv_usd_mean"], signed=True), option=r["option"], stat="npv_mean"),
            _num_td(f"{format_value(m, r['npv_usd_p5'], signed=True)} – {format_value(m, r['npv_usd_p95'], signed=True)}",
                    option=r["option"], stat="npv_p5_p95"),
            _num_td(f"{r['prob_npv_positive'] * 100:.0f} %", option=r["option"], stat="prob_npv_positive"),
            _num_td("–" if bcr is None else f"{bcr:.2f}", option=r["option"], stat="benefit_cost_ratio"),
            _num_td("never" if payback is None else f"{payback:g}", option=r["option"], stat="payback_year_p50"),
            _num_td(format_value(m, r["pv_cost_usd"]), option=r["option"], stat="pv_cost"),
        )
        body.append(f'<tr><th scope="row">{_e(r["option"])}</th>{"".join(cells)}</tr>')
    headers = ["Option", "NPV, mean (USD bn)", "NPV, 5–95 % (USD bn)", "P(NPV > 0)", "Benefit-cost ratio",
               "Payback year, median", "Discounted cost (USD bn)"]
    note = ('<p class="note">NPV: the budget loss the option avoids against the base, replication by replication and '
            "year by year, discounted, less its discounted capital and running cost. Payback year: the first year "
            "whose cumulative discounted net value is no longer negative (median over replications).</p>")
    return _table(headers, body, attrs=' id="options-table"') + note
