"""Issue 19 item 1 in penilaian, on SQLite and PostgreSQL: a day that rests on an approved
correction (lupa absen) is marked as such in the score's ledger, read through the API, with
or without a deduction; a rebuild from the same events gives the same ledger; a day summary
from before the field existed reads as not corrected."""
from datetime import date

import pytest

from kinerja.events import make_event
from kinerja.events.kehadiran import DAY_SUMMARIZED
from kinerja.webapp import runtime_of
from penilaian.entrypoints.app import create_app
from kinerja_testkit.penilaian import AGENCY, PEG1, day_event, wire

pytestmark = pytest.mark.integration
MON, TUE, WED = date(2026, 11, 2), date(2026, 11, 3), date(2026, 11, 4)


def corrected_day(day, *deductions, version=2):
    plain = day_event(PEG1, day, *deductions, version=version, punch_ids=("p-corr",))
    return make_event(DAY_SUMMARIZED, subject=PEG1, agency=AGENCY, source="test/kehadiran",
                      data={**wire(plain).data, "corrected": True, "correction_ids": ["req-1"]})


def test_the_ledger_marks_the_corrected_days(penilaian):
    penilaian.seed_roster()
    penilaian.apply(
        day_event(PEG1, MON, ("TK", "4")),                      # TK, then corrected: no deduction left
        corrected_day(MON),
        corrected_day(TUE, ("TL1", "0.5")),                       # corrected, but 10 minutes late
        day_event(PEG1, WED, ("TL2", "1"), punch_ids=("p-dev",)),  # an ordinary day
    )
    app = create_app({"database_url": penilaian.url})
    try:
        r = app.test_client().get(f"/api/v1/scores/{PEG1}?period=2026-11",
                                  headers={"Authorization": f"Bearer {penilaian.token(PEG1, 'pegawai')}"})
    finally:
        runtime_of(app).dispose()
    assert r.status_code == 200, r.json
    body = r.json
    assert body["disiplin"]["score"] == 98.5
    ledger = {(e["date"], e["correction"]): e for e in body["ledger"] if e["component"] == "disiplin" and e["date"]}
    assert set(ledger) == {("2026-11-02", True), ("2026-11-03", True), ("2026-11-04", False)}
    mon, tue = ledger[("2026-11-02", True)], ledger[("2026-11-03", True)]
    assert mon["points"] == 0 and "Koreksi lupa absen" in mon["rule"] and "p-corr" in mon["event_ids"]
    assert tue["points"] == -0.5 and tue["rule"].endswith("(koreksi lupa absen)")
    assert "koreksi" not in ledger[("2026-11-04", False)]["rule"]
    assert round(sum(e["points"] for e in body["ledger"] if e["component"] == "disiplin"), 2) == 98.5


def test_a_rebuild_gives_the_same_marked_ledger(penilaian, tmp_path):
    from kinerja_testkit.penilaian import make_penilaian

    events = [day_event(PEG1, MON, ("TK", "4")), corrected_day(MON), corrected_day(TUE, ("TL1", "0.5"))]
    penilaian.seed_roster()
    penilaian.apply(*events)
    other = make_penilaian(f"sqlite:///{tmp_path / 'again.db'}")
    try:
        other.seed_roster()
        other.apply(*reversed(events))
        assert other.scores(PEG1) == penilaian.scores(PEG1)
    finally:
        other.runtime.dispose()
