"""The command line as a user meets it: exit codes, files, messages."""

from __future__ import annotations

import argparse
import csv
import json
import math
import subprocess
import sys

import pytest
import yaml

from conftest import ROOT, SCENARIOS
from routesim.cli import main
from routesim.scenario.loader import load_scenario

pytestmark = pytest.mark.e2e  # every test runs the command line

SHIPPED = sorted(SCENARIOS.glob("*.yaml"))


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "routesim", *args], capture_output=True, text=True, cwd=ROOT)


def test_scenarios_are_shipped():
    names = {p.name for p in SHIPPED}
    assert {"base.yaml", "cpc-closure-30d.yaml", "cpc-closure-full-year.yaml", "trans-caspian-expansion.yaml"} <= names


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_scenario_validates_and_runs(path, tmp_path, capsys):
    assert main(["validate", str(path)]) == 0
    out = tmp_path / "out"
    reps = min(load_scenario(path).replications, 50)  # a smoke run: the risk scenario's 2,000 are for users
    assert main(["run", str(path), "--out", str(out), "-n", str(reps), "--quiet"]) == 0
    files = {p.name for p in out.iterdir()}
    assert {"summary.json", "timeseries.csv", "replications.csv", "scenario.resolved.yaml", "manifest.json",
            "flows.png", "storage.png", "revenue.png"} <= files
    chain = [path.name]
    while (parent := yaml.safe_load((SCENARIOS / chain[-1]).read_text()).get("extends")) is not None:
        chain.append(parent)
    assert chain[-1] == "base.yaml"  # every shipped scenario builds on the status quo


