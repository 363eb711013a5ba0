"""The only place that reads YAML: files, ``extends`` chains and ``--set`` overrides -> a frozen Scenario.

Every problem is collected and reported at once as ``key.path: message`` lines inside a ScenarioError.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import re
import types
import typing
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from routesim.errors import ScenarioError

from .distributions import DISTRIBUTIONS
from .model import ROUTE_KINDS, Scenario

_TAGS = frozenset(ROUTE_KINDS) | frozenset(DISTRIBUTIONS)

MAX_FILE_BYTES = 1_000_000
"""Scenario files larger than this are refused unread [bytes]."""
MAX_NODES = 100_000
"""A YAML document with more values than this, once aliases are expanded, is refused."""

_INDEX = re.compile(r"\[(\d+)\]")


def load_scenario(path: str | Path, overrides: Sequence[str] = ()) -> Scenario:
    """Read a scenario file, resolve ``extends``, apply ``--set KEY=VALUE`` overrides, validate.

    Args:
        path: scenario YAML file.
        overrides: ``"a.b.c=VALUE"`` strings; VALUE is parsed as a YAML scalar.

    Raises:
        ScenarioError: with one line per problem, each naming its key path.
    """
    path = Path(path)
    raw: dict[str, Any] = {}
    chain = list(extends_chain(path))
    for source in reversed(chain):  # the root first, each child deep-merged over it
        settings = source.settings()
        _anchor_paths(settings, source.path.parent)
        raw = _deep_merge(raw, settings)
    raw.setdefault("name", path.stem)
    issues: list[str] = []
    for item in overrides:
        issues += _apply_override(raw, item)
    issues += _read_brent_series(raw)
    if issues:
        raise ScenarioError(issues)
    try:
        return validate(raw)
    except ScenarioError as exc:
        raise ScenarioError([f"{_source_of(issue, chain, overrides)}: {issue}" for issue in exc.issues]) from None


def _source_of(issue: str, chain: Sequence[Source], overrides: Sequence[str]) -> str:
    """Who set the key an issue names: the last ``--set`` of it (or of a key above it), else the first
    file of the extends chain that sets it, else (a default, or a check across keys) the file loaded."""
    key = issue.partition(": ")[0]

    def covers(setting: str) -> bool:
        return key == setting or key.startswith((setting + ".", setting + "["))

    for item in reversed(overrides):
        if covers(_bracketed(item.partition("=")[0])):
            return f"--set {_show(item)}"
    for source in chain:  # child first
        if any(covers(setting) for setting in flatten(source.settings())):
            return str(source.path)
    return str(chain[0].path)


def _bracketed(key: str) -> str:
    """``outages.0.duration_days`` -> ``outages[0].duration_days``, as issues name keys."""
    return re.sub(r"\.(\d+)(?=\.|$)", r"[\1]", key)


def validate(raw: Any) -> Scenario:
    """Turn a plain mapping into a Scenario, or raise ScenarioError listing every problem."""
    if not isinstance(raw, dict):
        raise ScenarioError([f"(top level): expected a mapping of keys, got {type(raw).__name__}"])
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as exc:
        raise ScenarioError([_describe(err) for err in exc.errors()]) from None
    issues = scenario.consistency_issues()
    if issues:
        raise ScenarioError(issues)
    return scenario


def dump_resolved(scenario: Scenario) -> str:
    """The scenario with every default filled in, as YAML that ``load_scenario`` reads back unchanged."""
    data = _plain(scenario.model_dump(mode="python", by_alias=True))
    series = _series_node(data)
    if series is not None:
        series.pop("csv", None)  # its values are written out: the resolved file stands alone
    header = "# Resolved by routesim: extends and --set applied, every default written out.\n"
    return header + str(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def dump_value(value: Any) -> str:
    """``value`` as one line of YAML in flow style (``[1, 2]``, ``{a: 1}``), as ``--set`` takes it."""
    return str(yaml.safe_dump(value, default_flow_style=True)).strip().removesuffix("...").strip()


def origins(path: str | Path, overrides: Sequence[str] = ()) -> dict[str, str]:
    """Where each value of a resolved scenario comes from: a file of the extends chain or ``--set``.

    Keys are flattened paths (``routes.cpc.capacity_bpd``); a key not listed takes its default.
    """
    chain = list(extends_chain(path))
    out: dict[str, str] = {"name": f"{chain[0].path.name} (its file name)"}
    for source in reversed(chain):
        for key in flatten(source.settings()):
            out = {k: v for k, v in out.items() if not k.startswith(key + "[")}  # a child's list replaces
            out[key] = source.path.name
    for item in overrides:
        key = _bracketed(item.partition("=")[0])
        out = {k: v for k, v in out.items() if not (k == key or k.startswith((key + ".", key + "[")))}
        out[key] = "--set"
    return out


def origin_of(key: str, where: dict[str, str]) -> str:
    """The origin of ``key``, or of the nearest enclosing key set as a whole (``--set outages=[...]``)."""
    while key:
        if key in where:
            return where[key]
        key = re.sub(r"(\.[^.\[]+|\[\d+\])$", "", key) if re.search(r"(\.[^.\[]+|\[\d+\])$", key) else ""
    return "default"


def flatten(node: Any, prefix: str = "") -> dict[str, Any]:
    """``{"routes.cpc.capacity_bpd": 1e6, "outages[0].target": "cpc", ...}``: leaves by dotted path."""
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(node, list) and node and all(isinstance(v, (dict, list)) for v in node):
        out = {}
        for i, value in enumerate(node):
            out.update(flatten(value, f"{prefix}[{i}]"))
        return out
    return {prefix: node}


# ---------------------------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class Source:
    """One file of an ``extends`` chain as read: its path (as named), its text and its top-level mapping."""

    path: Path
    text: str
    data: dict[str, Any]
    extended: bool
    """Whether a child file extends this one."""

    def settings(self) -> dict[str, Any]:
        """The keys this file sets, without ``extends``; of an extended file also without its name and
        description, which a child never inherits."""
        own = ("extends", "name", "description") if self.extended else ("extends",)
        return {k: v for k, v in self.data.items() if k not in own}


def extends_chain(path: str | Path) -> Iterator[Source]:
    """``path`` and, in turn, each file it ``extends`` (relative to the file naming it), child first, each
    read once through the guards. The one walker of the chain: loading, ``show`` and the report use it.

    Raises:
        ScenarioError: when the walk reaches a file that is missing, unreadable, not a YAML mapping or names
            a parent that is not a file name, or that comes back to a file already read (a cycle); the
            message names the files that extend it. The files before it have been yielded.
    """
    chain: list[Path] = []  # the files read so far, resolved, child first
    current: Path | None = Path(path)
    while current is not None:
        real = current.resolve()
        if real in chain:
            loop = " -> ".join(p.name for p in (*chain, real))
            raise ScenarioError([f"{chain[-1]}: extends: cycle {loop}"])
        via = f" (extended by {' <- '.join(p.name for p in reversed(chain))})" if chain else ""
        if not current.is_file():
            where = f"{chain[-1]}: extends: parent" if chain else "scenario"
            raise ScenarioError([f"{where} file not found: {current}{via}"])
        try:
            text = read_text(current)
            data = _mapping(parse_yaml(text, str(current)), current)
        except ScenarioError as exc:
            raise ScenarioError([issue + via for issue in exc.issues]) from None
        yield Source(current, text, data, extended=bool(chain))
        chain.append(real)
        parent = data.get("extends")
        if parent is not None and not isinstance(parent, str):
            raise ScenarioError([f"{current}: extends: expected a file name, got {parent!r}"])
        current = None if parent is None else current.parent / parent


def read_yaml(path: str | Path) -> dict[str, Any]:
    """The top-level mapping of a YAML file (a scenario, a resolved scenario), read through the guards.

    Raises:
        ScenarioError: naming the file: missing, too large, not UTF-8, invalid YAML, empty or not a mapping.
    """
    path = Path(path)
    return _mapping(parse_yaml(read_text(path), str(path)), path)


def read_text(path: Path) -> str:
    """A YAML file's text, refused unread above MAX_FILE_BYTES [bytes]; problems as a ScenarioError naming it."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ScenarioError([f"{path}: cannot read ({exc.strerror})"]) from None
    if size > MAX_FILE_BYTES:
        raise ScenarioError([f"{path}: {size} bytes is larger than the {MAX_FILE_BYTES} byte limit for a scenario"])
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError([f"{path}: cannot read as UTF-8 text ({exc})"]) from None


