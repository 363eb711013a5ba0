"""Re-run the history replays and rewrite the table and figure of docs/validation.md.

    python docs/validation.py

Reads scenarios/history/reported.csv (the reported figures, their sources and bands), runs each scenario
once, and writes docs/validation.png and the table between the markers in docs/validation.md. The prose
around the table is written by hand: re-read it when the numbers move.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from routesim.analysis import history  # noqa: E402
from routesim.engine import simulate  # noqa: E402
from routesim.results import measure  # noqa: E402
from routesim.scenario.loader import load_scenario  # noqa: E402

HERE = Path(__file__).resolve().parent
HISTORY = HERE.parent / "scenarios" / "history"
BEGIN, END = "<!-- table: written by docs/validation.py -->", "<!-- end of table -->"
FORECAST = "<!-- forecast: written by docs/validation.py -->", "<!-- end of forecast -->"


def table() -> str:
    lines = ["| scenario | figure | route | window | reported | simulated | band | status | source |",
             "|---|---|---|---|---|---|---|---|---|"]
    for row, value in history.compare(HISTORY / "reported.csv"):
        band = "" if math.isnan(row.low) else f"{row.low:g} to {row.high:g}"
        status = row.status if row.status == "contrast" else (
            f"{row.status}: {'within' if row.holds(value) else 'OUTSIDE'}")
        window = f"{row.start} to {row.end - dt.timedelta(days=1)}"
        shown = f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"
        lines.append(f"| {Path(row.scenario).stem} | {row.figure} ({row.unit}) | {row.route} | {window} | {row.reported:g} | "
                     f"{shown} | {band} | {status} | {row.source} |")
    return "\n".join(lines)


def forecast(path: Path = HISTORY / "forecasts" / "2025-26.yaml") -> str:
    """The model's month-by-month figures for an out-of-sample replay: CPC's loadings, Kazakh output,
    shut-in, and what the other routes carried above the same months without the incidents."""
    s = load_scenario(path)
    t, quiet = simulate(s), simulate(s.without_disruptions())
    end = s.start_date + dt.timedelta(days=s.horizon_days)
    months = [s.start_date.replace(day=1)]
    while (nxt := (months[-1] + dt.timedelta(days=32)).replace(day=1)) < end:
        months.append(nxt)
    lines = ["| month | CPC loaded (Mt) | without incidents (Mt) | Kazakh output (M bbl) | shut in (M bbl) | "
             "other routes, against no incidents (M bbl) |", "|---|---|---|---|---|---|"]
    others = [r for r in s.routes if r != "cpc"]
    for a, b in zip(months, [*months[1:], end]):
        days = (b - a).days
        shut = history.shut_in_bbl(s, t, a, b)
        moved = sum(history.loaded_bbl(s, t, r, a, b) - history.loaded_bbl(s, quiet, r, a, b) for r in others)
        lines.append(f"| {a:%Y-%m} | {history.loaded_bbl(s, t, 'cpc', a, b) / 7.9e6:.2f} | "
                     f"{history.loaded_bbl(s, quiet, 'cpc', a, b) / 7.9e6:.2f} | "
                     f"{(s.production_bpd * days - shut) / 1e6:.1f} | {round(shut / 1e6, 1) + 0.0:.1f} | "
                     f"{round(moved / 1e6, 2) + 0.0:.2f} |")  # + 0.0: no -0.00
    return "\n".join(lines)


def monthly_loaded_mt(path: Path) -> tuple[list[dt.date], np.ndarray]:
    s = load_scenario(path)
    t = simulate(s)
    months = [dt.date(s.start_date.year, m, 1) for m in range(1, 13)] + [dt.date(s.start_date.year + 1, 1, 1)]
    return months[:-1], np.array([history.loaded_bbl(s, t, "cpc", a, b) for a, b in zip(months, months[1:])]) / 7.9e6


def figure() -> None:
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.6), constrained_layout=True)
    months, replay = monthly_loaded_mt(HISTORY / "2022.yaml")
    _, base = monthly_loaded_mt(HISTORY.parent / "base.yaml")
    x = np.arange(12)
    left.bar(x - 0.2, base, 0.4, color="#9ecae1", label="no incidents (base.yaml)")
    left.bar(x + 0.2, replay, 0.4, color="#08519c", label="2022 replayed (history/2022.yaml)")
    left.hlines(18.7 / 4, -0.5, 3.5, color="#d62728", linewidth=2, label="reported Jan-Apr: 18.7 Mt, per month")
    left.hlines(52.2 / 12, -0.5, 11.5, color="#d62728", linestyle="--", linewidth=1, label="reported 2022: 52.2 Mt, per month")
    left.set_xticks(x, [m.strftime("%b") for m in months])
    left.set_ylabel("Kazakh crude loaded at Novorossiysk [Mt/month]")
    left.set_title("CPC in 2022: replay vs reported", loc="left", fontsize=11)
    left.legend(frameon=False, fontsize=8, loc="upper left", ncol=2)
    left.set_ylim(0, 6.5)

    s = load_scenario(HISTORY / "2023-11-storm.yaml")
    t = simulate(s)
    days = np.linspace(20, 40, 801)
    day0 = np.datetime64(s.start_date)
    when = day0 + (days * 24 * 3600).astype("timedelta64[s]")
    idx = np.clip(np.searchsorted(t.times, days, side="right") - 1, 0, len(t.times) - 1)
    right.plot(when, t.production_bpd[idx] / 1e3, color="#2ca02c", label="production, all fields")
    right.plot(when, t.flows_bpd["cpc"][idx] / 1e3, color="#08519c", label="CPC loading at the terminal")
    tanks = right.twinx()
    tanks.plot(when, measure.level_at(t, days, "cpc/tank_farm") / 1e6, color="#4c4c4c", linestyle="--",
               label="terminal tank farm (right)")
    tanks.set_ylabel("tank farm level [million bbl]")
    tanks.set_ylim(0, 7)
    tanks.legend(frameon=False, fontsize=8, loc="upper right")
    right.axvspan(np.datetime64("2023-11-26"), np.datetime64("2023-11-29T12"), color="#d62728", alpha=0.1,
                  label="loading stopped (reported ~3-4 days)")
    right.set_ylabel("thousand bbl/day")
    right.set_ylim(0, 2000)
    right.set_title("The November 2023 storm, replayed", loc="left", fontsize=11)
    right.legend(frameon=False, fontsize=8, loc="upper left")
    right.tick_params(axis="x", labelrotation=30)
    fig.savefig(HERE / "validation.png", dpi=130)


def _between(text: str, markers: tuple[str, str], body: str) -> str:
    """``text`` with what stands between its two markers replaced by ``body``."""
    head, rest = text.split(markers[0])
    return f"{head}{markers[0]}\n{body}\n{markers[1]}{rest.split(markers[1])[1]}"


def main() -> None:
    doc = HERE / "validation.md"
    text = _between(doc.read_text(encoding="utf-8"), (BEGIN, END), table())
    doc.write_text(_between(text, FORECAST, forecast()), encoding="utf-8")
    figure()
    print(f"wrote {doc} and {HERE / 'validation.png'}")


if __name__ == "__main__":
    main()
