"""Facts in, scores out: the handlers on SQLite and PostgreSQL (the database_url fixture)."""
import random
from datetime import date
from decimal import Decimal as D

import pytest

from kinerja.events.penilaian import SCORE_UPDATED
from kinerja.events.tugas import TASK_APPROVED, TASK_ASSIGNED, TASK_OVERDUE, TASK_RETURNED, TASK_SUBMITTED
from kinerja_testkit.penilaian import (
    ATASAN,
    PEG1,
    PEG2,
    at,
    day_event,
    innovation_event,
    make_penilaian,
    task_event,
)

pytestmark = pytest.mark.integration


def score_events(p, nip=None, period=None):
    return [e["data"] for e in p.outbox() if e["type"] == SCORE_UPDATED
            and (nip is None or e["data"]["nip"] == nip) and (period is None or e["data"]["period"] == period)]


def test_one_change_says_its_periods_belong_together(penilaian):
    """Issue 19 item 11: the month, quarter and year one event moved still have an event each, and
    the month's carries the others (``also``) while theirs name it (``part_of``), so notifikasi
    tells people once per change, not once per period. A change reaching into two months is one too."""
    p = penilaian
    p.seed_roster()
    p.apply(day_event(PEG1, date(2026, 11, 3), ("TL2", "1")))
    out = [e for e in p.outbox() if e["type"] == SCORE_UPDATED]
    assert [e["data"]["period"] for e in out] == ["2026-11", "2026-Q4", "2026"]
    lead, *rest = out
    assert lead["data"].get("part_of") is None
    assert [(a["period"], a["total_partial"], a["predikat"]) for a in lead["data"]["also"]] == [
        ("2026-Q4", 99.0, "Belum dinilai"), ("2026", 99.0, "Belum dinilai")]
    assert lead["data"]["also"][0]["changes"] == [{"component": "disiplin", "before": None, "after": 99.0},
                                                  {"component": "perilaku", "before": None, "after": 99.0},
                                                  {"component": "total_partial", "before": None, "after": 99.0}]
    assert {e["data"]["part_of"] for e in rest} == {lead["id"]} and all(not e["data"].get("also") for e in rest)
    # a batch touching October and November of one ASN: the latest month leads, the rest follow it
    from penilaian.service_layer.scoring import apply_batch
    from kinerja_testkit.penilaian import wire
    before = len(out)
    with p.runtime.session() as session, session.begin():
        apply_batch(session, p.runtime.outbox, [wire(day_event(PEG1, date(2026, 10, 5), ("TK", "4"))),
                                                wire(day_event(PEG1, date(2026, 11, 4), ("TL1", "0.5")))],
                    tz=p.runtime.settings.timezone)
    out = [e for e in p.outbox() if e["type"] == SCORE_UPDATED][before:]
    assert [e["data"]["period"] for e in out] == ["2026-11", "2026-10", "2026-Q4", "2026"]
    assert [a["period"] for a in out[0]["data"]["also"]] == ["2026-10", "2026-Q4", "2026"]
    assert {e["data"]["part_of"] for e in out[1:]} == {out[0]["id"]}


def test_day_summaries_become_month_quarter_and_year_scores_with_an_event_each(penilaian):
    p = penilaian
    p.seed_roster()
    first = day_event(PEG1, date(2026, 11, 3), ("TL2", "1"), punch_ids=("punch-a", "punch-b"))
    second = day_event(PEG1, date(2026, 11, 4), ("TK", "4"))
    p.apply(first, second)
    for period in ("2026-11", "2026-Q4", "2026"):
        row = p.score(PEG1, period)
        # hasil kerja unrated: no final total, a provisional one of perilaku alone (DESIGN section 6)
        assert (row.disiplin, row.perilaku, row.total, row.total_partial, row.predikat) == (
            D("95.00"), D("95.00"), None, D("95.00"), "Belum dinilai")
        assert row.produktivitas is None and row.hasil_kerja is None
    row = p.score(PEG1, "2026-11")
    assert row.detail["deductions"] == [
        {"date": "2026-11-03", "code": "TL2", "percent": "1.00", "minutes": None},
        {"date": "2026-11-04", "code": "TK", "percent": "4.00", "minutes": None}]
    tl2 = [e for e in row.detail["ledger"] if e["rule"].startswith("TL2")][0]
    assert tl2 == {"component": "disiplin", "points": "-1.00", "rule": "TL2 pada 2026-11-03: −1 %",
                   "event_ids": [first.id, "punch-a", "punch-b"], "date": "2026-11-03"}
    assert sum(D(e["points"]) for e in row.detail["ledger"] if e["component"] == "disiplin") == row.disiplin
    # one event per period per change, through the outbox, naming the supervisor and the cause
    events = score_events(p, PEG1, "2026-11")
    assert [e["disiplin"] for e in events] == [99.0, 95.0]
    last = events[-1]
    assert last["atasan_nip"] == ATASAN and last["caused_by"] == [second.id] and last["predikat"] == "Belum dinilai"
    assert {c["component"]: (c["before"], c["after"]) for c in last["changes"]} == {
        "disiplin": (99.0, 95.0), "perilaku": (99.0, 95.0), "total_partial": (99.0, 95.0)}
    assert len(score_events(p)) == 6


