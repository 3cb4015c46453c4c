"""Issue 19 item 3, through the API on SQLite and PostgreSQL: the roster's TMT sets from which day
an ASN's workdays count, so an agency importing its roster on the 15th gets TK for the 1st–14th
when the TMT says the 1st; closing a range answers which days it skipped and why; the day closer
goes back for days an earlier TMT opened; a TMT moved later takes back the days before it."""
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from kehadiran.adapters.calendar_orm import Holiday
from kehadiran.adapters.orm import DaySummaryRow
from kehadiran.entrypoints.app import create_app
from kehadiran.entrypoints.runtime import settle_days
from kehadiran.entrypoints.migrate import main as migrate
from kehadiran.service_layer.day_closing import close_due_days
from kehadiran.service_layer.day_worker import fixed_zone
from kehadiran.service_layer.roster import apply_roster_event
from kinerja.auth import issue_token
from kinerja.config import DEV_JWT_SECRET
from kinerja.events import decode_event, make_event
from kinerja.events.pegawai import EMPLOYEE_UPSERTED
from kinerja.webapp import runtime_of

pytestmark = pytest.mark.integration
AGENCY = "disdik"
WIB = ZoneInfo("Asia/Jakarta")
A, B, C, D = "199001012015011001", "199001012015011002", "199001012015011003", "199001012015011004"
IMPORTED = datetime(2026, 10, 15, 9, tzinfo=WIB)  # the roster import, on the 15th
ADMIN = {"Authorization": "Bearer " + issue_token(DEV_JWT_SECRET, role="admin", agency=AGENCY, nip=D)}


def roster(app, nip, *, at, tmt=None):
    rt = runtime_of(app)
    data = {"nip": nip, "nama": f"ASN {nip[-1]}", "agency": AGENCY, "unit": "Sekretariat", "pin": nip[-1]}
    if tmt:
        data["tmt"] = date.fromisoformat(tmt)
    event = decode_event(make_event(EMPLOYEE_UPSERTED, subject=nip, agency=AGENCY, source="test", time=at,
                                    data=data).to_bytes())  # as the consumer gets it from pegawai.v1
    with rt.session() as s, s.begin():
        apply_roster_event(s, event, agency_tz="Asia/Jakarta")


@pytest.fixture
def app(database_url):
    migrate(database_url)
    app = create_app({"database_url": database_url, "kafka_bootstrap": "127.0.0.1:1"})
    yield app
    runtime_of(app).dispose()


def codes(app, nip):
    """October's workday records of ``nip``: day of month → codes."""
    rt = runtime_of(app)
    settle_days(rt)  # what the day worker does as markers commit
    with rt.session() as s:
        rows = s.execute(select(DaySummaryRow).where(DaySummaryRow.nip == nip)).scalars()
        return {r.day.day: [d["code"] for d in r.payload["deductions"]] for r in rows
                if r.payload["workday"] and r.day.month == 10}


WEEKDAYS_1_14 = [1, 2, 5, 6, 7, 8, 9, 12, 14]  # October 2026 without the weekends and the 13th (a holiday)


