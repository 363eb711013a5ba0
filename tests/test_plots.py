"""The figures, as a report reader sees them: labels in words with units, headline numbers, risk marks, no
degenerate plots, and the network schematic. Each builder is checked on the Figure it returns."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest
from matplotlib.figure import Figure

from conftest import SCENARIOS, pipeline, scenario, shuttle
from routesim.outputs import plots, rundir
from routesim.outputs.labels import key_label, number
from routesim.results.run import RunResult
from routesim.runs import montecarlo
from routesim.scenario.loader import load_scenario
from routesim.scenario.model import Scenario


def texts(fig: Figure) -> list[str]:
    """Every text drawn on the figure: titles, axis labels, tick labels, annotations and legend entries."""
    return [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text")) if t.get_text()]


def closure(**kw: Any) -> Scenario:
    """A small scenario with one scheduled stop of route ``main``, and a small route beside it."""
    return scenario(routes={"main": pipeline(900_000.0), "small": pipeline(50_000.0)},
                    outages=[{"target": "main", "start_day": 10, "duration_days": 20}], **kw)


# ------------------------------------------------------------------------------------------- key labels

@pytest.mark.parametrize(("key", "label"), [
    ("outages[0].duration_days", "Length of the Main stop [days]"),
    ("outages.0.start_day", "Start of the Main stop [day of the run]"),
    ("outages[0].capacity_factor", "Capacity left during the Main outage [-]"),
    ("routes.east_line.capacity_bpd", "East-Line capacity [bbl/day]"),
    ("routes.main.segments.east.capacity_bpd", "Main east capacity [bbl/day]"),
    ("routes.main.tank_farm.storage_bbl", "Main tank farm storage capacity [bbl]"),
    ("routes.main.cost_usd_per_bbl", "Main cost [USD/bbl]"),
    ("market.brent_usd_per_bbl", "Brent [USD/bbl]"),
    ("fiscal.budget_revenue_usd_per_year", "Budget revenue [USD/yr]"),
    ("incidents[0].rate_per_year", "Rate of the first incident process [per year]"),
    ("incidents[1].duration_days.median", "Median length of the second incident process [days]"),
    ("routes.x.tankers", "X tankers [count]"),
    ("producers.p.some_new_thing_bbl", "P some new thing [bbl]"),
])
def test_a_key_reads_as_words_with_its_unit(key, label):
    assert key_label(key, [closure()]) == label


def test_an_outage_is_named_only_where_every_scenario_agrees():
    main, partial = closure(), scenario(outages=[{"target": "main", "start_day": 0, "duration_days": 5,
                                                  "capacity_factor": 0.5}])
    assert key_label("outages[0].duration_days", [partial]) == "Length of the Main outage [days]"
    assert key_label("outages[0].duration_days", [main, partial]) == "Length of the first outage [days]"
    assert key_label("outages[0].duration_days") == "Length of the first outage [days]"
    assert key_label("outages[3].duration_days", [main]) == "Length of the fourth outage [days]"


def sweep_rows(values: dict[tuple[float, float], float]) -> list[dict[str, Any]]:
    """sweep.csv rows of one scenario over two keys, each with its budget loss share (mean and CI)."""
    rows = []
    for (days, tankers), share in values.items():
        row: dict[str, Any] = {"scenario": "s", "outages[0].duration_days": days, "routes.main.tankers": tankers}
        for metric in ("budget_loss_share", "budget_loss_usd"):
            row.update({f"{metric}_mean": share, f"{metric}_mean_ci95_low": share * 0.9,
                        f"{metric}_mean_ci95_high": share * 1.1})
        rows.append(row)
    return rows


def test_sweep_curve_labels_its_axis_with_the_key_in_words():
    rows = sweep_rows({(d, 3): d / 1000 for d in (0, 30, 60)})
    fig = plots.sweep_curve(rows, "outages[0].duration_days", "budget_loss_share", scenarios=[closure()])
    ax = fig.axes[0]
    assert ax.get_xlabel() == "Length of the Main stop [days]"
    assert ax.get_ylabel() == "budget loss [% of budget revenue]"
    assert "Budget loss [% of budget revenue] against length of the Main stop" in texts(fig)


def test_a_sweep_of_a_short_run_says_what_budget_its_share_is_of():
    rows = sweep_rows({(d, 3): d / 1000 for d in (0, 30, 60)})
    short = plots.sweep_curve(rows, "outages[0].duration_days", "budget_loss_share", scenarios=[closure(horizon_days=61)])
    assert short.axes[0].get_ylabel() == "budget loss [% of the 61-day budget]"
    usd = plots.sweep_curve(rows, "outages[0].duration_days", "budget_loss_usd", scenarios=[closure(horizon_days=61)])
    assert usd.axes[0].get_ylabel() == "budget loss [USD bn]"


def test_heatmap_writes_each_cell_s_value_in_it():
    values = {(10, 3): 0.0123, (10, 6): 0.0101, (40, 3): 0.0456, (40, 6): 0.0399}
    fig = plots.sweep_heatmap(sweep_rows(values), ("outages[0].duration_days", "routes.main.tankers"),
                              "budget_loss_share", "s", [closure()])
    ax = fig.axes[0]
    cells = {(round(t.get_position()[0]), round(t.get_position()[1])): t.get_text() for t in ax.texts}
    days, tankers = [10, 40], [3, 6]  # columns and rows, ascending
    assert cells == {(days.index(d), tankers.index(n)): f"{share * 100:.2f}" for (d, n), share in values.items()}
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("Length of the Main stop [days]", "Main tankers [count]")


def test_sweep_titles_carry_their_unit_grid_values_three_digits_and_no_band_is_promised_for_one_replication():
    values = {(d, t): d / 1000 for d in (0.0, 110 / 3, 220 / 3) for t in (3, 6)}
    fig = plots.sweep_heatmap(sweep_rows(values), ("outages[0].duration_days", "routes.main.tankers"),
                              "budget_loss_share", "s", [closure()])
    assert fig.get_suptitle() == "s: budget loss [% of budget revenue]"
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["0", "36.7", "73.3"]
    rows = sweep_rows({(d, 3): d / 1000 for d in (0, 30, 60)})
    titles = {m: plots.sweep_curve(rows, "outages[0].duration_days", m, scenarios=[closure()]).get_suptitle()
              for m in ("budget_loss_share", "budget_loss_usd")}
    assert titles == {"budget_loss_share": "Budget loss [% of budget revenue] against length of the Main stop",
                      "budget_loss_usd": "Budget loss [USD bn] against length of the Main stop"}
    one = [{**r, "replications": 1} for r in rows]
    subtitle = plots.sweep_curve(one, "outages[0].duration_days", "budget_loss_usd").axes[0].get_title()
    assert subtitle.startswith("1 replication a point: no band") and "confidence band" not in subtitle
    assert "95 % confidence band" in plots.sweep_curve(rows, "outages[0].duration_days", "budget_loss_usd").axes[0].get_title()


def test_tornado_and_sobol_name_their_keys_and_ranges():
    oat = {"base": 2e9, "rows": [
        {"key": "outages[0].duration_days", "low_value": 10, "high_value": 60, "metric_at_low": 1e9,
         "metric_at_high": 4e9, "swing": 3e9},
        {"key": "routes.main.tank_farm.storage_bbl", "low_value": 4e6, "high_value": 8e6, "metric_at_low": 2e9,
         "metric_at_high": 2e9, "swing": 0.0},
    ]}
    fig = plots.tornado(oat, "budget_loss_usd", "s", [closure()])
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert ticks == ["Main tank farm storage\ncapacity\n4,000,000 to 8,000,000 bbl", "Length of the Main stop\n10 to 60 days"]
    notes = [t.get_text().strip() for t in fig.axes[0].texts]
    assert notes == ["no effect", "4.00", "1.00"]  # bottom bar first; the bar ends in USD bn
    sobol = {"samples": 8, "evaluations": 32, "rows": [
        {"key": k, **{f"{kind}{end}": 0.5 for kind in ("first_order", "total_order")
                      for end in ("", "_ci95_low", "_ci95_high")}}
        for k in ("market.brent_usd_per_bbl", "outages[0].duration_days")]}
    ticks = [t.get_text() for t in plots.sobol_bars(sobol, "budget_loss_usd", "s", [closure()]).axes[0].get_xticklabels()]
    assert ticks == ["Brent [USD/bbl]", "Length of the Main stop\n[days]"]


def test_tornado_says_the_replications_its_means_rest_on():
    oat = {"base": 1.49e9, "replications": 200, "rows": [
        {"key": "outages[0].duration_days", "low_value": 10, "high_value": 60, "metric_at_low": 1e9,
         "metric_at_high": 4e9, "swing": 3e9}]}
    fig = plots.tornado(oat, "budget_loss_usd", "s", [closure()])
    assert "scenario as is (200 replications): 1.49" in texts(fig)
    assert fig.axes[0].get_title().endswith("; each bar end a mean over 200 replications")


# ------------------------------------------------------------------------------------ headline numbers

def run(s: Any) -> RunResult:
    return montecarlo.run(s, engine="simpy")


@pytest.fixture(scope="module")
def stop() -> RunResult:
    """One replication of a 60-day year with a 20-day stop of the main route."""
    return run(closure(horizon_days=60))


def test_revenue_shows_the_budget_loss_at_the_horizon_in_usd_and_share(stop):
    metrics = stop.summary().metrics
    usd, share = metrics["budget_loss_usd"].mean, metrics["budget_loss_share"].mean
    assert usd > 0
    expected = f"budget loss USD {usd / 1e9:,.2f} bn = {share * 100:,.1f} % of the 60-day budget"
    assert f"at the horizon: {expected}" in texts(plots.revenue(stop))
    assert any(t.startswith(expected + "\ngovernment") for t in texts(plots.loss_waterfall(stop)))


def test_a_scenario_changed_by_set_says_so_in_every_title(stop):
    changed = dataclasses.replace(stop, settings=("routes.main.capacity_bpd=5e5",))
    for stem, fig in plots.figures(changed).items():
        title = fig.get_suptitle()
        assert title.endswith("\nwith --set routes.main.capacity_bpd=5e5"), stem
    assert all("--set" not in fig.get_suptitle() for fig in plots.figures(stop).values())


def test_scenarios_that_differ_only_in_their_budget_no_longer_look_alike():
    small, large = (run(closure(horizon_days=60, fiscal={"budget_revenue_usd_per_year": b})) for b in (20e9, 40e9))
    notes = [[t for t in texts(plots.revenue(r)) if t.startswith("at the horizon")] for r in (small, large)]
    assert notes[0] != notes[1]


# --------------------------------------------------------------------------------------------- risk

@pytest.fixture(scope="module")
def risky() -> RunResult:
    """40 replications of a 90-day horizon with random stops of the main route: outcomes differ."""
    return run(closure(horizon_days=90, replications=40, seed=3,
                       incidents=[{"target": "main", "rate_per_year": 6.0, "duration_days": 8.0}]))


def test_loss_distribution_marks_var_and_cvar_of_the_summary(risky):
    share = risky.summary().metrics["budget_loss_share"]
    assert share.var95 is not None and share.cvar95 is not None
    assert share.cvar95 > share.var95 > share.p50  # a spread of outcomes, so the marks differ
    lines = {line.get_label().split(":")[0]: line.get_xdata()[0] for line in plots.loss_distribution(risky).axes[0].lines}
    assert lines["VaR 95 %"] == pytest.approx(share.var95 * 100)
    assert lines["CVaR 95 % (mean of the worst 5 %)"] == pytest.approx(share.cvar95 * 100)
    assert lines["median"] == pytest.approx(share.p50 * 100)
    assert plots.loss_distribution(risky).axes[0].get_xlabel() == "budget loss over the horizon [% of the 90-day budget]"


def test_exceedance_is_logarithmic_with_the_return_periods_the_run_resolves(risky):
    ax = plots.loss_exceedance(risky).axes[0]
    assert ax.get_yscale() == "log"
    assert ax.get_ylim()[0] <= 1 / 40
    marks = [t.get_text() for t in ax.texts]
    annual = np.sort(risky.metric("budget_loss_usd")) / 1e9 * 365 / 90
    assert marks == [f"1 in 10 runs of 90 days: USD {number(np.percentile(annual, 90), 2)} bn/yr (4 replications)",
                     f"1 in 20 runs of 90 days: USD {number(np.percentile(annual, 95), 2)} bn/yr (2 replications)"]
    # 1 in 50: too few runs; a tail of fewer than 10 replications to 2 significant digits, with its count


def test_exceedance_marks_rest_on_enough_replications_for_their_digits_and_stay_inside():
    many = montecarlo.run(closure(horizon_days=90, replications=200, seed=3, incidents=[
        {"target": "main", "rate_per_year": 6.0, "duration_days": 8.0}]))  # 1 in 10 rests on 20 replications
    fig = drawn(plots.loss_exceedance(many))
    ax = fig.axes[0]
    annual = np.sort(many.metric("budget_loss_usd")) / 1e9 * 365 / 90
    assert ax.texts[0].get_text() == f"1 in 10 runs of 90 days: USD {np.percentile(annual, 90):,.2f} bn/yr"
    counted = [t.get_text().endswith("replications)") for t in ax.texts]
    assert counted == [False, False, True, True]  # 1 in 10 and 20 rest on 20 and 10 replications, 50 and 100 on 4, 2
    edge = ax.get_window_extent()
    for t in ax.texts:
        box = t.get_window_extent()
        assert edge.x0 <= box.x0 and box.x1 <= edge.x1, t.get_text()


def overlay_data(annual_losses: np.ndarray) -> dict[str, dict[str, Any]]:
    """compare's overlay data of two runs ``a`` and ``b`` whose replications lost ``annual_losses`` [USD/yr]."""
    days, n = ["2022-01-01", "2022-01-02"], len(annual_losses)
    exceeded = 1 - np.arange(1, n + 1) / n
    return {"flows": {"date": days, "a": [1e6, 1e6], "b": [1e6, 1e6]},
            "loss_fan": {"date": days, **{f"{r}_p{q}": [0.0, 1e9] for r in "ab" for q in (5, 50, 95)}},
            "loss_exceedance": {f"{r}_{what}": values for r in "ab" for what, values in (
                ("budget_loss_usd_per_year", annual_losses), ("probability_exceeded", exceeded))},
            "budget_loss_share": {"mean": [0.01, 0.02], "ci95_low": [0.005, 0.01], "ci95_high": [0.015, 0.03],
                                  "horizon_days": [365, 365]}}