def _mapping(data: Any, path: Path) -> dict[str, Any]:
    """``data`` if it is a mapping, else a ScenarioError naming the file."""
    if data is None:
        raise ScenarioError([f"{path}: the file is empty"])
    if not isinstance(data, dict):
        raise ScenarioError([f"{path}: expected a mapping of keys at the top level, got {type(data).__name__}"])
    return data


def parse_yaml(text: str, where: str) -> Any:
    """``yaml.safe_load`` with guards: at most MAX_NODES nodes once aliases are expanded (no YAML bombs),
    no duplicate keys, bounded nesting; every problem as a ScenarioError naming ``where`` and the line."""
    loader = None
    try:
        loader = yaml.SafeLoader(text)
        node = loader.get_single_node()
        if node is None:
            return None
        issues = _check_nodes(node, where)
        if issues:
            raise ScenarioError(issues)
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"{mark.line + 1}:" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioError([f"{where}:{line} invalid YAML: {_show(problem)}"]) from None
    except RecursionError:
        raise ScenarioError([f"{where}: nested too deeply to be a scenario"]) from None
    except (ValueError, OverflowError) as exc:  # e.g. a date that does not exist: 2022-02-30
        raise ScenarioError([f"{where}: invalid value: {_show(str(exc))}"]) from None
    finally:
        if loader is not None:
            loader.dispose()