def test_an_import_on_the_15th_with_tmt_the_1st_closes_the_1st_to_the_14th_and_says_what_it_skipped(app):
    client = app.test_client()
    roster(app, D, at=datetime(2026, 9, 1, 9, tzinfo=WIB))       # on the roster since September
    roster(app, A, at=IMPORTED, tmt="2026-10-01")
    roster(app, B, at=IMPORTED)                                   # no TMT: from the import
    roster(app, C, at=IMPORTED, tmt="2026-10-08")
    r = client.post("/api/v1/calendar/holidays", headers=ADMIN, json={"csv": "2026-10-13,Libur Daerah,libur\n"})
    assert r.status_code == 200
    r = client.post("/api/v1/days/close", headers=ADMIN, json={"start_date": "2026-10-01", "end_date": "2026-10-14"})
    assert r.status_code == 200, r.json
    got = r.json
    assert codes(app, A) == {d: ["TK"] for d in WEEKDAYS_1_14}
    assert codes(app, C) == {d: ["TK"] for d in (8, 9, 12, 14)}
    assert codes(app, B) == {}
    assert got["count"] == 9 + 4 + 9 and got["workdays"] == 22
    skipped = {s["reason"]: s for s in got["skipped"]}
    assert set(skipped) == {"before_tmt", "before_tracking", "holiday", "day_off"}
    assert (skipped["before_tmt"]["asn_days"], skipped["before_tmt"]["asn"]) == (7, 1)
    assert (skipped["before_tracking"]["asn_days"], skipped["before_tracking"]["asn"]) == (14, 1)
    assert skipped["holiday"]["dates"] == ["2026-10-13"] and skipped["holiday"]["asn"] == 3
    assert skipped["day_off"]["dates"] == ["2026-10-03", "2026-10-04", "2026-10-10", "2026-10-11"]
    assert "TMT" in skipped["before_tmt"]["message"]
    by_asn = {(x["nip"], x["reason"]): x for x in got["by_asn"]}
    assert set(by_asn) == {(B, "before_tracking"), (C, "before_tmt")}
    assert by_asn[(C, "before_tmt")] | {"nama": None} == {
        "nip": C, "nama": None, "reason": "before_tmt", "from": "2026-10-01", "to": "2026-10-07", "days": 7,
        "tmt": "2026-10-08", "tracked_since": "2026-10-08"}
    assert by_asn[(B, "before_tracking")]["tracked_since"] == "2026-10-15"
    assert got["inactive"] == 0 and got["by_asn_truncated"] is False

    # the TMT moved a week later: the days before it are taken back (no longer workdays, no TK)
    roster(app, A, at=datetime(2026, 10, 20, 9, tzinfo=WIB), tmt="2026-10-08")
    assert codes(app, A) == {d: ["TK"] for d in (8, 9, 12, 14)}


def test_the_day_closer_goes_back_for_days_an_earlier_tmt_opened(app):
    rt = runtime_of(app)
    roster(app, D, at=datetime(2026, 9, 1, 9, tzinfo=WIB))
    with rt.session() as s, s.begin():
        close_due_days(s, zone_of=fixed_zone("Asia/Jakarta"), now=datetime(2026, 10, 15, 1, tzinfo=timezone.utc))
    assert 14 in codes(app, D)
    roster(app, A, at=IMPORTED, tmt="2026-10-01")
    with rt.session() as s, s.begin():
        close_due_days(s, zone_of=fixed_zone("Asia/Jakarta"), now=datetime(2026, 10, 16, 1, tzinfo=timezone.utc))
    assert codes(app, A) == {d: ["TK"] for d in WEEKDAYS_1_14 + [13, 15]}  # no holiday loaded here
    assert max(codes(app, D)) == 15


def test_the_day_closer_queues_yesterday_again_only_where_it_is_not_final_yet(app):
    """The closer comes round every few minutes and yesterday is in its range each time (a night
    shift may still be running): a day already final is not queued again, so a big roster's
    yesterday is not recomputed, unchanged, ahead of the fresh punches' days every time."""
    rt = runtime_of(app)
    roster(app, D, at=datetime(2026, 9, 1, 9, tzinfo=WIB))
    roster(app, B, at=datetime(2026, 9, 1, 9, tzinfo=WIB))
    now = datetime(2026, 10, 15, 1, tzinfo=timezone.utc)  # 08:00 on the 15th: the 14th is over
    with rt.session() as s, s.begin():
        assert close_due_days(s, zone_of=fixed_zone("Asia/Jakarta"), now=now) > 2
    assert codes(app, D)[14] == ["TK"] and codes(app, B)[14] == ["TK"]
    with rt.session() as s, s.begin():
        # B's 14th as a night shift's leaves it until its end: recorded, not final yet
        row = s.get(DaySummaryRow, (B, date(2026, 10, 14)))
        row.final, row.payload = False, {**row.payload, "final": False}
    with rt.session() as s, s.begin():
        assert close_due_days(s, zone_of=fixed_zone("Asia/Jakarta"), now=now) == 1
        assert s.execute(text("SELECT nip, day FROM dirty_days")).all() in (
            [(B, date(2026, 10, 14))], [(B, "2026-10-14")])
    settle_days(rt)
    with rt.session() as s, s.begin():
        assert close_due_days(s, zone_of=fixed_zone("Asia/Jakarta"), now=now) == 0


