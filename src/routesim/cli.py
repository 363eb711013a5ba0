"""Command line: ``routesim run`` and ``routesim validate``. Thin: parse, call the API, write, report.

Exit codes: 0 success, 1 unexpected failure, 2 invalid input (one line per problem on stderr).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import errno
import gc
import json
import os
import re
import signal
import sys
import time
import traceback
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from routesim.engine import ENGINES
from routesim.errors import ScenarioError, SimulationError
from routesim.runs.executors import EXECUTORS
from routesim.runs.precision import DEFAULT_TARGET, MAX_REPLICATIONS, STATISTICS, Precision
from routesim.runs.progress import Bar
from routesim.version import __version__

if TYPE_CHECKING:
    from routesim.results.summary import RunSummary
    from routesim.scenario.model import Scenario

EXIT_OK, EXIT_FAILURE, EXIT_INPUT = 0, 1, 2
SWEEP_RUNS_WITHOUT_YES = 500
"""A sweep of more runs than this, or of about more than SWEEP_SECONDS_WITHOUT_YES, starts only with --yes."""
SWEEP_SECONDS_WITHOUT_YES = 3600.0

DESCRIPTION = """\
routesim: what happens to exports, revenue and the state budget when an oil export route stops.

Simulates oil flowing from producers through export routes (pipelines, tanker shuttles) with
the outages a scenario file describes, and compares each run with the same run without outages.
"""

RUN_EPILOG = """\
examples:
  routesim run scenarios/cpc-closure-30d.yaml
  routesim run scenarios/cpc-closure-30d.yaml --set routes.trans_caspian.tankers=8 --out results/closure-8-tankers
  routesim run scenarios/cpc-closure-30d.yaml -n 100 --seed 1 --no-plots
  routesim run scenarios/cpc-incident-risk.yaml -n 2000 --workers 2
  routesim run scenarios/cpc-incident-risk.yaml --rep 17 --trace     # replay one replication, with its log

