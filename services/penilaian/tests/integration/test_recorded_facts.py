"""Ratings, self-ratings, training and dialog kinerja recorded through the API become events on
``penilaian.v1`` (row and outbox in one transaction); applying those events to a fresh database
restores them, and applying them again to either database changes nothing (SQLite and PostgreSQL)."""
from datetime import date

import pytest
from sqlalchemy import func, select

from kinerja.events import decode_event
from kinerja.events.penilaian import (DIALOG_RECORDED, MEMBERSHIP_RECORDED, RATING_RECORDED, SCORE_UPDATED,
                                      TRAINING_RECORDED)
from kinerja.events.tugas import TASK_APPROVED
from kinerja.webapp import runtime_of
from penilaian.adapters.orm import DialogRow, RatingRow, TrainingRow
from penilaian.entrypoints.app import create_app
from penilaian.entrypoints.consumer import skippable
from kinerja_testkit.penilaian import (
    AGENCY,
    ATASAN,
    KEPALA,
    OTHER_ATASAN,
    PEG1,
    PEG2,
    ROSTER,
    at,
    day_event,
    make_penilaian,
    roster_event,
    task_event,
)

pytestmark = pytest.mark.integration

ALL_MEETS = {v: "meets" for v in ("berorientasi_pelayanan", "akuntabel", "kompeten", "harmonis", "loyal",
                                 "adaptif", "kolaboratif")}
DUE = date(2026, 11, 10)


def _upstream():
    return [*[roster_event(nip, nama, agency, atasan) for nip, nama, agency, atasan in ROSTER],
            day_event(PEG1, date(2026, 11, 3), ("TK", "4")),
            task_event(TASK_APPROVED, PEG1, "x", "approved", DUE, at=at(DUE), realised="10", quality=85,
                       submitted_at=at(DUE), approved_at=at(DUE))]


UPSTREAM = _upstream()


def upstream():
    return list(UPSTREAM)


@pytest.fixture
def api(penilaian):
    penilaian.apply(*upstream())
    app = create_app({"database_url": penilaian.url})
    c = app.test_client()

    def call(method, path, nip, role, body=None, agency=AGENCY):
        return c.open(path, method=method, json=body,
                      headers={"Authorization": f"Bearer {penilaian.token(nip, role, agency)}"})

    call.p = penilaian
    yield call
    runtime_of(app).dispose()


def facts(p):
    with p.runtime.session() as s:
        return (sorted((r.nip, r.period, r.rater, r.rating_id, r.rated_by, tuple(sorted(r.levels.items())))
                       for r in s.execute(select(RatingRow)).scalars()),
                sorted((r.id, r.nip, r.title, r.jp, r.day, r.provider, r.recorded_by)
                       for r in s.execute(select(TrainingRow)).scalars()),
                sorted((r.id, r.nip, r.atasan_nip, r.period, r.day, r.notes, r.follow_up, tuple(r.values))
                       for r in s.execute(select(DialogRow)).scalars()))


def record_everything(api):
    assert api("PUT", f"/api/v1/ratings/{PEG1}?period=2026-11", ATASAN, "atasan",
               {"levels": {**ALL_MEETS, "akuntabel": "below"}}).status_code == 200
    assert api("PUT", f"/api/v1/ratings/{PEG1}?period=2026-11", ATASAN, "atasan",
               {"levels": ALL_MEETS}).status_code == 200  # replaces the first
    assert api("PUT", f"/api/v1/ratings/{PEG1}?period=2026-11", PEG1, "pegawai",
               {"levels": {"akuntabel": "above"}}).status_code == 200
    r = api("POST", f"/api/v1/dialogs/{PEG1}?period=2026-11", ATASAN, "atasan",
            {"date": "2026-11-20", "notes": "Beda penilaian akuntabel dibahas", "follow_up": "Laporan mingguan",
             "values": ["akuntabel"]})
    assert r.status_code == 201, r.json
    assert api("POST", f"/api/v1/training/{PEG1}", PEG1, "pegawai",
               {"title": "Latsar", "jp": 8, "date": "2026-11-12", "provider": "BKPSDM"}).status_code == 201


