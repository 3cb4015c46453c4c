"""Issue 15, item 7: supervision never crosses agencies.

The roster (an HR system's, or a mistaken import) names a supervisor of agency B for VICTIM of
agency A. On every route of every service that a supervisor may use, that supervisor then gets
nothing of VICTIM's and changes nothing of VICTIM's: the roster's word is not enough, the agency
must match too. And the roster import refuses such a row, with its line number."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from kinerja.cli.main import cli

from .routes import PROTECTED
from .world import (AGENCY, ATASAN, B_ATASAN, OTHER_AGENCY, ROSTER, UNIT, VICTIM, apply_roster, bearer, read_body,
                    token)

pytestmark = pytest.mark.integration

ROUTES = [r for r in PROTECTED if "atasan" in (r.roles or ())]
_REPOINTED: set = set()


@pytest.fixture
def repointed(world_of):
    """The module's world of a service, with VICTIM's supervisor on the roster now B_ATASAN."""

    def get(service):
        w = world_of(service)
        if service not in _REPOINTED:
            rows = [(nip, nama, agency, B_ATASAN if nip == VICTIM else atasan, pin)
                    for nip, nama, agency, atasan, pin in ROSTER if nip == VICTIM]
            apply_roster(w, rows)
            _REPOINTED.add(service)
        return w

    return get


@pytest.mark.parametrize("route", ROUTES, ids=[r.id for r in ROUTES])
def test_a_supervisor_of_another_agency_named_by_the_roster_gets_nothing(route, repointed, security_report):
    w = repointed(route.service)
    markers = w.victim_markers
    before = w.digest(markers)
    resp = w.call(route, bearer(token("atasan", OTHER_AGENCY, B_ATASAN)))
    status, raw = resp.status_code, read_body(resp)
    body = raw.decode("utf-8", "replace")
    problems = []
    if status >= 500:
        problems.append(f"server error {status}")
    leaked = sorted(m for m in markers if m in body) if 200 <= status < 300 else []
    if leaked:
        problems.append(f"answer carries the ASN's data: {leaked[:3]}")
    if w.digest(markers) != before:
        problems.append("the ASN's rows changed")
    if (route.method, route.rule) == ("POST", "/api/v1/punches") and status == 200:
        if json.loads(raw or b"{}").get("accepted"):
            problems.append("punches attributed")
    elif route.method != "GET" and 200 <= status < 300 and (route.method, route.rule) not in w.self_service:
        problems.append(f"a change was accepted ({status})")
    security_report.attempt("cross-agency supervision", route.service, route.method, route.rule, status=status,
                            got_through="; ".join(problems) or None)
    assert not problems, f"{route.id} -> {status}: {problems}\n{body[:400]}"


def test_the_roster_import_refuses_a_supervisor_of_another_agency_by_line(tmp_path, security_report):
    rows = ["nip,nama,agency,unit,jabatan,atasan_nip,pin",
            f"{ATASAN},Atasan Satu,{AGENCY},{UNIT},Kepala,,1",
            f"{B_ATASAN},Atasan Lain,{OTHER_AGENCY},{UNIT},Kepala,,1",
            f"{VICTIM},Korban,{AGENCY},{UNIT},Analis,{B_ATASAN},2",  # line 4: supervisor in another agency
            f"199901012020011099,Rekan,{AGENCY},{UNIT},Analis,{ATASAN},3"]
    path = tmp_path / "roster.csv"
    path.write_text("\n".join(rows) + "\n")
    result = CliRunner().invoke(cli, ["roster", "import", str(path), "--dry-run"])
    refused = ":4: atasan_nip" in result.output and "3 valid row(s), 1 rejected" in result.output
    security_report.attempt("cross-agency supervision", "cli", "RUN", "kinerja roster import --dry-run",
                            got_through=None if refused else result.output[-200:])
    assert refused, result.output