@pytest.mark.parametrize("horizons, unit", [([365, 365], "% of budget revenue"), ([61, 61], "% of the 61-day budget"),
                                            ([61, 365], "% of each run’s budget")])
def test_the_compared_budget_shares_say_what_budget_they_are_of(horizons, unit):
    data = overlay_data(np.array([1e9]))
    data["budget_loss_share"]["horizon_days"] = horizons
    ax = plots.overlays(data, ["a", "b"])["overlay_budget_loss_share"].axes[0]
    assert ax.get_ylabel() == f"budget loss [{unit}]"


def test_the_compared_exceedance_curves_are_logarithmic_too():
    ax = plots.overlays(overlay_data(np.linspace(0, 4e9, 40)), ["a", "b"])["overlay_loss_exceedance"].axes[0]
    assert ax.get_yscale() == "log" and [t.get_text() for t in ax.texts] == ["1 in 10", "1 in 20"]


def test_compared_runs_stay_visible_where_they_coincide_in_colour_blind_safe_colours():
    from matplotlib.colors import to_hex

    data = overlay_data(np.array([1e9]))  # the two runs' flows are the same line
    data["budget_loss_share"] = {"mean": [0.01, 0.02], "ci95_low": [0.01, 0.02], "ci95_high": [0.01, 0.02],
                                 "horizon_days": [365, 365]}
    made = plots.overlays(data, ["a", "b"])
    a, b = (line for line in made["overlay_flows"].axes[0].lines if line.get_label() in "ab")
    assert b.get_zorder() > a.get_zorder() and b.get_linewidth() < a.get_linewidth()
    assert b.get_linestyle() != a.get_linestyle()
    colours = [to_hex(a.get_color()), to_hex(b.get_color())]
    assert not {"#d62728", "#2ca02c"} & set(colours) and len(set(colours)) == 2  # no red against green
    fig = made["overlay_budget_loss_share"]
    ax = drawn(fig).axes[0]
    for i, (label, top) in enumerate(zip(ax.texts, (1.0, 2.0))):  # the error bars' caps, at the means here
        cap = ax.transData.transform((i, top))[1]
        assert label.get_window_extent().y0 > cap + 2, label.get_text()  # the value sits above its cap


