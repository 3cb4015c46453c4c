"""The device protocol (``/iclock/*``, public): an unregistered, missing or malformed serial number is
refused with a 4xx and nothing is stored; a registered device's malformed lines are answered with a
count of the good ones and kept with the reason, never a 5xx."""
from __future__ import annotations

from datetime import timedelta

import pytest

from .routes import ICLOCK, params
from .world import A_DEVICE, AGENCY, ADMIN, bearer, last_workday, token

pytestmark = pytest.mark.integration

BODY = b"3\t2026-01-05 07:31:00\t0\t1\t0\t0\t0\n"
QUERIES = {"unregistered": {"SN": "NOPE00001", "table": "ATTLOG", "options": "all"},
           "missing SN": {"table": "ATTLOG"},
           "malformed SN": {"SN": "../../etc/passwd", "table": "ATTLOG"},
           "overlong SN": {"SN": "A" * 200, "table": "ATTLOG"}}


@params(ICLOCK)
def test_unregistered_devices_are_refused_and_nothing_is_stored(route, world_of, security_report):
    w = world_of("kehadiran")
    for label, query in QUERIES.items():
        before = w.row_counts()
        kw = {"data": BODY, "content_type": "text/plain"} if route.method == "POST" else {}
        resp = w.client.open(route.rule, method=route.method, query_string=query, **kw)
        after = w.row_counts()
        changed = {t: (before[t], after[t]) for t in before if before[t] != after[t]}
        problems = []
        if not 400 <= resp.status_code < 500:
            problems.append(f"{resp.status_code}")
        if changed:
            problems.append(f"rows stored: {changed}")
        if not resp.get_data(as_text=True).strip():
            problems.append("no reason given")
        security_report.attempt("unregistered device", "kehadiran", route.method, route.rule,
                                status=resp.status_code, url=f"{route.rule}?{query}",
                                got_through="; ".join(problems) or None)
        assert not problems, (label, problems, resp.get_data(as_text=True)[:200])


def _day_line(pin: str, hh: int, mm: int) -> str:
    return f"{pin}\t{last_workday() - timedelta(days=1)} {hh:02d}:{mm:02d}:00\t0\t1\t0\t0\t0"


MALFORMED = {
    "ATTLOG": [
        b"",
        b"\n\n\n",
        b"garbage without tabs\n",
        b"3\tnot-a-date\t0\t1\n",
        b"3\t2026-13-45 99:99:99\t0\t1\n",
        b"\t2026-01-05 07:31:00\t0\t1\n",
        b"3\n",
        b"x" * 3000 + b"\n",
        b"\xff\xfe\x00\x01binary\x00\n",
        b"3\t9999-01-01 07:31:00\t0\t1\n",
        b"3\t0001-01-01 07:31:00\t0\t1\n",
        b"3;2026-01-05 07:31:00;0;1\n",
        b"\x003\t2026-01-05 07:31:00\n",
        b"99999999999999999999999\t2026-01-05 07:31:00\t0\t1\n",
    ],
    "OPERLOG": [b"OPLOG garbage\n", b"USER PIN=\tName=\xff\xfe\n", b"OPLOG 1\t2\t3\n", b"\xff" * 100],
    "options": [b"=\n", b"~DeviceName\n", b"a=b=c,,,\xff\n"],
    "BOGUS": [b"anything\n"],
}


def test_malformed_adms_lines_are_reported_never_5xx(world_of, security_report):
    w = world_of("kehadiran")
    good = _day_line("3", 7, 40)
    for table, bodies in MALFORMED.items():
        for raw in bodies:
            body = raw + (good.encode() + b"\n" if table == "ATTLOG" else b"")
            resp = w.client.post("/iclock/cdata", query_string={"SN": A_DEVICE, "table": table}, data=body,
                                 content_type="text/plain")
            text = resp.get_data(as_text=True)
            bad = resp.status_code >= 500 or (table == "BOGUS" and resp.status_code < 400)
            if table == "ATTLOG" and not bad:
                bad = resp.status_code != 200 or not text.startswith("OK")
            security_report.attempt("malformed ADMS", "kehadiran", "POST", "/iclock/cdata", status=resp.status_code,
                                    got_through=f"{table} {raw[:40]!r}: {resp.status_code} {text[:80]}" if bad else None)
            assert not bad, (table, raw[:60], resp.status_code, text[:200])
    for path, query, body in [
        ("/iclock/devicecmd", {"SN": A_DEVICE}, b"ID=notanumber&Return=x&CMD=\xff\n&&&\n=====\n"),
        ("/iclock/getrequest", {"SN": A_DEVICE, "INFO": "\xff,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,," * 10}, None),
        ("/iclock/cdata", {"SN": A_DEVICE, "options": "all", "pushver": "x" * 500}, None),
    ]:
        resp = (w.client.post(path, query_string=query, data=body, content_type="text/plain") if body is not None
                else w.client.get(path, query_string=query))
        bad = resp.status_code >= 500
        security_report.attempt("malformed ADMS", "kehadiran", "POST" if body is not None else "GET", path,
                                status=resp.status_code, got_through=f"{resp.status_code}" if bad else None)
        assert not bad, (path, resp.status_code, resp.get_data(as_text=True)[:200])
    # the operator sees the rejected lines with their reason
    status = w.client.get(f"/api/v1/devices/{A_DEVICE}/status", headers=bearer(token("admin", AGENCY, ADMIN))).get_json()
    assert status["last_rejected"], status
    assert all(any(k in r for k in ("error", "reason")) for r in status["last_rejected"]), status["last_rejected"][:3]
