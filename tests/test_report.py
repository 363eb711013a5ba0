"""The HTML report: self-contained (no network, images inline), key figures findable, text escaped, atomic."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from conftest import SCENARIOS
from routesim.cli import main
from routesim.outputs import files, report
from routesim.outputs.report import write_report

CHROMIUM = next(
    (p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")) if p),
    None,
)


class Page(HTMLParser):
    """What the tests look for in a report: attributes, images, figures and the text of data-tagged cells."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.cells: dict[tuple[str, ...], str] = {}
        self.ids: dict[str, str] = {}
        self._open: list[tuple[str, tuple[str, ...] | None, str | None, list[str]]] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.tags.append((tag, a))
        key = None
        if "data-metric" in a and "data-stat" in a:
            key = tuple(a[k] for k in ("data-route", "data-run", "data-metric", "data-stat") if k in a)
        if tag not in ("img", "meta", "br", "hr", "input", "link"):
            self._open.append((tag, key, a.get("id"), []))

    def handle_data(self, data: str) -> None:
        for _, _, _, buf in self._open:
            buf.append(data)

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            name, key, ident, buf = self._open.pop()
            text = "".join(buf).strip()
            if key is not None:
                self.cells[key] = text
            if ident is not None:
                self.ids[ident] = text
            if name == tag:
                break

    def attrs(self, tag: str) -> list[dict[str, str]]:
        return [a for t, a in self.tags if t == tag]


def run(scenario: Path, out: Path, *extra: str) -> Path:
    """``routesim run`` into ``out``; the run directory."""
    assert main(["run", str(scenario), "--out", str(out), "--quiet", *extra]) == 0
    return out


def expected(metric: str, value: float) -> str:
    """The report's number for a metric, computed independently of the module."""
    if metric.endswith("_share"):
        return f"{round(value * 100, 1) + 0.0:,.1f}"
    if metric.endswith("_bbl"):
        return f"{round(value / 1e6, 1) + 0.0:,.1f}"
    return f"{round(value / 1e9, 2) + 0.0:,.2f}"


@pytest.fixture(scope="module")
def closure_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A one-replication run with its plots and its report."""
    out = run(SCENARIOS / "cpc-closure-30d.yaml", tmp_path_factory.mktemp("closure") / "run")
    write_report(out)
    return out


@pytest.fixture(scope="module")
def risk_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ten-replication run (so with the loss distribution plots) and its report."""
    out = run(SCENARIOS / "cpc-incident-risk.yaml", tmp_path_factory.mktemp("risk") / "run", "-n", "10")
    write_report(out)
    return out