# ----------------------------------------------------------------------------------- the daily plots

def drawn(fig: Figure) -> Figure:
    fig.draw_without_rendering()  # lays out the figure, so that extents are final
    return fig


def test_legends_sit_beside_the_data_not_on_it(stop):
    for fig in (plots.flows(stop), plots.storage(stop), plots.revenue(stop)):
        for ax in drawn(fig).axes:
            legend = ax.get_legend()
            if legend is not None:
                assert legend.get_window_extent().x0 >= ax.get_window_extent().x1


def test_small_routes_get_their_own_panel_and_the_transit_gap_is_marked():
    result = run(scenario(routes={"main": pipeline(900_000.0, transit_days=5), "small": pipeline(50_000.0, transit_days=5)},
                          horizon_days=40))
    fig = plots.flows(result)
    panels = [ax for ax in fig.axes if ax.get_legend() is not None]
    assert [[t.get_text() for t in ax.get_legend().get_texts()] for ax in panels] == [["Main"], ["Small"]]
    assert all("first sales after 5 days of transit" in [t.get_text() for t in ax.texts] for ax in panels)


def test_flows_show_the_baseline_only_where_the_run_departs_from_it(stop):
    def legends(result: RunResult) -> list[list[str]]:
        return [[t.get_text() for t in ax.get_legend().get_texts()] for ax in plots.flows(result).axes if ax.get_legend()]

    assert legends(stop) == [["Main", "no-outage baseline"], ["Small"]]  # the small route carries on as before
    calm = scenario(routes={"main": pipeline(900_000.0), "small": pipeline(50_000.0)}, horizon_days=60)
    assert legends(run(calm)) == [["Main"], ["Small"]]