def test_summary_follows_the_contract(tmp_path):
    out = tmp_path / "run"
    assert main(["run", str(SCENARIOS / "cpc-closure-30d.yaml"), "--out", str(out), "-n", "3", "--no-plots",
                 "--quiet"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert {"scenario", "seed", "replications", "horizon_days", "metrics", "routes"} <= summary.keys()
    assert summary["replications"] == 3 and summary["scenario"] == "cpc-closure-30d"
    for metric in ("exported_bbl", "shut_in_bbl", "export_revenue_usd", "revenue_loss_usd",
                   "government_revenue_usd", "budget_loss_usd", "budget_loss_share"):
        assert {"mean", "std", "p1", "p5", "p10", "p50", "p90", "p95", "p99", "mean_ci95_low",
                "mean_ci95_high"} <= set(summary["metrics"][metric])
    for metric in ("revenue_loss_usd", "budget_loss_usd", "budget_loss_share", "shut_in_bbl"):
        assert {"var95", "cvar95", "prob_loss"} <= set(summary["metrics"][metric])
    assert summary["metrics"]["budget_loss_usd"]["prob_loss"] == 1.0
    for route in ("cpc", "trans_caspian"):
        assert {"exported_bbl", "availability", "days_impaired"} <= set(summary["routes"][route])
    assert summary["routes"]["cpc"]["days_impaired"]["mean"] == pytest.approx(30)
    # CPC is stopped 30 of 365 days
    assert summary["routes"]["cpc"]["availability"]["mean"] == pytest.approx(1 - 30 / 365)
    assert summary["metrics"]["budget_loss_usd"]["mean"] > 0

    with (out / "timeseries.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 365 and rows[0]["date"] == "2022-01-01" and rows[-1]["date"] == "2022-12-31"
    assert {"cpc_exported_bpd", "storage_bbl", "production_bpd", "shut_in_bpd", "export_revenue_usd",
            "revenue_loss_usd", "storage_bbl_p5", "storage_bbl_p95"} <= rows[0].keys()
    with (out / "replications.csv").open() as fh:
        reps = list(csv.DictReader(fh))
    assert [r["replication"] for r in reps] == ["0", "1", "2"]

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 7 and manifest["command"][:2] == ["routesim", "run"]
    assert {"numpy", "scipy", "simpy", "matplotlib"} <= manifest["dependencies"].keys()


def test_same_seed_gives_identical_summary(tmp_path):
    for name in ("a", "b"):
        assert main(["run", str(SCENARIOS / "cpc-closure-30d.yaml"), "--out", str(tmp_path / name), "--seed", "3",
                     "--no-plots", "--quiet"]) == 0
    assert (tmp_path / "a" / "summary.json").read_bytes() == (tmp_path / "b" / "summary.json").read_bytes()


def test_set_is_applied_and_recorded(tmp_path):
    out = tmp_path / "tc300k"
    assert main(["run", str(SCENARIOS / "base.yaml"), "--set", "routes.trans_caspian.capacity_bpd=300000",
                 "--out", str(out), "--no-plots", "--quiet"]) == 0
    resolved = yaml.safe_load((out / "scenario.resolved.yaml").read_text())
    assert resolved["routes"]["trans_caspian"]["capacity_bpd"] == 300000


BAD = {
    "typo": ("routes:\n  cpc:\n    capasity_bpd: 1\n", "routes.cpc.capasity_bpd: unknown key; did you mean capacity_bpd?"),
    "range": ("outages:\n  - {target: cpc, start_day: 1, duration_days: 2, capacity_factor: 2}\n",
              "outages[0].capacity_factor"),
    "target": ("outages:\n  - {target: nowhere, start_day: 1, duration_days: 2}\n", "outages[0].target"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_scenario_exits_2_with_the_key_path_and_writes_nothing(case, tmp_path):
    body, expected = BAD[case]
    (tmp_path / "base.yaml").write_text((SCENARIOS / "base.yaml").read_text())
    path = tmp_path / "bad.yaml"
    path.write_text("extends: base.yaml\n" + body)
    out = tmp_path / "results" / "bad"
    done = run_cli("run", str(path), "--out", str(out))
    assert done.returncode == 2
    assert expected in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "results").exists()
    done = run_cli("validate", str(path), str(SCENARIOS / "base.yaml"))
    assert done.returncode == 2 and expected in done.stderr and "ok: " in done.stdout


def test_unknown_set_path_exits_2(tmp_path):
    done = run_cli("run", str(SCENARIOS / "base.yaml"), "--set", "routes.nope.capacity_bpd=1", "--out",
                   str(tmp_path / "x"))
    assert done.returncode == 2 and "--set routes.nope.capacity_bpd: unknown path" in done.stderr
    assert not (tmp_path / "x").exists()


def test_missing_file_exits_2(tmp_path):
    done = run_cli("validate", str(tmp_path / "nope.yaml"))
    assert done.returncode == 2 and "not found" in done.stderr and "Traceback" not in done.stderr


def test_rerun_replaces_the_directory_without_mixing_files(tmp_path):
    out = tmp_path / "run"
    assert main(["run", str(SCENARIOS / "cpc-incident-risk.yaml"), "-n", "2", "--out", str(out), "--quiet"]) == 0
    assert (out / "loss_distribution.png").exists()
    assert main(["run", str(SCENARIOS / "cpc-closure-30d.yaml"), "--out", str(out), "--quiet"]) == 0
    assert not (out / "loss_distribution.png").exists()  # a stale file of the earlier run
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no temporary directories left


def test_default_output_is_results_slash_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["run", str(SCENARIOS / "base.yaml"), "--no-plots", "--quiet"]) == 0
    assert (tmp_path / "results" / "base" / "summary.json").exists()
    plain = (tmp_path / "results" / "base" / "summary.json").read_bytes()
    assert main(["run", str(SCENARIOS / "base.yaml"), "--set", "routes.trans_caspian.capacity_bpd=300000",
                 "--no-plots", "--quiet"]) == 0  # a variant gets its own folder: the plain run stays
    assert (tmp_path / "results" / "base" / "summary.json").read_bytes() == plain
    assert (tmp_path / "results" / "base+routes.trans_caspian.capacity_bpd=300000" / "summary.json").exists()
    many = [f"--set=outages=[{{target: cpc, start_day: {d}, duration_days: 1}}]" for d in range(20)]
    assert main(["run", str(SCENARIOS / "base.yaml"), *many, "--no-plots", "--quiet", "-n", "1"]) == 0
    assert len([p for p in (tmp_path / "results").iterdir() if p.name.startswith("base+set-")]) == 1


def test_help_and_console_entry_points():
    done = run_cli("--help")
    assert done.returncode == 0 and "run" in done.stdout and "validate" in done.stdout
    done = run_cli("run", "--help")
    assert done.returncode == 0 and "--set" in done.stdout and "summary.json" in done.stdout


@pytest.mark.parametrize("command", ["run", "compare", "sweep", "sensitivity"])
@pytest.mark.parametrize("flag, value", [("-n", "0"), ("--seed", "-1"), ("--workers", "0")])
def test_a_bad_flag_is_refused_in_its_own_name_not_the_file_s(command, flag, value, tmp_path):
    extra = {"sweep": ["--param", "seed=1,2"], "sensitivity": ["--vary", "seed=1:2"],
             "compare": [str(SCENARIOS / "cpc-closure-30d.yaml")]}.get(command, [])
    done = run_cli(command, str(SCENARIOS / "base.yaml"), *extra, flag, value, "--out", str(tmp_path / "o"))
    assert done.returncode == 2 and done.stderr.startswith(f"error: {flag}: must be at least"), done.stderr
    assert "base.yaml" not in done.stderr and not (tmp_path / "o").exists()


def test_the_short_flags_people_reach_for(tmp_path, capsys):
    assert main(["run", str(SCENARIOS / "cpc-closure-30d.yaml"), "-n", "2", "-j", "1", "-q", "-o", str(tmp_path / "o"),
                 "--no-plots"]) == 0
    assert capsys.readouterr().out == "" and (tmp_path / "o" / "summary.json").is_file()


def test_the_progress_bar_counts_to_the_end_and_is_silent_when_off(capsys):
    from routesim.runs.progress import Bar

    bar = Bar("risk", enabled=True, delay_s=0.0)
    for done in (1, 2, 3):
        bar(done, 3)
    bar.close()
    err = capsys.readouterr().err
    assert "risk: 100%" in err and "3/3" in err and "replications/s" in err
    off = Bar("risk", enabled=False, delay_s=0.0)
    off(1, 3)
    off.close()
    assert capsys.readouterr().err == ""


def test_the_api_shows_a_bar_when_asked(monkeypatch, capsys):
    from routesim.runs import montecarlo
    from routesim.runs.progress import Bar

    monkeypatch.setattr(montecarlo, "Bar", lambda label: Bar(label, delay_s=0.0))
    scenario = load_scenario(SCENARIOS / "cpc-incident-risk.yaml", ["replications=20"])
    montecarlo.run(scenario, progress=True, engine="simpy")
    assert "cpc-incident-risk: 100%" in capsys.readouterr().err
    montecarlo.run(scenario, engine="simpy")
    assert capsys.readouterr().err == ""


@pytest.mark.e2e
def test_progress_shows_where_stderr_is_a_pipe_and_in_compare(tmp_path):
    """A long run under nohup, in CI or in Jupyter's ``!routesim`` still reports progress; so does compare.
    A run past the bar's delay but shorter than a log's interval still ends on its line."""
    risk = str(SCENARIOS / "cpc-incident-risk.yaml")
    done = subprocess.run([sys.executable, "-m", "routesim", "run", risk, "-n", "400", "-o", str(tmp_path / "r"),
                           "--no-plots", "--engine", "simpy"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "cpc-incident-risk: 100%" in done.stderr and "400/400" in done.stderr
    done = subprocess.run([sys.executable, "-m", "routesim", "compare", risk, str(SCENARIOS / "cpc-storms.yaml"),
                           "-n", "400", "-o", str(tmp_path / "c"),
                           "--engine", "simpy"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "cpc-incident-risk: 100%" in done.stderr  # a run of under a second (cpc-storms', say) shows none
    quiet = subprocess.run([sys.executable, "-m", "routesim", "run", risk, "-n", "400", "-o", str(tmp_path / "q"),
                            "--no-plots", "-q", "--engine", "simpy"], capture_output=True, text=True, timeout=300)
    assert quiet.returncode == 0 and "100%" not in quiet.stderr


def test_a_risk_run_says_its_p95_and_json_and_summary_read_it_back(tmp_path, capsys):
    import json

    risk, out = str(SCENARIOS / "cpc-incident-risk.yaml"), tmp_path / "risk"
    assert main(["run", risk, "-n", "40", "-o", str(out), "--no-plots"]) == 0
    line = capsys.readouterr().out
    assert main(["run", risk, "-n", "40", "-o", str(out), "--no-plots", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    loss = json.loads((out / "summary.json").read_text())["metrics"]["budget_loss_usd"]
    assert doc["budget_loss_usd_p95"] == loss["p95"] and doc["prob_budget_loss"] == loss["prob_loss"]
    assert f"p95 USD {loss['p95'] / 1e9:,.2f} bn, P(loss) {loss['prob_loss']:.0%}" in line
    assert main(["summary", str(out)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].startswith("cpc-incident-risk: 40 replications") and any(r.split()[:1] == ["budget_loss_usd"]
                                                                              for r in table)
    assert main(["summary", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == json.loads((out / "summary.json").read_text())
    assert main(["summary", str(tmp_path / "none")]) == 2


def test_every_help_text_reads_as_printed():
    """argparse fills in ``%`` only in arguments' help: a description's ``%%`` would be printed as is."""
    from routesim.cli import build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    for name, command in commands.items():
        assert "%%" not in command.format_help(), name
    assert "%%" not in parser.format_help()


def test_run_prints_one_summary_line(tmp_path, capsys):
    assert main(["run", str(SCENARIOS / "cpc-closure-30d.yaml"), "--out", str(tmp_path / "o"), "--no-plots"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("cpc-closure-30d:") and "budget loss" in out[0]


def test_importing_the_plots_leaves_a_notebook_s_matplotlib_backend_alone(tmp_path):
    png = str(tmp_path / "x.png")
    code = ("import matplotlib; matplotlib.use('svg'); import routesim.outputs.plots, routesim.outputs.rundir; "
            f"from routesim.outputs.plots import Figure; Figure().savefig({png!r}); print(matplotlib.get_backend())")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "svg", done.stderr
    assert (tmp_path / "x.png").read_bytes()[:4] == b"\x89PNG"  # a PNG all the same


def test_rep_and_trace_replay_one_replication(tmp_path):
    risk = str(SCENARIOS / "cpc-incident-risk.yaml")
    assert main(["run", risk, "-n", "8", "--workers", "2", "--out", str(tmp_path / "all"), "--no-plots", "--quiet"]) == 0
    assert main(["run", risk, "--rep", "5", "--trace", "--out", str(tmp_path / "five"), "--no-plots", "--quiet"]) == 0
    with (tmp_path / "all" / "replications.csv").open() as fh:
        row5 = list(csv.DictReader(fh))[5]
    with (tmp_path / "five" / "replications.csv").open() as fh:
        (alone,) = list(csv.DictReader(fh))
    assert alone == row5
    with (tmp_path / "five" / "events.csv").open() as fh:
        events = list(csv.DictReader(fh))
    assert events and set(events[0]) == {"time_days", "date", "event", "target", "detail"}
    times = [float(e["time_days"]) for e in events]
    assert times == sorted(times)
    assert {"cargo_lifted", "tanker_sails"} <= {e["event"] for e in events}


def test_trace_of_many_replications_needs_rep(tmp_path):
    done = run_cli("run", str(SCENARIOS / "cpc-incident-risk.yaml"), "--trace", "--out", str(tmp_path / "x"))
    assert done.returncode == 2 and "--trace" in done.stderr and not (tmp_path / "x").exists()


def test_risk_run_writes_the_risk_plots(tmp_path):
    out = tmp_path / "risk"
    assert main(["run", str(SCENARIOS / "cpc-incident-risk.yaml"), "-n", "40", "--out", str(out), "--quiet"]) == 0
    assert {"loss_fan.png", "loss_exceedance.png", "loss_distribution.png"} <= {p.name for p in out.iterdir()}
    summary = json.loads((out / "summary.json").read_text())
    with (out / "replications.csv").open() as fh:
        counts = [int(row["cpc-incidents_count"]) for row in csv.DictReader(fh)]
    years = summary["horizon_days"] / 365
    rate = load_scenario(SCENARIOS / "cpc-incident-risk.yaml").incidents[0].rate_per_year.mean
    per_year = summary["incidents_per_year"]["cpc-incidents"]
    assert per_year == pytest.approx(sum(counts) / len(counts) / years, rel=1e-12)  # the replications' mean
    assert abs(per_year - rate) <= 4 * math.sqrt(rate / years / len(counts))  # Poisson counts: the scenario's rate
    assert {"var95", "cvar95", "prob_loss"} <= summary["metrics"]["budget_loss_share"].keys()


def test_calibrate_prints_a_block_that_a_scenario_accepts(tmp_path):
    done = run_cli("calibrate", "scenarios/data/cpc-incidents.csv", "--out", str(tmp_path / "cal"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("incidents:") and "rate_per_year" in done.stdout
    assert {"calibration.json", "incidents.yaml", "qq-cpc.png"} <= {p.name for p in (tmp_path / "cal").iterdir()}
    (tmp_path / "base.yaml").write_text((SCENARIOS / "base.yaml").read_text())
    (tmp_path / "fitted.yaml").write_text("extends: base.yaml\nreplications: 3\n" + done.stdout)
    assert main(["run", str(tmp_path / "fitted.yaml"), "--out", str(tmp_path / "run"), "--no-plots", "--quiet"]) == 0


def test_calibrate_fits_what_a_thin_target_allows_and_says_so(tmp_path):
    """A target with one incident, or equal durations, does not stop the calibration of the others."""
    csv = tmp_path / "thin.csv"
    csv.write_text("start_date,duration_days,capacity_factor,target\n2022-02-01,4,0,tc\n"
                   + "".join(f"2022-{m:02d}-03,{d},0,cpc\n" for m, d in zip(range(3, 9), (2, 3, 9, 1, 5, 4))))
    done = run_cli("calibrate", str(csv), "--out", str(tmp_path / "cal"))
    assert done.returncode == 0, done.stderr
    assert "name: tc-incidents" in done.stdout and "name: cpc-incidents" in done.stdout
    assert "lognormal    skipped: needs two different durations" in done.stderr
    assert "tc: only 1 incident: the duration families cannot be told apart" in done.stderr
    assert "Warning" not in done.stderr and "NaN" not in done.stderr  # scipy's own noise stays out
    (tmp_path / "base.yaml").write_text((SCENARIOS / "base.yaml").read_text())
    (tmp_path / "fitted.yaml").write_text("extends: base.yaml\nreplications: 2\n"
                                          + done.stdout.replace("target: tc", "target: trans_caspian"))
    assert main(["validate", str(tmp_path / "fitted.yaml")]) == 0


def test_calibrate_reports_bad_rows_with_exit_2(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("start_date,duration_days,capacity_factor,target\n2022-01-01,abc,0,cpc\n2022-13-01,2,0,cpc\n")
    done = run_cli("calibrate", str(bad), "--out", str(tmp_path / "cal"))
    assert done.returncode == 2 and "bad.csv:2" in done.stderr and "bad.csv:3" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "cal").exists()


def test_a_reader_that_goes_away_stops_the_output_quietly():
    """``routesim list | head -1``: no error message, the exit code of a process killed by SIGPIPE."""
    import signal
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "routesim", "list"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=ROOT)
    proc.stdout.close()  # type: ignore[union-attr]
    err = proc.stderr.read().decode()  # type: ignore[union-attr]
    assert proc.wait(timeout=60) in (0, 128 + signal.SIGPIPE), err
    assert err == ""
