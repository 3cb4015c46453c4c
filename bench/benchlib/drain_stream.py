"""The stream penilaian's consumer sees in the drain window of a 20,000-line upload, as
``penilaian_drain_cpu.py`` publishes it: a roster and a policy to warm the consumer with, then punch
records (passed over), day summaries of one workday (applied) and penilaian's own score updates
(passed over). Apart from the benchmark because it is its workload, not its measuring."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone

from kehadiran.adapters import outbox_events
from kinerja.events.envelope import Event
from kinerja.events.pegawai import EMPLOYEE_UPSERTED
from kinerja.events.penilaian import POLICY_SET, SCORE_UPDATED
from kinerja.messaging import topics
from kinerja_testkit.synthetic import synthetic_nip

AGENCY = "bench"
WIB = timezone(timedelta(hours=7))


def workday() -> date:
    d = date.today() - timedelta(days=1)
    while d.weekday() >= 5:
        d -= timedelta(days=1)
    return d


def roster(n: int) -> list[tuple[str, str, bytes]]:
    out = []
    at = datetime.now(timezone.utc) - timedelta(days=30)
    nips = [synthetic_nip(i) for i in range(n)]
    for i, nip in enumerate(nips):
        boss = None if i == 0 else nips[0] if i % 10 == 0 else nips[i - i % 10]
        e = Event(id=str(uuid.uuid4()), type=EMPLOYEE_UPSERTED, source="bench", time=at, subject=nip, agency=AGENCY,
                  data={"nip": nip, "nama": f"ASN {i}", "agency": AGENCY, "unit": f"Bidang {i % 6 + 1}",
                        "atasan_nip": boss, "pin": str(1000 + i), "jabatan": "Staf"})
        out.append((topics.PEGAWAI, nip, e.to_bytes()))
    first = date.today().replace(day=1) - timedelta(days=62)
    e = Event(id=str(uuid.uuid4()), type=POLICY_SET, source="bench", time=at, subject=AGENCY, agency=AGENCY,
              data={"policy_id": str(uuid.uuid4()), "agency": AGENCY, "version": 1, "effective_from": first.isoformat(),
                    "weight_hasil_kerja": "0.7", "weight_perilaku": "0.3", "above_from": "88", "meets_from": "70",
                    "innovation_points": "4", "innovation_cap": "8", "timeliness_penalty_per_day": "10",
                    "distribution_curve": None, "set_by": nips[0], "set_at": at.isoformat()})
    out.append((topics.PENILAIAN, AGENCY, e.to_bytes()))
    return out


def stream(n: int, day: date, scores: bool = True, chunk: int = 500) -> list[tuple[str, str, bytes]]:
    """Punches and day summaries as kehadiran's relay publishes them in the drain (a chunk of
    punches, then their days' summaries), and penilaian's score updates after each chunk."""
    out = []
    now = datetime.now(timezone.utc)
    at = now.isoformat()
    for start in range(0, n, chunk):
        ids = {}
        for i in range(start, min(n, start + chunk)):
            nip = synthetic_nip(i)
            t = datetime.combine(day, datetime.min.time(), WIB).replace(hour=7, minute=i % 60)
            punch_id, event_id = outbox_events.punch_ids("SN1", str(1000 + i), t)
            ids[i] = event_id
            e = outbox_events.punch_recorded(event_id, punch_id=punch_id, nip=nip, agency=AGENCY, device_sn="SN1",
                                             pin=str(1000 + i), time=t.astimezone(timezone.utc), status="0",
                                             channel="adms", at=at)
            out.append((topics.KEHADIRAN, nip, outbox_events.encode(e).encode()))
        for i in range(start, min(n, start + chunk)):
            nip = synthetic_nip(i)
            late = (i * 7) % 60 if i % 3 == 0 else 0
            data = {"nip": nip, "date": day.isoformat(), "version": 1, "final": False, "workday": True,
                    "excused": None, "arrival": f"{day.isoformat()}T07:{i % 60:02d}:00+07:00", "departure": None,
                    "minutes_late": late, "minutes_early": 0,
                    "deductions": [{"code": "TL1", "percent": "0.50", "minutes": late}] if late else [],
                    "punch_event_ids": [ids[i]], "unit": f"Bidang {i % 6 + 1}"}
            e = outbox_events.day_summarized(nip=nip, agency=AGENCY, data=data, at=now)
            out.append((topics.KEHADIRAN, nip, outbox_events.encode(e).encode()))
        if scores:  # a month, its quarter and its year each (``score_rows.as_one_change``)
            for i in range(start, min(n, start + chunk)):
                nip = synthetic_nip(i)
                month = {"period": day.strftime("%Y-%m"), "disiplin": 99.5, "produktivitas": None,
                         "perilaku": None, "hasil_kerja": None, "total": None, "total_partial": 99.5,
                         "predikat": "Baik", "changes": [{"component": "disiplin", "before": 100.0, "after": 99.5}]}
                others = [{**month, "period": p} for p in (f"{day.year}-Q{(day.month - 1) // 3 + 1}", f"{day.year}")]
                common = {"nip": nip, "caused_by": [str(uuid.uuid4())],
                          "atasan_nip": synthetic_nip(i - i % 10) if i % 10 else synthetic_nip(0)}
                lead = str(uuid.uuid4())
                for k, data in enumerate([{**month, "also": others}] + [{**o, "part_of": lead} for o in others]):
                    e = Event(id=lead if k == 0 else str(uuid.uuid4()), type=SCORE_UPDATED, source="kinerja/penilaian",
                              time=now, subject=nip, agency=AGENCY, data={**common, **data})
                    out.append((topics.PENILAIAN, nip, e.to_bytes()))
    return out