def legend_texts(fig: Figure) -> list[list[str]]:
    return [[t.get_text() for t in ax.get_legend().get_texts()] for ax in fig.axes if ax.get_legend()]


def test_small_stores_get_their_own_panel_on_their_own_scale(moorings):
    fig = plots.storage(moorings)  # a 2 M bbl tank farm beside a 0.2 M bbl field store
    assert legend_texts(fig)[:2] == [["Main tank farm", "capacity of each"], ["P storage", "capacity of each"]]
    panels = [ax for ax in fig.axes if ax.get_legend()]
    assert panels[1].get_ylim()[1] == pytest.approx(0.2 * 1.08)
    assert "smaller stores, on their own scale" in texts(fig)


def test_shut_in_s_band_gets_a_panel_of_its_own_away_from_production_s(risky, stop):
    assert legend_texts(plots.storage(risky))[-2:] == [["production"], ["shut in"]]
    assert legend_texts(plots.storage(stop))[-1] == ["production", "shut in"]  # lines only: one panel


def test_each_impaired_part_has_its_own_lane_and_shade():
    terminal = {"moorings": ["spm-1", "spm-2", "spm-3"], "active_moorings": 2, "mooring_rate_bpd": 500_000.0}
    window = {"start_day": 10, "duration_days": 20, "capacity_factor": 0.0}
    result = run(scenario(routes={"main": {**pipeline(1_500_000.0), "terminal": terminal}}, horizon_days=60,
                          outages=[{"target": "main/spm-1", **window}, {"target": "main/spm-2", **window},
                                   {"target": "main", "start_day": 40, "duration_days": 5, "capacity_factor": 0.5}]))
    strip = plots.flows(result).axes[-1]  # added last, drawn on top
    assert [t.get_text() for t in strip.get_yticklabels()] == ["Main", "Main spm-2", "Main spm-1"]
    assert [t.get_text().strip() for t in strip.texts] == ["stopped, 11 Jan to 30 Jan 2022"] * 2 + [
        "at 50 % of capacity, 10 Feb to 14 Feb 2022"]
    shades = {tuple(bar.get_facecolor()) for bar in strip.patches}
    assert len(shades) == 3


