"""A k-of-n terminal's availability (results/moorings.py): the time in each state against hand-computed
windows, and the availability of moorings that fail and are repaired against the closed form."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

from conftest import pipeline, raw_scenario
from routesim.engine.disruptions import Impairment, impairments
from routesim.results import moorings
from routesim.runs import montecarlo
from routesim.scenario.loader import validate


def terminal_scenario(horizon: int = 100, active: int = 2, **top: object):
    route = pipeline(5e6) | {"terminal": {"moorings": ["spm-1", "spm-2", "spm-3"], "active_moorings": active,
                                          "mooring_rate_bpd": 8e5}}
    return validate(raw_scenario(routes={"cpc": route, "plain": pipeline(1e5)}, horizon_days=horizon, **top))


def stop(target: str, a: float, b: float, factor: float = 0.0, storm: bool = False) -> Impairment:
    return Impairment(target, a, b, factor, "test", storm)


def test_time_in_each_state_counts_the_moorings_their_own_stops_leave_up():
    s = terminal_scenario()
    hits = [stop("cpc/spm-1", 10, 30), stop("cpc/spm-2", 20, 40), stop("cpc/spm-2", 25, 35),  # overlapping: once
            stop("cpc/spm-3", 0, 100, factor=0.5),  # at half its rate: up
            stop("cpc/terminal", 50, 60), stop("cpc", 60, 65), stop("cpc", 70, 72, storm=True),  # not mooring states
            stop("cpc/spm-3", 90, 120)]  # past the horizon: counted to it
    days = moorings.state_days(s, hits)
    assert list(days) == ["cpc"]  # the plain pipe has no terminal
    # 3 up on [0, 10) and [40, 90); 2 on [10, 20), [30, 40), [90, 100); 1 on [20, 30)
    assert days["cpc"].tolist() == [0.0, 10.0, 30.0, 60.0]
    assert moorings.availability(days["cpc"], 2, 100.0) == pytest.approx(0.9)
    assert moorings.availability(days["cpc"], 3, 100.0) == pytest.approx(0.6)
    assert moorings.state_days(s, [])["cpc"].tolist() == [0.0, 0.0, 0.0, 100.0]


def test_a_run_reports_each_terminals_states_and_its_k_of_n_availability():
    out = [{"target": "cpc/spm-1", "start_day": 0, "duration_days": 30}, {"target": "cpc/spm-2", "start_day": 10,
                                                                           "duration_days": 30}]
    s = terminal_scenario(outages=out)
    result = montecarlo.run(s, 1)
    assert [result.metric(f"cpc_moorings_up_{j}_days")[0] for j in range(4)] == [0.0, 20.0, 20.0, 60.0]
    summary = result.summary()
    assert summary.routes["plain"].moorings is None
    own = summary.routes["cpc"].moorings
    assert own is not None and own.active_moorings == 2 and own.availability.mean == pytest.approx(0.8)
    assert [d.mean for d in own.days_by_moorings_up] == [0.0, 20.0, 20.0, 60.0]
    rows = {row["figure"]: row for row in summary.rows()}
    assert rows["cpc_mooring_availability"]["mean"] == pytest.approx(0.8) and rows["cpc_mooring_availability"]["route"] == "cpc"
    assert result.replications[0].mooring_days["cpc"] == (0.0, 20.0, 20.0, 60.0)
    assert montecarlo.run_replication(s, 0).mooring_days["cpc"] == (0.0, 20.0, 20.0, 60.0)


@pytest.mark.parametrize("active", [1, 2, 3])
def test_moorings_that_fail_and_are_repaired_are_k_of_n_available_as_the_closed_form_says(active):
    """Three moorings, each up for an exponential time (mean 50 days), then repaired (exponential, mean 10),
    independently, from up at day 0. Each is up at t with probability A(t) = A + (1 - A) exp(-(l + m) t),
    A = 50 / 60, so the expected share of the horizon with at least k up is the mean over [0, H] of
    P(Binomial(3, A(t)) >= k). The mean of 400 replications is within 4 standard errors of it."""
    horizon, mttf, mttr, n = 730, 50.0, 10.0, 400
    failures = [{"target": f"cpc/spm-{i}", "time_to_failure_days": {"distribution": "exponential", "mean": mttf},
                 "repair_days": {"distribution": "exponential", "mean": mttr}} for i in (1, 2, 3)]
    s = terminal_scenario(horizon=horizon, active=active, failures=failures)
    share = np.array([moorings.availability(moorings.state_days(s, impairments(s, k))["cpc"], active, horizon)
                      for k in range(n)])
    a, rate = mttf / (mttf + mttr), 1 / mttf + 1 / mttr
    expected = integrate.quad(lambda t: stats.binom.sf(active - 1, 3, a + (1 - a) * math.exp(-rate * t)),
                              0, horizon)[0] / horizon
    se = share.std(ddof=1) / math.sqrt(n)
    assert abs(share.mean() - expected) < 4 * se, (share.mean(), expected, se)
    # and the steady state the long horizon comes near: 3A^2(1 - A) + A^3 for 2 of 3
    if active == 2:
        assert expected == pytest.approx(3 * a**2 * (1 - a) + a**3, abs=0.005)


@pytest.mark.parametrize("rates, words", [
    ("{spm-9: 1000000}", "routes.cpc.terminal.mooring_rates_bpd.spm-9: not one of the moorings"),
    ("{spm-1: -5}", "routes.cpc.terminal.mooring_rates_bpd.spm-1: input should be greater than or equal to 0"),
])
def test_the_command_line_refuses_a_bad_mooring_rate_and_writes_nothing(tmp_path, capsys, rates, words):
    from conftest import SCENARIOS
    from routesim.cli import main

    text = (SCENARIOS / "base.yaml").read_text(encoding="utf-8")
    assert "      mooring_rate_bpd: 800_000" in text
    path = tmp_path / "bad.yaml"
    path.write_text(text.replace("      mooring_rate_bpd: 800_000", f"      mooring_rate_bpd: 800_000\n"
                                 f"      mooring_rates_bpd: {rates}"), encoding="utf-8")
    out = tmp_path / "run"
    assert main(["run", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert words in err and len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml"]


def test_set_gives_a_mooring_its_own_rate_where_the_file_has_none():
    from conftest import SCENARIOS
    from routesim.errors import ScenarioError
    from routesim.scenario.loader import load_scenario

    s = load_scenario(SCENARIOS / "cpc-two-moorings-lost.yaml", ["routes.cpc.terminal.mooring_rates_bpd.spm-3=1000000"])
    assert s.routes["cpc"].terminal.rates_bpd == (800_000.0, 800_000.0, 1_000_000.0)
    with pytest.raises(ScenarioError, match=r"unknown path routes\.cpcc; did you mean cpc"):
        load_scenario(SCENARIOS / "base.yaml", ["routes.cpcc.terminal.mooring_rates_bpd.spm-3=1"])


def test_a_scenario_that_stops_no_mooring_takes_the_shortcut_and_it_equals_the_plain_path():
    """state_table skips the per-replication work when nothing targets a mooring: its rows are then those
    of state_days, replication by replication (and of a scenario that does target one, by construction)."""
    incidents = [{"target": "cpc", "rate_per_year": 20.0, "duration_days": 3.0},
                 {"target": "cpc/terminal", "rate_per_year": 10.0, "duration_days": 2.0}]
    s = terminal_scenario(horizon=200, incidents=incidents)
    assert not moorings._moorings_targeted(s)
    hits = [impairments(s, k) for k in range(20)]
    assert any(hits)
    plain = np.array([np.concatenate(list(moorings.state_days(s, h).values())) for h in hits])
    assert np.array_equal(moorings.state_table(s, hits), plain)
    hit = terminal_scenario(horizon=200, incidents=[{"target": "cpc/spm-1", "rate_per_year": 20.0,
                                                     "duration_days": 3.0}])
    assert moorings._moorings_targeted(hit)
    hits = [impairments(hit, k) for k in range(20)]
    plain = np.array([np.concatenate(list(moorings.state_days(hit, h).values())) for h in hits])
    assert np.array_equal(moorings.state_table(hit, hits), plain) and (plain[:, -1] < 200).any()
