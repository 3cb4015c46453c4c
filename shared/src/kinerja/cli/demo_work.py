"""The demo history's work in tugas: SKPs with RHK, tasks through their steps, feedback,
innovations."""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from kinerja.cli.demo_plan import (Plan, at_time, isoformat_all, month_label, month_start, story_id,
                                   weekday_on_or_before)
from kinerja.cli.demo_story import FEEDBACK, INNOVATIONS, PERSONAS, RHK, TASKS, WHAT


def task_steps(plan: Plan, rng: random.Random, persona: str, due: date, assigned: datetime, *,
                overdue: bool = False, early: bool = False, waiting: bool = False,
                quality_cap: int | None = None) -> tuple[list[dict], int]:
    zone = plan.now.tzinfo
    spec = PERSONAS[persona]
    target = rng.choice((2, 3, 4, 5, 6, 8, 10))
    steps = [{"action": "assign", "at": assigned}]
    steps.append({"action": "start", "at": assigned + timedelta(hours=rng.randint(2, 20))})
    if overdue:
        return steps, target
    if waiting:  # handed in ahead of the due date, the supervisor has not looked yet
        submitted = max(steps[-1]["at"] + timedelta(hours=2), plan.now - timedelta(hours=rng.randint(2, 40)))
        steps.append({"action": "submit", "at": submitted, "note": "Mohon diperiksa"})
        return steps, target
    if early:
        submitted = assigned + timedelta(days=6, hours=rng.randint(1, 5))
    else:
        submitted = at_time(due + timedelta(days=rng.randint(*spec["offset"])), rng.randint(9, 15), rng.randint(0, 59), zone)
        submitted = max(submitted, steps[-1]["at"] + timedelta(hours=3))
    steps.append({"action": "submit", "at": submitted, "note": "Hasil kerja terlampir"})
    at = submitted
    if rng.random() < 0.15 and not early:
        at += timedelta(days=1, hours=1)
        steps.append({"action": "return", "at": at,
                      "feedback": rng.choice(("Lengkapi lampiran bukti dukung.", "Perbaiki rekap angka pada tabel 2.",
                                              "Tambahkan tanda tangan dan nomor surat."))})
        at += timedelta(days=1, hours=2)
        steps.append({"action": "submit", "at": at, "note": "Sudah diperbaiki"})
    at += timedelta(days=1) if not early else timedelta(hours=20)
    quality = rng.randint(*spec["quality"])
    if quality_cap is not None:
        quality = min(quality, quality_cap)
    realised = max(1, min(target, round(target * rng.uniform(*spec["realised"]))))
    steps.append({"action": "approve", "at": at, "realised_quantity": realised, "quality": quality})
    return steps, target