@pytest.fixture(scope="module")
def history_2022() -> RunResult:
    """2022 as it happened: eight outage windows on CPC's terminal and moorings, some days apart."""
    return montecarlo.run(load_scenario(SCENARIOS / "history" / "2022.yaml"))


def strip_labels(fig: Figure) -> tuple[Any, list[Any], list[Any]]:
    """The drawn figure's outage strip, its window labels' and its bars' extents."""
    fig.canvas.draw()
    strip = next(ax for ax in fig.axes if ax.get_gid() == plots.STRIP)
    return strip, [t.get_window_extent() for t in strip.texts], [b.get_window_extent() for b in strip.patches]


@pytest.mark.parametrize("builder", [plots.flows, plots.storage, plots.revenue])
def test_outage_labels_never_overlap_nor_spill_out_of_their_bar(history_2022, builder):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = builder(history_2022)
    FigureCanvasAgg(fig)
    strip, labels, bars = strip_labels(fig)
    assert len(labels) >= len(bars) - 2  # most windows are labelled on the strip itself
    edge = strip.get_window_extent()
    for i, box in enumerate(labels):
        assert edge.x0 <= box.x0 and box.x1 <= edge.x1, strip.texts[i].get_text()
        assert not any(box.overlaps(other) for other in labels[i + 1:]), strip.texts[i].get_text()
        inside = [bar for bar in bars if bar.x0 <= box.x0 and box.x1 <= bar.x1 and bar.y0 <= box.y0 <= bar.y1]
        assert inside or not any(box.overlaps(bar) for bar in bars), strip.texts[i].get_text()
    numbered = [t.get_text() for t in strip.texts if t.get_text().isdigit()]
    note = fig.get_supxlabel()
    assert all(f"{n}: CPC" in note for n in numbered)


