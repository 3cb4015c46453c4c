"""Issue 15, item 4: every route of every service, every parameter it takes (path, query, headers
such as ``Last-Event-ID``, each leaf of its JSON body, an upload's file name, each field of the
device protocol's lines and queries), with each of ``boundaries.EXTREMES`` while everything else
stays valid; the roster import's columns likewise. Pass: no answer is a 5xx (a value out of range
is a 4xx with the reason, or is accepted when it is in range), and no CLI run crashes.

The parameters are read from each app's url_map and OpenAPI document at run time, so a route or
field added later is swept without being listed here."""
from __future__ import annotations

import io
import json
from datetime import timedelta
from urllib.parse import quote

import pytest
from click.testing import CliRunner

from kinerja.cli.main import cli

from .boundaries import (EXTREMES, HUGE, TEXT_EXTREMES, Param, Raw, as_text, body_params, for_database,
                         query_and_header_params, with_leaf)
from .routes import ROUTES, allowed_token, params
from .world import A_DEVICE, ADMIN, ATASAN, SERVICES, VICTIM, bearer, last_workday, read_body, token

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# room for the 5,000-character values inside a body (the other modules keep 4 KiB to test 413)
MAX_BODY = 1024 * 1024

_SPECS: dict = {}


def spec_of(w) -> dict:
    if w.service not in _SPECS:
        _SPECS[w.service] = w.client.get("/openapi.json").get_json()
    return _SPECS[w.service]


def _callers(route, w):
    """(headers, body) pairs the route is swept with: the most privileged role it allows, with the
    world's valid body; punches also as a device (by PIN) and as a phone (the ASN's own NIP)."""
    body = w.bodies.get((route.method, route.rule))
    base = body() if body else None
    if (route.method, route.rule) == ("POST", "/api/v1/punches"):
        day = last_workday()
        return [(bearer(token("device")), {"punches": [{"pin": "3", "time": f"{day}T07:50:00+07:00", "status": "in"}]}),
                (bearer(token("pegawai", nip=VICTIM)),
                 {"punches": [{"nip": VICTIM, "time": f"{day}T16:40:00+07:00", "lat": -5.7, "lon": 105.6}]})]
    if route.roles is None:
        return [({}, base)]
    return [(bearer(allowed_token(route)), base)]


def _url(w, route, override: dict | None = None) -> str:
    values = {**w.path, **w.path_by_rule.get(f"{route.method} {route.rule}", {}), **(override or {})}
    url = route.rule
    for arg in route.arguments:
        value = quote(str(values.get(arg, "1" if "id" in arg else "x")), safe="")
        url = url.replace(f"<int:{arg}>", value).replace(f"<path:{arg}>", value).replace(f"<{arg}>", value)
    return url


def _send(w, route, *, url=None, query=None, headers=None, data=None, content_type=None):
    resp = w.client.open(url or _url(w, route), method=route.method, query_string=query or {},
                         headers=headers or {}, data=data, content_type=content_type, buffered=False)
    try:
        text = read_body(resp, limit_s=1.0).decode("utf-8", "replace")
    except Exception as exc:  # noqa: BLE001 - a stream that breaks after its headers: a server error
        return 500, f"the response broke off: {exc!r}"
    return resp.status_code, text


