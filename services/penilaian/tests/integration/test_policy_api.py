"""Policy per agency, versioned: ``PUT /api/v1/policy`` makes a new version from a month on, a
period is scored by the version in force on its first day, the agency's affected periods are
recomputed (and only those) by the consumer's batches, not by the request, and the versions are
events a fresh database restores (SQLite and PostgreSQL)."""
import json
from datetime import date, datetime, timedelta
from decimal import Decimal as D

import pytest

from kinerja.events import decode_event
from kinerja.events.penilaian import POLICY_SET, SCORE_UPDATED
from kinerja.events.tugas import TASK_APPROVED
from kinerja.webapp import runtime_of
from penilaian.entrypoints.app import create_app
from kinerja_testkit.penilaian import (
    AGENCY,
    FOREIGN,
    FOREIGN_PEG,
    KEPALA,
    PEG1,
    PEG2,
    ROSTER,
    WIB,
    at,
    day_event,
    innovation_event,
    make_penilaian,
    roster_event,
    task_event,
)

pytestmark = pytest.mark.integration

DUE = date(2026, 11, 10)
UPSTREAM = [
    *[roster_event(nip, nama, agency, atasan) for nip, nama, agency, atasan in ROSTER],
    day_event(PEG1, date(2026, 10, 6), ("TK", "4")),  # October: disiplin 96
    day_event(PEG1, date(2026, 11, 3), ("TK", "4")),  # November: disiplin 96
    # submitted 2 days late: timeliness 80 by default; quantity 100, quality 85 → 88.33
    task_event(TASK_APPROVED, PEG1, "x", "approved", DUE, at=at(DUE + timedelta(days=3)), realised="10", quality=85,
               submitted_at=at(DUE + timedelta(days=2)), approved_at=at(DUE + timedelta(days=3))),
    innovation_event(PEG1, "ino-1", datetime(2026, 11, 12, 10, tzinfo=WIB)),
    innovation_event(PEG1, "ino-2", datetime(2026, 11, 13, 10, tzinfo=WIB)),
    day_event(FOREIGN_PEG, date(2026, 11, 3), ("TK", "4"), agency=FOREIGN),
]


@pytest.fixture
def api(penilaian):
    penilaian.apply(*UPSTREAM)
    app = create_app({"database_url": penilaian.url})
    c = app.test_client()

    def call(method, path, nip=KEPALA, role="admin", body=None, agency=AGENCY):
        return c.open(path, method=method, json=body,
                      headers={"Authorization": f"Bearer {penilaian.token(nip, role, agency)}"})

    call.p = penilaian
    yield call
    runtime_of(app).dispose()


def values(p, nip, period):
    r = p.score(nip, period)
    return (r.produktivitas, r.perilaku, r.total, r.predikat)