def plan_work(plan: Plan, rng: random.Random, people: dict[str, dict]) -> None:
    zone = plan.now.tzinfo
    head = plan.roster[0]["nip"]
    skps, tasks, feedback, innovations = [], [], [], []
    years = sorted({int(m[:4]) for m in plan.months})
    for r in plan.roster:
        what = WHAT[r["unit"]]
        for year in years:
            created = min(at_time(date(year, 1, 2), 9, 0, zone), plan.now - timedelta(hours=3))
            rhk = [{"kind": kind, "text": text.format(what=what[i % len(what)]),
                    "indicators": [{"indicator": ind.format(what=what[i % len(what)]), "target_quantity": qty,
                                    "unit": unit, "quality_target": 90, "time_target": "12 bulan"}
                                   for ind, qty, unit in indicators]}
                   for i, (kind, text, indicators) in enumerate(RHK)]
            skps.append({"nip": r["nip"], "year": year, "rhk": rhk, "created_at": created,
                         "submitted_at": created + timedelta(hours=1),
                         "approved_at": None if r["nip"] == head else created + timedelta(hours=2),
                         "note": None if r["nip"] == head else "Disetujui"})
    # one task per unit is left overdue: last month's second task of someone who is not the demo ASN
    overdue_of = {}
    for unit in WHAT:
        members = [r["nip"] for r in plan.roster if r["unit"] == unit and r["atasan_nip"]
                   and r["nip"] != people["pegawai"]["nip"] and not r["jabatan"].startswith("Kepala")]
        overdue_of[unit] = rng.choice(members)
    last_month = plan.months[-2]
    team = [r["nip"] for r in plan.roster if r["atasan_nip"] == people["atasan"]["nip"]]
    waiting = set(rng.sample(team, 2)) | {r["nip"] for r in plan.roster if r["atasan_nip"] and rng.random() < 0.2}
    for r in plan.roster:
        if not r["atasan_nip"]:
            continue
        persona = plan.personas[r["nip"]]
        what = WHAT[r["unit"]]
        for month in plan.months:
            y, m = map(int, month.split("-"))
            start = date(y, m, 1)
            current = month == plan.months[-1]
            # two tasks due a month (this month's first handed in ahead of time), and for some this
            # month a third, handed in and waiting for the supervisor
            days = (8, 22, None, 15) if current and r["nip"] in waiting else (8, 22)
            for k, day in enumerate(days):
                if day is None:
                    continue
                due = weekday_on_or_before(start + timedelta(days=day - 1))
                early = current and k == 0
                assigned = at_time(start - timedelta(days=12) if early else start - timedelta(days=4) if k == 3
                               else due - timedelta(days=21), 8, 15 + k * 7, zone)
                if assigned >= plan.now:
                    continue  # not assigned yet
                service = k == 1 and (r["unit"] != "Sekretariat" or r["nip"] == people["pegawai"]["nip"])
                cap = 65 if r["nip"] == people["pegawai"]["nip"] and k == 1 else None
                steps, target = task_steps(plan, rng, persona, due, assigned, early=early, quality_cap=cap,
                                            waiting=k == 3,
                                            overdue=month == last_month and k == 1 and overdue_of[r["unit"]] == r["nip"])
                steps = [s for s in steps if s["at"] < plan.now]
                pick = k + m + int(r["pin"])
                title = TASKS[pick % len(TASKS)].format(what=what[pick % len(what)]) + f" {month_label(month)}"
                task_id = story_id("task", r["nip"], month, k)
                tasks.append({"id": task_id, "nip": r["nip"], "assigned_by": r["atasan_nip"], "title": title,
                              "category": "pelayanan" if service else None, "due_date": due.isoformat(),
                              "target_quantity": target, "rhk": [y, (k + m) % len(RHK)], "steps": steps})
                if any(s["action"] == "return" for s in steps) and rng.random() < 0.5:
                    ret = next(s for s in steps if s["action"] == "return")
                    feedback.append({"id": story_id("fb", task_id, 1), "author": r["atasan_nip"], "task_id": task_id,
                                     "text": ret["feedback"] + " Saya tunggu perbaikannya besok.", "at": ret["at"] + timedelta(minutes=5)})
                    feedback.append({"id": story_id("fb", task_id, 2), "author": r["nip"], "task_id": task_id,
                                     "text": "Baik, segera saya perbaiki.", "at": ret["at"] + timedelta(hours=1)})
        # continuous feedback on each RHK, once a quarter, mid-quarter
        for month in plan.months:
            y, m = map(int, month.split("-"))
            if m % 3 != 2:
                continue
            for position in range(len(RHK)):
                at = at_time(date(y, m, 10), 10, 5 * position, zone)
                if at < plan.now:
                    feedback.append({"id": story_id("rhk-fb", r["nip"], month, position), "author": r["atasan_nip"],
                                     "rhk": [r["nip"], y, position], "at": at,
                                     "text": FEEDBACK[persona][position % 2]})
    inventors = rng.sample([r for r in plan.roster if r["atasan_nip"] and plan.personas[r["nip"]] in ("teladan", "baik")],
                           len(INNOVATIONS))
    for i, (r, title) in enumerate(zip(inventors, INNOVATIONS)):
        proposed = at_time(month_start(plan.today, 2 - i % 3) + timedelta(days=3 + 4 * i), 10, 0, zone)
        if proposed >= plan.now - timedelta(days=1):
            proposed = plan.now - timedelta(days=2)
        innovations.append({"id": story_id("innovation", r["nip"], i), "nip": r["nip"], "title": title,
                            "description": f"Usulan inovasi: {title.lower()}.", "proposed_at": proposed,
                            "decided_at": proposed + timedelta(days=1), "approve": i != len(INNOVATIONS) - 1,
                            "note": "Disetujui, terapkan di unit" if i != len(INNOVATIONS) - 1 else "Belum siap, kaji ulang"})
    iso = isoformat_all
    plan.history = {"agency": plan.agency, "skps": iso(skps), "tasks": iso(tasks), "feedback": iso(feedback),
                    "innovations": iso(innovations)}