# -- the JSON API, public routes and the stream ----------------------------------------------------
def _http_variants(route, w, db_kind="sqlite"):
    body_values, text_values = for_database(EXTREMES, db_kind), for_database(TEXT_EXTREMES, db_kind)
    spec = spec_of(w)
    named = query_and_header_params(spec, route.rule, route.method)
    names = {p.name for p in named if p.where == "query"}
    query = {k: v for k, v in w.query.items() if k in names}
    if route.rule == "/readyz":
        named.append(Param("query", "strict"))
    if route.rule == "/api/v1/stream" and not any(p.name == "Last-Event-ID" for p in named):
        named.append(Param("header", "Last-Event-ID"))
    for headers, base in _callers(route, w):
        params_ = [Param("path", a) for a in route.arguments] + named
        if route.has_body and route.rule.endswith("/evidence"):
            params_ += [Param("filename", "file"), Param("filename", "content-type")]
        elif route.has_body:
            params_ += body_params(spec, route.rule, route.method, base)

        def body_kw(param=None, value=None, base=base):
            if route.rule.endswith("/evidence") and route.method == "POST":
                name, ctype = "bukti.pdf", "application/pdf"
                if param is not None and param.name == "file":
                    name = as_text(value)
                elif param is not None:
                    ctype = as_text(value)
                return {"data": {"file": (io.BytesIO(b"%PDF bukti"), name, ctype)}, "content_type": "multipart/form-data"}
            if base is None:
                return {}
            if param is None or param.where != "body":
                return {"data": json.dumps(base), "content_type": "application/json"}
            return {"data": with_leaf(base, param.at, value), "content_type": "application/json"}

        for param in params_:
            for label, value in (body_values if param.where == "body" else text_values):
                kw = body_kw(param if param.where in ("body", "filename") else None, value)
                if param.where == "path":
                    kw["url"] = _url(w, route, {param.name: as_text(value)})
                    kw["query"] = query
                elif param.where == "query":
                    kw["query"] = {**query, param.name: as_text(value)}
                else:
                    kw["query"] = query
                hdrs = dict(headers)
                if param.where == "header":
                    hdrs[param.name] = as_text(value)
                yield param.label, label, lambda kw=kw, hdrs=hdrs: _send(w, route, headers=hdrs, **kw)


# -- the device protocol ---------------------------------------------------------------------------
def _adms_variants(route, db_kind="sqlite"):
    values = for_database(TEXT_EXTREMES, db_kind)
    day = last_workday() - timedelta(days=2)
    att = ["3", f"{day} 07:40:00", "0", "1", "0", "0", "0"]
    user = [("PIN", "3"), ("Name", "Budi"), ("Pri", "0"), ("Passwd", ""), ("Card", "123"), ("Grp", "1"), ("TZ", "0")]
    oplog = ["4", "0", f"{day} 08:00:00", "1", "2", "3", "4"]
    options = [("UserCount", "5"), ("FPCount", "3"), ("TransactionCount", "10"), ("FWVersion", "Ver 6.60"),
               ("~DeviceName", "X"), ("IPAddress", "10.0.0.5")]
    info = ["Ver 6.60", "5", "3", "10", "10.0.0.5"]
    cmd = [("ID", "1"), ("Return", "0"), ("CMD", "INFO")]
    queries = {("GET", "/iclock/cdata"): {"SN": A_DEVICE, "options": "all", "pushver": "2.4.1", "language": "69"},
               ("POST", "/iclock/cdata"): {"SN": A_DEVICE, "table": "ATTLOG", "Stamp": "100"},
               ("GET", "/iclock/getrequest"): {"SN": A_DEVICE, "INFO": ",".join(info)},
               ("POST", "/iclock/devicecmd"): {"SN": A_DEVICE}, ("GET", "/iclock/ping"): {"SN": A_DEVICE},
               # push 3.x: time sync, DATA QUERY answers
               ("GET", "/iclock/rtdata"): {"SN": A_DEVICE, "type": "time"},
               ("POST", "/iclock/querydata"): {"SN": A_DEVICE, "type": "tabledata", "cmdid": "1", "tablename": "user",
                                               "count": "1", "packcnt": "1", "packidx": "1"}}
    queried = [("uid", "1"), ("pin", "3"), ("name", "Budi"), ("pri", "0"), ("card", "123")]
    biodata = [("Pin", "3"), ("No", "0"), ("Index", "0"), ("Valid", "1"), ("Type", "9"), ("Tmp", "AAAA")]
    base = queries[(route.method, route.rule)]
    for name in [*base, "pushcommkey"] if route.rule == "/iclock/cdata" and route.method == "GET" else base:
        for label, value in values:
            yield f"query {name}", label, ({**base, name: as_text(value)}, None)
    if (route.method, route.rule) == ("GET", "/iclock/getrequest"):
        for i in range(len(info)):
            for label, value in values:
                parts = list(info)
                parts[i] = as_text(value)
                yield f"INFO[{i}]", label, ({**base, "INFO": ",".join(parts)}, None)
    if (route.method, route.rule) == ("POST", "/iclock/cdata"):
        for i in range(len(att)):
            for label, value in values:
                fields = list(att)
                fields[i] = as_text(value)
                yield f"ATTLOG[{i}]", label, (base, "\t".join(fields) + "\n")
        operlog = {**base, "table": "OPERLOG", "OpStamp": "100"}
        for i, (key, _) in enumerate(user):
            for label, value in values:
                fields = [f"{k}={as_text(value) if j == i else v}" for j, (k, v) in enumerate(user)]
                yield f"OPERLOG USER {key}", label, (operlog, "USER " + "\t".join(fields) + "\n")
        for i in range(len(oplog)):
            for label, value in values:
                fields = list(oplog)
                fields[i] = as_text(value)
                yield f"OPERLOG OPLOG[{i}]", label, (operlog, "OPLOG " + "\t".join(fields) + "\n")
        for i, (key, _) in enumerate(options):
            for label, value in values:
                pairs = [f"{k}={as_text(value) if j == i else v}" for j, (k, v) in enumerate(options)]
                yield f"options {key}", label, ({**base, "table": "options"}, ",".join(pairs) + "\n")
    if (route.method, route.rule) == ("POST", "/iclock/querydata"):
        for i, (key, _) in enumerate(queried):
            for label, value in values:
                fields = [f"{k}={as_text(value) if j == i else v}" for j, (k, v) in enumerate(queried)]
                yield f"querydata user {key}", label, (base, "user " + "\t".join(fields) + "\n")
    if (route.method, route.rule) == ("POST", "/iclock/cdata"):
        for i, (key, _) in enumerate(biodata):
            for label, value in values:
                fields = [f"{k}={as_text(value) if j == i else v}" for j, (k, v) in enumerate(biodata)]
                yield f"BIODATA {key}", label, ({**base, "table": "BIODATA"}, "BIODATA " + "\t".join(fields) + "\n")
        for label, value in values:
            header = f"PIN={as_text(value)}\nSN={A_DEVICE}\nsize=4\nCMD=uploadphoto\x00"
            yield "ATTPHOTO PIN", label, ({**base, "table": "ATTPHOTO"}, header + "JPEG")
    if (route.method, route.rule) == ("POST", "/iclock/devicecmd"):
        for i, (key, _) in enumerate(cmd):
            for label, value in values:
                pairs = [f"{k}={as_text(value) if j == i else v}" for j, (k, v) in enumerate(cmd)]
                yield f"devicecmd {key}", label, (base, "&".join(pairs) + "\n~DeviceName=" + as_text(value) + "\n")