def test_a_run_in_november_and_december_shows_no_stray_next_year_under_its_dates():
    result = run(closure(horizon_days=61, start_date="2023-11-01"))
    fig = drawn(plots.revenue(result))
    for ax in fig.axes[-2:]:  # the two panels of dates
        shown = [t.get_text() for t in ax.get_xticklabels()] + [ax.xaxis.get_offset_text().get_text()]
        assert "2023" in shown and not any("2024" in t for t in shown), shown


def test_the_waterfall_draws_no_bar_for_a_part_that_loses_nothing():
    result = montecarlo.run(load_scenario(SCENARIOS / "fiscal-article.yaml", ["horizon_days=120"]))
    assert round(float(result.metric("profit_tax_loss_usd").mean()) / 1e9, 2) == 0  # no profit tax lost here
    ax = plots.loss_waterfall(result).axes[0]
    assert "profit tax" not in [t.get_text() for t in ax.get_xticklabels()]
    assert "0.00" not in [t.get_text() for t in ax.texts]
    assert ax.texts[-1].get_text().endswith("\nno loss (below USD 0.005 bn): profit tax")


def test_a_run_without_loss_says_so_instead_of_an_empty_loss_panel():
    calm = run(scenario(horizon_days=30))
    fig = plots.revenue(calm)
    assert len([ax for ax in fig.axes if ax.get_legend()]) == 1  # the revenue panel alone
    shown = texts(fig)
    assert "no disruptions: no loss" in shown and "with the outages" not in shown and "the run" in shown
    assert "with the disruptions" in texts(plots.revenue(run(closure(horizon_days=60))))