def test_the_highest_version_of_a_day_wins_in_any_order_and_a_repeat_publishes_nothing(penilaian):
    p = penilaian
    p.seed_roster()
    d = date(2026, 11, 9)

    def versions(nip):
        return (day_event(nip, d, ("TL1", "0.5"), version=1),
                day_event(nip, d, ("TL1", "0.5"), ("PSW4", "2"), version=2))

    v1, v2 = versions(PEG1)
    p.apply(v1, v2)
    w1, w2 = versions(PEG2)
    p.apply(w2, w1)  # late v1 after v2: ignored
    assert p.score(PEG1, "2026-11").disiplin == p.score(PEG2, "2026-11").disiplin == D("97.50")
    assert len(score_events(p, PEG1)) == 6 and len(score_events(p, PEG2)) == 3
    before = len(p.outbox())
    p.apply(v2, v1, w2)  # facts already known: nothing moves, nothing is published
    assert len(p.outbox()) == before
    # a day off carries no deduction and does not rate discipline on its own
    p.apply(day_event(PEG1, date(2026, 12, 5), workday=False))
    assert p.score(PEG1, "2026-12") is not None and p.score(PEG1, "2026-12").disiplin is None
    assert len(p.outbox()) == before


def task_story(nip: str, prefix: str):
    """Task a: due 10 Nov, submitted late, returned, resubmitted 14 Nov, approved 8/10 quality 90 →
    (80 + 90 + 60) / 3 = 76.67. Task b: due 5 Nov, flagged overdue → 0. Task c: due 28 Nov, open."""
    a, b, c = f"{prefix}-a", f"{prefix}-b", f"{prefix}-c"
    due_a, due_b, due_c = date(2026, 11, 10), date(2026, 11, 5), date(2026, 11, 28)
    return [
        task_event(TASK_ASSIGNED, nip, a, "assigned", due_a, at=at(date(2026, 11, 1))),
        task_event(TASK_SUBMITTED, nip, a, "submitted", due_a, at=at(date(2026, 11, 12)),
                   submitted_at=at(date(2026, 11, 12))),
        task_event(TASK_RETURNED, nip, a, "returned", due_a, at=at(date(2026, 11, 13))),
        task_event(TASK_SUBMITTED, nip, a, "submitted", due_a, at=at(date(2026, 11, 14)),
                   submitted_at=at(date(2026, 11, 14))),
        task_event(TASK_APPROVED, nip, a, "approved", due_a, at=at(date(2026, 11, 15)), realised="8", quality=90,
                   submitted_at=at(date(2026, 11, 14)), approved_at=at(date(2026, 11, 15))),
        task_event(TASK_ASSIGNED, nip, b, "assigned", due_b, at=at(date(2026, 11, 1))),
        task_event(TASK_OVERDUE, nip, b, "assigned", due_b, at=at(date(2026, 11, 6), 0)),
        task_event(TASK_ASSIGNED, nip, c, "assigned", due_c, at=at(date(2026, 11, 2))),
    ]


def values(row):
    return (row.disiplin, row.produktivitas, row.perilaku, row.hasil_kerja, row.total, row.total_partial, row.predikat,
            [e["points"] for e in row.detail["ledger"]])