def _check_nodes(root: yaml.Node, where: str) -> list[str]:
    """Count the nodes an alias-expanded document would have, and find duplicate keys."""
    sizes: dict[int, int] = {}
    issues: list[str] = []

    def size(node: yaml.Node) -> int:
        if id(node) in sizes:
            return sizes[id(node)]
        sizes[id(node)] = 1  # a self-referencing alias counts once
        total = 1
        if isinstance(node, yaml.MappingNode):
            seen = set()
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    if key.value in seen:
                        issues.append(f"{where}:{key.start_mark.line + 1}: duplicate key {key.value!r}")
                    seen.add(key.value)
                total += size(key) + size(value)
        elif isinstance(node, yaml.SequenceNode):
            total += sum(size(item) for item in node.value)
        sizes[id(node)] = total
        return total

    if size(root) > MAX_NODES:
        return [f"{where}: the document expands to more than {MAX_NODES} values (nested aliases?); refused"]
    return issues


SERIES = ("market", "brent_series")
"""Where a scenario names a data file (its ``csv`` key), read by the loader into ``values``."""


def _series_node(data: dict[str, Any]) -> dict[str, Any] | None:
    node: Any = data
    for key in SERIES:
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else None


def _anchor_paths(data: dict[str, Any], folder: Path) -> None:
    """Make a data file path absolute, relative to the scenario file that names it."""
    node = _series_node(data)
    if node is not None and isinstance(node.get("csv"), str):
        node["csv"] = str((folder / node["csv"]).resolve())


def _read_brent_series(raw: dict[str, Any]) -> list[str]:
    """Read ``market.brent_series.csv`` into ``values`` (unless values are given); return problems."""
    node = _series_node(raw)
    if node is None or not isinstance(node.get("csv"), str):
        return []
    key = "market.brent_series.csv"
    path = Path(node["csv"])
    try:
        rows = list(csv.DictReader(line for line in path.read_text(encoding="utf-8-sig").splitlines()
                                   if line.strip() and not line.startswith("#")))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        return [f"{key}: cannot read {path} ({exc})"]
    values, issues = [], []
    for n, row in enumerate(rows, 2):
        try:
            values.append({"date": dt.date.fromisoformat(str(row["date"]).strip()),
                           "usd_per_bbl": float(row["usd_per_bbl"])})
        except (KeyError, ValueError, TypeError) as exc:
            issues.append(f"{key}: {path.name} row {n}: expected date (YYYY-MM-DD) and usd_per_bbl columns ({exc})")
    if not values and not issues:
        issues.append(f"{key}: {path} has no rows")
    node["values"] = values
    return issues