def _variants(route, w, db_kind="sqlite"):
    if route.blueprint == "iclock":
        for where, label, (query, body) in _adms_variants(route, db_kind):
            kw = {"query": query}
            if body is not None or route.method == "POST":
                kw.update(data=(body or "").encode("utf-8", "surrogatepass"), content_type="text/plain")
            yield where, label, lambda kw=kw: _send(w, route, **kw)
        return
    yield from _http_variants(route, w, db_kind)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_kind(request) -> str:
    """The sweep runs on both databases: PostgreSQL refuses what SQLite keeps (a NUL, a string
    longer than its column, a number past a 32-bit column), SQLite what PostgreSQL keeps (an
    integer past 64 bits)."""
    return request.param


# tables a refusal may write to by design: the device audit log records refused device requests
WRITTEN_ON_REFUSAL = {"device_audit"}


def _counts(w) -> dict:
    return {t: n for t, n in w.row_counts().items() if t not in WRITTEN_ON_REFUSAL}


@params(ROUTES)
def test_extreme_values_in_every_parameter_are_never_a_5xx(route, db_kind, world_of, security_report):
    """...and, on SQLite (counting rows is cheap there), a write refused with a 4xx writes no row
    (issue 15, item 9: a rejected phone punch left a device row behind)."""
    w = world_of(route.service)
    # (the device protocol answers malformed lines with 200 and keeps them on the device's status)
    check_rows = db_kind == "sqlite" and route.method in ("POST", "PUT", "PATCH") and route.blueprint != "iclock"
    failures = []
    for where, label, send in _variants(route, w, db_kind):
        before = _counts(w) if check_rows else None
        try:
            status, text = send()
        except ValueError as exc:  # the test client itself refuses (e.g. a line break in a header)
            if "newline" in str(exc) or "header" in str(exc).lower():
                continue
            raise
        problem = f"{status} {text[:120]!r}" if status >= 500 else None
        if check_rows and 400 <= status < 500 and _counts(w) != before:
            after = _counts(w)
            problem = f"refused with {status} but wrote rows: {[t for t in after if after[t] != before.get(t)]}"
        security_report.attempt("boundary value", route.service, route.method, route.rule, status=status,
                                got_through=f"{where} = {label}: {problem}" if problem else None)
        if problem:
            failures.append(f"{where} = {label}: {problem} {text[:300]!r}")
    assert not failures, f"{len(failures)} answer(s) 5xx or refused writes:\n" + "\n".join(failures[:40])