def test_recorded_facts_are_published_and_a_fresh_database_restores_them(api, database_url, tmp_path):
    p = api.p
    record_everything(api)
    published = [decode_event(__import__("json").dumps(v).encode()) for v in p.outbox()]
    # the roster's first word on each ASN's agency is kept and published too
    stated = [e for e in published if e.type == MEMBERSHIP_RECORDED]
    assert sorted(e.subject for e in stated) == sorted(nip for nip, *_ in ROSTER)
    published = [e for e in published if e.type != MEMBERSHIP_RECORDED]
    mine = [e for e in published if e.type != SCORE_UPDATED]
    assert sorted(e.type for e in mine) == sorted([RATING_RECORDED] * 3 + [DIALOG_RECORDED, TRAINING_RECORDED])
    assert all(e.subject == PEG1 and e.agency == AGENCY for e in mine)
    assert all(skippable(e.to_bytes()) for e in published if e.type == SCORE_UPDATED)
    assert not any(skippable(e.to_bytes()) for e in mine)
    before_facts, before_scores = facts(p), p.scores()
    assert before_scores[(PEG1, "2026-11")][2] == __import__("decimal").Decimal("88.00")  # (96 + 80) / 2

    # the consumer later receives the API's own events: nothing changes, nothing is published
    outbox_len = len(p.outbox())
    p.apply(*mine, *stated)
    assert facts(p) == before_facts and p.scores() == before_scores and len(p.outbox()) == outbox_len

    # a fresh database fed the topics (upstream + penilaian.v1, in any order) has the same facts and scores
    fresh = make_penilaian(f"sqlite:///{tmp_path / 'fresh.db'}")
    try:
        fresh.apply(*reversed(mine), *published, *upstream())
        assert facts(fresh) == before_facts
        assert fresh.scores() == before_scores
        fresh.apply(*mine)
        assert facts(fresh) == before_facts and fresh.scores() == before_scores
    finally:
        fresh.runtime.dispose()


def test_dialog_kinerja_is_recorded_by_either_party_and_read_by_those_who_may(api):
    body = {"date": "2026-11-20", "notes": "Catatan", "follow_up": "Tindak lanjut"}
    r = api("POST", f"/api/v1/dialogs/{PEG1}?period=2026-11", PEG1, "pegawai", body)
    assert r.status_code == 201, r.json
    d = r.json["dialogs"][0]
    assert (d["nip"], d["atasan_nip"], d["date"], d["notes"], d["follow_up"], d["recorded_by"]) == (
        PEG1, ATASAN, "2026-11-20", "Catatan", "Tindak lanjut", PEG1)
    assert api("GET", f"/api/v1/dialogs/{PEG1}?period=2026-11", ATASAN, "atasan").json["dialogs"] == [d]
    assert api("GET", f"/api/v1/dialogs/{PEG1}", KEPALA, "admin").json["dialogs"] == [d]
    assert api("GET", f"/api/v1/dialogs/{PEG1}?period=2026-10", PEG1, "pegawai").json["dialogs"] == []
    assert api("GET", f"/api/v1/dialogs/{PEG1}", PEG2, "pegawai").status_code == 403
    assert api("POST", f"/api/v1/dialogs/{PEG1}?period=2026-11", PEG2, "pegawai", body).status_code == 403
    assert api("POST", f"/api/v1/dialogs/{PEG1}?period=2026-11", OTHER_ATASAN, "atasan", body).status_code == 403
    assert api("POST", f"/api/v1/dialogs/{PEG1}?period=2026-11", KEPALA, "admin", body).status_code == 403
    for bad in ({"notes": "x", "follow_up": "y"}, {**body, "notes": ""}, {**body, "values": ["jujur"]},
                {**body, "date": "kemarin"}):
        assert api("POST", f"/api/v1/dialogs/{PEG1}?period=2026-11", PEG1, "pegawai", bad).status_code == 400
    assert len(api("GET", f"/api/v1/dialogs/{PEG1}", PEG1, "pegawai").json["dialogs"]) == 1
    with api.p.runtime.session() as s:
        assert s.execute(select(func.count()).select_from(DialogRow)).scalar_one() == 1