@pytest.fixture(scope="module")
def plain_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run without plots of a scenario in its own folder, whose child file extends a copy of base.yaml."""
    src = tmp_path_factory.mktemp("plain-src")
    shutil.copy(SCENARIOS / "base.yaml", src / "base.yaml")
    (src / "child.yaml").write_text(
        "# Child <comment> & its source\n"
        "name: escape-test\n"
        "description: '<script>alert(1)</script> & \"quoted\"'\n"
        "extends: base.yaml\n",
        encoding="utf-8",
    )
    out = run(src / "child.yaml", tmp_path_factory.mktemp("plain") / "run", "--no-plots")
    write_report(out)
    return out


@pytest.fixture(scope="module")
def compare_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A hand-made compare directory: compare.json as specified and one overlay plot."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    out = tmp_path_factory.mktemp("compare")
    data = {
        "runs": [
            {"name": "base", "dir": "results/base", "seed": 7, "horizon_days": 365, "replications": 100},
            {"name": "tc<300k>", "dir": "results/tc300k", "seed": 7, "horizon_days": 365, "replications": 100},
        ],
        "paired": True,
        "metrics": {
            "budget_loss_usd": [
                {"run": "base", "mean": 1.45e9, "diff": None, "ci95_low": None, "ci95_high": None},
                {"run": "tc<300k>", "mean": 0.9e9, "diff": -0.55e9, "ci95_low": -0.61e9, "ci95_high": -0.49e9},
            ],
            "exported_bbl": [
                {"run": "base", "mean": 373.7e6, "diff": None, "ci95_low": None, "ci95_high": None},
                {"run": "tc<300k>", "mean": 390.2e6, "diff": 16.5e6, "ci95_low": 15.0e6, "ci95_high": 18.0e6},
            ],
        },
        "inputs_diff": [{"key": "routes.trans_caspian.capacity_bpd", "values": [100000.0, 300000.0]}],
    }
    (out / "compare.json").write_text(json.dumps(data), encoding="utf-8")
    fig = Figure(figsize=(4, 2), dpi=50)
    fig.subplots().plot([0, 1, 2], [0, 1, 0])
    fig.savefig(out / "overlay_flows.png")
    write_report(out)
    return out


def page_of(directory: Path) -> tuple[str, Page]:
    text = (directory / "report.html").read_text(encoding="utf-8")
    return text, Page(text)


def assert_self_contained(directory: Path) -> None:
    """No network references, no scripts or links, and every PNG of the directory inline as a data URI."""
    text, page = page_of(directory)
    for _, attrs in page.tags:
        for name, value in attrs.items():
            assert not re.search(r"https?://", value), f"{name}={value[:80]!r} refers to the network"
            if name in ("src", "href", "srcset", "action", "poster", "data"):
                assert value.startswith(("data:", "#")), f"{name}={value[:80]!r} is not inline"
    assert not page.attrs("script") and not page.attrs("link") and not page.attrs("iframe")
    assert "@import" not in text and "url(" not in text
    images = page.attrs("img")
    pngs = sorted(directory.glob("*.png"))
    assert len(images) == len(pngs)
    assert all(img["src"].startswith("data:image/png;base64,") for img in images)
    assert all(img.get("alt") for img in images)


# --------------------------------------------------------------------------- run reports


# the run directories come from the command line (e2e); the compare directory is made by hand
RUN_DIRS = [pytest.param(name, marks=pytest.mark.e2e) for name in ("closure_dir", "risk_dir", "plain_dir")]


@pytest.mark.parametrize("fixture", [*RUN_DIRS, "compare_dir"])
def test_report_is_self_contained(fixture: str, request: pytest.FixtureRequest) -> None:
    directory = request.getfixturevalue(fixture)
    assert (directory / "report.html").is_file()
    assert_self_contained(directory)
    assert not list(directory.glob(".report.html.*")), "temporary file left behind"


@pytest.mark.e2e
def test_write_report_returns_the_path_and_accepts_str(closure_dir: Path) -> None:
    path = write_report(str(closure_dir))
    assert path == closure_dir / "report.html" and path.is_file()


@pytest.mark.e2e
@pytest.mark.parametrize("fixture", ["closure_dir", "risk_dir"])
def test_key_figures_match_summary(fixture: str, request: pytest.FixtureRequest) -> None:
    directory = request.getfixturevalue(fixture)
    summary = json.loads((directory / "summary.json").read_text())
    _, page = page_of(directory)
    for metric, _ in report.KEY_METRICS:
        for stat in ("mean", "p5", "p50", "p95"):
            value = summary["metrics"][metric][stat]
            assert page.cells[(metric, stat)] == expected(metric, value), (metric, stat)
    budget = summary["metrics"]["budget_loss_usd"]["mean"]
    assert page.cells[("budget_loss_usd", "mean")] == f"{budget / 1e9:,.2f}"
    assert budget > 1e8, "the scenarios used here lose budget revenue"


@pytest.mark.e2e
def test_key_figures_units_and_risk_line(risk_dir: Path) -> None:
    text, page = page_of(risk_dir)
    summary = json.loads((risk_dir / "summary.json").read_text())
    for label in ("Exported (M bbl)", "Budget loss (USD bn)", "Budget loss share of the annual budget (%)"):
        assert html.escape(label) in text
    loss = summary["metrics"]["budget_loss_usd"]
    assert page.cells[("budget_loss_usd", "var95")] == expected("budget_loss_usd", loss["var95"])
    assert page.cells[("budget_loss_usd", "prob_loss")] == f"{loss['prob_loss'] * 100:.0f} %"


@pytest.mark.e2e
def test_routes_table(risk_dir: Path) -> None:
    summary = json.loads((risk_dir / "summary.json").read_text())
    _, page = page_of(risk_dir)
    for route, stats in summary["routes"].items():
        assert page.cells[(route, "exported_bbl", "mean")] == expected("exported_bbl", stats["exported_bbl"]["mean"])
        assert page.cells[(route, "availability", "mean")] == f"{stats['availability']['mean'] * 100:.1f} %"
        assert page.cells[(route, "days_impaired", "mean")] == f"{stats['days_impaired']['mean']:,.1f}"


@pytest.mark.e2e
def test_every_plot_is_shown_with_a_caption(risk_dir: Path) -> None:
    _, page = page_of(risk_dir)
    stems = {p.stem for p in risk_dir.glob("*.png")}
    assert {"flows", "storage", "revenue", "loss_distribution", "loss_fan", "loss_exceedance"} <= stems
    figures = {a["id"] for a in page.attrs("figure")}
    assert figures == {f"plot-{s}" for s in stems}
    for stem in stems:
        assert report.PLOT_CAPTIONS.get(stem, "") in page.ids[f"plot-{stem}"]


@pytest.mark.e2e
def test_title_description_resolved_sources_and_provenance(closure_dir: Path) -> None:
    text, page = page_of(closure_dir)
    manifest = json.loads((closure_dir / "manifest.json").read_text())
    assert page.ids["scenario-name"] == "cpc-closure-30d"
    assert page.ids["description"].startswith("CPC fully stopped for 30 days")
    assert "<title>routesim report: cpc-closure-30d</title>" in text
    resolved = (closure_dir / "scenario.resolved.yaml").read_text()
    assert html.escape(resolved) in text
    # the scenario file and the file it extends, with their comments
    for name in ("cpc-closure-30d.yaml", "base.yaml"):
        source = (SCENARIOS / name).read_text()
        assert html.escape(source) in text, name
        assert f'data-file="{name}"' in text
    assert html.escape("# Status quo of Kazakhstan's crude export routes") in text
    prov = {a["data-provenance"] for a in page.attrs("td") if "data-provenance" in a}
    assert {"scenario_sha256", "seed", "command", "dependencies", "git_commit"} <= prov
    assert manifest["scenario_sha256"] in text


@pytest.mark.e2e
def test_text_is_escaped(plain_dir: Path) -> None:
    text, page = page_of(plain_dir)
    assert "<script>" not in text
    assert html.escape("<script>alert(1)</script> & \"quoted\"") in text
    assert page.ids["description"] == '<script>alert(1)</script> & "quoted"'
    assert html.escape("# Child <comment> & its source") in text
    assert "No plots in this directory" in text


def copy_with_manifest(src: Path, dst: Path, scenario_file: str) -> Path:
    """A copy of a run directory whose manifest names another scenario file."""
    shutil.copytree(src, dst)
    manifest = json.loads((dst / "manifest.json").read_text())
    manifest["scenario_file"] = scenario_file
    (dst / "manifest.json").write_text(json.dumps(manifest))
    return dst


@pytest.mark.e2e
def test_missing_parent_is_skipped(plain_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "child.yaml").write_text("# only child\nname: x\nextends: gone/parent.yaml\n")
    out = copy_with_manifest(plain_dir, tmp_path / "run", str(tmp_path / "child.yaml"))
    text, page = page_of(Path(write_report(out)).parent)
    assert "# only child" in text
    assert "not found" in page.ids["sources-problem"] and "gone/parent.yaml" in page.ids["sources-problem"]


@pytest.mark.e2e
def test_missing_scenario_file_is_skipped(plain_dir: Path, tmp_path: Path) -> None:
    out = copy_with_manifest(plain_dir, tmp_path / "run", "nowhere/missing.yaml")
    _, page = page_of(write_report(out).parent)
    assert "missing.yaml" in page.ids["sources-missing"]
    assert "escape-test" in page.ids["scenario-name"]


@pytest.mark.e2e
def test_extends_cycle_terminates(plain_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("# file a\nextends: b.yaml\n")
    (tmp_path / "b.yaml").write_text("# file b\nextends: a.yaml\n")
    out = copy_with_manifest(plain_dir, tmp_path / "run", str(tmp_path / "a.yaml"))
    text, page = page_of(write_report(out).parent)
    assert text.count("# file a") == 1 and text.count("# file b") == 1
    assert "cycle a.yaml -> b.yaml -> a.yaml" in page.ids["sources-problem"]


@pytest.mark.e2e
def test_relative_scenario_file_found_from_an_ancestor(plain_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "scen").mkdir()
    (tmp_path / "scen" / "rel.yaml").write_text("# relative file\nname: rel\n")
    out = copy_with_manifest(plain_dir, tmp_path / "results" / "rel", "scen/rel.yaml")
    text, _ = page_of(write_report(out).parent)
    assert "# relative file" in text


@pytest.mark.e2e
def test_write_is_atomic(plain_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = shutil.copytree(plain_dir, tmp_path / "run")
    (out / "report.html").write_text("old report")

    def fail(*_: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(files.os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        write_report(out)
    assert (out / "report.html").read_text() == "old report"
    assert not list(out.glob(".report.*")), "temporary file left behind"
    monkeypatch.undo()
    write_report(out)
    assert (out / "report.html").read_text().startswith("<!DOCTYPE html>")
    umask = os.umask(0)
    os.umask(umask)
    assert oct((out / "report.html").stat().st_mode & 0o777) == oct(0o666 & ~umask)  # as open() would make it


def test_unknown_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"summary\.json"):
        write_report(tmp_path)
    assert not (tmp_path / "report.html").exists()


def test_format_value() -> None:
    assert report.format_value("budget_loss_usd", 1_453_976_108.46) == "1.45"
    assert report.format_value("exported_bbl", 386_600_000) == "386.6"
    assert report.format_value("budget_loss_share", 0.0291) == "2.9"
    assert report.format_value("shut_in_bbl", -3e-8) == "0.0"
    assert report.format_value("budget_loss_usd", -0.55e9, signed=True) == "-0.55"
    assert report.format_value("budget_loss_usd", None) == "–"


# --------------------------------------------------------------------------- compare reports


def test_compare_report(compare_dir: Path) -> None:
    text, page = page_of(compare_dir)
    assert page.ids["title"] == "Comparison: base vs tc<300k>"
    assert "tc&lt;300k&gt;" in text and "tc<300k>" not in text
    runs = [a["data-run"] for a in page.attrs("tr") if "data-run" in a]
    assert runs == ["base", "tc<300k>"]
    cells = {a["data-run"]: a for a in page.attrs("td") if a.get("data-key") == "routes.trans_caspian.capacity_bpd"}
    assert set(cells) == {"base", "tc<300k>"}
    assert "300000.0" in text and "100000.0" in text
    c = page.cells
    assert c[("base", "budget_loss_usd", "mean")] == "1.45"
    assert c[("base", "budget_loss_usd", "diff")] == "reference"
    assert c[("tc<300k>", "budget_loss_usd", "mean")] == "0.90"
    assert c[("tc<300k>", "budget_loss_usd", "diff")] == "-0.55"
    assert c[("tc<300k>", "budget_loss_usd", "ci95")] == "-0.61 to -0.49"
    assert c[("tc<300k>", "exported_bbl", "diff")] == "+16.5"
    assert c[("tc<300k>", "exported_bbl", "ci95")] == "+15.0 to +18.0"
    assert "Budget loss (USD bn)" in text and "Exported (M bbl)" in text
    assert [a["id"] for a in page.attrs("figure")] == ["plot-overlay_flows"]


def test_compare_report_opens_on_what_it_found(compare_dir: Path) -> None:
    _, page = page_of(compare_dir)
    assert page.ids["finding"] == ("Against base: tc<300k> has a mean budget loss USD 0.55 bn below base's "
                                   "(95 % CI -0.61 to -0.49 bn).")


def test_compare_sentence_says_when_a_change_is_within_the_noise() -> None:
    entry = {"run": "b", "mean": 1.0e9, "diff": 0.02e9, "ci95_low": -0.01e9, "ci95_high": 0.05e9}
    text = report.compare_sentence({"budget_loss_usd": [{"run": "a", "diff": None}, entry]}, ["a", "b"])
    assert text == "Against a: b has a mean budget loss USD 0.02 bn above a's (within the Monte Carlo noise)."
    same = report.compare_sentence({"budget_loss_usd": [{"run": "a", "diff": None}, {**entry, "diff": 0.0,
                                    "ci95_low": 0.0, "ci95_high": 0.0}]}, ["a", "b"])
    assert same == "Against a: b has the same mean budget loss as a."


# --------------------------------------------------------------------------- the opening sentence of a run


@pytest.mark.e2e
def test_run_report_opens_on_what_it_found(closure_dir: Path, risk_dir: Path) -> None:
    one = json.loads((closure_dir / "summary.json").read_text(encoding="utf-8"))["metrics"]
    _, page = page_of(closure_dir)
    assert page.ids["finding"] == (
        f"Over the 365-day horizon, the disruptions shut in {expected('shut_in_bbl', one['shut_in_bbl']['mean'])} "
        f"M bbl of oil and cost the state budget USD {expected('budget_loss_usd', one['budget_loss_usd']['mean'])} "
        f"bn, {expected('budget_loss_share', one['budget_loss_share']['mean'])} % of its annual revenue.")
    risk = json.loads((risk_dir / "summary.json").read_text(encoding="utf-8"))["metrics"]["budget_loss_usd"]
    _, page = page_of(risk_dir)
    finding = page.ids["finding"]
    assert finding.startswith(f"Across 10 replications (a loss in {risk['prob_loss'] * 100:.0f} % of them)")
    assert f"loses USD {expected('budget_loss_usd', risk['mean'])} bn on average" in finding
    assert finding.endswith(f"in 1 replication in 20 it loses USD {expected('budget_loss_usd', risk['p95'])} bn "
                            "or more.")


@pytest.mark.e2e
def test_set_shows_in_the_summary_the_report_and_the_result_line(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    setting = "routes.trans_caspian.tankers=8"
    assert main(["run", str(SCENARIOS / "cpc-closure-30d.yaml"), "--set", setting, "-o", str(tmp_path / "r"),
                 "--no-plots"]) == 0
    assert f"cpc-closure-30d (--set {setting}): 1 replication" in capsys.readouterr().out
    summary = json.loads((tmp_path / "r" / "summary.json").read_text(encoding="utf-8"))
    assert summary["scenario"] == "cpc-closure-30d" and summary["settings"] == [setting]
    write_report(tmp_path / "r")
    _, page = page_of(tmp_path / "r")
    assert setting in page.ids["settings"]
    assert main(["summary", str(tmp_path / "r")]) == 0
    assert capsys.readouterr().out.startswith(f"cpc-closure-30d (--set {setting}): 1 replication,")


def test_a_summary_written_before_settings_reads_as_none(closure_summary: dict[str, Any]) -> None:
    from routesim.results.summary import RunSummary

    old = {k: v for k, v in closure_summary.items() if k != "settings"}
    assert RunSummary.from_json(old, "summary.json").settings == ()


@pytest.fixture(scope="module")
def closure_summary() -> dict[str, Any]:
    """A summary.json document of a short run, made through the API."""
    from routesim.runs.montecarlo import run as run_replications
    from routesim.scenario.loader import load_scenario

    result = run_replications(load_scenario(SCENARIOS / "cpc-closure-30d.yaml"), engine="simpy")
    return result.summary().to_json()


@pytest.mark.e2e
def test_no_absolute_local_path_in_a_report(tmp_path: Path) -> None:
    src = tmp_path / "work" / "scenarios"
    src.mkdir(parents=True)
    shutil.copy(SCENARIOS / "base.yaml", src / "base.yaml")
    (src / "child.yaml").write_text("name: child\nextends: base.yaml\n", encoding="utf-8")
    out = tmp_path / "work" / "results" / "child"
    run(src / "child.yaml", out.resolve(), "--no-plots")  # absolute paths on the command line
    text, _ = page_of(write_report(out).parent)
    assert str(tmp_path) not in text
    assert "../../scenarios/child.yaml" in text  # the scenario file, from the report's folder


@pytest.mark.e2e
def test_make_up_shows_per_producer_in_the_report_and_summary(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    out = run(SCENARIOS / "cpc-closure-30d-makeup.yaml", tmp_path / "m", "--no-plots")
    own = json.loads((out / "summary.json").read_text(encoding="utf-8"))["producers"]["kazakhstan"]
    assert own["recovered_bbl"]["mean"] > 0
    _, page = page_of(write_report(out).parent)
    made_up = [a for a in page.attrs("td") if a.get("data-producer") == "kazakhstan"
               and a.get("data-metric") == "recovered_bbl"]
    assert len(made_up) == 1
    text = (out / "report.html").read_text(encoding="utf-8")
    assert f'data-metric="recovered_bbl" data-stat="mean">{expected("recovered_bbl", own["recovered_bbl"]["mean"])}<' in text
    assert main(["summary", str(out)]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.strip().startswith("kazakhstan:"))
    assert f"made up {own['recovered_bbl']['mean'] / 1e6:,.1f}" in line
    assert f", {expected('recovered_bbl', own['recovered_bbl']['mean'])} M bbl of it made up later" in page.ids["finding"]


# --------------------------------------------------------------------------- sweep and sensitivity reports


@pytest.fixture
def sweep_dir(tmp_path: Path) -> Path:
    """A hand-made sweep directory: sweep.json and sweep.csv as a sweep of one outage's length writes them."""
    key = "outages[0].duration_days"
    (tmp_path / "sweep.json").write_text(json.dumps({"scenarios": ["s"], "params": [{"key": key,
                                                                                      "values": [10, 35, 60]}]}))
    header = ["scenario", key, "run_dir", "reused", *(f"{m}_{st}" for m in ("budget_loss_usd", "budget_loss_share")
                                                       for st in ("mean", "mean_ci95_low", "mean_ci95_high"))]
    lines = [",".join(header)]
    for i, (days, loss) in enumerate([(10, 0.45e9), (35, 1.30e9), (60, 2.20e9)]):
        lines.append(f"s,{days},s/p{i:03d},False,{loss},{loss - 1e7},{loss + 1e7},{loss / 5e10},0,0")
    (tmp_path / "sweep.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tmp_path


def test_sweep_report(sweep_dir: Path) -> None:
    assert main(["report", str(sweep_dir)]) == 0
    text, page = page_of(sweep_dir)
    assert page.ids["finding"] == ("Over 3 runs of the grid, the mean budget loss runs from USD 0.45 bn (length of "
                                   "the first outage 10 days) to USD 2.20 bn (length of the first outage 60 days).")
    assert page.ids["title"] == "Sweep: s"
    means = re.findall(r'data-metric="budget_loss_usd" data-stat="mean">([^<]*)<', text)
    assert means == ["0.45", "1.30", "2.20"]
    assert "s/p001" in text and "Length of the first outage [days]" in text


@pytest.fixture
def sensitivity_dir(tmp_path: Path) -> Path:
    """A hand-made sensitivity directory with one-at-a-time rows and Sobol indices."""
    rows = [{"key": "outages[0].duration_days", "low_value": 10, "high_value": 60, "metric_at_low": 0.4e9,
             "metric_at_high": 2.2e9, "swing": 1.8e9},
            {"key": "routes.trans_caspian.tankers", "low_value": 2, "high_value": 6, "metric_at_low": 1.2e9,
             "metric_at_high": 1.1e9, "swing": 0.1e9}]
    sobol = {"samples": 8, "evaluations": 32, "rows": [
        {"key": r["key"], **{f"{o}{b}": v for o in ("first_order", "total_order")
                             for b, v in (("", 0.5), ("_ci95_low", 0.25), ("_ci95_high", 0.75))}} for r in rows]}
    data = {"scenario": "s", "metric": "budget_loss_usd", "one_at_a_time": {"base": 1.15e9, "rows": rows},
            "sobol": sobol}
    (tmp_path / "sensitivity.json").write_text(json.dumps(data), encoding="utf-8")
    return tmp_path


def test_sensitivity_report(sensitivity_dir: Path) -> None:
    assert main(["report", str(sensitivity_dir)]) == 0
    text, page = page_of(sensitivity_dir)
    assert page.ids["finding"] == ("Of the 2 keys varied, length of the first outage moves the budget loss most: "
                                   "USD 0.40 bn at 10 days and USD 2.20 bn at 60 days; USD 1.15 bn at the "
                                   "scenario's own values.")
    assert "Trans-Caspian tankers [count]" in text
    assert "0.50 (0.25 – 0.75)" in text  # a Sobol index with its interval


def test_report_of_a_folder_that_is_none_of_them(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "not a run, compare, sweep, sensitivity or appraisal directory" in err and "sweep.csv" in err
    assert not (tmp_path / "report.html").exists()


# --------------------------------------------------------------------------- in a real browser

CHECK = """<script>
window.addEventListener("load", function () {
  var imgs = document.images, ok = 0;
  for (var i = 0; i < imgs.length; i++) { if (imgs[i].complete && imgs[i].naturalWidth > 0) { ok++; } }
  var div = document.createElement("div");
  div.id = "image-check";
  div.textContent = "loaded=" + ok + " total=" + imgs.length;
  document.body.appendChild(div);
});
</script>
"""


def render(report_path: Path, tmp_path: Path) -> str:
    """The DOM of the report after load in headless Chromium, with an image check appended."""
    text = report_path.read_text(encoding="utf-8")
    # The report forbids all scripts; let only the test's inline check run (images stay data: only).
    text = text.replace(report.CSP, report.CSP + "; script-src 'unsafe-inline'")
    page = tmp_path / "page.html"
    page.write_text(text.replace("</body>", CHECK + "</body>"), encoding="utf-8")
    cmd = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=10000",
        "--dump-dom", page.as_uri(),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env={**os.environ, "HOME": str(tmp_path)})
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.e2e
@pytest.mark.skipif(CHROMIUM is None, reason="no chromium, chromium-browser or google-chrome binary on PATH")
@pytest.mark.parametrize("fixture", ["risk_dir", "compare_dir"])
def test_report_renders_in_chromium(fixture: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    directory = request.getfixturevalue(fixture)
    dom = render(directory / "report.html", tmp_path)
    found = re.search(r'<div id="image-check">loaded=(\d+) total=(\d+)</div>', dom)
    assert found, "the image check did not run: " + dom[-500:]
    loaded, total = map(int, found.groups())
    assert loaded == total == len(list(directory.glob("*.png"))) > 0
    cells = Page(dom).cells
    if fixture == "risk_dir":
        summary = json.loads((directory / "summary.json").read_text())
        for metric in ("budget_loss_usd", "exported_bbl", "budget_loss_share"):
            assert cells[(metric, "mean")] == expected(metric, summary["metrics"][metric]["mean"])
    else:
        assert cells[("tc<300k>", "budget_loss_usd", "diff")] == "-0.55"
