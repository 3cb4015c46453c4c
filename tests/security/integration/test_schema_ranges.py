"""Issue 15, item 4, in the documents: every value a request carries has a range in the OpenAPI
document of its service, so the range is the schema's and not the luck of the code behind it.

Integers and numbers have a minimum and a maximum; strings a maximum length (or an enum, a UUID,
a pattern that can only match a bounded string, or for dates the window ``x-earliest`` /
``x-latest``); lists a maximum number of items; maps a set of properties or a maximum of them.
Checked on every query, header and path parameter and every field of every request body,
nested ones included. Responses are what the services write, not what they accept: not checked."""
from __future__ import annotations

import re

import pytest

from .boundaries import resolve
from .routes import ROUTES
from .world import SERVICES, build_app
from kinerja.webapp import runtime_of

pytestmark = pytest.mark.integration

# the date window README.md documents (kinerja.fields)
EARLIEST, LATEST = "2000-01-01", "2100-12-31"
_UNBOUNDED = re.compile(r"(?<!\\)[*+]|\{\d*,\}")


def _pattern_bounded(pattern: str) -> bool:
    return pattern.startswith("^") and pattern.endswith("$") and not _UNBOUNDED.search(pattern)


def unbounded(spec: dict, schema: dict, where: str, seen: set) -> list[str]:
    """The places under ``schema`` without a range."""
    if "$ref" in schema:
        if schema["$ref"] in seen:
            return []
        seen = seen | {schema["$ref"]}
    schema = resolve(spec, schema)
    out = []
    for key in ("anyOf", "oneOf", "allOf"):
        for i, sub in enumerate(schema.get(key, [])):
            out += unbounded(spec, sub, where, seen)
    kind = schema.get("type")
    if kind in ("integer", "number"):
        low = "minimum" in schema or "exclusiveMinimum" in schema
        high = "maximum" in schema or "exclusiveMaximum" in schema
        if not (low and high):
            out.append(f"{where}: {kind} without {'a minimum' if not low else ''}{' and ' if not (low or high) else ''}"
                       f"{'a maximum' if not high else ''}")
    elif kind == "string":
        fmt = schema.get("format")
        if fmt in ("date", "date-time"):
            if schema.get("x-earliest", "")[:10] != EARLIEST or schema.get("x-latest", "")[:10] != LATEST:
                out.append(f"{where}: a {fmt} without the window x-earliest/x-latest")
        elif not ("maxLength" in schema or "enum" in schema or fmt == "uuid"
                  or _pattern_bounded(schema.get("pattern", ""))):
            out.append(f"{where}: a string without maxLength (or enum, or a bounded pattern)")
    elif kind == "array":
        if "maxItems" not in schema:
            out.append(f"{where}: a list without maxItems")
        out += unbounded(spec, schema.get("items", {}), f"{where}[]", seen)
    elif kind == "object" or "properties" in schema:
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict) and "maxProperties" not in schema:
            out.append(f"{where}: a map without maxProperties")
        if isinstance(extra, dict):
            out += unbounded(spec, extra, f"{where}{{}}", seen)
        for name, sub in schema.get("properties", {}).items():
            out += unbounded(spec, sub, f"{where}.{name}", seen)
    return out


def _specs() -> dict:
    import tempfile

    specs = {}
    for service in SERVICES:
        app = build_app(service, f"sqlite:///{tempfile.mkdtemp(prefix='kinerja-sec-')}/s.db", migrate=False)
        specs[service] = app.test_client().get("/openapi.json").get_json()
        runtime_of(app).dispose()
    return specs


SPECS = _specs()
OPERATIONS = sorted((service, method.upper(), path) for service, spec in SPECS.items()
                    for path, ops in spec["paths"].items() for method in ops if method in ("get", "post", "put", "patch", "delete"))


@pytest.mark.parametrize("service,method,path", OPERATIONS, ids=[f"{s} {m} {p}" for s, m, p in OPERATIONS])
def test_every_request_value_has_a_range(service, method, path, security_report):
    spec = SPECS[service]
    op = spec["paths"][path][method.lower()]
    missing = []
    for param in op.get("parameters", []) + spec["paths"][path].get("parameters", []):
        missing += unbounded(spec, param.get("schema", {}), f"{param['in']} {param['name']}", set())
    for ctype, content in op.get("requestBody", {}).get("content", {}).items():
        if ctype == "application/json":
            missing += unbounded(spec, content.get("schema", {}), "body", set())
    security_report.attempt("schema range", service, method, path, got_through="; ".join(missing[:5]) or None)
    assert not missing, missing


def test_every_route_with_parameters_is_in_a_document():
    """The routes the documents leave out are the device protocol (its fields are swept in
    test_boundaries), health, metrics, documents and the dashboard's files."""
    documented = {(s, m, p) for s, m, p in OPERATIONS}
    from .boundaries import openapi_path

    left_out = [r.id for r in ROUTES if (r.service, r.method, openapi_path(r.rule)) not in documented
                and r.blueprint not in ("iclock", "health", "metrics", "api-docs", "dashboard", "static")]
    assert not left_out, left_out