def test_task_outcomes_are_the_same_in_any_order_with_duplicates(penilaian):
    p = penilaian
    p.seed_roster()
    p.apply(*task_story(PEG1, "t1"))
    shuffled = task_story(PEG2, "t2")
    shuffled = shuffled + shuffled[:4]
    random.Random(7).shuffle(shuffled)
    p.apply(*shuffled)
    row = p.score(PEG1, "2026-11")
    # (76.67 + 0) / 2 = 38.335 → 38.34; c is neither due nor late
    assert row.produktivitas == D("38.34") and row.hasil_kerja == D("38.34")
    assert [t["task_id"] for t in row.detail["tasks"]] == ["t1-b", "t1-a"]
    assert row.detail["tasks"][1]["timeliness"] == "60"
    assert values(row) == values(p.score(PEG2, "2026-11"))
    # the late task is approved after all: it scores (100 + 80 + 0) / 3 = 60 instead of 0
    due_b = date(2026, 11, 5)
    approve_b = task_event(TASK_APPROVED, PEG1, "t1-b", "approved", due_b, at=at(date(2026, 11, 20)), realised="10",
                           quality=80, submitted_at=at(date(2026, 11, 19)), approved_at=at(date(2026, 11, 20)))
    p.apply(approve_b)
    assert p.score(PEG1, "2026-11").produktivitas == D("68.34")  # (76.67 + 60) / 2 = 68.335
    p.apply(innovation_event(PEG1, "ino-1", at(date(2026, 11, 21))))
    row = p.score(PEG1, "2026-11")
    assert row.produktivitas == D("73.34")
    assert sum(D(e["points"]) for e in row.detail["ledger"] if e["component"] == "produktivitas") == D("73.34")
    last = score_events(p, PEG1, "2026-11")[-1]
    assert last["produktivitas"] == 73.34 and last["changes"] == [
        {"component": "produktivitas", "before": 68.34, "after": 73.34},
        {"component": "hasil_kerja", "before": 68.34, "after": 73.34},
        {"component": "total_partial", "before": 68.34, "after": 73.34}]


def test_both_parts_give_the_total_and_the_predikat(penilaian):
    p = penilaian
    p.seed_roster()
    due = date(2026, 11, 10)
    p.apply(day_event(PEG1, date(2026, 11, 3), ("TL2", "1")),
            task_event(TASK_APPROVED, PEG1, "x", "approved", due, at=at(due), realised="10", quality=85,
                       submitted_at=at(due), approved_at=at(due)))
    row = p.score(PEG1, "2026-11")
    # task (100 + 85 + 100) / 3 = 95; perilaku 99; total 0.6 × 95 + 0.4 × 99 = 96.6
    assert (row.hasil_kerja, row.perilaku, row.total, row.predikat) == (D("95.00"), D("99.00"), D("96.60"),
                                                                        "Sangat Baik")
    assert score_events(p, PEG1, "2026-11")[-1]["predikat"] == "Sangat Baik"


def test_a_rebuild_in_another_order_into_another_database_gives_identical_scores(penilaian, tmp_path):
    p = penilaian
    events = [*task_story(PEG1, "r1"), *task_story(PEG2, "r2")]
    for nip in (PEG1, PEG2):
        for n, d in enumerate([3, 4, 5, 17, 30]):
            events.append(day_event(nip, date(2026, 11, d), ("TL1", "0.5"), version=1))
            events.append(day_event(nip, date(2026, 11, d), ("TL3", "1.5"), ("PSW1", "0.5"), version=2,
                                    punch_ids=(f"p{n}",)))
        events.append(day_event(nip, date(2026, 12, 1), ("TK", "4")))
        events.append(innovation_event(nip, f"ino-{nip}", at(date(2026, 12, 2))))
    p.seed_roster()
    p.apply(*events)
    other = make_penilaian(f"sqlite:///{tmp_path / 'rebuild.db'}")
    try:
        shuffled = events + events[::3]
        random.Random(11).shuffle(shuffled)
        other.seed_roster()
        other.apply(*shuffled)
        assert p.scores() == other.scores()
        assert len(p.scores()) == 2 * 4  # November, December, Q4 and 2026 for each
    finally:
        other.runtime.dispose()


def test_scores_before_the_roster_follow_it_when_it_arrives(penilaian):
    from kinerja_testkit.penilaian import AGENCY, roster_event

    p = penilaian
    p.apply(day_event(PEG1, date(2026, 11, 3), ("TL1", "0.5"), agency="dari-event"))
    assert p.score(PEG1, "2026-11").agency == "dari-event"
    assert score_events(p, PEG1, "2026-11")[-1]["atasan_nip"] is None  # the roster did not know yet
    p.apply(roster_event(PEG1, "Pegawai Satu"))
    assert {p.score(PEG1, period).agency for period in ("2026-11", "2026-Q4", "2026")} == {AGENCY}
