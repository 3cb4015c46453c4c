"""Issue 19's trust items end to end, the services as real processes through the real broker:

- the roster CSV carries a TMT; kehadiran reads it from ``pegawai.v1`` and closing the days from
  the TMT on makes them TK, while the days before it are reported as skipped, and why (item 3);
- a phone's backdated punch is refused with the reason (item 1);
- three TK days raise the PP 94/2021 alert; a cuti entered afterwards withdraws it, and notifikasi
  tells the ASN and the supervisor (inbox and live stream); cancelling the cuti raises it again
  (item 2);
- a forgotten punch is asked for as a correction, the supervisor approves it: the day is no longer
  TK (the alert is withdrawn again) and penilaian's ledger marks the day as corrected (items 1, 2).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
import requests

from kinerja.auth import issue_token
from kinerja.cli.roster import parse_roster, publish
from kinerja.config import DEV_JWT_SECRET
from kinerja.testing import create_postgres_database, wait_until

from kinerja_testkit.sse_journey import SseClient

pytestmark = pytest.mark.e2e
AGENCY = "disdik-trust"
ATASAN = "197910022009031022"
ASN = "198102082004121023"
WIB = timezone(timedelta(hours=7))


def token(role, nip=None):
    return issue_token(DEV_JWT_SECRET, role=role, agency=AGENCY, nip=nip)


def auth(role, nip=None):
    return {"Authorization": f"Bearer {token(role, nip)}"}


ME, BOSS, ADMIN = auth("pegawai", ASN), auth("atasan", ATASAN), auth("admin", ATASAN)


def three_workdays() -> list[date]:
    """The three most recent Monday–Thursday dates before today (WIB), oldest first, in one year."""
    day, out = datetime.now(WIB).date() - timedelta(days=1), []
    while len(out) < 3:
        if day.weekday() <= 3 and (not out or day.year == out[0].year):
            out.append(day)
        elif out and day.year != out[0].year:
            out = [day] if day.weekday() <= 3 else []
        day -= timedelta(days=1)
    return sorted(out)


@pytest.fixture
def stack(postgres_server, running_stack):
    return running_stack(
        database_urls={"kehadiran": create_postgres_database(postgres_server),
                       "penilaian": create_postgres_database(postgres_server)},
        extra_env={"NOTIFIKASI_SSE_HEARTBEAT_S": "1"},
    )


def inbox(stack, nip, role, kind):
    r = requests.get(f"{stack.url('notifikasi')}/api/v1/notifications", params={"limit": 200},
                     headers=auth(role, nip), timeout=10)
    r.raise_for_status()
    return [i for i in r.json()["items"] if i["kind"] == kind]


def tk_days(stack, first: date, last: date) -> list[date]:
    out = []
    for period in sorted({first.strftime("%Y-%m"), last.strftime("%Y-%m")}):
        r = requests.get(f"{stack.url('kehadiran')}/api/v1/days", params={"nip": ASN, "period": period},
                         headers=ME, timeout=10)
        r.raise_for_status()
        out += [date.fromisoformat(d["date"]) for d in r.json() if any(x["code"] == "TK" for x in d["deductions"])]
    return sorted(d for d in out if first <= d <= last)


def test_tmt_phone_time_withdrawn_alerts_and_a_correction_through_the_broker(stack):
    days = three_workdays()
    tmt, year = days[0], days[0].year
    last = min(datetime.now(WIB).date() - timedelta(days=1), date(year, 12, 31))
    csv = ("nip,nama,agency,unit,jabatan,atasan_nip,pin,tmt\n"
           f"{ATASAN},Citra,{AGENCY},Bidang GTK,Kepala Bidang,,1,\n"
           f"{ASN},Taufik,{AGENCY},Bidang GTK,Analis,{ATASAN},2,{tmt.strftime('%d-%m-%Y')}\n")
    parsed = parse_roster(csv)
    assert parsed.errors == []
    publish(parsed.events, stack.kafka_bootstrap, stack.topic_prefix)
    kehadiran = stack.url("kehadiran")
    wait_until(lambda: requests.get(f"{kehadiran}/api/v1/days", params={"nip": ASN, "period": tmt.strftime("%Y-%m")},
                                    headers=ME, timeout=5).status_code == 200, 60, message="kehadiran read the roster")

    # item 3: the days from the TMT on are closed (TK), the three before it are reported as skipped
    r = requests.post(f"{kehadiran}/api/v1/days/close", headers=ADMIN, timeout=60,
                      json={"start_date": str(tmt - timedelta(days=3)), "end_date": str(last)})
    assert r.status_code == 200, r.text
    report = r.json()
    by_asn = {(x["nip"], x["reason"]): x for x in report["by_asn"]}
    assert by_asn[(ASN, "before_tmt")]["days"] == 3 and by_asn[(ASN, "before_tmt")]["tmt"] == str(tmt)
    assert (ATASAN, "before_tracking") in by_asn  # no TMT: counted from today's import
    tk = tk_days(stack, tmt, last)
    assert tk[0] == tmt and set(days) <= set(tk) and report["count"] == len(tk)

    # item 1: a phone cannot punch a past day
    r = requests.post(f"{kehadiran}/api/v1/punches", headers=ME, timeout=10,
                      json={"punches": [{"nip": ASN, "time": f"{days[-1]}T07:25:00+07:00"}]})
    assert r.status_code == 422 and "dicatat saat diterima" in r.json()["reason"]

    # item 2: the alert raised at three TK days reaches both inboxes ...
    notifikasi = stack.url("notifikasi")
    alerts = wait_until(lambda: [a for a in inbox(stack, ASN, "pegawai", "discipline.alert")
                                 if a["payload"]["year"] == year and a["payload"]["threshold"] == 3], 60,
                        message="the alert reached the ASN")
    assert len(alerts) == 1
    wait_until(lambda: inbox(stack, ATASAN, "atasan", "discipline.alert"), 30, message="the alert reached the atasan")
    raised = {a["payload"]["threshold"] for a in inbox(stack, ASN, "pegawai", "discipline.alert")
              if a["payload"]["year"] == year}

    # ... a cuti entered afterwards for all but two of the TK days withdraws it, live
    stream = SseClient(f"{notifikasi}/api/v1/stream", token("pegawai", ASN))
    try:
        r = requests.post(f"{kehadiran}/api/v1/leave", headers=BOSS, timeout=30, json={
            "nip": ASN, "start_date": str(tk[0]), "end_date": str(tk[-3]), "kind": "cuti"})
        assert r.status_code == 201, r.text
        live = stream.wait_for(lambda e: e.event == "discipline.withdrawn", 60)
        assert live.data["payload"]["days"] == 2 and "dicabut" in live.data["body"]
    finally:
        stream.close()
    withdrawn = wait_until(lambda: {w["payload"]["threshold"] for w in inbox(stack, ASN, "pegawai",
                                                                             "discipline.withdrawn")} == raised, 30,
                           message=f"every raised threshold {raised} withdrawn")
    assert withdrawn
    wait_until(lambda: inbox(stack, ATASAN, "atasan", "discipline.withdrawn"), 30, message="the atasan told")

    # crossing it again raises it again
    r = requests.post(f"{kehadiran}/api/v1/leave/cancel", headers=BOSS, timeout=30,
                      json={"nip": ASN, "start_date": str(tk[0]), "end_date": str(tk[0])})
    assert r.status_code == 200 and r.json()["count"] == 1
    wait_until(lambda: len([a for a in inbox(stack, ASN, "pegawai", "discipline.alert")
                            if a["payload"]["year"] == year and a["payload"]["threshold"] == 3]) == 2, 60,
               message="the alert raised again")

    # item 1: a forgotten day asked for and approved: no longer TK, marked in penilaian's ledger
    corrected = tk[-1]
    departure = "16:40"  # after the end on any weekday, Friday included
    r = requests.post(f"{kehadiran}/api/v1/corrections", headers=ME, timeout=10, json={
        "date": str(corrected), "reason": "mesin absen mati seharian",
        "punches": [{"time": f"{corrected}T07:20:00+07:00", "status": "in"},
                    {"time": f"{corrected}T{departure}:00+07:00", "status": "out"}]})
    assert r.status_code == 201, r.text
    r = requests.post(f"{kehadiran}/api/v1/corrections/{r.json()['id']}/approve", headers=BOSS, timeout=30,
                      json={"note": "benar"})
    assert r.status_code == 200 and r.json()["status"] == "approved", r.text
    # the day worker recomputes the day the approval marked
    wait_until(lambda: corrected not in tk_days(stack, tmt, last), 30, message="the corrected day is no longer TK")
    wait_until(lambda: len([w for w in inbox(stack, ASN, "pegawai", "discipline.withdrawn")
                            if w["payload"]["threshold"] == 3]) == 2, 60, message="withdrawn again")

    def ledger_marks_it():
        r = requests.get(f"{stack.url('penilaian')}/api/v1/scores/{ASN}", params={"period": corrected.strftime("%Y-%m")},
                         headers=ME, timeout=10)
        if r.status_code != 200:
            return None
        return [e for e in r.json()["ledger"] if e["date"] == str(corrected) and e.get("correction")]
    [entry] = wait_until(ledger_marks_it, 60, message="penilaian's ledger marks the corrected day")
    assert entry["points"] == 0 and "Koreksi lupa absen" in entry["rule"]
