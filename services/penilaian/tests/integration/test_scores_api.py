"""``GET /api/v1/scores/<nip>`` and the team view, with real JWTs, on SQLite and PostgreSQL."""
from datetime import date
from decimal import Decimal as D

import pytest

from kinerja.events.tugas import TASK_APPROVED
from kinerja.webapp import runtime_of
from penilaian.entrypoints.app import create_app
from kinerja_testkit.penilaian import (
    AGENCY,
    ATASAN,
    FOREIGN,
    FOREIGN_PEG,
    KEPALA,
    OTHER_ATASAN,
    PEG1,
    PEG2,
    PEG3,
    at,
    day_event,
    task_event,
)

pytestmark = pytest.mark.integration

UNKNOWN = "190001012000011999"


@pytest.fixture
def api(penilaian):
    penilaian.seed_roster()
    due = date(2026, 11, 10)
    penilaian.apply(
        day_event(PEG1, date(2026, 11, 3), ("TL2", "1"), punch_ids=("punch-1",), event_id="day-1"),
        day_event(PEG1, date(2026, 10, 6), ("TK", "4")),
        task_event(TASK_APPROVED, PEG1, "x", "approved", due, at=at(due), realised="10", quality=85,
                   submitted_at=at(due), approved_at=at(due)),
        day_event(PEG3, date(2026, 11, 3)),
    )
    app = create_app({"database_url": penilaian.url})
    client = app.test_client()

    def get(path, nip=None, role="pegawai", agency=AGENCY, token=True):
        headers = {"Authorization": f"Bearer {penilaian.token(nip, role, agency)}"} if token else {}
        return client.get(path, headers=headers)

    get.client, get.secret = client, penilaian.runtime.settings.jwt_secret
    yield get
    runtime_of(app).dispose()


def test_a_pegawai_reads_their_month_with_components_predikat_and_ledger(api):
    r = api(f"/api/v1/scores/{PEG1}?period=2026-11", PEG1)
    assert r.status_code == 200, r.json
    body = r.json
    assert body["nip"] == PEG1 and body["period"] == "2026-11" and body["atasan_nip"] == ATASAN
    assert body["disiplin"] == {"score": 99.0, "deductions": [
        {"date": "2026-11-03", "code": "TL2", "percent": 1.0, "minutes": None}]}
    assert (body["produktivitas"], body["hasil_kerja"], body["perilaku"], body["total"], body["predikat"]) == (
        95.0, 95.0, 99.0, 96.6, "Sangat Baik")
    tl2 = [e for e in body["ledger"] if e["rule"].startswith("TL2")][0]
    assert tl2["event_ids"] == ["day-1", "punch-1"] and tl2["points"] == -1.0 and tl2["component"] == "disiplin"
    for component in ("disiplin", "produktivitas", "perilaku"):
        points = sum(D(str(e["points"])) for e in body["ledger"] if e["component"] == component)
        assert points == D(str(body[component] if component != "disiplin" else body["disiplin"]["score"]))
    assert body["tasks"][0]["score"] == 95.0


def test_quarters_and_years_and_periods_without_facts(api):
    q4 = api(f"/api/v1/scores/{PEG1}?period=2026-Q4", PEG1).json
    assert q4["period"] == "2026-Q4" and q4["disiplin"]["score"] == 95.0  # October's TK as well
    assert [d["code"] for d in q4["disiplin"]["deductions"]] == ["TK", "TL2"]
    assert api(f"/api/v1/scores/{PEG1}?period=2026", PEG1).json["disiplin"]["score"] == 95.0
    empty = api(f"/api/v1/scores/{PEG1}?period=2025-03", PEG1).json
    assert empty["disiplin"] == {"score": None, "deductions": []}
    assert empty["total"] is None and empty["predikat"] == "Belum dinilai" and empty["ledger"] == []


def test_a_total_with_a_part_unrated_is_not_final(api):
    """DESIGN section 6: hasil kerja unrated (no task due) → ``total`` null, ``total_partial`` the
    rated part alone, predikat "Belum dinilai"; once both parts are rated only ``total`` is given."""
    body = api(f"/api/v1/scores/{PEG3}?period=2026-11", PEG3).json
    assert (body["hasil_kerja"], body["perilaku"]) == (None, 100.0)
    assert (body["total"], body["total_partial"], body["predikat"]) == (None, 100.0, "Belum dinilai")
    final = api(f"/api/v1/scores/{PEG1}?period=2026-11", PEG1).json
    assert (final["total"], final["total_partial"]) == (96.6, None)
    # a period computed from the facts (no stored row) says the same
    computed = api(f"/api/v1/scores/{PEG3}?period=2026-Q4", PEG3).json
    assert (computed["total"], computed["total_partial"]) == (None, 100.0)


@pytest.mark.parametrize("period", ["2026-13", "2026-Q5", "november", "2026-11-01", "26"])
def test_a_malformed_period_is_400(api, period):
    r = api(f"/api/v1/scores/{PEG1}?period={period}", PEG1)
    assert r.status_code == 400 and r.json["code"] == 400


def test_a_malformed_nip_is_400(api):
    assert api("/api/v1/scores/12345?period=2026-11", role="operator").status_code == 400