def test_a_new_version_scores_the_months_from_its_start_and_recomputes_them(api, tmp_path):
    p = api.p
    # defaults: produktivitas 88.33 + 5 + 5 = 98.33; perilaku 96; total 0.6 × 98.33 + 0.4 × 96 = 97.40
    assert values(p, PEG1, "2026-11") == (D("98.33"), D("96.00"), D("97.40"), "Sangat Baik")
    october, q4, foreign = p.score(PEG1, "2026-10").updated_at, p.score(PEG1, "2026-Q4"), p.score(FOREIGN_PEG, "2026-11")
    r = api("PUT", "/api/v1/policy", body={
        "effective_from": "2026-11", "weight_hasil_kerja": "0.5", "weight_perilaku": "0.5", "above_from": "99",
        "meets_from": "75", "innovation_points": "3", "innovation_cap": "4", "timeliness_penalty_per_day": "5"})
    assert r.status_code == 200, r.json
    assert [(v["version"], v["effective_from"], v["innovation_points"]) for v in r.json["versions"]] == [
        (1, "2026-11-01", "3")]
    # the request stored the version and queued its recompute; the scores are the consumer's to move
    assert r.json["versions"][0]["recompute"] == {"status": "pending", "asn": 0, "batches": 0}
    assert values(p, PEG1, "2026-11") == (D("98.33"), D("96.00"), D("97.40"), "Sangat Baik")
    assert p.settle(batch_size=2) >= 2  # the agency's ASN two at a time
    recompute = api("GET", "/api/v1/policy").json["versions"][0]["recompute"]
    assert recompute["status"] == "done" and recompute["asn"] >= 1
    # timeliness 90 → task (100 + 85 + 90) / 3 = 91.67; + 3 + 1 (cap 4) = 95.67; total (95.67 + 96) / 2 = 95.84;
    # both under 99 and over 75: meets × meets = Baik
    assert values(p, PEG1, "2026-11") == (D("95.67"), D("96.00"), D("95.84"), "Baik")
    rules = [e["rule"] for e in p.score(PEG1, "2026-11").detail["ledger"]]
    assert any("+3" in x for x in rules) and any("+1" in x for x in rules)
    # the quarter and the year start before the version: still the defaults; October untouched
    assert p.score(PEG1, "2026-Q4").total == q4.total and p.score(PEG1, "2026-10").updated_at == october
    assert p.score(FOREIGN_PEG, "2026-11").updated_at == foreign.updated_at  # another agency
    published = [e for e in p.outbox() if e["type"] == SCORE_UPDATED and e["data"]["period"] == "2026-11"
                 and e["subject"] == PEG1]
    assert published[-1]["data"]["total"] == 95.84 and published[-1]["data"]["predikat"] == "Baik"

    # version 2 from December changes nothing in November; version 3 from November again replaces version 1
    assert api("PUT", "/api/v1/policy", body={"effective_from": "2026-12"}).status_code == 200
    p.settle()
    assert values(p, PEG1, "2026-11") == (D("95.67"), D("96.00"), D("95.84"), "Baik")
    r = api("PUT", "/api/v1/policy", body={"effective_from": "2026-11", "above_from": "95"})
    assert [v["version"] for v in r.json["versions"]] == [1, 3, 2]
    p.settle()
    # defaults but above from 95: 98.33 and 96 both above → Sangat Baik
    assert values(p, PEG1, "2026-11") == (D("98.33"), D("96.00"), D("97.40"), "Sangat Baik")
    # a score read for a period no event touched is computed by the policy in force too
    assert api("GET", f"/api/v1/scores/{PEG1}?period=2026-12", PEG1, "pegawai").json["predikat"] == "Belum dinilai"

    # the versions are events: a fresh database fed the topics in any order gives the same scores
    policies = [decode_event(json.dumps(e).encode()) for e in p.outbox() if e["type"] == POLICY_SET]
    assert [e.data["version"] for e in policies] == [1, 2, 3] and {e.subject for e in policies} == {AGENCY}
    fresh = make_penilaian(f"sqlite:///{tmp_path / 'fresh.db'}")
    try:
        fresh.apply(policies[2], *UPSTREAM[:8], policies[0], *UPSTREAM[8:], policies[1])
        fresh.settle()
        assert fresh.scores() == p.scores()
        fresh.apply(*policies)  # again: nothing moves
        assert fresh.settle() == 0 and fresh.scores() == p.scores()
    finally:
        fresh.runtime.dispose()


@pytest.mark.parametrize("body", [
    {"weight_hasil_kerja": "0.6"},  # no effective_from
    {"effective_from": "2026-13"},
    {"effective_from": "2026-11", "weight_perilaku": "0"},
    {"effective_from": "2026-11", "above_from": "60", "meets_from": "70"},
    {"effective_from": "2026-11", "innovation_points": "-1"},
    {"effective_from": "2026-11", "timeliness_penalty_per_day": "abc"},
    {"effective_from": "2026-11", "distribution_curve": {"Luar Biasa": {"max": {"Baik": "0.5"}}}},
    {"effective_from": "2026-11", "distribution_curve": {"Baik": {"max": {"Baik": "1.5"}}}},
    # issue 15 item 5: the probe's weight, weights past 1 or not adding up to 1
    {"effective_from": "2026-11", "weight_perilaku": "1e999999"},
    {"effective_from": "2026-11", "weight_hasil_kerja": "1", "weight_perilaku": "1"},
    {"effective_from": "2026-11", "weight_hasil_kerja": "0.7", "weight_perilaku": "0.4"},
    {"effective_from": "2026-11", "meets_from": "1e-999999"},
    {"effective_from": "2026-11", "berakhlak_points": {"below": "90"}},  # worth more than meets
    {"effective_from": "2026-11", "berakhlak_points": {"meets": "150"}},
    {"effective_from": "2026-11", "berakhlak_points": {"hebat": "100"}},
    {"effective_from": "2026-11", "berakhlak_points": "80"},
])
def test_a_bad_policy_is_400_and_changes_nothing(api, body):
    before = api.p.scores()
    r = api("PUT", "/api/v1/policy", body=body)
    assert r.status_code == 400, r.json
    assert api("GET", "/api/v1/policy").json["versions"] == [] and api.p.scores() == before


@pytest.mark.parametrize("nip,role,expected", [(PEG1, "pegawai", 403), (KEPALA, "atasan", 403),
                                               (None, "operator", 403)])
