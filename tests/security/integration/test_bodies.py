"""Bodies that must be refused: larger than ``max_body_bytes`` → 413; malformed JSON → 400/422 with
the reason; malformed CSV (holidays over the API, the roster with ``kinerja roster import
--dry-run``) → a 4xx or a per-line report with the reason, never a 5xx."""
from __future__ import annotations

import io
import json

import pytest
from click.testing import CliRunner

from kinerja.cli.main import cli

from .conftest import MAX_BODY
from .routes import ICLOCK, NO_BODY_WRITES, WITH_BODY, allowed_token, params
from .world import A_DEVICE, ADMIN, AGENCY, bearer, token

pytestmark = pytest.mark.integration

BIG = MAX_BODY * 2


def _reason(resp) -> bool:
    body = resp.get_json(silent=True)
    return isinstance(body, dict) and bool(body.get("message") or body.get("errors"))


def _big(route) -> int:
    # evidence files have their own, larger limit (max_evidence_bytes + multipart overhead)
    return 200_000 if route.rule.endswith("/evidence") else BIG


@params(WITH_BODY)
def test_an_oversized_body_is_413(route, world_of, security_report):
    w = world_of(route.service)
    filler = "x" * _big(route)
    if route.rule.endswith("/evidence"):
        kw = {"data": {"file": (io.BytesIO(filler.encode()), "big.pdf")}, "content_type": "multipart/form-data"}
    else:
        kw = {"data": json.dumps({"pad": filler}), "content_type": "application/json"}
    resp = w.call(route, bearer(allowed_token(route)), **kw)
    ok = resp.status_code == 413
    security_report.attempt("oversized body", route.service, route.method, route.rule, status=resp.status_code,
                            got_through=None if ok else f"{resp.status_code}")
    assert ok, (resp.status_code, resp.get_data(as_text=True)[:200])
    assert _reason(resp), resp.get_data(as_text=True)[:200]
    resp.close()


def test_an_oversized_body_of_another_content_type_is_413(world_of, security_report):
    not_refused = []
    for route in [r for r in WITH_BODY + NO_BODY_WRITES if not r.rule.endswith("/evidence")]:
        w = world_of(route.service)
        resp = w.call(route, bearer(allowed_token(route)), data=b"x" * BIG, content_type="text/plain")
        if resp.status_code != 413:
            not_refused.append(f"{route.id} -> {resp.status_code}")
        security_report.attempt("oversized body (not JSON)", route.service, route.method, route.rule,
                                status=resp.status_code,
                                got_through=None if resp.status_code == 413 else f"{resp.status_code}")
        resp.close()
    assert not not_refused, not_refused


@params([r for r in ICLOCK if r.method == "POST"])
def test_an_oversized_device_upload_is_413(route, world_of, security_report):
    w = world_of("kehadiran")
    before = w.row_counts()
    for sn in (A_DEVICE, "NOPE00001"):
        resp = w.client.post(route.rule, query_string={"SN": sn, "table": "ATTLOG"}, data=b"3\t" * BIG,
                             content_type="text/plain")
        ok = resp.status_code == 413 or (sn != A_DEVICE and resp.status_code == 403)
        security_report.attempt("oversized body", "kehadiran", "POST", route.rule, status=resp.status_code,
                                got_through=None if ok else f"SN {sn}: {resp.status_code}")
        assert ok, (sn, resp.status_code)
    assert w.row_counts() == before


MALFORMED_JSON = {
    "truncated": '{"a": ',
    "not json": "hello",
    "trailing garbage": '{"a": 1} xyz',
    "a list": "[1, 2, 3]",
    "a string": '"just a string"',
    "null": "null",
    "invalid utf-8": b'{"a": "\xff\xfe"}',
    "NaN": '{"a": NaN}',
}


@params([r for r in WITH_BODY if not r.rule.endswith("/evidence")])
def test_malformed_json_is_4xx_with_a_reason(route, world_of, security_report):
    w = world_of(route.service)
    for label, raw in MALFORMED_JSON.items():
        resp = w.call(route, bearer(allowed_token(route)), data=raw, content_type="application/json")
        ok = resp.status_code in (400, 422) and _reason(resp)
        security_report.attempt("malformed JSON", route.service, route.method, route.rule, status=resp.status_code,
                                got_through=None if ok else f"{label}: {resp.status_code}")
        assert ok, (label, resp.status_code, resp.get_data(as_text=True)[:300])
        resp.close()


# JSON nested 1500 deep (3 KB, under the size limit) exhausts the parser's recursion: 400, not 500.
@params([r for r in WITH_BODY if not r.rule.endswith("/evidence")])
def test_deeply_nested_json_is_4xx_with_a_reason(route, world_of, security_report):
    w = world_of(route.service)
    resp = w.call(route, bearer(allowed_token(route)), data="[" * 1500 + "]" * 1500, content_type="application/json")
    ok = resp.status_code in (400, 422) and _reason(resp)
    security_report.attempt("malformed JSON (deep nesting)", route.service, route.method, route.rule,
                            status=resp.status_code, got_through=None if ok else f"{resp.status_code}")
    resp.close()
    assert ok, resp.status_code


