"""The predikat distribution held against the curve the organisation's own predikat allows:
counts, shares, the allowed maxima and the units that break it (SQLite and PostgreSQL)."""
from datetime import date

import pytest

from kinerja.events.penilaian import ORGANISATION_RATED
from kinerja.events.tugas import TASK_APPROVED
from kinerja.webapp import runtime_of
from penilaian.entrypoints.app import create_app
from kinerja_testkit.penilaian import AGENCY, FOREIGN, KEPALA, PEG1, at, day_event, roster_event, task_event

pytestmark = pytest.mark.integration

DUE = date(2026, 11, 10)


def nip(i: int) -> str:
    return f"19900101202001{i:04d}"


@pytest.fixture
def api(penilaian):
    # unit A: 4 Baik, 1 Butuh Perbaikan (80 % Baik: over 70 %); unit B: 2 Baik, 1 Butuh Perbaikan, 1 Sangat Baik
    people = [(nip(i), "Unit A", "baik") for i in range(4)] + [(nip(4), "Unit A", "bp")] + \
             [(nip(5), "Unit B", "baik"), (nip(6), "Unit B", "baik"), (nip(7), "Unit B", "bp"),
              (nip(8), "Unit B", "sb")]
    events = [roster_event(KEPALA, "Kepala", atasan=None)]
    for n, unit, kind in people:
        events.append(roster_event(n, f"ASN {n}", atasan=KEPALA, unit=unit))
        # hasil kerja = task (100 + quality + 100) / 3: 100 (above), 80 (meets), 66.67 (below)
        quality = {"sb": 100, "baik": 40, "bp": 0}[kind]
        events.append(task_event(TASK_APPROVED, n, f"t-{n}", "approved", DUE, at=at(DUE), realised="10",
                                 quality=quality, submitted_at=at(DUE), approved_at=at(DUE)))
        # perilaku = disiplin 100 or 96, above either way: Sangat Baik, Baik, Butuh Perbaikan
        events.append(day_event(n, date(2026, 11, 3), *([] if kind == "sb" else [("TK", "4")])))
    penilaian.apply(*events)
    app = create_app({"database_url": penilaian.url})
    c = app.test_client()

    def call(method, path, body=None, role="admin", agency=AGENCY, who=KEPALA):
        return c.open(path, method=method, json=body,
                      headers={"Authorization": f"Bearer {penilaian.token(who, role, agency)}"})

    call.p = penilaian
    yield call
    runtime_of(app).dispose()


def test_the_spread_is_held_against_the_organisation_predikat(api):
    body = api("GET", "/api/v1/distribution?period=2026-11").json
    assert body["organisation_predikat"] is None and body["allowed"] is None and body["units_breaking"] == []
    units = {u["unit"]: u for u in body["units"]}
    assert units["Unit A"]["counts"]["Baik"] == 4 and units["Unit A"]["counts"]["Butuh Perbaikan"] == 1
    assert units["Unit B"]["counts"]["Sangat Baik"] == 1

    r = api("PUT", "/api/v1/organisation-rating?period=2026", {"predikat": "Baik"})
    assert r.status_code == 200, r.json
    assert r.json["predikat"] == "Baik" and r.json["period"] == "2026"
    body = api("GET", "/api/v1/distribution?period=2026-11").json  # the year's predikat holds for its months
    assert body["organisation_predikat"] == "Baik"
    assert body["allowed"] == {"max": {"Baik": 0.7},
                               "min": [{"predikat": ["Butuh Perbaikan", "Kurang/Misconduct"], "share": 0.0,
                                        "required": True}]}
    units = {u["unit"]: u for u in body["units"]}
    a = units["Unit A"]
    assert a["rated"] == 5 and a["shares"]["Baik"] == 0.8 and not a["within_curve"]
    assert [(b["kind"], b["predikat"], b["count"], b["limit_count"]) for b in a["breaches"]] == [
        ("max", ["Baik"], 4, 3)]
    assert units["Unit B"]["within_curve"] and units["Unit B"]["shares"]["Baik"] == 0.5
    assert body["units_breaking"] == ["Unit A"]
    # the agency: 6 Baik of 9 rated (the kepala has no score, so is not in the shares) → within
    assert body["agency_counts"]["Baik"] == 6 and body["agency_shares"]["Baik"] == 0.6667
    assert body["agency_within_curve"] and body["agency_breaches"] == []

    # a month's own predikat wins over the year's
    assert api("PUT", "/api/v1/organisation-rating?period=2026-11", {"predikat": "Istimewa"}).status_code == 200
    body = api("GET", "/api/v1/distribution?period=2026-11").json
    assert body["organisation_predikat"] == "Istimewa" and body["units_breaking"] == []
    assert api("GET", "/api/v1/organisation-rating?period=2026-10").json["predikat"] == "Baik"
    events = [e for e in api.p.outbox() if e["type"] == ORGANISATION_RATED]
    assert [(e["subject"], e["data"]["period"], e["data"]["predikat"]) for e in events] == [
        (AGENCY, "2026", "Baik"), (AGENCY, "2026-11", "Istimewa")]


def test_an_agency_policy_brings_its_own_curve(api):
    api("PUT", "/api/v1/organisation-rating?period=2026-11", {"predikat": "Baik"})
    r = api("PUT", "/api/v1/policy", {"effective_from": "2026-01",
                                      "distribution_curve": {"Baik": {"max": {"Baik": "0.8"}}}})
    assert r.status_code == 200, r.json
    body = api("GET", "/api/v1/distribution?period=2026-11").json
    assert body["allowed"] == {"max": {"Baik": 0.8}, "min": []} and body["units_breaking"] == []


@pytest.mark.parametrize("role,agency,body,expected", [
    ("pegawai", AGENCY, {"predikat": "Baik"}, 403), ("operator", AGENCY, {"predikat": "Baik"}, 403),
    ("admin", AGENCY, {"predikat": "Hebat"}, 400), ("admin", AGENCY, {}, 400)])
def test_who_sets_the_organisation_predikat(api, role, agency, body, expected):
    assert api("PUT", "/api/v1/organisation-rating?period=2026-11", body, role=role, agency=agency,
               who=PEG1 if role != "operator" else None).status_code == expected
    assert api("GET", "/api/v1/organisation-rating?period=2026-11").json["predikat"] is None