def test_the_day_closer_does_not_queue_again_days_no_recompute_can_give_a_record(app):
    """The closer comes round every few minutes and queues yesterday each time until its record is
    final. A weekend day, a holiday and a day before the ASN was tracked get no record however
    often they are recomputed, and time alone never gives them one (a punch, leave, a schedule or
    an earlier TMT marks the day itself): so they are never queued, where a big roster's Sunday
    was every ASN recomputed to nothing every 5 minutes all day. A workday nobody punched on is
    still queued, closed as TK, and then left alone."""
    rt = runtime_of(app)
    close = lambda now: close_due(rt, now)  # noqa: E731
    roster(app, D, at=datetime(2026, 9, 1, 9, tzinfo=WIB))
    sunday_8am = datetime(2026, 10, 18, 8, tzinfo=WIB)  # yesterday: Saturday the 17th
    weekdays = sum(1 for k in range(47) if (date(2026, 9, 1) + timedelta(days=k)).weekday() < 5)
    assert close(sunday_8am) == weekdays  # September 1st to October 16th: the weekdays only
    assert codes(app, D) == {d: ["TK"] for d in (1, 2, 5, 6, 7, 8, 9, 12, 13, 14, 15, 16)}  # October's
    assert close(sunday_8am) == 0  # Saturday again: a day off
    assert close(sunday_8am + timedelta(minutes=5)) == 0
    with rt.session() as s, s.begin():
        s.add(Holiday(agency=AGENCY, day=date(2026, 10, 19), name="Libur Daerah", kind="libur"))
    roster(app, B, at=datetime(2026, 10, 20, 7, tzinfo=WIB))  # tracked from the 20th
    tuesday_8am = datetime(2026, 10, 20, 8, tzinfo=WIB)
    # the 17th to the 19th: D's weekend and holiday, days before B was tracked
    assert close(tuesday_8am) == 0
    assert close(tuesday_8am + timedelta(minutes=5)) == 0
    wednesday_8am = datetime(2026, 10, 21, 8, tzinfo=WIB)
    assert close(wednesday_8am) == 2  # the 20th: a workday of both
    assert codes(app, D)[20] == ["TK"] and codes(app, B) == {20: ["TK"]}
    assert close(wednesday_8am + timedelta(minutes=5)) == 0


def close_due(rt, now: datetime) -> int:
    with rt.session() as s, s.begin():
        return close_due_days(s, zone_of=fixed_zone("Asia/Jakarta"), now=now.astimezone(timezone.utc))


def test_a_bad_tmt_is_refused_by_the_schema():
    from kinerja.cli.roster import parse_roster

    csv = ("nip,nama,agency,unit,jabatan,atasan_nip,pin,tmt\n"
           f"{A},Satu,{AGENCY},Sekretariat,Staf,,1,2026-10-01\n"
           f"{B},Dua,{AGENCY},Sekretariat,Staf,,2,01/10/2026\n"
           f"{C},Tiga,{AGENCY},Sekretariat,Staf,,3,\n"
           f"{D},Empat,{AGENCY},Sekretariat,Staf,,4,2026-13-01\n"
           "199001012015011005,Lima,disdik,Sekretariat,Staf,,5,1900-01-01\n")
    parsed = parse_roster(csv)
    assert [e.data.get("tmt") for e in parsed.events] == ["2026-10-01", "2026-10-01", None]
    assert [line for line, _ in parsed.errors] == [5, 6]
    assert "tmt" in parsed.errors[0][1] and "1950-01-01" in parsed.errors[1][1]
    assert date(2026, 10, 1).isoformat() == parsed.events[1].data["tmt"]
