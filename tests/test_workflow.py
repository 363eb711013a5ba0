"""The analyst's workflow: sweep, compare, sensitivity, list, show, schema."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest
import yaml

from conftest import SCENARIOS
from routesim.analysis import sensitivity, sweep
from routesim.cli import main
from routesim.errors import ScenarioError
from test_robustness import cli

SHORT = ["--set", "horizon_days=120", "--quiet"]


def test_param_specs():
    assert sweep.parse_param("a.b=0:180:4").values == (0, 60, 120, 180)
    assert sweep.parse_param("a=0.5:1.5:3").values == (0.5, 1.0, 1.5)
    assert sweep.parse_param("routes.x.kind=pipeline,tanker_shuttle").values == ("pipeline", "tanker_shuttle")
    with pytest.raises(ScenarioError):
        sweep.parse_param("a=1:2")
    with pytest.raises(ScenarioError):
        sweep.parse_param("a=1:2:0")
    with pytest.raises(ScenarioError, match=r"^--param a.b:1: invalid YAML"):  # through the loader's guarded parser
        sweep.parse_param("a.b=1,[2")


def _rows(path):
    with path.open() as fh:
        return list(csv.DictReader(fh))


@pytest.mark.e2e
def test_sweep_runs_each_point_once_and_resumes(tmp_path):
    out = tmp_path / "sw"
    args = ["sweep", str(SCENARIOS / "cpc-closure-30d.yaml"), "--param", "outages[0].duration_days=0:60:3",
            "--out", str(out), *SHORT]
    assert main(args) == 0
    rows = _rows(out / "sweep.csv")
    assert [float(r["outages[0].duration_days"]) for r in rows] == [0, 30, 60]
    assert [r["reused"] for r in rows] == ["False"] * 3
    losses = [float(r["budget_loss_usd_mean"]) for r in rows]
    assert losses[0] == 0 and losses[0] < losses[1] < losses[2]
    assert (out / "sweep_budget_loss_usd.png").exists()
    for r in rows:  # each point is a full run directory with the value applied
        resolved = yaml.safe_load((out / r["run_dir"] / "scenario.resolved.yaml").read_text())
        assert resolved["outages"][0]["duration_days"] == float(r["outages[0].duration_days"])
    assert main(args) == 0
    assert [r["reused"] for r in _rows(out / "sweep.csv")] == ["True"] * 3
    assert main([*args, "--set", "market.brent_usd_per_bbl=70"]) == 0  # other inputs: run again
    assert [r["reused"] for r in _rows(out / "sweep.csv")] == ["False"] * 3


@pytest.mark.e2e
def test_two_dimensional_sweep_draws_heatmaps(tmp_path):
    out = tmp_path / "sw2"
    assert main(["sweep", str(SCENARIOS / "cpc-closure-30d.yaml"), "--param", "outages[0].duration_days=10,40",
                 "--param", "routes.trans_caspian.tankers=3,6", "--out", str(out), *SHORT]) == 0
    assert len(_rows(out / "sweep.csv")) == 4
    assert (out / "heatmap_cpc-closure-30d_budget_loss_share.png").exists()


@pytest.mark.e2e
def test_sweep_refuses_bad_input_before_running(tmp_path):
    code, err = cli("sweep", str(SCENARIOS / "base.yaml"), "--param", "routes.cpc.capasity_bpd=1,2",
                    "--out", str(tmp_path / "x"))
    assert code == 2 and "did you mean capacity_bpd" in err and not (tmp_path / "x").exists()


@pytest.mark.e2e
def test_sweep_checks_every_point_first_and_names_the_bad_ones(tmp_path):
    out = tmp_path / "bad"
    code, err = cli("sweep", str(SCENARIOS / "cpc-closure-30d.yaml"), "--param", "outages[0].duration_days=10:-10:3",
                    "--out", str(out))
    assert code == 2 and err.startswith("error: p002: outages[0].duration_days=-10: outages[0].duration_days: ")
    assert "p000" not in err and "p001" not in err and not out.exists()  # nothing written, not even p000/
    code, err = cli("sweep", str(SCENARIOS / "base.yaml"), "--param", "routes.trans_caspian.tankers=1:5:4",
                    "--out", str(out))
    assert code == 2 and [line.split(": ")[1] for line in err.splitlines()] == ["p001", "p002"] and not out.exists()


@pytest.mark.e2e
def test_sweep_says_its_size_refuses_a_large_one_and_another_sweep_s_folder(tmp_path, capsys):
    out, closure = tmp_path / "sw", str(SCENARIOS / "cpc-closure-30d.yaml")
    assert main(["sweep", closure, "--param", "outages[0].duration_days=10,20", "--out", str(out), "--no-plots"]) == 0
    assert "sweep: 2 runs, 2 replications, about " in capsys.readouterr().err
    code, err = cli("sweep", closure, "--param", "outages[0].duration_days=5,20", "--out", str(out))
    assert code == 2 and "holds the points of another sweep" in err
    assert sorted(p.name for p in (out / "cpc-closure-30d").iterdir()) == ["p000", "p001"]  # its points are kept
    code, err = cli("sweep", closure, "--param", "outages[0].duration_days=0:100:501", "--out", str(tmp_path / "big"))
    assert code == 2 and err.startswith("error: --yes: this sweep is large (501 runs") and not (tmp_path / "big").exists()


@pytest.mark.e2e
def test_sweeps_of_other_keys_get_folders_of_their_own_by_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    closure = str(SCENARIOS / "cpc-closure-30d.yaml")
    assert main(["sweep", closure, "--param", "outages[0].duration_days=10,20", "--no-plots", *SHORT]) == 0
    assert main(["sweep", closure, "--param", "routes.trans_caspian.tankers=3,6", "--no-plots", *SHORT]) == 0
    assert sorted(p.name for p in (tmp_path / "results").iterdir()) == [
        "sweep-cpc-closure-30d+outages.0.duration_days", "sweep-cpc-closure-30d+routes.trans_caspian.tankers"]
    code, err = cli("sweep", closure, "--param", "routes.trans_caspian.tankers=3,6", "--out",
                    str(tmp_path / "results" / "sweep-cpc-closure-30d+outages.0.duration_days"))
    assert code == 2 and "holds the points of another sweep" in err  # an explicit --out is still refused


@pytest.mark.e2e
def test_an_interrupted_sweep_says_its_finished_points_are_kept(tmp_path, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(sweep, "sweep", interrupted)
    code, err = cli("sweep", str(SCENARIOS / "cpc-closure-30d.yaml"), "--param", "outages[0].duration_days=10,20",
                    "--out", str(tmp_path / "sw"))
    assert code == 130 and "the points that finished are kept" in err and "no result was written" not in err


def _risk_run(tmp_path, name, *extra):
    out = tmp_path / name
    assert main(["run", str(SCENARIOS / "cpc-incident-risk.yaml"), "-n", "40", "--no-plots", "--quiet",
                 "--out", str(out), *extra]) == 0
    return out


@pytest.mark.e2e
def test_compare_pairs_replications_and_diffs_inputs(tmp_path):
    a = _risk_run(tmp_path, "a")
    b = _risk_run(tmp_path, "b", "--set", "routes.trans_caspian.tankers=8")
    out = tmp_path / "cmp"
    assert main(["compare", str(a), str(b), "--out", str(out), "--quiet"]) == 0
    doc = json.loads((out / "compare.json").read_text())
    assert doc["paired"] is True
    assert doc["inputs_diff"] == [{"key": "routes.trans_caspian.tankers", "values": [3, 8]}]
    ra, rb = _rows(a / "replications.csv"), _rows(b / "replications.csv")
    d = np.array([float(y["budget_loss_usd"]) - float(x["budget_loss_usd"]) for x, y in zip(ra, rb)])
    row = doc["metrics"]["budget_loss_usd"][1]
    half = 1.959963984540054 * d.std(ddof=1) / math.sqrt(len(d))
    assert row["diff"] == pytest.approx(d.mean()) and row["ci95_high"] == pytest.approx(d.mean() + half)
    assert row["diff"] < 0  # more tankers, less loss, with the same incidents
    for stem in ("flows", "loss_fan", "loss_exceedance", "budget_loss_share"):
        assert (out / f"overlay_{stem}.png").exists() and (out / f"overlay_{stem}.csv").exists()


@pytest.mark.e2e
def test_compare_refuses_unpaired_runs_unless_told(tmp_path):
    a = _risk_run(tmp_path, "a")
    c = _risk_run(tmp_path, "c", "--seed", "3")
    code, err = cli("compare", str(a), str(c), "--out", str(tmp_path / "cmp"))
    assert code == 2 and "--unpaired" in err and not (tmp_path / "cmp").exists()
    assert cli("compare", str(a), str(c), "--unpaired", "--out", str(tmp_path / "cmp"), "--quiet")[0] == 0
    assert json.loads((tmp_path / "cmp" / "compare.json").read_text())["paired"] is False


@pytest.mark.e2e
def test_compare_runs_scenario_files_with_one_seed(tmp_path):
    out = tmp_path / "cmp"
    assert main(["compare", str(SCENARIOS / "cpc-closure-30d.yaml"), str(SCENARIOS / "trans-caspian-expansion.yaml"),
                 "--out", str(out), *SHORT]) == 0
    doc = json.loads((out / "compare.json").read_text())
    assert [r["name"] for r in doc["runs"]] == ["cpc-closure-30d", "trans-caspian-expansion"]
    assert {d["key"] for d in doc["inputs_diff"]} == {"routes.trans_caspian.capacity_bpd",
                                                     "routes.trans_caspian.tankers", "routes.trans_caspian.load_berths"}


def test_sobol_indices_of_a_known_function():
    """f = x1 + 2 x2, x uniform on [0, 1]: first-order = total = 1/5 and 4/5, x3 has none."""
    ranges = [sensitivity.Range(k, 0.0, 1.0, False) for k in ("x1", "x2", "x3")]
    result = sensitivity.sobol(ranges, lambda v: v["x1"] + 2 * v["x2"], samples=2048, seed=1)
    got = {r["key"]: r for r in result["rows"]}
    for key, expected in (("x1", 0.2), ("x2", 0.8), ("x3", 0.0)):
        assert got[key]["first_order"] == pytest.approx(expected, abs=0.05)
        assert got[key]["total_order"] == pytest.approx(expected, abs=0.05)
        for order in ("first_order", "total_order"):  # each interval is the one of its own estimate
            assert got[key][f"{order}_ci95_low"] <= got[key][order] <= got[key][f"{order}_ci95_high"]


@pytest.mark.e2e
def test_sensitivity_tornado_ranks_the_widest_swing_first(tmp_path):
    out = tmp_path / "sens"
    assert main(["sensitivity", str(SCENARIOS / "cpc-closure-30d.yaml"), "--vary", "outages[0].duration_days=10:60",
                 "--vary", "routes.trans_caspian.tankers=3:6", "--out", str(out), *SHORT]) == 0
    doc = json.loads((out / "sensitivity.json").read_text())
    rows = doc["one_at_a_time"]["rows"]
    assert rows[0]["key"] == "outages[0].duration_days" and rows[0]["swing"] >= rows[1]["swing"]
    assert (out / "tornado.png").exists()
    code, err = cli("sensitivity", str(SCENARIOS / "base.yaml"), "--vary", "routes.nope=1:2", "--out", str(tmp_path / "n"))
    assert code == 2 and "not a key" in err


@pytest.mark.e2e
def test_list_show_schema(tmp_path, capsys):
    assert main(["list", str(SCENARIOS)]) == 0
    listing = capsys.readouterr().out
    assert "cpc-closure-30d.yaml" in listing and "base.yaml" in listing
    assert main(["show", str(SCENARIOS / "cpc-closure-30d.yaml"), "--set", "outages.0.duration_days=45"]) == 0
    shown = capsys.readouterr().out.splitlines()
    line = next(x for x in shown if x.startswith("outages[0].duration_days"))
    assert "45" in line and line.endswith("# --set")
    assert next(x for x in shown if x.startswith("routes.cpc.capacity_bpd")).endswith("# base.yaml")
    assert next(x for x in shown if x.startswith("fiscal.taxes")).endswith("# default")
    assert main(["schema", "--out", str(tmp_path / "s.json")]) == 0
    schema = json.loads((tmp_path / "s.json").read_text())
    assert {"routes", "producers", "outages", "incidents", "extends"} <= schema["properties"].keys()
    assert "name" not in schema.get("required", [])


def test_list_and_validate_skip_what_routesim_wrote_and_agree_on_a_folder(tmp_path, capsys):
    folder = tmp_path / "work"
    (folder / "mine").mkdir(parents=True)
    (folder / "base.yaml").write_text((SCENARIOS / "base.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "mine" / "child.yaml").write_text("name: child\nextends: ../base.yaml\n", encoding="utf-8")
    for written in ("results/base", "results/sweep/base/p000", ".hidden"):  # a run, a sweep's point, a hidden one
        (folder / written).mkdir(parents=True)
        (folder / written / "scenario.resolved.yaml").write_text("name: resolved\n", encoding="utf-8")
    for marked in ("results/base", "results/sweep"):
        (folder / marked / ".routesim").write_text("written by routesim\n", encoding="utf-8")
    assert main(["list", str(folder)]) == 0
    rows = [line.split()[0] for line in capsys.readouterr().out.splitlines()[1:]]
    assert rows == ["base.yaml", "mine/child.yaml"]
    assert main(["validate", str(folder)]) == 0
    out = capsys.readouterr().out
    assert out.count("ok: ") == 2 and "resolved" not in out
    empty = tmp_path / "empty"
    empty.mkdir()
    code, err = cli("validate", str(empty))
    assert code == 2 and err.strip() == f"error: {empty}: no scenario files"


@pytest.mark.e2e
def test_sensitivity_with_sobol_from_the_command_line(tmp_path):
    out = tmp_path / "sobol"
    assert main(["sensitivity", str(SCENARIOS / "cpc-closure-30d.yaml"), "--vary", "market.brent_usd_per_bbl=60:120",
                 "--vary", "outages.0.duration_days=10:60", "--sobol", "--samples", "8", "--out", str(out), *SHORT]) == 0
    doc = json.loads((out / "sensitivity.json").read_text())
    assert doc["sobol"]["evaluations"] == 8 * 4 and len(doc["sobol"]["rows"]) == 2
    assert (out / "sobol.png").exists() and (out / "sobol.csv").exists()


@pytest.mark.e2e
def test_sobol_of_one_key_is_refused_before_anything_runs(tmp_path):
    out = tmp_path / "one"
    code, err = cli("sensitivity", str(SCENARIOS / "cpc-closure-30d.yaml"), "--vary", "outages[0].duration_days=10:60",
                    "--sobol", "--out", str(out))
    assert code == 2 and err.startswith("error: --sobol: needs two or more --vary keys") and "Traceback" not in err
    assert not out.exists()


def test_float_settings_read_back_as_numbers():
    assert sweep.setting("a", 1e-05) == "a=1.0e-05" and sweep.setting("a", 2.5) == "a=2.5"
    assert yaml.safe_load(sweep.setting("a", 1e-05).partition("=")[2]) == 1e-05
    assert yaml.safe_load(sweep.setting("a", 3e20).partition("=")[2]) == 3e20


@pytest.mark.e2e
def test_scenarios_that_share_a_name_keep_their_own_runs(tmp_path):
    (tmp_path / "base.yaml").write_text((SCENARIOS / "base.yaml").read_text())
    variant = tmp_path / "cpc-closure-30d.yaml"
    variant.write_text((SCENARIOS / "cpc-closure-30d.yaml").read_text().replace("duration_days: 30 ", "duration_days: 90 "))
    out = tmp_path / "cmp"
    assert main(["compare", str(SCENARIOS / "cpc-closure-30d.yaml"), str(variant), "--out", str(out), *SHORT]) == 0
    doc = json.loads((out / "compare.json").read_text())
    assert [r["name"] for r in doc["runs"]] == ["cpc-closure-30d", "cpc-closure-30d-2"]
    assert doc["metrics"]["budget_loss_usd"][1]["diff"] > 0
    sw = tmp_path / "sw"
    assert main(["sweep", str(SCENARIOS / "cpc-closure-30d.yaml"), str(variant), "--param",
                 "market.brent_usd_per_bbl=80,90", "--out", str(sw), *SHORT]) == 0
    rows = _rows(sw / "sweep.csv")
    assert len({r["run_dir"] for r in rows}) == 4
    assert main(["sweep", str(SCENARIOS / "cpc-closure-30d.yaml"), str(variant), "--param",
                 "market.brent_usd_per_bbl=80,90", "--out", str(sw), *SHORT]) == 0
    assert all(r["reused"] == "True" for r in _rows(sw / "sweep.csv"))


@pytest.mark.e2e
def test_compare_of_different_horizons_unpaired(tmp_path):
    a = _risk_run(tmp_path, "a")
    b = _risk_run(tmp_path, "b", "--set", "horizon_days=200")
    assert cli("compare", str(a), str(b), "--unpaired", "--out", str(tmp_path / "cmp"), "--quiet")[0] == 0
    code, err = cli("compare", str(a), str(b), "--unpaired", "--out", str(tmp_path / "cmp1"))
    assert code == 0 and "warning: --unpaired: the runs' horizons differ (200, 365 days)" in err
    code, err = cli("compare", str(a), "--out", str(tmp_path / "one"))
    assert code == 2 and "compare needs two or more runs" in err and not (tmp_path / "one").exists()
    c = _risk_run(tmp_path, "c", "-n", "20")
    code, err = cli("compare", str(a), str(c), "--out", str(tmp_path / "cmp2"))
    assert code == 2 and "replications" in err


@pytest.mark.e2e
def test_show_marks_whole_values_set_on_the_command_line(capsys):
    assert main(["show", str(SCENARIOS / "cpc-closure-30d.yaml"), "--set",
                 "outages=[{target: cpc, start_day: 5, duration_days: 10}]"]) == 0
    shown = capsys.readouterr().out.splitlines()
    assert next(x for x in shown if x.startswith("outages[0].target")).endswith("# --set")
    assert next(x for x in shown if x.startswith("name:")).endswith("(its file name)") is False  # the file sets it


@pytest.mark.e2e
def test_schema_does_not_require_what_a_parent_may_give(tmp_path):
    import jsonschema

    assert main(["schema", "--out", str(tmp_path / "s.json")]) == 0
    validator = jsonschema.Draft202012Validator(json.loads((tmp_path / "s.json").read_text()))
    partial = {"extends": "base.yaml", "routes": {"cpc": {"capacity_bpd": 1e6}}, "outages": [{"target": "cpc"}]}
    assert list(validator.iter_errors({})) == [] and list(validator.iter_errors(partial)) == []