def test_only_an_admin_sets_the_policy(api, nip, role, expected):
    assert api("PUT", "/api/v1/policy", nip, role, {"effective_from": "2026-11"}).status_code == expected
    assert api("GET", "/api/v1/policy").json["versions"] == []


def test_an_admin_reads_only_their_agency_policy(api):
    assert api("GET", f"/api/v1/policy?agency={FOREIGN}").status_code == 403
    body = api("GET", "/api/v1/policy").json
    assert body["agency"] == AGENCY and body["default"]["weight_hasil_kerja"] == "0.6"
    assert body["default"]["berakhlak_points"] == {"below": "60", "meets": "80", "above": "100"}
    assert body["default"]["distribution_curve"]["Baik"]["max"] == {"Baik": "0.7"}
    assert api("GET", f"/api/v1/policy?agency={FOREIGN}", None, "operator").json["agency"] == FOREIGN


def test_while_a_versions_recompute_is_queued_each_ledger_explains_its_own_stored_values(api):
    """A row's ledger is assembled on read by the version its values were computed under: one not
    reached yet by the queued recompute by the version before (innovations +5 each), one a live
    event recomputed meanwhile already by the new one (+3, then +1 to the cap of 4)."""
    p = api.p

    def read(nip, period="2026-11"):
        body = api("GET", f"/api/v1/scores/{nip}?period={period}", nip, "pegawai").json
        produktivitas = [e for e in body["ledger"] if e["component"] == "produktivitas"]
        return D(str(body["produktivitas"])), sum((D(str(e["points"])) for e in produktivitas), D(0)), \
            sorted(e["rule"] for e in produktivitas if "novasi" in e["rule"])

    r = api("PUT", "/api/v1/policy", body={"effective_from": "2026-11", "innovation_points": "3",
                                           "innovation_cap": "4"})
    assert r.status_code == 200 and r.json["versions"][0]["recompute"]["status"] == "pending"
    value, explained, innovations = read(PEG1)
    assert value == D("98.33") == explained and len(innovations) == 2 and all("+5" in x for x in innovations)

    p.apply(day_event(PEG1, date(2026, 11, 4)))  # a live event recomputes PEG1's November now
    value, explained, innovations = read(PEG1)
    assert value == D("92.33") == explained  # 88.33 + 3 + 1
    assert any("+3" in x for x in innovations) and any("+1" in x for x in innovations)

    p.settle()  # the queued recompute reaches PEG1: nothing left to move, the ledger still agrees
    assert read(PEG1)[:2] == (D("92.33"), D("92.33"))


def test_a_versions_recompute_leaves_out_the_asn_already_scored_by_it(api, tmp_path, monkeypatch):
    """The queued recompute does only the ASN some of whose rows from the version's month on were
    scored by another version: one a live event rescored by the new version meanwhile is neither
    locked nor recomputed again (a version early in a stream: most of the agency), and the scores
    still equal a fresh database's fed the same events in another order (DESIGN 4)."""
    from penilaian.service_layer import policy_recompute

    p = api.p
    early = day_event(PEG2, date(2026, 11, 3), ("TL1", "0.5"))
    p.apply(early)  # scored by the defaults, as PEG1
    r = api("PUT", "/api/v1/policy", body={"effective_from": "2026-11", "innovation_points": "3",
                                           "innovation_cap": "4"})
    assert r.status_code == 200
    late = day_event(PEG1, date(2026, 11, 4))
    p.apply(late)  # PEG1's November (the only period of theirs from November on) now by the new version

    recomputed: list[list[str]] = []
    real = policy_recompute.recompute_many

    def spy(session, outbox, touched, **kw):
        recomputed.append(sorted(nip for nip, days in touched.days.items() if days))
        return real(session, outbox, touched, **kw)

    monkeypatch.setattr(policy_recompute, "recompute_many", spy)
    assert p.settle() == 1
    assert recomputed == [[PEG2]]
    assert api("GET", "/api/v1/policy").json["versions"][0]["recompute"]["status"] == "done"
    assert p.score(PEG1, "2026-11").produktivitas == D("92.33")  # 88.33 + 3 + 1, as the live event left it

    monkeypatch.undo()
    policies = [decode_event(json.dumps(e).encode()) for e in p.outbox() if e["type"] == POLICY_SET]
    fresh = make_penilaian(f"sqlite:///{tmp_path / 'fresh.db'}")
    try:  # the version first: every row scored by it live, the recompute then has nothing to do
        fresh.apply(*policies, *UPSTREAM, early, late)
        fresh.settle()
        assert fresh.scores() == p.scores()
    finally:
        fresh.runtime.dispose()