BAD_CSV = {
    "empty": "",
    "header only": "date,name\n",
    "bad date": "2026-02-30,Hari palsu\n",
    "not a date": "kemarin,Libur\n",
    "missing name": "2026-03-01\n",
    "too many fields": "2026-03-01,a,b,c,d,e,f\n",
    "unbalanced quote": '2026-03-01,"Libur\n2026-03-02,x\n',
    "binary": "\x00\x01\x02\ufffd\n",
    "huge field": "2026-03-01," + "x" * 3000 + "\n",
    "semicolons": "2026-03-01;Libur\n",
    "year 0": "0000-01-01,x\n",
    "far future": "9999-12-31,x\n",
    "bad kind": "2026-03-01,Libur,bukan-jenis\n",
}


def test_malformed_holiday_csv_is_reported_never_5xx(world_of, security_report):
    w = world_of("kehadiran")
    admin = bearer(token("admin", AGENCY, ADMIN))
    clearly_bad = {"bad date", "not a date", "missing name", "binary", "semicolons", "year 0"}
    for label, text in BAD_CSV.items():
        for with_good in (False, True):
            csv_text = text + ("2026-08-17,Hari Kemerdekaan\n" if with_good else "")
            resp = w.client.post("/api/v1/calendar/holidays", json={"csv": csv_text}, headers=admin)
            body = resp.get_json(silent=True) or {}
            rejected = body.get("rejected") or (body.get("detail") or {}).get("rejected") or []
            problems = []
            if resp.status_code >= 500:
                problems.append("server error")
            elif resp.status_code >= 400 and not _reason(resp):
                problems.append("no reason")
            elif resp.status_code == 200:
                if not all("line" in r and "error" in r for r in rejected):
                    problems.append("a rejected line without its number and reason")
                if label in clearly_bad and not rejected:
                    problems.append("a bad line was not reported")
            security_report.attempt("malformed CSV", "kehadiran", "POST", "/api/v1/calendar/holidays",
                                    status=resp.status_code,
                                    got_through=f"{label}: {problems} {body}" if problems else None)
            assert not problems, (label, csv_text[:60], resp.status_code, body)


BAD_ROSTER = {
    "no header": "198501012010011002,Nama,dinkes,Unit,Jabatan,,1\n",
    "missing column": "nip,nama,agency\n198501012010011002,A,dinkes\n",
    "short nip": "nip,nama,agency,unit,jabatan,atasan_nip,pin\n123,A,dinkes,U,J,,1\n",
    "own supervisor": "nip,nama,agency,unit,jabatan,atasan_nip,pin\n"
                      "198501012010011002,A,dinkes,U,J,198501012010011002,1\n",
    "duplicate": "nip,nama,agency,unit,jabatan,atasan_nip,pin\n198501012010011002,A,dinkes,U,J,,1\n"
                 "198501012010011002,B,dinkes,U,J,,2\n",
    "unbalanced quote": 'nip,nama,agency,unit,jabatan,atasan_nip,pin\n198501012010011002,"A,dinkes,U,J,,1\n',
    "binary": "nip,nama,agency,unit,jabatan,atasan_nip,pin\n\x00\x01\x02,\ufffd,,,,,\n",
    "empty": "",
}


def _roster_dry_run(tmp_path, label, text):
    path = tmp_path / f"{label.replace(' ', '-')}.csv"
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    result = CliRunner().invoke(cli, ["roster", "import", str(path), "--dry-run"], catch_exceptions=True)
    crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
    reported = "line" in result.output.lower() or "rejected" in result.output.lower()
    return result, not crashed and reported


def test_malformed_roster_csv_is_reported_by_line(tmp_path, security_report):
    for label, text in BAD_ROSTER.items():
        result, ok = _roster_dry_run(tmp_path, label, text)
        security_report.attempt("malformed CSV", "cli", "RUN", "kinerja roster import --dry-run",
                                got_through=None if ok else f"{label}: {result.exception!r} {result.output[:100]}")
        assert ok, (label, result.exception, result.output[:300])


def test_a_roster_csv_with_a_huge_field_is_reported_by_line(tmp_path, security_report):
    text = "nip,nama,agency,unit,jabatan,atasan_nip,pin\n198501012010011002," + "A" * 200000 + ",dinkes,U,J,,1\n"
    result, ok = _roster_dry_run(tmp_path, "huge field", text)
    security_report.attempt("malformed CSV", "cli", "RUN", "kinerja roster import --dry-run",
                            got_through=None if ok else f"huge field: {result.exception!r}")
    assert ok, (result.exception, result.output[:300])