# ------------------------------------------------------------------------------ no degenerate plots

SPREAD = {"loss_distribution", "loss_fan", "loss_exceedance"}


def test_a_run_whose_replications_all_agree_gets_no_spread_plots(stop):
    alike = run(closure(horizon_days=60, replications=3))  # nothing random: three times the same outcome
    assert alike.summary().metrics["budget_loss_usd"].std == 0
    for result in (stop, alike):
        made = plots.figures(result, result.price_curve())
        assert not SPREAD & made.keys()
        assert {"flows", "storage", "revenue", "loss_waterfall", "price_curve"} <= made.keys()
    assert "3 replications, all alike; seed 0" in texts(plots.flows(alike))


def test_a_run_with_a_spread_of_outcomes_gets_them(risky):
    assert plots.figures(risky).keys() >= SPREAD


def test_a_run_without_loss_gets_no_waterfall_or_price_curve():
    calm = run(scenario(horizon_days=30))
    assert {"flows", "storage", "revenue"} <= plots.figures(calm, calm.price_curve()).keys()
    assert not {"loss_waterfall", "price_curve"} & plots.figures(calm, calm.price_curve()).keys()


def test_price_curve_draws_a_curve_once_and_no_zero_curve(stop):
    labels = [line.get_label() for line in plots.price_curve(stop, stop.price_curve()).axes[0].lines]
    assert labels == ["export revenue loss", "government loss = state budget loss", "the run's mean Brent"]


def test_comparing_runs_of_one_outcome_each_draws_no_exceedance():
    for alike in (np.array([1e9]), np.full(5, 1e9)):  # one replication each, or five that agree
        made = plots.overlays(overlay_data(alike), ["a", "b"])
        assert set(made) == {"overlay_flows", "overlay_loss_fan", "overlay_budget_loss_share"}


# ----------------------------------------------------------------------------------------- network

@pytest.fixture(scope="module")
def moorings() -> RunResult:
    """A piped route with segments, tank farm and a terminal, one of its moorings stopped; a tanker route."""
    terminal = {"moorings": ["spm-1", "spm-2", "spm-3"], "active_moorings": 2, "mooring_rate_bpd": 500_000.0}
    main = {**pipeline(900_000.0), "segments": {"east": {"capacity_bpd": 950_000.0}},
            "tank_farm": {"storage_bbl": 2e6}, "terminal": terminal}
    return run(scenario(routes={"main": main, "caspian": shuttle()}, horizon_days=60, storage_bbl=200_000.0,
                        outages=[{"target": "main/spm-1", "start_day": 10, "duration_days": 20}]))


def test_network_draws_every_part_with_its_capacity_and_the_mean_flows(moorings):
    fig = plots.network(moorings)
    shown = texts(fig)
    for text in ("Main: pipeline, capacity 900 kbbl/d, transit 0 d", "east\n950 kbbl/d", "tank farm\n2.0 M bbl",
                 "terminal: 2 of 3\nmoorings x 500 kbbl/d", "spm-1", "spm-2", "spm-3",
                 "Caspian: tanker shuttle, capacity 100 kbbl/d, carries at most 75 kbbl/d (5 tankers), transit 0 d",
                 "5 tankers x 90 k bbl\n1 load berth, voyage 2 d"):
        assert text in shown
    for route in ("main", "caspian"):
        assert f"sold: mean\n{np.mean(moorings.daily_mean(f'{route}_exported_bpd')) / 1e3:,.0f} kbbl/d" in shown
    widths = {line.get_gid(): line.get_linewidth() for line in fig.axes[0].lines if line.get_gid()}
    assert widths["route main"] > widths["route caspian"] > 0  # main carries more than the tankers


