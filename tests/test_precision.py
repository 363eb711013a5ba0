"""Replications to a precision: the intervals against their formulas, the rounds' arithmetic, a run that
stops being the run of its count bit for bit, and the flags' refusals."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from conftest import SCENARIOS
from routesim.cli import main
from routesim.results.summary import INTERVAL_STATISTICS, Z95, Reached, Stats, interval95
from routesim.runs import montecarlo
from routesim.runs.precision import STATISTICS, Precision
from routesim.scenario.loader import load_scenario
from test_robustness import cli


def test_the_statistics_named_are_those_with_an_interval() -> None:
    assert STATISTICS == INTERVAL_STATISTICS


def test_the_mean_interval_is_the_normal_one_of_the_summary() -> None:
    values = np.random.default_rng(1).lognormal(0, 1, 500)
    mean, low, high = interval95(values)
    half = Z95 * values.std(ddof=1) / math.sqrt(len(values))
    assert mean == Stats.of(values).mean and low == pytest.approx(mean - half) and high == pytest.approx(mean + half)


def test_the_var_interval_covers_the_true_quantile_at_least_95_percent_of_the_time() -> None:
    rng, trials, n = np.random.default_rng(2), 2000, 400
    truth = math.log(20)  # the 95th percentile of Exp(1)
    hits = 0
    for _ in range(trials):
        value, low, high = interval95(rng.exponential(1.0, n), "var95")
        assert low <= value <= high
        hits += low <= truth <= high
    se = math.sqrt(0.95 * 0.05 / trials)
    coverage = hits / trials
    assert coverage >= 0.95 - 4 * se  # distribution-free, and conservative by the rounding of its ranks
    assert coverage <= 0.995


def test_the_cvar_interval_has_the_width_of_its_asymptotic_standard_error() -> None:
    """CVaR_a = q + E[(X - q)+] / a, whose estimate has variance Var[(X - q)+] / (n a^2) (Rockafellar and
    Uryasev's form). For Exp(1) and a = 0.05: (X - q)+ is 0 with probability 0.95, else Exp(1), so its
    variance is 0.05 * 2 - 0.05^2."""
    n, a = 20_000, 0.05
    values = np.random.default_rng(3).exponential(1.0, n)
    value, low, high = interval95(values, "cvar95")
    se = math.sqrt((a * 2 - a**2) / (n * a**2))
    assert (high - low) / 2 == pytest.approx(Z95 * se, rel=0.2)
    assert low <= value <= high
    assert value == pytest.approx(math.log(20) + 1, abs=4 * se)  # CVaR95 of Exp(1): its VaR plus the mean excess


def test_a_round_grows_by_what_the_interval_says_within_its_bounds() -> None:
    rule = Precision(0.02, max_replications=100_000)
    assert rule.first_total() == 256

    def after(done: int, relative: float) -> int:
        return rule.next_total(Reached("m", "mean", 0.02, 100_000, done, 1.0, 0.9, 1.1, relative, False))

    need = 1000 * (0.03 / 0.02) ** 2  # the half-width narrows as 1/sqrt(n)
    assert after(1000, 0.03) == 8 * math.ceil(math.ceil(1.1 * need) / 8)
    assert after(256, 0.2) == 4 * 256  # at most four times as many in one round
    assert after(256, 0.0201) == 256 + 8 * math.ceil((math.ceil(1.1 * 256 * (0.0201 / 0.02) ** 2) - 256) / 8)
    assert after(256, math.inf) == 1024
    assert Precision(0.02, max_replications=300).next_total(Reached("m", "mean", 0.02, 300, 256, 1, 0, 2, 0.5,
                                                                    False)) == 300


def test_a_statistic_known_exactly_is_met_at_once() -> None:
    reached = Precision(0.02).reached(np.full(256, 3.0))
    assert reached.met and reached.relative == 0.0


@pytest.mark.e2e  # several rounds of a run, twice: the long tier
@pytest.mark.parametrize("workers", [1, 2])
def test_a_run_to_a_precision_is_the_run_of_its_count(workers: int) -> None:
    scenario = load_scenario(SCENARIOS / "cpc-incident-risk.yaml")
    rule = Precision(0.08)
    auto = montecarlo.run(scenario, workers=workers, precision=rule)
    reached = auto.precision
    assert reached is not None and reached.met and reached.relative <= 0.08
    n = len(auto.indices)
    assert n == reached.replications and n > rule.first_total()  # more than one round
    assert reached.value == auto.metric("budget_loss_usd").mean()
    fixed = montecarlo.run(load_scenario(SCENARIOS / "cpc-incident-risk.yaml", [f"replications={n}"]), workers=workers)
    assert np.array_equal(auto.indices, fixed.indices) and np.array_equal(auto.figures, fixed.figures)
    assert np.array_equal(auto.daily_sums, fixed.daily_sums)  # the sums fold as in one run, to the bit
    assert np.array_equal(auto.sample, fixed.sample) and np.array_equal(auto.sample_positions, fixed.sample_positions)


def test_the_cap_stops_a_run_and_says_so() -> None:
    scenario = load_scenario(SCENARIOS / "cpc-incident-risk.yaml")
    result = montecarlo.run(scenario, precision=Precision(0.001, max_replications=300))
    assert len(result.indices) == 300 and result.precision is not None and not result.precision.met
    assert result.precision.sentence().startswith("precision not reached: budget_loss_usd mean within ")


@pytest.mark.e2e
def test_the_manifest_records_the_rule_and_what_it_reached(tmp_path: Path) -> None:
    out = tmp_path / "auto"
    assert main(["run", str(SCENARIOS / "cpc-incident-risk.yaml"), "-n", "auto", "--precision", "0.1",
                 "--statistic", "var95", "-o", str(out), "--no-plots", "-q"]) == 0
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    record = manifest["precision"]
    assert record["metric"] == "budget_loss_usd" and record["statistic"] == "var95" and record["target"] == 0.1
    assert record["replications"] == manifest["replications"] and (record["met"] or record["replications"] ==
                                                                    record["max_replications"])
    values = np.loadtxt(out / "replications.csv", delimiter=",", skiprows=1,
                        usecols=_column(out / "replications.csv", "budget_loss_usd"))
    value, low, high = interval95(values, "var95")
    assert (record["value"], record["low"], record["high"]) == (value, low, high)


def _column(path: Path, name: str) -> int:
    return path.read_text(encoding="utf-8").splitlines()[0].split(",").index(name)


@pytest.mark.parametrize("args, message", [
    (["-n", "auto", "--precision", "0"], "error: --precision: must be between 0 and 1"),
    (["-n", "auto", "--precision", "1.5"], "error: --precision: must be between 0 and 1"),
    (["--precision", "0.02"], "error: --precision: give -n auto to run to a precision"),
    (["-n", "auto", "--max-replications", "0"], "error: --max-replications: must be at least 1"),
    (["-n", "auto", "--max-replications", "900000000"], "error: --max-replications: 900,000,000 do not fit"),
    (["-n", "auto", "--metric", "nope"], "error: --metric: 'nope' is not a metric"),
    (["-n", "auto", "--rep", "3"], "error: --rep: runs one replication"),
])
def test_bad_flags_are_refused_by_name_and_nothing_is_written(args: list[str], message: str, tmp_path: Path) -> None:
    out = tmp_path / "o"
    code, err = cli("run", str(SCENARIOS / "cpc-incident-risk.yaml"), *args, "-o", str(out))
    assert code == 2 and err.startswith(message) and len(err.strip().splitlines()) == 1, err
    assert not out.exists()


def test_auto_is_only_for_run(tmp_path: Path) -> None:
    code, err = cli("compare", str(SCENARIOS / "base.yaml"), str(SCENARIOS / "cpc-storms.yaml"), "-n", "auto",
                    "-o", str(tmp_path / "c"))
    assert code == 2 and err.startswith("error: -n: auto (replications to a precision) is for routesim run")
