"""Issue 15, item 6: no request does unbounded work. Every route whose body names a span (a start
and an end date or time, or a date to recompute from until today) refuses one of four years with
a 4xx and the reason, and takes a month. The routes are found from the OpenAPI documents, so a
route with a span added later is held to the same rule."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from .boundaries import body_schema, openapi_path
from .routes import WITH_BODY, allowed_token
from .world import bearer, today
from kinerja.webapp import runtime_of

pytestmark = pytest.mark.integration

PAIRS = (("start_date", "end_date"), ("start", "end"))
FOUR_YEARS = timedelta(days=4 * 365 + 1)


def _spec(w):
    return w.client.get("/openapi.json").get_json()


def span_fields(spec, route):
    props = body_schema(spec, route.rule, route.method).get("properties", {})
    dated = {k for k, v in props.items() if v.get("format") in ("date", "date-time")}
    pairs = [(a, b) for a, b in PAIRS if a in dated and b in dated]
    return pairs, [k for k in dated if k.startswith("recompute_from")]


def _value(schema_format: str, day) -> str:
    return f"{day}T08:00:00+07:00" if schema_format == "date-time" else str(day)


def _routes_with_spans():
    from .world import build_app
    import tempfile

    found = []
    for route in WITH_BODY:
        app = build_app(route.service, f"sqlite:///{tempfile.mkdtemp(prefix='kinerja-sec-')}/s.db", migrate=False)
        spec = app.test_client().get("/openapi.json").get_json()
        runtime_of(app).dispose()
        pairs, since = span_fields(spec, route)
        if pairs or since:
            found.append(route)
    return found


SPANS = _routes_with_spans()


def test_the_routes_with_spans_were_found():
    assert {(r.method, r.rule) for r in SPANS} >= {
        ("POST", "/api/v1/leave"), ("POST", "/api/v1/leave/cancel"), ("POST", "/api/v1/calendar/ramadan"),
        ("POST", "/api/v1/days/close"), ("PUT", "/api/v1/schedules/units/<unit>"),
        ("POST", "/api/v1/devices/<sn>/commands")}


@pytest.mark.parametrize("route", SPANS, ids=[r.id for r in SPANS])
def test_a_span_of_four_years_is_refused_and_a_month_is_taken(route, world_of, security_report):
    w = world_of(route.service)
    spec = _spec(w)
    props = body_schema(spec, route.rule, route.method)["properties"]
    pairs, since = span_fields(spec, route)
    base = w.bodies[(route.method, route.rule)]()
    if (route.method, route.rule) in w.self_service:
        base.pop("nip", None)  # the caller's own: the span is what is checked here, not whose it is
    if route.rule.endswith("/commands"):
        base = {"kind": "reupload"}
    end = today() - timedelta(days=1)
    for first, last in pairs:
        fmt = props[first].get("format")
        long = {**base, first: _value(fmt, end - FOUR_YEARS), last: _value(fmt, end)}
        short = {**base, first: _value(fmt, end - timedelta(days=30)), last: _value(fmt, end)}
        _check(w, route, long, short, security_report, f"{first}..{last}")
    for key in since:
        _check(w, route, {**base, key: str(end - FOUR_YEARS)}, {**base, key: str(end - timedelta(days=30))},
               security_report, key)


def _check(w, route, long, short, security_report, what):
    headers = bearer(allowed_token(route))
    resp = w.call(route, headers, data=json.dumps(long), content_type="application/json")
    refused = 400 <= resp.status_code < 500
    security_report.attempt("unbounded span", route.service, route.method, route.rule, status=resp.status_code,
                            got_through=None if refused else f"{what} of four years: {resp.status_code}")
    assert refused and resp.get_json()["message"], (what, resp.status_code, resp.get_data(as_text=True)[:300])
    ok = w.call(route, headers, data=json.dumps(short), content_type="application/json")
    assert ok.status_code < 300, (what, ok.status_code, ok.get_data(as_text=True)[:300])
