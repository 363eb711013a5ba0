"""Scenario keys, names and metrics in words, with their units: ``outages[0].duration_days`` -> ``Length of
the CPC stop [days]``, ``atyrau_samara`` -> ``Atyrau-Samara``. Shared by the plots and the reports, so it
imports no matplotlib."""

from __future__ import annotations

import re
from collections.abc import Sequence

from routesim.scenario.model import Scenario
from routesim.units import DAYS_PER_YEAR

UNIT_SUFFIXES = (  # a key's unit from how its name ends, longest first
    ("_usd_per_bbl", "USD/bbl"),
    ("_usd_per_tonne", "USD/t"),
    ("_usd_per_year", "USD/yr"),
    ("bbl_per_tonne", "bbl/t"),
    ("_per_year", "per year"),
    ("_bpd", "bbl/day"),
    ("_bbl", "bbl"),
    ("_usd", "USD"),
    ("_days", "days"),
    ("_share", "-"),
    ("_factor", "-"),
)
FIELDS: dict[str, tuple[str, str | None]] = {
    # a scenario key's last name: what it is in words, and its unit where the name does not carry it
    "duration_days": ("length", None),
    "start_day": ("start", "day of the run"),
    "capacity_factor": ("capacity left", None),
    "capacity_bpd": ("capacity", None),
    "transit_days": ("transit time", None),
    "cost_usd_per_bbl": ("cost", None),
    "cost_usd_per_tonne": ("cost", None),
    "differential_usd_per_bbl": ("price differential to Brent", None),
    "committed_bpd": ("committed flow", None),
    "reroute_lag_days": ("reroute lag", None),
    "plan_bpd": ("plan", None),
    "tankers": ("tankers", "count"),
    "tanker_capacity_bbl": ("cargo per tanker", None),
    "load_berths": ("load berths", "count"),
    "load_days": ("loading time", None),
    "voyage_days": ("voyage time", None),
    "unload_days": ("discharge time", None),
    "production_bpd": ("production", None),
    "storage_bbl": ("storage capacity", None),
    "initial_storage_bbl": ("initial storage", None),
    "working_storage_bbl": ("working stock", None),
    "restart_ramp_days": ("restart ramp", None),
    "active_moorings": ("active moorings", "count"),
    "mooring_rate_bpd": ("loading rate per mooring", None),
    "brent_usd_per_bbl": ("Brent", None),
    "rate_per_year": ("rate", None),
    "time_to_failure_days": ("time to failure", None),
    "repair_days": ("repair time", None),
    "government_take_share": ("government take", None),
    "national_fund_share": ("National Fund share", None),
    "budget_revenue_usd_per_year": ("budget revenue", None),
    "volatility_per_year": ("volatility", "1/√yr"),
    "reversion_per_year": ("mean reversion", None),
    "initial_usd_per_bbl": ("initial Brent", None),
    "long_run_usd_per_bbl": ("long-run Brent", None),
    "rate": ("rate", "-"),
    "replications": ("replications", "count"),
    "horizon_days": ("horizon", None),
}
DISTRIBUTION_PARAMETERS = {"value": "", "median": "median", "mean": "mean", "sd": "spread of the", "sigma": "sigma of the",
                           "shape": "shape of the", "scale": "scale of the", "low": "lowest", "high": "highest",
                           "mode": "most likely"}
PROCESSES = {  # a list of impairments: one of them in words, and what hits a target
    "outages": ("outage", "outage"),
    "incidents": ("incident process", "incidents"),
    "failures": ("failure process", "failures"),
    "weather": ("storm process", "storms"),
}
ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")


def display_name(name: str) -> str:
    """A route, part or producer name as a reader sees it: ``cpc`` -> ``CPC``, ``cpc/spm-2`` -> ``CPC spm-2``,
    ``atyrau_samara`` -> ``Atyrau-Samara`` (a name of up to three letters is taken for an acronym)."""
    route, _, part = name.partition("/")
    words = [w.upper() if len(w) <= 3 and w.isalpha() else w[:1].upper() + w[1:] for w in route.split("_")]
    return " ".join(filter(None, ["-".join(words), part]))


def key_label(key: str, scenarios: Sequence[Scenario] = ()) -> str:
    """A scenario key path as an axis label with its unit: ``outages[0].duration_days`` -> ``Length of the CPC
    stop [days]``. The unit comes from the key's name (``_days``, ``_bpd``, ``_usd_per_bbl``, ...); what an
    outage or random process hits, from ``scenarios`` where they all agree (else ``the first outage``)."""
    tokens = re.findall(r"[^.\[\]]+", key)
    parameter = tokens.pop() if len(tokens) > 1 and tokens[-1] in DISTRIBUTION_PARAMETERS else None
    field = tokens.pop() if tokens else key
    name, unit = _field(field)
    if tokens[-1:] == ["mooring_rates_bpd"]:  # routes.cpc.terminal.mooring_rates_bpd.spm-3
        tokens.pop()
        name, unit = f"loading rate of {field}", "bbl/day"
    if parameter is not None:
        name = f"{DISTRIBUTION_PARAMETERS[parameter]} {name}".strip()
        unit = "-" if parameter in ("sigma", "shape") else unit
    if tokens and tokens[0] in PROCESSES and len(tokens) == 2 and tokens[1].isdigit():
        joiner = "during" if field == "capacity_factor" else "of"
        text = f"{name} {joiner} {_process(tokens[0], int(tokens[1]), field, scenarios)}"
    else:
        text = " ".join([*_owner(tokens), name])
    return f"{capital(text)} [{unit}]"


def capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _field(field: str) -> tuple[str, str]:
    """A key's last name in words, and its unit."""
    unit = next((u for suffix, u in UNIT_SUFFIXES if field.endswith(suffix)), "-")
    name, own_unit = FIELDS.get(field, (None, None))
    if name is None:
        stem = next((field[: -len(s)] for s, u in UNIT_SUFFIXES if field.endswith(s) and len(field) > len(s) and u != "-"),
                    field)
        name = stem.replace("_", " ")
    return name, own_unit or unit


def _owner(tokens: list[str]) -> list[str]:
    """What a key belongs to, in words: ``routes.cpc.segments.russian-section`` -> ``CPC russian-section``."""
    if tokens[:1] in (["routes"], ["producers"]) and len(tokens) > 1:
        return [display_name(tokens[1]), *(t.replace("_", " ") for t in tokens[2:] if t != "segments")]
    return [t.replace("_", " ") for t in tokens if t not in ("market", "fiscal", "taxes")]


def _process(kind: str, index: int, field: str, scenarios: Sequence[Scenario]) -> str:
    """``the CPC stop``, ``CPC incidents``: the scheduled outage or random process ``kind[index]`` in words."""
    phrases = set()
    for s in scenarios:
        items = getattr(s, kind)
        if index >= len(items):
            return _nth(kind, index)
        target = display_name(items[index].target)
        if kind == "outages":
            stop = items[index].capacity_factor == 0 and field != "capacity_factor"
            phrases.add(f"the {target} {'stop' if stop else 'outage'}")
        else:
            phrases.add(f"{target} {PROCESSES[kind][1]}")
    return phrases.pop() if len(phrases) == 1 else _nth(kind, index)


def _nth(kind: str, index: int) -> str:
    what = PROCESSES[kind][0]
    return f"the {ORDINALS[index]} {what}" if index < len(ORDINALS) else f"{what} {index}"


def number(value: float, digits: int | None = None) -> str:
    """A parameter value as text: thousands separated, no needless decimals; to ``digits`` significant digits
    if given (a grid value of 110 / 3 as ``36.7``, not ``36.6667``)."""
    if digits is not None:
        value = float(f"{value:.{digits}g}")
    return f"{value:,.0f}" if abs(value) >= 1e4 else f"{value:g}"


METRIC_LABELS = {
    "budget_loss_usd": ("budget loss", 1e9, "USD bn"),
    "budget_loss_share": ("budget loss", 1e-2, "% of budget revenue"),
    "revenue_loss_usd": ("export revenue loss", 1e9, "USD bn"),
    "government_loss_usd": ("government revenue loss", 1e9, "USD bn"),
    "exported_bbl": ("exported", 1e6, "M bbl"),
    "shut_in_bbl": ("shut in", 1e6, "M bbl"),
    "export_loss_bbl": ("exports lost", 1e6, "M bbl"),
}


def budget_words(horizon_days: int, year: str = "budget revenue") -> str:
    """What a budget loss share is of: the budget of the run's horizon, ``year`` (``budget revenue``) for a
    year's run, ``the 61-day budget`` for a shorter or longer one."""
    return year if horizon_days == DAYS_PER_YEAR else f"the {horizon_days:,}-day budget"


def metric_axis(metric: str, scenarios: Sequence[Scenario] = ()) -> tuple[str, float]:
    """Axis label with its unit, and the divisor that puts a metric in that unit; a budget loss share of
    ``scenarios`` that all run another horizon than a year says what budget it is of."""
    label, scale, unit = METRIC_LABELS.get(metric, (metric, 1.0, "-"))
    horizons = {s.horizon_days for s in scenarios}
    if metric == "budget_loss_share" and len(horizons) == 1:
        unit = f"% of {budget_words(horizons.pop())}"
    return f"{label} [{unit}]", scale


def split_unit(label: str) -> tuple[str, str]:
    """An axis label's words and its unit: ``Brent [USD/bbl]`` -> ``Brent``, ``USD/bbl``."""
    words, _, unit = label.rpartition(" [")
    return (words, unit[:-1]) if words else (label, "")


def in_words(label: str) -> str:
    """An axis label without its unit, to go inside a sentence: ``Length of the CPC stop`` -> ``length of the
    CPC stop``."""
    words = split_unit(label)[0]
    return words[:1].lower() + words[1:] if words[1:2].islower() else words


def key_words(key: str, scenarios: Sequence[Scenario] = ()) -> tuple[str, str]:
    """A key inside a sentence and the unit that follows its values: ``outages[0].duration_days`` ->
    (``length of the first outage``, `` days``); a unit of counts or fractions is left out."""
    words, unit = split_unit(key_label(key, scenarios))
    return in_words(words), "" if unit in ("-", "count") else f" {unit}"


def key_at(key: str, value: float, scenarios: Sequence[Scenario] = ()) -> str:
    """A key at a value, in words: ``length of the first outage 10 days``, or with ``scenarios`` that agree on
    what it hits, ``length of the CPC stop 10 days``."""
    words, unit = key_words(key, scenarios)
    return f"{words} {number(value)}{unit}"
