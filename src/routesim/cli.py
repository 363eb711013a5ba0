"""Command line: ``routesim run`` and ``routesim validate``. Thin: parse, call the API, write, report.

Exit codes: 0 success, 1 unexpected failure, 2 invalid input (one line per problem on stderr).
"""

from __future__ import annotations

import argparse
import errno
import datetime as dt
import os
import signal
import sys
import time
import traceback
from pathlib import Path

from . import __version__
from .errors import ScenarioError, SimulationError

EXIT_OK, EXIT_FAILURE, EXIT_INPUT = 0, 1, 2

DESCRIPTION = """\
routesim: what happens to exports, revenue and the state budget when an oil export route stops.

Simulates oil flowing from producers through export routes (pipelines, tanker shuttles) with
the outages a scenario file describes, and compares each run with the same run without outages.
"""

RUN_EPILOG = """\
examples:
  routesim run scenarios/cpc-closure-30d.yaml
  routesim run scenarios/base.yaml --set routes.trans_caspian.capacity_bpd=300000 --out results/tc300k
  routesim run scenarios/cpc-closure-30d.yaml -n 100 --seed 1 --no-plots
  routesim run scenarios/cpc-incident-risk.yaml -n 2000 --workers 2
  routesim run scenarios/cpc-incident-risk.yaml --rep 17 --trace     # replay one replication, with its log

outputs (in --out DIR, default results/<scenario name>/, written all at once):
  summary.json           metrics with mean, std, p5, p50, p95 across replications
  timeseries.csv         daily series (mean, and _p5/_p95 with several replications)
  replications.csv       one row per replication with every metric
  scenario.resolved.yaml the scenario after extends and --set, every default written out
  manifest.json          version, command line, seed, dependency versions, wall time, git commit
  events.csv             with --trace: the event log of the replication
  flows.png storage.png revenue.png; with several replications also
  loss_distribution.png loss_fan.png loss_exceedance.png
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``routesim`` command."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", help="show a traceback on errors")
    parser = argparse.ArgumentParser(
        prog="routesim", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"routesim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser(
        "run",
        parents=[common],
        help="simulate a scenario and write its results and plots",
        description="Simulate a scenario file and write its results and plots.",
        epilog=RUN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("scenario", type=Path, help="scenario YAML file")
    run.add_argument("--out", type=Path, metavar="DIR", help="output directory (default: results/<scenario name>)")
    run.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a scenario value, e.g. routes.cpc.capacity_bpd=1000000 or outages[0].duration_days=60; "
        "VALUE is read as YAML; repeatable",
    )
    run.add_argument("-n", "--replications", type=int, metavar="N", help="number of replications (overrides the file)")
    run.add_argument("--seed", type=int, metavar="S", help="random seed (overrides the file)")
    run.add_argument(
        "--workers", type=int, metavar="N", default=os.cpu_count() or 1,
        help="processes for the replications (default: all %(default)s cores); results do not depend on it",
    )
    run.add_argument(
        "--rep", type=int, metavar="K",
        help="run only replication K (the same K-th replication as in a full run); "
        "default output results/<name>-rep<K>",
    )
    run.add_argument(
        "--trace", action="store_true",
        help="write events.csv, the event log (time, event, target, detail) of the replication; needs --rep K "
        "unless the scenario has one replication",
    )
    run.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    run.add_argument("--quiet", action="store_true", help="print nothing but errors")
    run.set_defaults(handler=cmd_run)

    validate = sub.add_parser(
        "validate",
        parents=[common],
        help="check scenario files without running them",
        description="Check scenario files (extends chains included) and report every problem with its key path.",
    )
    validate.add_argument("scenarios", type=Path, nargs="+", metavar="SCENARIO", help="scenario YAML files")
    validate.set_defaults(handler=cmd_validate)

    cal = sub.add_parser(
        "calibrate",
        parents=[common],
        help="fit an incident process to a CSV of past incidents",
        description="Fit the arrival rate (with its 95 %% confidence interval) and a duration distribution "
        "(exponential, lognormal, Weibull, gamma by maximum likelihood, ranked by AIC, with a KS test) to a "
        "CSV of past incidents, print a ready-to-paste `incidents:` block, and write calibration.json, "
        "incidents.yaml and a QQ plot.",
        epilog="CSV columns: start_date, end_date or duration_days, capacity_factor, target (others are "
        "ignored; rows with capacity_factor >= 1 had no physical effect and are left out).\n"
        "example:\n  routesim calibrate scenarios/data/cpc-incidents.csv --since 2021-01-01",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cal.add_argument("incidents", type=Path, help="CSV of past incidents")
    cal.add_argument("--since", type=_date, metavar="DATE", help="start of the observation period "
                     "(default: 1 January of the first incident's year)")
    cal.add_argument("--until", type=_date, metavar="DATE", help="end of the observation period "
                     "(default: the end of the last incident)")
    cal.add_argument("--out", type=Path, metavar="DIR", help="output directory (default: results/calibration-<csv name>)")
    cal.add_argument("--no-plots", action="store_true", help="skip the QQ plot")
    cal.set_defaults(handler=cmd_calibrate)
    return parser


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``routesim`` console script; returns the exit code."""
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return int(args.handler(args, argv))
    except ScenarioError as exc:
        for issue in exc.issues:
            print(f"error: {issue}", file=sys.stderr)
        if args.debug:
            traceback.print_exc()
        return EXIT_INPUT
    except (KeyboardInterrupt, Terminated) as exc:
        signum = exc.signum if isinstance(exc, Terminated) else signal.SIGINT
        print("interrupted: no result was written, earlier results are untouched", file=sys.stderr)
        return 128 + signum
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            print("error: the disk is full: no result was written, earlier results are untouched", file=sys.stderr)
        else:
            print(f"error: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        if args.debug:
            traceback.print_exc()
        return EXIT_FAILURE
    except SimulationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if args.debug:
            traceback.print_exc()
        return EXIT_FAILURE
    except Exception as exc:  # noqa: BLE001 - the one place that turns any failure into exit code 1
        print(f"internal error: {type(exc).__name__}: {exc} (run with --debug for a traceback)", file=sys.stderr)
        if args.debug:
            traceback.print_exc()
        return EXIT_FAILURE
    finally:
        signal.signal(signal.SIGTERM, previous)


class Terminated(BaseException):
    """SIGTERM arrived: unwind like Ctrl-C, so that no half-written output stays behind."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _on_sigterm(signum: int, _frame: object) -> None:
    raise Terminated(signum)


def cmd_run(args: argparse.Namespace, argv: list[str]) -> int:
    """``routesim run``."""
    from . import montecarlo, output
    from .scenario_io import load_scenario

    overrides = list(args.overrides)
    if args.replications is not None:
        overrides.append(f"replications={args.replications}")
    if args.seed is not None:
        overrides.append(f"seed={args.seed}")
    scenario = load_scenario(args.scenario, overrides)
    problems = []
    if args.workers < 1:
        problems.append(f"--workers: must be at least 1, got {args.workers}")
    if args.rep is not None and args.rep < 0:
        problems.append(f"--rep: must be 0 or more, got {args.rep}")
    if args.trace and args.rep is None and scenario.replications > 1:
        problems.append("--trace: give --rep K to trace one of the scenario's replications")
    if problems:
        raise ScenarioError(problems)
    indices = [args.rep] if args.rep is not None else None
    default_out = scenario.name if args.rep is None else f"{scenario.name}-rep{args.rep}"
    out_dir = args.out if args.out is not None else Path("results") / default_out
    output.check_target(out_dir)  # before a long run, not after
    started = time.perf_counter()
    progress = Progress(scenario.name, enabled=not args.quiet and sys.stderr.isatty())
    result = montecarlo.run(scenario, workers=args.workers, indices=indices, progress=progress)
    progress.close()
    event_log = None
    if args.trace:
        from .engine import simulate

        event_log = simulate(scenario, result.replications[0].index, log=True).log
    command = ["routesim", *argv]
    manifest = output.manifest(command, str(args.scenario), result, time.perf_counter() - started, args.workers)
    output.write_run(result, out_dir, manifest, plots=not args.no_plots, event_log=event_log)
    if not args.quiet:
        print(headline(result.summary(), out_dir))
    return EXIT_OK


def cmd_validate(args: argparse.Namespace, argv: list[str]) -> int:
    """``routesim validate``."""
    from .scenario_io import load_scenario

    failed = 0
    for path in args.scenarios:
        try:
            scenario = load_scenario(path)
        except ScenarioError as exc:
            failed += 1
            for issue in exc.issues:
                print(f"error: {issue}", file=sys.stderr)
        else:
            print(f"ok: {path} ({scenario.name}, {len(scenario.routes)} routes, {len(scenario.outages)} outages)")
    return EXIT_INPUT if failed else EXIT_OK


def cmd_calibrate(args: argparse.Namespace, argv: list[str]) -> int:
    """``routesim calibrate``."""
    from . import calibrate, output

    out_dir = args.out if args.out is not None else Path("results") / f"calibration-{args.incidents.stem}"
    output.check_target(out_dir)
    calibrations = calibrate.calibrate(calibrate.read_incidents(args.incidents), args.since, args.until)
    block = calibrate.incidents_block(calibrations, str(args.incidents))
    with output.atomic_dir(out_dir) as tmp:
        output.write_json(tmp / "calibration.json", [c.as_dict() for c in calibrations])
        (tmp / "incidents.yaml").write_text(block, encoding="utf-8")
        if not args.no_plots:
            from .plots import qq

            for c in calibrations:
                qq(c).savefig(tmp / f"qq-{c.target}.png", dpi=130)
    print(calibrate.report(calibrations), file=sys.stderr)
    print(block, end="")
    return EXIT_OK


def headline(summary: dict, out_dir: Path) -> str:
    """One line that says what the run found and where its files are."""
    m = summary["metrics"]
    n = summary["replications"]
    mean = " (means)" if n > 1 else ""
    return (
        f"{summary['scenario']}: {n} replication{'s' if n > 1 else ''}{mean}: "
        f"exported {m['exported_bbl']['mean'] / 1e6:,.1f} M bbl, shut in {m['shut_in_bbl']['mean'] / 1e6:,.1f} M bbl, "
        f"budget loss USD {m['budget_loss_usd']['mean'] / 1e9:,.2f} bn "
        f"({m['budget_loss_share']['mean']:.1%} of budget) -> {out_dir}/"
    )


class Progress:
    """A progress bar on stderr, shown only on a terminal and only once a run has taken over a second."""

    def __init__(self, label: str, enabled: bool, delay_s: float = 1.0) -> None:
        self.label, self.enabled, self.delay_s = label, enabled, delay_s
        self.started = time.perf_counter()
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        elapsed = time.perf_counter() - self.started
        if not self.enabled or elapsed < self.delay_s:
            return
        width = 30
        filled = int(width * done / total)
        eta = elapsed / done * (total - done)
        bar = "#" * filled + "." * (width - filled)
        sys.stderr.write(f"\r{self.label}: [{bar}] {done}/{total} replications, {eta:,.0f} s left ")
        sys.stderr.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\n")
