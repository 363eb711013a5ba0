"""Nothing a user types crashes the tool, hangs it, or corrupts earlier results."""

from __future__ import annotations

import contextlib
import errno
import io
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ROOT, SCENARIOS
from routesim.cli import main
from routesim.errors import SimulationError
from routesim.outputs import rundir
from routesim.runs import montecarlo
from test_scenario_io import ISSUE_EXAMPLE

FUZZ = settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def cli(*args: str) -> tuple[int, str]:
    """Run the CLI in-process; return its exit code and stderr (an escaping exception fails the test)."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse's own usage errors: exit 2 and a usage line
            code = exc.code
            assert code == 2 and "usage:" in err.getvalue()
            return 2, "error: " + err.getvalue().strip().splitlines()[-1]
    return code, err.getvalue()


def assert_clean_failure(code: int, err: str) -> None:
    assert code in (0, 2), err
    assert "Traceback" not in err
    if code == 2:
        lines = err.strip().splitlines()
        assert lines and all(line.startswith("error: ") and len(line) < 2_000 for line in lines), err


def _write_tmp(data: bytes) -> Path:
    fd, name = tempfile.mkstemp(suffix=".yaml")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return Path(name)


scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20), st.dates(), st.just(1e308), st.just(-1e308), st.just(5e-324),
)
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.text(max_size=12), st.integers(), st.booleans()), inner, max_size=5),
    ),
    max_leaves=30,
)


@pytest.mark.e2e
@FUZZ
@given(documents)
def test_random_yaml_documents_load_or_fail_cleanly(doc):
    path = _write_tmp(yaml.safe_dump(doc, allow_unicode=True).encode("utf-8"))
    try:
        assert_clean_failure(*cli("validate", str(path)))
    finally:
        path.unlink()


@pytest.mark.e2e
@FUZZ
@given(st.binary(max_size=300))
def test_binary_garbage_fails_cleanly(data):
    path = _write_tmp(data)
    try:
        assert_clean_failure(*cli("validate", str(path)))
    finally:
        path.unlink()


def _leaves(node, prefix=()):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _leaves(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _leaves(v, (*prefix, i))
    yield prefix


EXAMPLE = yaml.safe_load(ISSUE_EXAMPLE)
EXAMPLE.pop("extends")
PATHS = [p for p in _leaves(EXAMPLE) if p]


@pytest.mark.e2e
@FUZZ
@given(st.sampled_from(PATHS), documents)
def test_a_scenario_with_one_value_replaced_loads_or_names_the_key(path, value):
    import copy

    doc = copy.deepcopy(EXAMPLE)
    node = doc
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    file = _write_tmp(yaml.safe_dump(doc, allow_unicode=True).encode("utf-8"))
    try:
        code, err = cli("validate", str(file))
        assert_clean_failure(code, err)
    finally:
        file.unlink()


@pytest.mark.e2e
@FUZZ
@given(st.text(max_size=40), st.text(max_size=40))
def test_random_set_overrides_fail_cleanly(key, value):
    code, err = cli("run", str(SCENARIOS / "base.yaml"), "--set", f"{key}={value}", "--out",
                    os.path.join(tempfile.gettempdir(), "routesim-fuzz-never-written"), "--no-plots", "--quiet")
    if code == 0:  # a valid override, e.g. seed=3: fine, and it wrote its results
        return
    assert_clean_failure(code, err)


@pytest.mark.e2e
def test_yaml_bomb_is_refused(tmp_path):
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for prev, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    done = subprocess.run([sys.executable, "-m", "routesim", "validate", str(path)], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2 and "nested aliases" in done.stderr


@pytest.mark.e2e
def test_oversized_and_deep_files_are_refused(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_text("# " + "x" * 2_000_000 + "\n")
    code, err = cli("validate", str(big))
    assert code == 2 and "byte limit" in err
    deep = tmp_path / "deep.yaml"
    deep.write_text("a: " + "[" * 3000 + "]" * 3000 + "\n")
    code, err = cli("validate", str(deep))
    assert code == 2 and "nested too deeply" in err


@pytest.mark.e2e
def test_duplicate_keys_are_errors(tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text("name: a\nproducers: {p: {production_bpd: 1}}\nroutes: {r: {kind: pipeline, capacity_bpd: 1, "
                    "capacity_bpd: 2}}\n")
    code, err = cli("validate", str(path))
    assert code == 2 and "duplicate key 'capacity_bpd'" in err


@pytest.mark.e2e
def test_extends_reports_the_chain(tmp_path):
    (tmp_path / "child.yaml").write_text("extends: mid.yaml\n")
    (tmp_path / "mid.yaml").write_text("extends: gone.yaml\n")
    code, err = cli("validate", str(tmp_path / "child.yaml"))
    assert code == 2 and "gone.yaml" in err and "child.yaml" in err and "mid.yaml" in err
    (tmp_path / "mid.yaml").write_text("extends: [\n")
    code, err = cli("validate", str(tmp_path / "child.yaml"))
    assert code == 2 and "mid.yaml" in err and "invalid YAML" in err and "extended by child.yaml" in err


@pytest.mark.e2e
def test_work_above_the_limit_is_refused():
    code, err = cli("run", str(SCENARIOS / "base.yaml"), "-n", "100000000", "--out", "/nonexistent/never")
    assert code == 2 and "values in memory" in err and "at most" in err and "replications:" in err


def _default_sigint() -> None:
    """In the child, before it starts: SIGINT as a terminal gives it, even when the tests run from a shell
    that ignores it (``trap '' INT``): Python then leaves it ignored and never raises KeyboardInterrupt."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _wait_for_children(pid: int, count: int, timeout_s: float = 60.0) -> None:
    """Until process ``pid`` has ``count`` children: a run's pool has started its workers."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    deadline = time.monotonic() + timeout_s
    while len(children.read_text().split()) < count:
        assert time.monotonic() < deadline, f"no {count} workers after {timeout_s:g} s"
        time.sleep(0.1)


@pytest.mark.e2e
@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="sees a run's workers start in Linux's /proc")
def test_interrupt_leaves_earlier_results_untouched_and_no_partial_directory(tmp_path):
    out = tmp_path / "run"
    assert main(["run", str(SCENARIOS / "base.yaml"), "--out", str(out), "--no-plots", "--quiet"]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    for sig in (signal.SIGINT, signal.SIGTERM):
        # in its own session, so that a failure can kill it with its pool's workers, which hold its stderr open
        proc = subprocess.Popen(
            [sys.executable, "-m", "routesim", "run", str(SCENARIOS / "cpc-incident-risk.yaml"), "--out", str(out),
             "--workers", "2", "-n", "200000"], stderr=subprocess.PIPE, text=True, cwd=ROOT,
            start_new_session=True, preexec_fn=_default_sigint)
        try:
            # Running, far from done. A KeyboardInterrupt raised in a callback is lost (numba's cache
            # loading before the pool starts, logging's at-fork hook as it starts): a fixed wait sent
            # the signal there on a busy machine, and the run went on.
            _wait_for_children(proc.pid, 2)
            time.sleep(1.0)  # past the last fork's hooks
            proc.send_signal(sig)
            _, err = proc.communicate(timeout=60)
        finally:
            if proc.returncode is None:  # it did not stop: the test fails, and leaves nothing running
                os.killpg(proc.pid, signal.SIGKILL)
                proc.communicate(timeout=60)
        assert proc.returncode == 128 + sig, err
        assert "interrupted" in err and "Traceback" not in err
        assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
        assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_a_failing_replication_is_reported_with_its_seed(monkeypatch):
    from conftest import scenario

    real = montecarlo.simulate

    def failing(s, k=0, log=False, engine="auto"):
        if k == 3 and s.outages:
            raise ZeroDivisionError("boom")
        return real(s, k, log, engine)

    def failing_many(s, ks, engine="auto"):
        if 3 in ks and s.outages:
            raise ZeroDivisionError("boom")
        return real_many(s, ks, engine)

    real_many = montecarlo.simulate_many
    monkeypatch.setattr(montecarlo, "simulate", failing)
    monkeypatch.setattr(montecarlo, "simulate_many", failing_many)
    s = scenario(replications=5, outages=[{"target": "main", "start_day": 1, "duration_days": 2}], seed=9)
    with pytest.raises(SimulationError) as info:
        montecarlo.run(s)
    message = str(info.value)
    assert "replication 3" in message and "SeedSequence(9" in message and "--rep 3 --trace" in message


@pytest.mark.e2e
def test_disk_full_is_reported_and_leaves_earlier_results(tmp_path, monkeypatch):
    out = tmp_path / "run"
    assert main(["run", str(SCENARIOS / "base.yaml"), "--out", str(out), "--no-plots", "--quiet"]) == 0
    before = sorted(p.name for p in out.iterdir())

    def full(path, data):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(rundir, "write_json", full)
    code, err = cli("run", str(SCENARIOS / "base.yaml"), "--out", str(out), "--no-plots")
    assert code == 1 and "disk is full" in err
    assert sorted(p.name for p in out.iterdir()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


@pytest.mark.e2e
@pytest.mark.parametrize(
    "override, fragment",
    [("start_date=2022-02-30", "invalid value"), ("start_date=9999-12-01", "past the year 9999"),
     ("market.brent_usd_per_bbl=1.0e+308", "market.brent_usd_per_bbl"),
     ("routes.cpc.cost_usd_per_bbl=-1.0e+308", "routes.cpc.cost_usd_per_bbl"),
     ("fiscal.budget_revenue_usd_per_year=40e9", "write 4.0e+10")],
)
def test_impossible_values_exit_2(override, fragment, tmp_path):
    code, err = cli("run", str(SCENARIOS / "base.yaml"), "--set", override, "--out", str(tmp_path / "x"))
    assert code == 2 and fragment in err, err
    assert not (tmp_path / "x").exists()


@pytest.mark.e2e
def test_validate_goes_on_after_a_bad_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("start_date: 2022-02-30\n")
    code, err = cli("validate", str(bad), str(SCENARIOS / "base.yaml"))
    assert code == 2 and "bad.yaml" in err


@pytest.mark.e2e
def test_out_never_replaces_what_routesim_did_not_write(tmp_path):
    mine = tmp_path / "analysis"
    mine.mkdir()
    (mine / "notes.txt").write_text("precious")
    code, err = cli("run", str(SCENARIOS / "base.yaml"), "--out", str(mine), "--no-plots")
    assert code == 2 and "refusing" in err and (mine / "notes.txt").read_text() == "precious"
    file = tmp_path / "file.txt"
    file.write_text("x")
    code, err = cli("run", str(SCENARIOS / "base.yaml"), "--out", str(file), "--no-plots")
    assert code == 2 and file.read_text() == "x"
    (tmp_path / "empty").mkdir()
    assert cli("run", str(SCENARIOS / "base.yaml"), "--out", str(tmp_path / "empty"), "--no-plots")[0] == 0
    assert cli("run", str(SCENARIOS / "base.yaml"), "--out", str(tmp_path / "empty"), "--no-plots")[0] == 0
