"""The values of issue 15's item 4, and where they go: every parameter of a route (path, query,
header, every leaf of a JSON body, an upload's file name, every field of the device protocol's
lines), one at a time, with the other parameters left valid.

The list is the class, not the cases the outside probe happened to send: integers at and beyond
both ends of 32 and 64 bits, a 5,000-digit integer, years 0 and 10000, the first and last dates a
date type can hold (with offsets that push them over), long strings, line breaks, NUL, numbers too
large for a double."""
from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from typing import Any


class Raw(str):
    """Text written as it is into a JSON body (a number JSON allows but Python will not print)."""


HUGE = Raw("9" * 5000)
EXTREMES: list[tuple[str, Any]] = [
    ("2^31-1", 2**31 - 1), ("2^31", 2**31), ("2^63-1", 2**63 - 1), ("2^63", 2**63), ("2^64", 2**64),
    ("-2^63-1", -(2**63) - 1), ("-1", -1), ("5000 digits", HUGE), ("-5000 digits", Raw("-" + "9" * 5000)),
    ("1e308", Raw("1e308")), ("1e999999", Raw("1e999999")), ("\"1e999999\"", "1e999999"),
    ("year 0", 0), ("year 10000", 10000), ("\"0\"", "0"), ("\"10000\"", "10000"),
    ("period 0000-01", "0000-01"), ("period 10000-01", "10000-01"), ("period 0000-Q1", "0000-Q1"),
    ("date 0000-01-01", "0000-01-01"), ("date 0001-01-01", "0001-01-01"), ("date 9999-12-31", "9999-12-31"),
    ("date 10000-01-01", "10000-01-01"),
    ("time 0001-01-01T00:00:00+14:00", "0001-01-01T00:00:00+14:00"),
    ("time 9999-12-31T23:59:59-12:00", "9999-12-31T23:59:59-12:00"),
    ("time 0001-01-01 00:00:00", "0001-01-01 00:00:00"), ("time 9999-12-31 23:59:59", "9999-12-31 23:59:59"),
    ("5000 chars", "x" * 5000), ("newline", "a\nb"), ("CRLF", "a\r\nb"), ("NUL", "a\x00b"),
    ("empty", ""), ("emoji", "\U0001F600"), ("formula", "=1+1"), ("path", "../../etc/passwd"),
]

# where a value travels as text (a path, a query, a header, a line of the device protocol, a CSV
# cell), values that read the same are one value
TEXT_EXTREMES = list({str(v): (label, v) for label, v in reversed(EXTREMES)}.values())[::-1]

# what PostgreSQL and SQLite keep differently (integers past 32 and 64 bits, NUL, strings longer
# than their column, dates): the sweep's values on the second database
DATABASE_LABELS = {"2^31-1", "2^31", "2^63-1", "2^63", "2^64", "-2^63-1", "-1", "5000 digits", "5000 chars", "NUL",
                   "date 0001-01-01", "date 9999-12-31", "time 0001-01-01T00:00:00+14:00",
                   "time 9999-12-31T23:59:59-12:00", "year 0", "year 10000", "emoji"}


def for_database(values: list, db_kind: str) -> list:
    return values if db_kind == "sqlite" else [(label, v) for label, v in values if label in DATABASE_LABELS]


@dataclass(frozen=True)
class Param:
    where: str  # path, query, header, body, filename, adms
    name: str
    at: tuple = ()  # a body leaf's path of keys and indices; an ADMS field's template and index

    @property
    def label(self) -> str:
        if self.where == "body":
            return "body." + ".".join(str(p) for p in self.at)
        if self.where == "adms":
            return f"adms {self.at[0]}[{self.at[1]}]"
        return f"{self.where} {self.name}"


# -- the OpenAPI document ------------------------------------------------------------------------
def openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+(?:\([^)]*\))?:)?([a-z_]+)>", r"{\1}", rule)


def resolve(spec: dict, schema: dict | None) -> dict:
    while schema and "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        schema = spec["components"]["schemas"][name]
    return schema or {}


def operation(spec: dict, rule: str, method: str) -> dict:
    return spec.get("paths", {}).get(openapi_path(rule), {}).get(method.lower(), {})


def query_and_header_params(spec: dict, rule: str, method: str) -> list[Param]:
    out = []
    for p in operation(spec, rule, method).get("parameters", []):
        if p.get("in") in ("query", "header"):
            out.append(Param(p["in"], p["name"]))
    return out


def body_schema(spec: dict, rule: str, method: str) -> dict:
    content = operation(spec, rule, method).get("requestBody", {}).get("content", {})
    return resolve(spec, content.get("application/json", {}).get("schema"))


def leaves(value: Any, at: tuple = ()) -> list[tuple]:
    """The paths of every leaf of a JSON value (a list: its first item only)."""
    if isinstance(value, dict):
        out = [] if value or not at else [at]
        for key, item in value.items():
            out += leaves(item, at + (key,))
        return out
    if isinstance(value, list):
        return leaves(value[0], at + (0,)) if value else [at]
    return [at]


def body_params(spec: dict, rule: str, method: str, base: Any) -> list[Param]:
    """Every leaf of the valid body, and every property the schema has that the body leaves out
    (top level and in the first item of each list of objects)."""
    paths = set(leaves(base)) if isinstance(base, (dict, list)) else set()

    def walk(schema: dict, value: Any, at: tuple) -> None:
        schema = resolve(spec, schema)
        if schema.get("type") == "array" and isinstance(value, list) and value:
            walk(schema.get("items", {}), value[0], at + (0,))
        for name, sub in schema.get("properties", {}).items():
            here = at + (name,)
            if not isinstance(value, dict) or name not in value:
                paths.add(here)
            else:
                walk(sub, value[name], here)

    if isinstance(base, dict):
        walk(body_schema(spec, rule, method), base, ())
    return [Param("body", ".".join(map(str, p)), p) for p in sorted(paths, key=lambda p: tuple(map(str, p))) if p]


# -- building a request ---------------------------------------------------------------------------
_SENTINEL = "\u0000__boundary__\u0000"


def with_leaf(body: Any, at: tuple, value: Any) -> str:
    """``body`` as JSON text with the leaf at ``at`` replaced by ``value`` (created if missing)."""
    body = copy.deepcopy(body)
    target = body
    for key in at[:-1]:
        if isinstance(target, list):
            target = target[key]
        else:
            target = target.setdefault(key, {})
    target[at[-1]] = _SENTINEL
    raw = value if isinstance(value, Raw) else json.dumps(value)
    return json.dumps(body).replace(json.dumps(_SENTINEL), raw)


def as_text(value: Any) -> str:
    return str(value)