@pytest.mark.parametrize("service", SERVICES)
def test_after_the_sweep_every_read_still_answers(service, db_kind, world_of, security_report):
    """Issue 15, item 5 as a class: whatever the sweep's writes got accepted (a policy, a schedule,
    a name) poisons no later read. Runs after the sweep, on the same worlds: every GET route of the
    service, by the most privileged reader and by the ASN, answers below 500."""
    w = world_of(service)
    failures = []
    for route in [r for r in ROUTES if r.service == service and r.method == "GET" and r.roles]:
        for role in {r for r in ("admin", "atasan", "pegawai", "operator") if r in route.roles}:
            resp = w.call(route, bearer(token(role, nip={"admin": ADMIN, "atasan": ATASAN, "pegawai": VICTIM}.get(role))))
            status = resp.status_code
            try:
                read_body(resp, limit_s=1.0)
            except Exception as exc:  # noqa: BLE001 - a stream broken off is a server error
                status = 500
                failures.append(f"{route.id} as {role}: broke off {exc!r}")
            security_report.attempt("read after the sweep", service, "GET", route.rule, status=status,
                                    got_through=f"{role}: {status}" if status >= 500 else None)
            if status >= 500:
                failures.append(f"{route.id} as {role}: {status}")
    assert not failures, failures


# -- the command line: the roster import -----------------------------------------------------------
ROSTER_COLUMNS = ("nip", "nama", "agency", "unit", "jabatan", "atasan_nip", "pin")


def test_extreme_values_in_every_roster_column_are_reported_never_a_crash(tmp_path, security_report):
    good = {"nip": VICTIM, "nama": "Korban", "agency": "dinkes", "unit": "Sekretariat", "jabatan": "Analis",
            "atasan_nip": ATASAN, "pin": "3"}
    failures = []
    for column in ROSTER_COLUMNS:
        for label, value in TEXT_EXTREMES:
            row = {**good, column: str(value) if not isinstance(value, Raw) else str(value)}
            text = ",".join(ROSTER_COLUMNS) + "\n" + ",".join(
                '"' + row[c].replace('"', '""') + '"' for c in ROSTER_COLUMNS) + "\n"
            path = tmp_path / "roster.csv"
            path.write_text(text, encoding="utf-8", errors="surrogatepass")
            result = CliRunner().invoke(cli, ["roster", "import", str(path), "--dry-run"], catch_exceptions=True)
            crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
            security_report.attempt("boundary value", "cli", "RUN", "kinerja roster import --dry-run",
                                    got_through=f"{column} = {label}: {result.exception!r}" if crashed else None)
            if crashed:
                failures.append(f"{column} = {label}: {result.exception!r}")
    assert not failures, failures[:20]


def test_the_sweep_reaches_every_route_and_every_documented_parameter(world_of):
    """The control: each route is swept, and each query/header/body parameter its OpenAPI document
    names is among those tried (a field the sweep cannot find is a field it never tests)."""
    missing = []
    for route in ROUTES:
        if route.blueprint == "iclock":
            continue
        w = world_of(route.service)
        tried = {where for where, _, _ in _variants(route, w)}
        spec = spec_of(w)
        for p in query_and_header_params(spec, route.rule, route.method):
            if f"{p.where} {p.name}" not in tried:
                missing.append(f"{route.id}: {p.where} {p.name}")
        if route.has_body and not route.rule.endswith("/evidence"):
            from .boundaries import body_schema, resolve

            for name in body_schema(spec, route.rule, route.method).get("properties", {}):
                if not any(t == f"body.{name}" or t.startswith(f"body.{name}.") for t in tried):
                    missing.append(f"{route.id}: body {name}")
    assert not missing, missing
    assert HUGE and len(ROUTES) > 90