@pytest.mark.parametrize("nip,role,agency,target,expected", [
    (PEG1, "pegawai", AGENCY, PEG1, 200),
    (PEG2, "pegawai", AGENCY, PEG1, 403),  # a colleague
    (ATASAN, "atasan", AGENCY, PEG1, 200),  # direct team
    (ATASAN, "atasan", AGENCY, ATASAN, 200),  # themselves
    (OTHER_ATASAN, "atasan", AGENCY, PEG1, 403),  # not their team
    (KEPALA, "atasan", AGENCY, PEG1, 403),  # only the direct team
    (KEPALA, "admin", AGENCY, PEG1, 200),  # their agency
    (KEPALA, "admin", FOREIGN, PEG1, 403),  # another agency
    (KEPALA, "admin", AGENCY, FOREIGN_PEG, 403),
    (KEPALA, "admin", AGENCY, UNKNOWN, 404),
    (None, "operator", AGENCY, FOREIGN_PEG, 200),
])
def test_who_reads_whose_scores(api, nip, role, agency, target, expected):
    r = api(f"/api/v1/scores/{target}?period=2026-11", nip, role, agency)
    assert r.status_code == expected, r.json


def test_no_token_is_401_before_any_validation(api):
    assert api(f"/api/v1/scores/{PEG1}?period=bad", token=False).status_code == 401
    from kinerja.auth import issue_token

    device = issue_token(api.secret, role="device", agency=AGENCY, device_sn="SN1")
    assert api.client.get(f"/api/v1/scores/{PEG1}?period=2026-11",
                          headers={"Authorization": f"Bearer {device}"}).status_code == 403


def test_a_supervisor_sees_the_team(api):
    r = api(f"/api/v1/teams/{ATASAN}/scores?period=2026-11", ATASAN, "atasan")
    assert r.status_code == 200, r.json
    members = {m["nip"]: m for m in r.json["members"]}
    assert set(members) == {PEG1, PEG2}
    assert members[PEG1]["total"] == 96.6 and members[PEG1]["predikat"] == "Sangat Baik"
    assert members[PEG1]["total_partial"] is None
    assert members[PEG2]["total"] is None and members[PEG2]["predikat"] == "Belum dinilai"
    assert api(f"/api/v1/teams/{ATASAN}/scores?period=2026-11", OTHER_ATASAN, "atasan").status_code == 403
    assert api(f"/api/v1/teams/{ATASAN}/scores?period=2026-11", PEG1, "pegawai").status_code == 403
    assert api(f"/api/v1/teams/{ATASAN}/scores?period=2026-11", KEPALA, "admin", FOREIGN).status_code == 403
    other = api(f"/api/v1/teams/{OTHER_ATASAN}/scores?period=2026-Q4", KEPALA, "admin").json
    assert [(m["nip"], m["disiplin"]) for m in other["members"]] == [(PEG3, 100.0)]


def test_health_and_openapi(api):
    assert api("/healthz", token=False).json["status"] == "ok"
    spec = api("/openapi.json", token=False).json
    assert "/api/v1/scores/{nip}" in spec["paths"] and "/api/v1/teams/{atasan_nip}/scores" in spec["paths"]


def test_an_admin_sees_the_spread_of_predikat_per_unit(api):
    r = api("/api/v1/distribution?period=2026-11", KEPALA, "admin")
    assert r.status_code == 200, r.json
    body = r.json
    # PEG1 Sangat Baik; PEG3 has discipline only (Belum dinilai); the other five dinkes ASN no score
    assert body["agency"] == AGENCY and body["total"] == 6
    assert body["agency_counts"]["Sangat Baik"] == 1 and body["agency_counts"]["Belum dinilai"] == 5
    assert [(u["unit"], u["total"]) for u in body["units"]] == [("Sekretariat", 6)]
    assert api("/api/v1/distribution?period=2026-11&agency=disdik", KEPALA, "admin").status_code == 403
    other = api("/api/v1/distribution?period=2026-11&agency=disdik", role="operator").json
    assert other["total"] == 1 and other["agency_counts"]["Belum dinilai"] == 1
    assert api("/api/v1/distribution?period=2026-11", ATASAN, "atasan").status_code == 403


def test_a_month_day_by_day_for_the_chart(api):
    """``/scores/<nip>/history``: per day the month counted up to it; the last day is the month's
    score. PEG1's TL2 on 3 November lowers discipline from that day; the task due on the 10th
    rates hasil kerja (and so makes the total final) from the 10th."""
    r = api(f"/api/v1/scores/{PEG1}/history?period=2026-11", PEG1)
    assert r.status_code == 200, r.json
    days = {d["date"]: d for d in r.json["days"]}
    assert len(days) == 30  # a past month: every day
    assert days["2026-11-02"]["disiplin"] is None  # no workday known yet
    assert (days["2026-11-03"]["disiplin"], days["2026-11-09"]["disiplin"]) == (99.0, 99.0)
    assert (days["2026-11-09"]["total"], days["2026-11-09"]["total_partial"]) == (None, 99.0)
    assert (days["2026-11-10"]["hasil_kerja"], days["2026-11-10"]["total"]) == (95.0, 96.6)
    month = api(f"/api/v1/scores/{PEG1}?period=2026-11", PEG1).json
    assert days["2026-11-30"]["total"] == month["total"] and days["2026-11-30"]["predikat"] == month["predikat"]
    assert api(f"/api/v1/scores/{PEG1}/history?period=2026-Q4", PEG1).status_code == 400
    assert api(f"/api/v1/scores/{PEG1}/history?period=2026-11", PEG2).status_code == 403