def test_network_gives_each_moorings_own_rate_in_the_terminals_label():
    terminal = {"moorings": ["spm-1", "spm-2", "spm-3"], "active_moorings": 2, "mooring_rate_bpd": 500_000.0,
                "mooring_rates_bpd": {"spm-3": 900_000.0}}
    result = run(scenario(routes={"main": {**pipeline(900_000.0), "terminal": terminal}}, horizon_days=20))
    assert "terminal: 2 of 3\nmoorings at 500, 500, 900 kbbl/d" in texts(plots.network(result))


def test_network_names_the_binding_cap_and_scales_widths_to_the_network_not_the_run(moorings):
    fig = plots.network(moorings)
    assert "Main: pipeline, capacity 900 kbbl/d, transit 0 d" in texts(fig)  # nothing binds it below 900
    assert "full width = 900 kbbl/d, its largest route capacity" in fig.axes[0].get_title()
    widths = {line.get_gid(): line.get_linewidth() for line in fig.axes[0].lines if line.get_gid()}
    for route in ("main", "caspian"):  # against the capacity of the largest route, not the run's largest flow
        flow = float(np.mean(moorings.daily_mean(f"{route}_exported_bpd")))
        assert widths[f"route {route}"] == pytest.approx(1.5 + 12.5 * flow / 900_000.0)


def test_a_short_run_s_network_flows_are_means_after_the_first_sales():
    result = run(scenario(routes={"main": pipeline(900_000.0, transit_days=5)}, horizon_days=40))
    fig = plots.network(result)
    assert "sold: mean\n900 kbbl/d" in texts(fig)  # not 900 x 35 / 40 = 788: the first 5 days are transit
    assert "mean flows after the first sales, from day 6 (1 replication)" in fig.axes[0].get_title()


def test_each_producer_s_links_have_its_own_colour():
    from matplotlib.colors import to_hex

    fields = {n: {"production_bpd": 300_000.0, "storage_bbl": 0.0, "initial_storage_bbl": 0.0, "restart_ramp_days": 0.0,
                  "routes": routes} for n, routes in (("east", ["a", "b"]), ("west", ["a", "b"]))}
    result = run(scenario(routes={"a": pipeline(500_000.0), "b": pipeline(500_000.0)}, producers=fields, horizon_days=20))
    ax = plots.network(result).axes[0]
    links = {line.get_gid(): to_hex(line.get_color()) for line in ax.lines if (line.get_gid() or "").startswith("link")}
    assert set(links) == {f"link {p} {r}" for p in ("east", "west") for r in "ab"}
    assert links["link east a"] == links["link east b"] != links["link west a"] == links["link west b"]
    boxes = {t.get_gid(): to_hex(t.get_bbox_patch().get_edgecolor()) for t in ax.texts if t.get_gid()}
    assert boxes == {"producer east": links["link east a"], "producer west": links["link west a"]}


def test_network_marks_and_lists_the_outage_windows(moorings):
    fig = plots.network(moorings)
    listing = fig.axes[1].texts[0].get_text().splitlines()
    assert listing == ["Impairments:", "Main spm-1: stopped, 11 Jan to 30 Jan 2022"]
    names = {t.get_text(): t.get_color() for t in fig.axes[0].texts}
    assert names["spm-1"] == plots.SCHEDULED and names["spm-2"] == plots.SOUND


@pytest.mark.e2e
def test_every_run_directory_gets_the_network(tmp_path, stop):
    assert "network" in plots.figures(stop)
    out = rundir.write_run(stop, tmp_path / "run", rundir.manifest(["test"], "test.yaml", stop, 0.0))
    assert (out / "network.png").read_bytes()[:4] == b"\x89PNG"


def test_more_routes_or_producers_than_the_palette_still_get_distinct_colours():
    assert plots.distinct_colors(3) == list(plots.PALETTE[:3])  # the palette while it lasts
    for n in (9, 12, 20):
        assert len(set(plots.distinct_colors(n))) == n
        assert len(set(plots.distinct_colors(n, plots.PRODUCER_COLORS))) == n
