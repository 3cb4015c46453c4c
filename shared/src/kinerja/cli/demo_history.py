"""The demo agency's history: the last three complete months and the current month so far, as a
plan of what the agency's people and devices did (pure, seeded: the same roster, seed and clock
give the same plan). ``demo_load`` carries it out through the services' own doors.

The story follows what the Kalianda research found: discipline, productivity and innovation are
what is measured; supervisors and staff see the same work differently (self-ratings a level or two
above the supervisor's); training is the lever (most ASN short of 20 JP, suggestions drawn from
what is weak). So:

- punches from both devices: most days on time, some TL1–TL2, a few TL3/TL4 and PSW, a handful of
  TK days; one ASN on cuti, one on sakit, one on dinas luar; a holiday of the agency's calendar;
  today (a workday) a few have not arrived yet;
- each ASN's SKP approved by their supervisor with RHK and indicators; three tasks a month each,
  assigned, started, submitted (some returned once with feedback, some late), approved with a
  quality; one task per unit left overdue; this month's later tasks still open or waiting for
  approval; feedback on the RHK each quarter; a few innovations approved;
- BerAKHLAK ratings each month by the supervisor and by the ASN, some two levels apart;
- training records (a few ASN past 20 JP, most not); the organisation's predikat for the year.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta

from kinerja.cli.demo import AGENCY
from kinerja.cli.demo_attendance import plan_punches
from kinerja.cli.demo_plan import Plan, month_start, pick_weighted, weekday_on_or_before
from kinerja.cli.demo_ratings import plan_ratings
from kinerja.cli.demo_story import TMT_LOOKBACK_DAYS, TRAININGS
from kinerja.cli.demo_work import plan_work


def demo_people(rows: list[dict]) -> dict[str, dict]:
    """Who the demo tokens speak for: an ASN (the first staff member of the Sekretariat), their
    supervisor, and the head of the agency (the admin)."""
    staff = next(r for r in rows if not r["jabatan"].startswith("Kepala"))
    chief = next(r for r in rows if r["nip"] == staff["atasan_nip"])
    return {"pegawai": staff, "atasan": chief, "admin": rows[0]}


def make_plan(rows: list[dict], now: datetime, seed: int = 7) -> Plan:
    rng = random.Random(seed)
    zone = now.tzinfo
    today = now.date()
    first = month_start(today, 3)
    months = [f"{month_start(today, k):%Y-%m}" for k in (3, 2, 1, 0)]
    people = demo_people(rows)
    head = rows[0]["nip"]
    by_nip = {r["nip"]: r for r in rows}
    staff = [r for r in rows if r["atasan_nip"]]
    personas = {head: "teladan"}
    for r in staff:
        personas[r["nip"]] = pick_weighted(rng, {"teladan": 15, "baik": 50, "telat": 20, "lemah": 15})
    personas[people["pegawai"]["nip"]] = "telat"  # late often: the page suggests time management
    roster = []
    for r in rows:
        jabatan = r["jabatan"]
        base = 14_500_000 if jabatan == "Kepala Dinas" else 9_750_000 if jabatan.startswith("Kepala") else \
            rng.choice((4_250_000, 4_750_000, 5_200_000, 5_850_000))
        # TMT the history's first day: its workdays count (TK where nobody punched)
        roster.append({**r, "tpp": base, "tmt": first.isoformat()})
    plan = Plan(AGENCY, today, now, first, months, roster, personas)

    # the agency's calendar: a day off in the middle month of the history
    middle = month_start(today, 2)
    holiday = middle + timedelta(days=(7 - middle.weekday()) % 7 + 14)  # the third Monday
    plan.holidays.append((holiday, "Cuti bersama instansi"))

    # excused days: cuti, sakit, dinas luar (three different ASN, none of the demo's token holders)
    others = [r["nip"] for r in staff if r["nip"] not in {p["nip"] for p in people.values()}]
    on_leave = rng.sample(others, 3)
    wd = [d for d in plan.workdays if d < today]
    for nip, kind, month_back, length, note in ((on_leave[0], "cuti", 2, 3, "Cuti tahunan"),
                                                (on_leave[1], "sakit", 1, 2, "Surat keterangan dokter"),
                                                (on_leave[2], "dinas_luar", 1, 2, "Rapat koordinasi di Bandar Lampung")):
        days = [d for d in wd if d >= month_start(today, month_back) and d < month_start(today, month_back - 1)]
        start = days[rng.randrange(2, max(3, len(days) - length))]
        span = [d for d in days if d >= start][:length]
        plan.leaves.append((nip, span[0], span[-1], kind, note))
    excused = {(nip, d) for nip, s, e, _, _ in plan.leaves for d in wd if s <= d <= e}

    # a handful of TK days; and on the last workday (today, when today is one) a few who have not
    # come: not arrived yet today, or TK on a workday already over
    recent = [d for d in wd[:-1] if d >= today - timedelta(days=TMT_LOOKBACK_DAYS - 1)]
    for nip in rng.sample(others, 5):
        plan.absent_days.add((nip, rng.choice(recent)))
    team = [r["nip"] for r in staff if r["atasan_nip"] == people["atasan"]["nip"] and r["nip"] != people["pegawai"]["nip"]]
    for nip in rng.sample(team, 2) + rng.sample(others, 2):
        plan.absent_days.add((nip, plan.workdays[-1]))

    plan_punches(plan, rng, excused)
    plan_work(plan, rng, people)
    plan_ratings(plan, rng, people)
    for i, r in enumerate(staff):
        if rng.random() < 0.3:
            continue  # no training yet this year
        count = 2 if rng.random() < 0.25 else 1
        for title, jp, provider in rng.sample(TRAININGS, count):
            day = weekday_on_or_before(first + timedelta(days=rng.randrange(0, max(1, (today - first).days))))
            plan.trainings.append((r["nip"], title, jp, day, provider))
    if not any(nip == people["pegawai"]["nip"] for nip, *_ in plan.trainings):
        plan.trainings.append((people["pegawai"]["nip"], TRAININGS[2][0], TRAININGS[2][1],
                               weekday_on_or_before(first + timedelta(days=20)), TRAININGS[2][2]))
    plan.organisation.append((str(today.year), "Baik"))
    if first.year != today.year:
        plan.organisation.append((str(first.year), "Baik"))
    del by_nip
    return plan