def _deep_merge(base: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    """The parent with the child's keys over it; a child's ``null`` removes the parent's key (e.g. a producer)."""
    merged = dict(base)
    for key, value in child.items():
        if value is None and key in merged:
            del merged[key]
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


OPTIONAL_MAPPINGS = frozenset({"mooring_rates_bpd", "segments"})
"""Keys whose value is a mapping of named entries that a file may leave out: ``--set`` creates them and
their entries (``routes.cpc.terminal.mooring_rates_bpd.spm-3=1000000``); any other missing key is a typo."""


def _apply_override(raw: dict[str, Any], item: str) -> list[str]:
    """Apply one ``KEY=VALUE``; return problems (empty on success)."""
    key, sep, text = item.partition("=")
    if not sep or not key:
        return [f"--set {_show(item)}: expected KEY=VALUE, e.g. routes.cpc.capacity_bpd=1000000"]
    key = _show(key)
    try:
        value = parse_yaml(text, f"--set {key}")
    except ScenarioError as exc:
        return exc.issues
    parts = list(_INDEX.sub(r".\1", key).split("."))
    node: Any = raw
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        here = ".".join(parts[: depth + 1])
        if isinstance(node, dict):
            if last:
                node[part] = value
            elif part in node:
                node = node[part]
            elif part in OPTIONAL_MAPPINGS or (depth > 0 and parts[depth - 1] in OPTIONAL_MAPPINGS):
                node = node.setdefault(part, {})  # a mapping the file left out, or a new entry of one
            else:
                hint = _suggest(part, node.keys())
                return [f"--set {key}: unknown path {here}{hint}"]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            if last:
                node[int(part)] = value
            else:
                node = node[int(part)]
        else:
            return [f"--set {key}: unknown path {here}"]
    return []


# ---------------------------------------------------------------------------------------------- messages


def _describe(err: Any) -> str:
    """One ``key.path: message`` line for a pydantic error."""
    loc = tuple(err["loc"])
    kind = err["type"]
    path = _path(_strip_tags(loc))
    if kind == "extra_forbidden":
        return f"{path}: unknown key{_suggest(str(loc[-1]), _fields_at(loc[:-1]))}"
    if kind == "missing":
        return f"{path}: missing required key"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        key = err["ctx"]["discriminator"].strip("'")
        expected = ", ".join(ROUTE_KINDS if key == "kind" else DISTRIBUTIONS)
        if kind == "union_tag_not_found":
            return f"{path}.{key}: missing required key (one of {expected})"
        return f"{path}.{key}: {err['ctx']['tag']!r} is not one of {expected}"
    if kind == "model_attributes_type" and _is_quantity(loc):
        return f"{path}: expected a number or a mapping with a distribution key (got {_short(err.get('input'))})"
    msg = err["msg"].replace("tuple", "list").replace("Tuple", "List")
    if kind == "value_error":
        msg = msg.removeprefix("Value error, ")
        key, sep, rest = msg.partition(": ")
        if sep and re.fullmatch(r"[a-z_]+(\.[\w-]+)?", key):  # a key, or a key and an entry of its mapping
            return f"{_path((*_strip_tags(loc), *key.split('.')))}: {rest}"
        return f"{path}: {msg}"
    hint = ""
    if kind in ("float_type", "int_type") and isinstance(err.get("input"), str) and _is_number(err["input"]):
        hint = "; YAML reads this as text: write 4.0e+10 or 40_000_000_000, not 40e9"
    return f"{path}: {msg[0].lower()}{msg[1:]} (got {_short(err.get('input'))}){hint}"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _path(loc: Iterable[Any]) -> str:
    """``routes.cpc.capacity_bpd``, ``outages[0].target``; odd keys quoted so a message stays one line."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(part, str) and re.fullmatch(r"[\w\-/]+", part):
            out += f".{part}" if out else part
        else:
            out += f"[{part!r}]"
    return out or "(top level)"


def _strip_tags(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Drop the discriminator tags pydantic inserts in a location (route kinds, distribution names)."""
    return tuple(part for i, part in enumerate(loc) if not (i >= 2 and part in _TAGS))


def _is_quantity(loc: tuple[Any, ...]) -> bool:
    """Whether ``loc`` ends at a number-or-distribution field."""
    return bool(loc) and loc[-1] in ("duration_days", "capacity_factor", "time_to_failure_days", "repair_days")


def _show(text: str) -> str:
    """``text`` as typed when printable, else its repr (one line, escapes visible)."""
    return text if text.isprintable() else repr(text)


def _suggest(word: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, [str(c) for c in candidates], n=1, cutoff=0.6)
    return f"; did you mean {close[0]}?" if close else ""


def _fields_at(loc: tuple[Any, ...]) -> list[str]:
    """Field names of the model found by following a pydantic error location from Scenario."""
    tp: Any = Scenario
    for part in loc:
        tp = _unwrap(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            if part not in tp.model_fields:
                return []
            tp = tp.model_fields[part].annotation
        elif typing.get_origin(tp) is dict:
            tp = typing.get_args(tp)[1]
        elif typing.get_origin(tp) in (tuple, list):
            tp = typing.get_args(tp)[0]
        elif typing.get_origin(tp) in (typing.Union, types.UnionType):  # Union[A, B] or A | B
            members = [m for m in typing.get_args(tp) if _kind_of(m) == part]
            if not members:
                return []
            tp = members[0]
    tp = _unwrap(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [info.alias or name for name, info in tp.model_fields.items()]
    return []


def _unwrap(tp: Any) -> Any:
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def _kind_of(tp: Any) -> Any:
    """The discriminator tag of a union member (a route kind or a distribution name)."""
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        for key in ("kind", "distribution"):
            if key in tp.model_fields:
                return typing.get_args(tp.model_fields[key].annotation)[0]
    return None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _plain(value: Any) -> Any:
    """Tuples to lists, recursively, so that yaml.safe_dump can write the value."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.date()
    return value