outputs (in --out DIR, default results/<scenario name>/, written all at once):
  summary.json           metrics with mean, std, p5, p50, p95 across replications, and the --set used
  summary.csv            the same figures flat, one row per figure
  timeseries.csv         daily series: the mean over every replication, and with several replications
                         _p5/_p95 (percentiles of the first 10,000 replications, all of a smaller run)
  replications.csv       one row per replication with every metric
  scenario.resolved.yaml the scenario after extends and --set, every default written out
  manifest.json          version, command line, seed, dependency versions, wall time, git commit
  events.csv             with --trace: the event log of the replication
  network.png flows.png storage.png revenue.png; with a loss also loss_waterfall.png
  price_curve.png; when outcomes differ also loss_distribution.png loss_fan.png loss_exceedance.png
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

    runs = argparse.ArgumentParser(add_help=False)  # the options of every command that runs scenarios
    runs.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
        help="override a scenario value, e.g. routes.cpc.capacity_bpd=1000000 or outages[0].duration_days=60; "
        "VALUE is read as YAML; repeatable",
    )
    runs.add_argument("-n", "--replications", type=_count_or_auto, metavar="N",
                      help="number of replications (overrides the file); for run, auto: as many as --precision needs")
    runs.add_argument("--seed", type=int, metavar="S", help="random seed (overrides the file)")
    runs.add_argument(
        "-j", "--workers", type=int, metavar="N", default=os.cpu_count() or 1,
        help="processes for the replications (default: all %(default)s cores); results do not depend on it",
    )
    runs.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    runs.add_argument(
        "--engine", choices=ENGINES, default="auto",
        help="auto (default): the compiled engine where it can express the scenario, else SimPy; simpy: the "
        "reference model; compiled: the numba engine (refused for a scenario it cannot express). Both give "
        "the same results; manifest.json records which ran and why",
    )

    run = sub.add_parser(
        "run",
        parents=[common, runs],
        help="simulate a scenario and write its results and plots",
        description="Simulate a scenario file and write its results and plots.",
        epilog=RUN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("scenario", type=Path, help="scenario YAML file")
    run.add_argument("-o", "--out", type=Path, metavar="DIR", help="output directory (default: results/<scenario name>)")
    run.add_argument(
        "--executor", choices=EXECUTORS, default="local",
        help="where replications run: a local process pool (default), a Dask cluster at --scheduler, or a Dask "
        "LocalCluster started for the run (needs the extra routesim[dask]); results are the same on each",
    )
    run.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="the Dask scheduler of --executor dask")
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
    run.add_argument("--json", action="store_true", help="print the result line as one JSON object")
    auto = run.add_argument_group("replications to a precision (-n auto)")
    auto.add_argument("--precision", type=float, metavar="P",
                      help=f"run rounds of replications until the 95 %% confidence interval's half-width of the "
                      f"statistic is within P of it (default {DEFAULT_TARGET:g}: 2 %%), or the cap is reached")
    auto.add_argument("--metric", default="budget_loss_usd", metavar="METRIC",
                      help="the metric whose statistic must be precise (default budget_loss_usd)")
    auto.add_argument("--statistic", choices=STATISTICS, default="mean",
                      help="mean (default; normal interval), var95 (order statistics) or cvar95 (bootstrap)")
    auto.add_argument("--max-replications", type=int, metavar="N",
                      help=f"the cap (default {MAX_REPLICATIONS:,}, or what fits in memory)")
    run.set_defaults(handler=cmd_run)

    validate = sub.add_parser(
        "validate",
        parents=[common],
        help="check scenario files without running them",
        description="Check scenario files (extends chains included) and report every problem with its key path. "
        "A folder stands for the scenario files that `routesim list` shows in it.",
    )
    validate.add_argument("scenarios", type=Path, nargs="+", metavar="SCENARIO",
                          help="scenario YAML files, or folders of them")
    validate.set_defaults(handler=cmd_validate)

    cal = sub.add_parser(
        "calibrate",
        parents=[common],
        help="fit an incident process to a CSV of past incidents",
        description="Fit the arrival rate (with its 95 % confidence interval) and a duration distribution "
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
    cal.add_argument("-o", "--out", type=Path, metavar="DIR", help="output directory (default: results/calibration-<csv name>)")
    cal.add_argument("--no-plots", action="store_true", help="skip the QQ plot")
    cal.set_defaults(handler=cmd_calibrate)

    cmp = sub.add_parser(
        "compare", parents=[common, runs], help="compare runs: input diff, paired metric differences, overlays",
        description="Compare run directories (or scenario files, which are run first, all with one seed): "
        "every resolved input that differs, each metric per run with its difference to the first run and the "
        "95 % confidence interval of the paired difference, and overlay plots with the CSV of their data.",
        epilog="example:\n  routesim compare results/cpc-closure-30d results/trans-caspian-expansion\n"
        "  routesim compare scenarios/cpc-closure-30d.yaml scenarios/trans-caspian-expansion.yaml",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    cmp.add_argument("runs", type=Path, nargs="+", metavar="RUN", help="run directories or scenario files")
    cmp.add_argument("-o", "--out", type=Path, metavar="DIR", help="output directory (default: results/compare-<a>-vs-<b>)")
    cmp.add_argument("--unpaired", action="store_true",
                     help="compare runs whose seeds, horizons or replication counts differ (unpaired intervals)")
    cmp.set_defaults(handler=cmd_compare)

    swp = sub.add_parser(
        "sweep", parents=[common, runs], help="run scenarios over a grid of parameter values",
        description="Run one or more scenarios at every combination of parameter values: one run directory "
        "per point (a point already finished with the same resolved inputs is not run again, so a sweep "
        "resumes), sweep.csv, and a curve per metric (one parameter) or heatmaps (two).",
        epilog="examples:\n  routesim sweep scenarios/base.yaml --param routes.trans_caspian.capacity_bpd=100000:500000:5\n"
        "  routesim sweep scenarios/cpc-closure-30d.yaml scenarios/trans-caspian-expansion.yaml \\\n"
        "      --param 'outages[0].duration_days=0:180:19'",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    swp.add_argument("scenarios", type=Path, nargs="+", metavar="SCENARIO", help="scenario files")
    swp.add_argument("--param", action="append", default=[], required=True, metavar="KEY=START:STOP:COUNT|A,B,C",
                     help="a key and its values: COUNT evenly spaced from START to STOP, or a list; repeatable")
    swp.add_argument("-o", "--out", type=Path, metavar="DIR", help="output directory (default: results/sweep-<name>+<keys>)")
    swp.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    swp.add_argument("--yes", action="store_true", help="start a sweep even when it is large "
                     f"(more than {SWEEP_RUNS_WITHOUT_YES} runs or about an hour)")
    swp.set_defaults(handler=cmd_sweep)

    sen = sub.add_parser(
        "sensitivity", parents=[common, runs], help="which inputs move a metric most (tornado, Sobol)",
        description="One-at-a-time sensitivity of a metric to keys varied between LOW and HIGH (a tornado "
        "chart), and with --sobol first-order and total Sobol indices with 95 % confidence intervals.",
        epilog="example:\n  routesim sensitivity scenarios/cpc-closure-30d.yaml --vary 'outages[0].duration_days=10:60' \\\n"
        "      --vary routes.trans_caspian.tankers=3:15 --vary market.brent_usd_per_bbl=60:120 --sobol",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sen.add_argument("scenario", type=Path, help="scenario file")
    sen.add_argument("--vary", action="append", default=[], required=True, metavar="KEY=LOW:HIGH",
                     help="a key and its range; repeatable")
    sen.add_argument("--metric", default="budget_loss_usd", help="metric to explain (default: %(default)s)")
    sen.add_argument("--sobol", action="store_true", help="also compute Sobol indices")
    sen.add_argument("--samples", type=int, default=64, metavar="N",
                     help="Saltelli samples for --sobol, a power of 2 (default %(default)s; runs N x (keys + 2))")
    sen.add_argument("-o", "--out", type=Path, metavar="DIR", help="output directory (default: results/sensitivity-<name>)")
    sen.set_defaults(handler=cmd_sensitivity)

    app = sub.add_parser(
        "appraise", parents=[common, runs], help="what resilience options are worth: NPV under outage risk",
        description="Value each option against the base over the appraisal's years, with common random numbers: "
        "the net present value of the budget loss it avoids less what it costs, its spread, P(NPV > 0), the "
        "benefit-cost ratio and the payback year; and the mean NPV at multiples of the incident rate. An option "
        "extends the base and adds an investment block; the base sets appraisal: {years, discount_rate_per_year}.",
        epilog="example:\n  routesim appraise scenarios/options/base.yaml scenarios/options/[!b]*.yaml -n 500",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    app.add_argument("base", type=Path, metavar="BASE", help="the base scenario")
    app.add_argument("options", type=Path, nargs="+", metavar="OPTION", help="option scenarios that extend the base")
    app.add_argument("--years", type=int, metavar="Y", help="years appraised (default: the base's appraisal.years)")
    app.add_argument("--rates", type=_multipliers, metavar="M,M,...",
                     help="multiples of every incident rate to value the options at too (default 0.5,1,2,4; "
                     "1 alone for none)")
    app.add_argument("-o", "--out", type=Path, metavar="DIR", help="output directory (default: results/appraisal-<base>)")
    app.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    app.set_defaults(handler=cmd_appraise)

    rep = sub.add_parser("report", parents=[common], help="write a self-contained report.html for a run, comparison, "
                         "sweep or sensitivity study",
                         description="Write report.html into a run, compare, sweep or sensitivity directory: one "
                         "sentence on what was found, plots embedded, tables, and for a run the resolved scenario, "
                         "provenance and the scenario files with their sources; it opens from disk with no server "
                         "and no network, and shows no absolute local paths.")
    rep.add_argument("directory", type=Path, metavar="DIR", help="a run, compare, sweep or sensitivity directory")
    rep.set_defaults(handler=cmd_report)

    smy = sub.add_parser("summary", parents=[common], help="print a finished run's key figures",
                         description="Print the key figures of a finished run directory: each metric's mean, "
                         "median and 5-95 % range, the risk figures of the losses, and each route's exports.")
    smy.add_argument("directory", type=Path, metavar="DIR", help="a run directory")
    smy.add_argument("--json", action="store_true", help="print summary.json as it is")
    smy.set_defaults(handler=cmd_summary)

    lst = sub.add_parser("list", parents=[common], help="list the scenarios in a folder",
                         description="List scenario files with their names, what they extend and their descriptions; "
                         "the folders routesim wrote (runs, comparisons, sweeps) are skipped.")
    lst.add_argument("folder", type=Path, nargs="?", default=Path("scenarios"), help="folder (default: scenarios)")
    lst.set_defaults(handler=cmd_list)

    show = sub.add_parser("show", parents=[common], help="print a resolved scenario with the origin of each value",
                          description="Print every value of the resolved scenario with where it comes from: a file "
                          "of the extends chain, --set, or the default.")
    show.add_argument("scenario", type=Path, help="scenario file")
    show.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    show.set_defaults(handler=cmd_show)

    sch = sub.add_parser("schema", parents=[common], help="print the JSON Schema of the scenario format",
                         description="Print the JSON Schema of scenario files, for editors that complete keys and "
                         "flag typos (e.g. '# yaml-language-server: $schema=routesim.schema.json').")
    sch.add_argument("-o", "--out", type=Path, metavar="FILE", help="write it to FILE instead of stdout")
    sch.set_defaults(handler=cmd_schema)
    return parser


def _multipliers(text: str) -> tuple[float, ...]:
    """``--rates``: numbers separated by commas."""
    try:
        return tuple(float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers separated by commas, got {text!r}") from None


def _count_or_auto(text: str) -> int | str:
    """``-n``: a whole number, or ``auto``."""
    if text == "auto":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number or auto, got {text!r}") from None


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
        kept = ("the points that finished are kept, and the same sweep again resumes from them"
                if getattr(args, "command", None) == "sweep" else "no result was written, earlier results are untouched")
        print(f"interrupted: {kept}", file=sys.stderr)
        return 128 + signum
    except BrokenPipeError:  # the reader went away (``routesim list | head``): stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE
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
    except Exception as exc:
        print(f"internal error: {type(exc).__name__}: {exc} (run with --debug for a traceback)", file=sys.stderr)
        if args.debug:
            traceback.print_exc()
        return EXIT_FAILURE
    finally:
        signal.signal(signal.SIGTERM, previous)


def console() -> None:
    """The ``routesim`` command: :func:`main`, then exit with its code.

    After an interrupt the exit skips the interpreter's clean-up: its join of a process pool's threads
    can wait forever on a worker stopped in the middle of sending a result. Everything of ours is
    cleaned up by then (see :func:`main`).

    The objects left are first frozen out of the garbage collector: the interpreter's last collection
    would otherwise walk every object numba made when it loaded the compiled engine (a third of a second
    at exit, a fifth of a short run)."""
    from routesim.runs.executors import keep_freed_memory

    keep_freed_memory()  # the process ends with its command (and its workers, forked from it, with it)
    code = main()
    gc.freeze()
    if code in (128 + signal.SIGINT, 128 + signal.SIGTERM):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


class Terminated(BaseException):
    """SIGTERM arrived: unwind like Ctrl-C, so that no half-written output stays behind."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _on_sigterm(signum: int, _frame: object) -> None:
    raise Terminated(signum)


def _run_problems(path: Path, scenario: Any, engine: str) -> list[str]:
    """What would stop a run of ``scenario`` (read from ``path``) on ``engine``, as problem lines, found
    before anything runs: more replications than fit in memory, or ``--engine compiled`` for a scenario
    the compiled engine cannot express."""
    from routesim.engine import choose
    from routesim.runs import budget

    problems = [f"{path}: {issue}" for issue in budget.problems(scenario)]
    try:
        choose(scenario, engine)
    except ValueError as exc:
        problems.append(f"--engine: {exc}")
    return problems


def cmd_run(args: argparse.Namespace, argv: list[str]) -> int:
    """``routesim run``."""
    from routesim.outputs import files, rundir
    from routesim.runs import montecarlo
    from routesim.scenario.loader import load_scenario
    from routesim.scenario.notices import notices

    scenario = load_scenario(args.scenario, _run_overrides(args))
    problems = _run_problems(args.scenario, scenario, args.engine)
    if args.rep is not None and args.rep < 0:
        problems.append(f"--rep: must be 0 or more, got {args.rep}")
    if args.trace and args.rep is None and scenario.replications > 1:
        problems.append("--trace: give --rep K to trace one of the scenario's replications")
    if args.executor == "dask" and not args.scheduler:
        problems.append("--scheduler: --executor dask needs the scheduler's address, e.g. tcp://10.0.0.5:8786")
    precision, precision_problems = _precision(args, scenario)
    problems += precision_problems
    if problems:
        raise ScenarioError(problems)
    indices = [args.rep] if args.rep is not None else None
    default_out = _variant_name(scenario.name, args.overrides)
    default_out += "" if args.rep is None else f"-rep{args.rep}"
    out_dir = args.out if args.out is not None else Path("results") / default_out
    files.check_target(out_dir)  # before a long run, not after
    _warn([*notices(scenario, 1 if indices else None), *_unbinding(scenario, args.overrides)], args.quiet)
    started = time.perf_counter()
    progress = Bar(scenario.name, enabled=not args.quiet)
    result = montecarlo.run(scenario, workers=args.workers, indices=indices, progress=progress,
                            executor=args.executor, scheduler=args.scheduler, engine=args.engine, precision=precision)
    result = dataclasses.replace(result, settings=tuple(args.overrides))
    progress.close()
    event_log = None
    if args.trace:
        from routesim.engine import simulate

        event_log = simulate(scenario, result.replications[0].index, log=True).log
    command = ["routesim", *argv]
    manifest = rundir.manifest(command, str(args.scenario), result, time.perf_counter() - started, args.workers)
    rundir.write_run(result, out_dir, manifest, plots=not args.no_plots, event_log=event_log)
    if result.precision is not None and not args.quiet:
        print(result.precision.sentence(), file=sys.stderr)
    if args.overrides and not args.quiet:
        print("note: losses are measured against this scenario, --set included, without its disruptions; "
              "`routesim compare` measures a change against the plain scenario", file=sys.stderr)
    if args.json:
        line = result_line(result.summary(), out_dir)
        print(json.dumps(line if result.precision is None else line | {"precision": result.precision.to_json()}))
    elif not args.quiet:
        print(headline(result.summary(), out_dir))
    return EXIT_OK


def _precision(args: argparse.Namespace, scenario: Scenario) -> tuple[Precision | None, list[str]]:
    """The rule of ``-n auto`` from its flags, and the problems with them (each naming its flag)."""
    from routesim.results.measure import METRICS
    from routesim.runs import budget

    auto = args.replications == "auto"
    problems = []
    if not auto:
        given = [flag for flag, value in (("--precision", args.precision), ("--max-replications", args.max_replications))
                 if value is not None]
        return None, [f"{flag}: give -n auto to run to a precision" for flag in given]
    target = DEFAULT_TARGET if args.precision is None else args.precision
    if not 0 < target < 1:
        problems.append(f"--precision: must be between 0 and 1 (a share of the statistic), got {target:g}")
    if args.metric not in METRICS:
        problems.append(f"--metric: {args.metric!r} is not a metric ({', '.join(METRICS)})")
    if args.rep is not None:
        problems.append("--rep: runs one replication; -n auto runs as many as the precision needs")
    fits = budget.most(scenario)
    cap = min(MAX_REPLICATIONS, fits) if args.max_replications is None else args.max_replications
    if cap < 1:
        problems.append(f"--max-replications: must be at least 1, got {cap}")
    elif cap > fits:
        problems.append(f"--max-replications: {cap:,} do not fit in memory; at most {fits:,} of this scenario")
    return Precision(target, args.metric, args.statistic, cap), problems


def cmd_validate(args: argparse.Namespace, argv: list[str]) -> int:
    """``routesim validate``."""
    from routesim.runs import budget
    from routesim.scenario.loader import load_scenario
    from routesim.scenario.notices import notices

    failed = 0
    for path in [f for given in args.scenarios for f in (scenario_files(given) if given.is_dir() else [given])]:
        try:
            scenario = load_scenario(path)
            issues = [f"{path}: {issue}" for issue in budget.problems(scenario)]
        except ScenarioError as exc:
            issues = exc.issues
        for issue in issues:
            print(f"error: {issue}", file=sys.stderr)
        if issues:
            failed += 1
        else:
            print(f"ok: {path} ({scenario.name}, {len(scenario.routes)} routes, {len(scenario.outages)} outages)")
            _warn([f"{path}: {note}" for note in notices(scenario)], quiet=False)
    return EXIT_INPUT if failed else EXIT_OK


def _unbinding(scenario: Scenario, sets: Sequence[str]) -> list[str]:
    """A ``--set`` of a route's capacity_bpd that another of its caps keeps from mattering."""
    from routesim.scenario.bottleneck import bottleneck

    out = []
    for item in sets:
        match = re.fullmatch(r"routes\.([^.]+)\.capacity_bpd", item.partition("=")[0])
        if match and match.group(1) in scenario.routes:
            bound = bottleneck(scenario.routes[match.group(1)])
            if not bound.constraint.startswith("capacity_bpd"):
                out.append(f"--set {item}: {match.group(1)} carries at most {bound.bpd:,.0f} bbl/d, bound by "
                           f"{bound.constraint}: this capacity does not bind")
    return out


def _warn(notes: list[str], quiet: bool) -> None:
    """Inputs that change nothing, one warning line each on stderr (not with --quiet)."""
    for note in [] if quiet else notes:
        print(f"warning: {note}", file=sys.stderr)


def cmd_calibrate(args: argparse.Namespace, argv: list[str]) -> int:
    """``routesim calibrate``."""
    from routesim.analysis import calibrate
    from routesim.outputs import files, rundir

    out_dir = args.out if args.out is not None else Path("results") / f"calibration-{args.incidents.stem}"
    files.check_target(out_dir)
    calibrations = calibrate.calibrate(calibrate.read_incidents(args.incidents), args.since, args.until)
    block = calibrate.incidents_block(calibrations, str(args.incidents))
    with files.atomic_dir(out_dir) as tmp:
        rundir.write_json(tmp / "calibration.json", [c.as_dict() for c in calibrations])
        (tmp / "incidents.yaml").write_text(block, encoding="utf-8")
        (tmp / "incidents-uncertain.yaml").write_text(calibrate.uncertain_block(calibrations, str(args.incidents)),
                                                      encoding="utf-8")
        if not args.no_plots:
            from routesim.outputs.plots import qq

            for c in calibrations:
                qq(c).savefig(tmp / f"qq-{c.target}.png", dpi=130)
    print(calibrate.report(calibrations), file=sys.stderr)
    print(block, end="")
    return EXIT_OK


def _variant_name(name: str, sets: Sequence[str]) -> str:
    """The folder of a run changed by ``--set``: its scenario's name and the settings, so that the plain run's
    ``results/<name>/`` is not replaced by a variant's; a long list of settings is shortened to a digest."""
    if not sets:
        return name
    text = "+".join(re.sub(r"[^A-Za-z0-9._=-]+", "_", s) for s in sets)
    return f"{name}+{text}" if len(text) <= 80 else f"{name}+set-{zlib.crc32(' '.join(sets).encode()):08x}"


def _sweep_name(names: Sequence[str], keys: Sequence[str]) -> str:
    """The default folder of a sweep: its scenarios and the keys it sweeps (``outages[0].duration_days`` as
    ``outages.0.duration_days``), so that a sweep of other keys does not meet this one's folder."""
    return _variant_name("sweep-" + "-vs-".join(names), [re.sub(r"\[(\d+)\]", r".\1", key) for key in keys])


def _duration(seconds: float) -> str:
    """``42 s``, ``3 min``, ``2.5 h``: how long, as a person says it."""
    if seconds < 90:
        return f"{max(seconds, 1):.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 5400 else f"{seconds / 3600:.1f} h"


def _run_overrides(args: argparse.Namespace) -> list[str]:
    """The --set items with -n and --seed after them; a bad flag is refused in its own name, not the file's."""
    auto = args.replications == "auto"
    problems = [f"{flag}: must be at least {least}, got {value}"
                for flag, value, least in (("-n", None if auto else args.replications, 1), ("--seed", args.seed, 0),
                                           ("--workers", args.workers, 1))
                if value is not None and value < least]
    if auto and args.command != "run":
        problems.append("-n: auto (replications to a precision) is for routesim run; give a number")
    if problems:
        raise ScenarioError(problems)
    overrides = list(args.overrides)
    if args.replications is not None and not auto:
        overrides.append(f"replications={args.replications}")
    if args.seed is not None:
        overrides.append(f"seed={args.seed}")
    return overrides


def _is_scenario_file(path: Path) -> bool:
    return path.suffix in (".yaml", ".yml") and path.is_file()


def cmd_compare(args: argparse.Namespace, argv: list[str]) -> int:
    """``routesim compare``."""
    from routesim.analysis import compare
    from routesim.analysis.sweep import run_point
    from routesim.outputs import files
    from routesim.scenario.loader import load_scenario
    from routesim.scenario.notices import notices

    if len(args.runs) < 2:
        raise ScenarioError([f"RUN: compare needs two or more runs or scenarios, got one ({args.runs[0]})"])
    names = [load_scenario(p).name if _is_scenario_file(p) else p.name for p in args.runs]
    out_dir = args.out or Path("results") / ("compare-" + "-vs-".join(names))
    files.check_target(out_dir)
    overrides = _run_overrides(args)
    if any(_is_scenario_file(p) for p in args.runs) and args.seed is None:
        first = next(p for p in args.runs if _is_scenario_file(p))
        overrides.append(f"seed={load_scenario(first, overrides).seed}")  # one seed: paired runs
    scenarios = {path: load_scenario(path, overrides) for path in args.runs if _is_scenario_file(path)}
    problems = [line for path, s in scenarios.items() for line in _run_problems(path, s, args.engine)]
    if problems:  # every input checked first
        raise ScenarioError(sorted(set(problems)))
    _warn([f"{path}: {note}" for path, s in scenarios.items() for note in notices(s)], args.quiet)
    run_dirs = []
    for path, label in zip(args.runs, compare.unique_labels(names)):
        if _is_scenario_file(path):
            run_dir = out_dir.parent / f"{out_dir.name}-runs" / label  # one folder per input, names may repeat
            progress = Bar(label, enabled=not args.quiet)
            run_point(path, overrides, run_dir, args.workers, ["routesim", *argv], plots=True, engine=args.engine,
                      progress=progress)
            progress.close()
            run_dirs.append(run_dir)
        else:
            run_dirs.append(path)
    runs = compare.read_runs(run_dirs)
    compare.check_pairable(runs, args.unpaired)
    horizons = sorted({r.summary.horizon_days for r in runs})
    if len(horizons) > 1:
        _warn([f"--unpaired: the runs' horizons differ ({', '.join(map(str, horizons))} days), and every loss is a "
               "total over its own horizon: compare them per year (budget_loss_share, loss_exceedance)"], args.quiet)
    table = compare.write_comparison(runs, out_dir, paired=not args.unpaired)
    if not args.quiet:
        print(_compare_lines(table, runs, out_dir))
    return EXIT_OK


def _compare_lines(table: dict[str, Any], runs: list[Any], out_dir: Path) -> str:
    """Each run's budget loss against the first run's, with the 95 % interval of the difference where it has a
    width (one replication, or runs without randomness, give none); and where the files are."""
    lines = []
    for row in table["budget_loss_usd"][1:]:
        low, high = row["ci95_low"], row["ci95_high"]
        ci = "" if low is None or high is None or low == high else (
            f" (95 % CI {_shown(low / 1e9, 2, signed=True)} to {_shown(high / 1e9, 2, signed=True)})")
        lines.append(f"{row['run']} vs {runs[0].name}: budget loss {_shown(row['diff'] / 1e9, 2, signed=True)} bn USD"
                     f"{ci}")
    return "\n".join([*lines, f"-> {out_dir}/"])


def cmd_sweep(args: argparse.Namespace, argv: list[str]) -> int:
    """``routesim sweep``."""
    from routesim.analysis import sweep

    params = [sweep.parse_param(spec) for spec in args.param]
    if len({p.key for p in params}) != len(params):
        raise ScenarioError(["--param: each key may be swept once"])
    overrides = _run_overrides(args)
    from routesim.scenario.loader import load_scenario

    scenarios = [load_scenario(p, overrides) for p in args.scenarios]
    problems = sorted({line for p, s in zip(args.scenarios, scenarios) for line in _run_problems(p, s, args.engine)})
    if problems:
        raise ScenarioError(problems)
    out_dir = args.out or Path("results") / _sweep_name([s.name for s in scenarios], [p.key for p in params])
    the_plan = sweep.plan(args.scenarios, params, overrides)  # every point checked first
    sweep.check_out(out_dir, the_plan.identity(params))
    seconds = sweep.estimate_s(the_plan, overrides, args.workers, args.engine)
    size = f"{the_plan.runs:,} runs, {sum(the_plan.replications):,} replications, about {_duration(seconds)}"
    if (the_plan.runs > SWEEP_RUNS_WITHOUT_YES or seconds > SWEEP_SECONDS_WITHOUT_YES) and not args.yes:
        raise ScenarioError([f"--yes: this sweep is large ({size}); give --yes to start it"])
    if not args.quiet:
        print(f"sweep: {size}", file=sys.stderr)
    progress = Bar("sweep", enabled=not args.quiet, delay_s=0.0, unit="runs")
    rows = sweep.sweep(the_plan, params, overrides, out_dir, args.workers, ["routesim", *argv], progress,
                       engine=args.engine)
    progress.close()
    sweep.write_summary(out_dir, rows)
    if not args.no_plots:
        sweep.write_plots(out_dir, rows, [p.key for p in params], args.scenarios, overrides)
    if not args.quiet:
        reused = sum(r["reused"] for r in rows)
        print(f"sweep: {len(rows)} runs ({reused} reused) -> {out_dir}/sweep.csv")
    return EXIT_OK


def cmd_sensitivity(args: argparse.Namespace, argv: list[str]) -> int:
    """``routesim sensitivity``."""
    from routesim.analysis import sensitivity
    from routesim.outputs import files
    from routesim.results.measure import METRICS
    from routesim.scenario.loader import load_scenario

    overrides = _run_overrides(args)
    scenario = load_scenario(args.scenario, overrides)
    problems = []
    if args.metric not in METRICS:
        problems.append(f"--metric: {args.metric!r} is not a metric ({', '.join(METRICS)})")
    problems += _run_problems(args.scenario, scenario, args.engine)
    if args.sobol and (args.samples < 2 or args.samples & (args.samples - 1)):
        problems.append(f"--samples: must be a power of 2 of at least 2, got {args.samples}")
    if args.sobol and len(args.vary) < 2:  # one key explains all of the variance; scipy cannot index it either
        problems.append("--sobol: needs two or more --vary keys (one alone has both indices 1); without --sobol "
                        "the tornado of one key is written")
    if problems:
        raise ScenarioError(problems)
    ranges = sensitivity.parse_ranges(args.scenario, args.vary, overrides)
    out_dir = args.out or Path("results") / f"sensitivity-{scenario.name}"
    files.check_target(out_dir)
    evaluate = sensitivity.evaluator(args.scenario, overrides, args.metric, args.workers, args.engine)
    oat = sensitivity.one_at_a_time(ranges, evaluate, scenario.replications)
    progress = Bar("sobol", enabled=not args.quiet, unit="runs")
    indices = sensitivity.sobol(ranges, evaluate, args.samples, scenario.seed, progress) if args.sobol else None
    progress.close()
    sensitivity.write_results(out_dir, scenario.name, args.metric, oat, indices, scenario)
    if not args.quiet:
        from routesim.outputs.report import sensitivity_sentence

        print(f"{scenario.name}: {sensitivity_sentence(args.metric, oat)} -> {out_dir}/")
    return EXIT_OK


def cmd_appraise(args: argparse.Namespace, argv: list[str]) -> int:
    """``routesim appraise``."""
    from routesim.analysis import appraise
    from routesim.outputs import files
    from routesim.outputs.report import appraisal_sentence
    from routesim.scenario.loader import load_scenario

    overrides = _run_overrides(args)
    sets = [o for o in overrides if not o.startswith("replications=")]  # -n counts years of the plan, not the file's
    the_plan = appraise.plan(args.base, args.options, sets, args.replications, args.years, args.rates)
    problems = sorted({line for path in (args.base, *args.options)
                       for line in _run_problems(path, load_scenario(path, sets), args.engine)})
    if problems:
        raise ScenarioError(problems)
    out_dir = args.out or Path("results") / f"appraisal-{the_plan.base_name}"
    files.check_target(out_dir)
    if not args.quiet:
        print(f"appraise: {len(the_plan.options)} options, {the_plan.runs} runs of "
              f"{the_plan.replications:,} x {the_plan.appraisal.years} one-year replications "
              f"({the_plan.replication_years:,} in all)", file=sys.stderr)
    progress = Bar("appraise", enabled=not args.quiet, unit="replication-years")
    appraised = appraise.appraise(the_plan, sets, args.workers, args.engine, progress)
    progress.close()
    appraise.write(out_dir, appraised, ["routesim", *argv], plots=not args.no_plots)
    if not args.quiet:
        finding = appraisal_sentence(appraised.rows(), appraised.break_even(), the_plan.rates)
        print(f"{finding} -> {out_dir}/appraisal.csv")
    return EXIT_OK


def cmd_report(args: argparse.Namespace, argv: list[str]) -> int:
    """``routesim report``."""
    from routesim.outputs.report import KINDS, reportable, write_report

    if not reportable(args.directory):
        raise ScenarioError([f"{args.directory}: not a run, compare, sweep, sensitivity or appraisal directory (none of "
                             f"{', '.join(KINDS)})"])
    print(write_report(args.directory))
    return EXIT_OK


def scenario_files(folder: Path) -> list[Path]:
    """The scenario files in ``folder`` and its subfolders, shallowest first: every ``.yaml`` and ``.yml``
    except in what routesim wrote (a folder marked as a run, comparison, sweep or calibration keeps its
    resolved scenarios) and in hidden folders.

    Raises:
        ScenarioError: ``folder`` is not a folder, or holds no scenario file.
    """
    from routesim.outputs.files import MARKER

    if not folder.is_dir():
        raise ScenarioError([f"{folder}: not a folder"])
    found = []
    for here, subfolders, names in os.walk(folder):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith(".") and not (Path(here, d) / MARKER).exists())
        found += [Path(here, n) for n in names if n.endswith((".yaml", ".yml"))]
    if not found:
        raise ScenarioError([f"{folder}: no scenario files"])
    return sorted(found, key=lambda p: (len(p.parts), p))


def cmd_list(args: argparse.Namespace, argv: list[str]) -> int:
    """``routesim list``."""
    from routesim.scenario.loader import parse_yaml, read_text

    files = scenario_files(args.folder)
    rows = []
    for path in files:
        try:
            data = parse_yaml(read_text(path), str(path)) or {}
        except ScenarioError:
            data = {"description": "(invalid: not a readable YAML file)"}
        if not isinstance(data, dict):
            data = {"description": "(not a scenario)"}
        description = " ".join(str(data.get("description", "")).split())
        rows.append((path.relative_to(args.folder).as_posix(), str(data.get("extends", "")), description))
    width = max(len(r[0]) for r in rows)
    extends = max(len(r[1]) for r in rows)
    print(f"{'scenario':<{width}}  {'extends':<{extends}}  description")
    for name, parent, description in rows:
        print(f"{name:<{width}}  {parent:<{extends}}  {description[:100]}")
    return EXIT_OK


def cmd_show(args: argparse.Namespace, argv: list[str]) -> int:
    """``routesim show``."""
    from routesim.scenario.loader import dump_value, flatten, load_scenario, origin_of, origins

    scenario = load_scenario(args.scenario, args.overrides)
    where = origins(args.scenario, args.overrides)
    flat = flatten(scenario.model_dump(mode="json", by_alias=True))
    rows = []
    for key, value in flat.items():
        origin = origin_of(key, where)
        if origin == "default" and key.startswith("market.brent_series.values"):
            origin = "market.brent_series.csv"
        rows.append((f"{key}: {dump_value(value)}", origin))
    width = min(max(len(r[0]) for r in rows), 70)
    for line, origin in rows:
        print(f"{line:<{width}}  # {origin}")
    return EXIT_OK


def cmd_schema(args: argparse.Namespace, argv: list[str]) -> int:
    """``routesim schema``."""
    import json

    from routesim.outputs.files import write_text
    from routesim.scenario.schema import json_schema

    text = json.dumps(json_schema(), indent=2) + "\n"
    if args.out is not None:
        write_text(args.out, text)
    else:
        print(text, end="")
    return EXIT_OK


def result_line(summary: RunSummary, out_dir: Path) -> dict[str, Any]:
    """The figures of the result line, each named with its unit; the risk ones when outcomes differ."""
    m = summary.metrics
    loss = m["budget_loss_usd"]
    line: dict[str, Any] = {
        "scenario": summary.scenario,
        "settings": list(summary.settings),
        "replications": summary.replications,
        "exported_bbl_mean": m["exported_bbl"].mean,
        "shut_in_bbl_mean": m["shut_in_bbl"].mean,
        "budget_loss_usd_mean": loss.mean,
        "budget_loss_share_mean": m["budget_loss_share"].mean,
    }
    if loss.std > 0:
        line |= {"budget_loss_usd_p95": loss.p95, "prob_budget_loss": loss.prob_loss}
    return line | {"out_dir": str(out_dir)}


def headline(summary: RunSummary, out_dir: Path) -> str:
    """One line that says what the run found and where its files are; with outcomes that differ, the 95th
    percentile of the budget loss and the probability of any loss too."""
    from routesim.outputs.labels import budget_words

    line = result_line(summary, out_dir)
    n = summary.replications
    mean = " (means)" if n > 1 else ""
    risk = ""
    if "budget_loss_usd_p95" in line:
        risk = (f"; p95 USD {_shown(line['budget_loss_usd_p95'] / 1e9, 2)} bn, "
                f"P(loss) {_shown(line['prob_budget_loss'] * 100, 0)}%")
    return (
        f"{summary.title}: {n} replication{'s' if n > 1 else ''}{mean}: "
        f"exported {_shown(line['exported_bbl_mean'] / 1e6, 1)} M bbl, "
        f"shut in {_shown(line['shut_in_bbl_mean'] / 1e6, 1)} M bbl, "
        f"budget loss USD {_shown(line['budget_loss_usd_mean'] / 1e9, 2)} bn "
        f"({_shown(line['budget_loss_share_mean'] * 100, 1)}% of {budget_words(summary.horizon_days, 'budget')})"
        f"{risk} -> {out_dir}/"
    )


def _shown(value: float, decimals: int, signed: bool = False) -> str:
    """``value`` with ``decimals`` decimals and thousands separated (and its sign, if ``signed``), never
    ``-0.0``: rounded first, then + 0.0 turns a negative zero (a rounding error of a zero loss) into zero."""
    return f"{round(value, decimals) + 0.0:{'+' if signed else ''},.{decimals}f}"


def _figure_text(name: str, value: float) -> str:
    """A figure of ``routesim summary``, in 4 significant digits; a rounding error of zero (below a
    thousandth of a barrel or dollar, a trillionth of a share) shown as 0, never as ``-0`` or ``-5e-07``."""
    noise = 1e-12 if name.endswith("_share") else 1e-3
    return f"{(0.0 if abs(value) < noise else value) + 0.0:12.4g}"


def cmd_summary(args: argparse.Namespace, argv: list[str]) -> int:
    """``routesim summary``."""
    from routesim.outputs import rundir

    summary = rundir.read_summary(args.directory)
    if args.json:
        print(json.dumps(summary.to_json(), indent=2))
        return EXIT_OK
    n = summary.replications
    print(f"{summary.title}: {n:,} replication{'s' if n != 1 else ''}, {summary.horizon_days} days, seed {summary.seed}")
    width = max(26, *(len(name) for name in summary.metrics))
    print(f"  {'metric':<{width}} {'mean':>12} {'p5':>12} {'p50':>12} {'p95':>12} {'CVaR 95':>12} {'P(loss)':>8}")
    for name, st in summary.metrics.items():
        cvar = "" if st.cvar95 is None else _figure_text(name, st.cvar95)
        prob = "" if st.prob_loss is None else f"{st.prob_loss:8.1%}"
        shown = " ".join(_figure_text(name, v) for v in (st.mean, st.p5, st.p50, st.p95))
        print(f"  {name:<{width}} {shown} {cvar:>12} {prob:>8}")
    for producer, own in (summary.producers or {}).items():
        print(f"  {producer}: shut in {_shown(own['shut_in_bbl'].mean / 1e6, 1)} M bbl, made up "
              f"{_shown(own['recovered_bbl'].mean / 1e6, 1)}, lost {_shown(own['lost_production_bbl'].mean / 1e6, 1)}, "
              f"still owed {_shown(own['backlog_end_bbl'].mean / 1e6, 1)} at the horizon (means)")
    for route, figures in summary.routes.items():
        bound = "" if figures.binding_constraint is None else f"; bound by {figures.binding_constraint}"
        print(f"  {route}: exported {_shown(figures.exported_bbl.mean / 1e6, 1)} M bbl (mean), available "
              f"{_shown(figures.availability.mean * 100, 1)}%, {_shown(figures.days_impaired.mean, 1)} days "
              f"impaired{bound}")
        if figures.moorings is not None:
            up = figures.moorings
            states = ", ".join(f"{j} up {_shown(d.mean, 1)}" for j, d in enumerate(up.days_by_moorings_up))
            print(f"    moorings: at least {up.active_moorings} of {len(up.days_by_moorings_up) - 1} up "
                  f"{_shown(up.availability.mean * 100, 1)}% of the time; days (means): {states}")
    return EXIT_OK
