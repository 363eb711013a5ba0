"""The JSON Schema of the scenario format, for editors that check a file as it is typed.

A scenario file may be partial: any key may come from the file it ``extends`` (so nothing is required),
a ``null`` entry removes an inherited one (a producer, a route), and a route may be overridden in part,
without its ``kind``. The schema checks what a file says; ``routesim validate`` checks the whole.
"""

from __future__ import annotations

from typing import Any

from .model import Scenario

DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCALARS = ("null", "number", "integer", "string", "boolean")


def json_schema() -> dict[str, Any]:
    """The scenario format as a JSON Schema (draft 2020-12)."""
    schema = Scenario.model_json_schema(by_alias=True)
    schema["$schema"] = DIALECT
    schema["title"] = "routesim scenario"
    # a key the loader handles before validation: the parent file
    schema["properties"]["extends"] = {"type": "string", "description": "parent scenario file, relative to this one"}
    _walk(schema, schema["$defs"])
    return schema


def _walk(node: Any, defs: dict[str, Any]) -> None:
    """Make every object of the schema partial, its named entries removable, its tagged unions by tag."""
    if isinstance(node, list):
        for value in node:
            _walk(value, defs)
        return
    if not isinstance(node, dict):
        return
    for value in node.values():  # children first: what this node adds below is not walked again
        _walk(value, defs)
    node.pop("required", None)
    if "discriminator" in node and "oneOf" in node:
        node.update(_by_tag(node.pop("discriminator"), node.pop("oneOf"), defs))
    if len(node.get("anyOf", ())) == 2:
        node.update(_either(*node.pop("anyOf")))
    for pattern, entry in node.get("patternProperties", {}).items():
        node["patternProperties"][pattern] = {"if": {"type": "null"}, "else": entry}  # if/else: its own errors


def _either(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """``anyOf: [a, b]`` where one of them is a plain type (a number, null) as ``if that type then it else
    the other``: a mistake inside the other is then reported as itself, not as "valid under none"."""
    plain, other = (a, b) if a.get("type") in SCALARS else (b, a)
    if plain.get("type") not in SCALARS:
        return {"anyOf": [a, b]}
    return {"if": {"type": plain["type"]}, "then": plain, "else": other}


def _by_tag(discriminator: dict[str, Any], members: list[dict[str, Any]], defs: dict[str, Any]) -> dict[str, Any]:
    """A tagged union as one ``if kind == tag then member`` per tag, and without a tag (a partial override)
    any key of any member: so a typo is reported as an unknown key of the member its tag names, never as a
    ``oneOf`` failure of every member."""
    tag = discriminator["propertyName"]
    mapping: dict[str, str] = discriminator["mapping"]
    known: dict[str, Any] = {}
    for ref in mapping.values():
        known.update(defs[ref.rsplit("/", 1)[-1]].get("properties", {}))
    return {
        "type": "object",
        "properties": {tag: {"enum": list(mapping)}},
        "allOf": [
            {"if": {"properties": {tag: {"const": value}}, "required": [tag]}, "then": {"$ref": ref}}
            for value, ref in mapping.items()
        ],
        "if": {"required": [tag]},
        "else": {"properties": known, "additionalProperties": False},
    }
