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
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from kinerja.cli.demo import AGENCY, DEVICES

BERAKHLAK = ("berorientasi_pelayanan", "akuntabel", "kompeten", "harmonis", "loyal", "adaptif", "kolaboratif")
LEVELS = ("below", "meets", "above")
START, END_MON_THU, END_FRI = time(7, 30), time(16, 0), time(16, 30)
TMT_LOOKBACK_DAYS = 92  # kehadiran closes the days of a TMT at most this far before the roster named the ASN
NAMESPACE = uuid.UUID("6f1c2b8e-4d1a-4c47-9a55-0d6c1e9b7a10")  # ids: uuid5 of this and a story key

# persona → (discipline weights, task quality range, submission offset days (min, max), supervisor level
# weights, self level shift)
PERSONAS: dict[str, dict[str, Any]] = {
    "teladan": {"days": {"ontime": 97, "TL1": 3}, "quality": (88, 97), "offset": (-3, -1), "realised": (0.95, 1.1),
                "levels": {"above": 6, "meets": 1}},
    "baik": {"days": {"ontime": 88, "TL1": 7, "TL2": 2, "PSW1": 2, "PSW2": 1}, "quality": (70, 86),
             "offset": (-2, 1), "realised": (0.75, 1.0), "levels": {"meets": 5, "above": 1}},
    "telat": {"days": {"ontime": 66, "TL1": 17, "TL2": 9, "TL3": 3, "TL4": 1, "PSW1": 2, "PSW4": 2},
              "quality": (68, 84), "offset": (-1, 2), "realised": (0.75, 1.0), "levels": {"meets": 5, "below": 1}},
    "lemah": {"days": {"ontime": 80, "TL1": 8, "TL2": 4, "TL3": 2, "PSW2": 2, "PSW3": 2, "PSW4": 2},
              "quality": (48, 66), "offset": (2, 5), "realised": (0.5, 0.8), "levels": {"below": 2, "meets": 3}},
}
TASKS = ("Menyusun laporan {what}", "Memverifikasi data {what}", "Menyiapkan bahan rapat {what}",
         "Mengolah usulan {what}", "Memutakhirkan arsip {what}", "Melayani konsultasi {what}")
WHAT = {"Sekretariat": ("keuangan", "kepegawaian", "aset", "perencanaan"),
        "Bidang Pembinaan SD": ("BOS SD", "akreditasi SD", "sarana SD", "kurikulum SD"),
        "Bidang Pembinaan SMP": ("BOS SMP", "akreditasi SMP", "sarana SMP", "ujian SMP"),
        "Bidang GTK": ("sertifikasi guru", "mutasi guru", "tunjangan profesi", "kenaikan pangkat guru")}
RHK = (("main", "Terselenggaranya layanan administrasi {what} yang tepat waktu",
        [("Jumlah laporan {what} yang tersusun", 12, "laporan")]),
       ("main", "Meningkatnya kualitas data {what}",
        [("Persentase data {what} yang terverifikasi", 100, "persen"), ("Jumlah dokumen yang dimutakhirkan", 24, "dokumen")]),
       ("additional", "Terlaksananya tugas tambahan dari pimpinan", [("Jumlah kegiatan yang dilaksanakan", 6, "kegiatan")]))
FEEDBACK = {"teladan": ("Capaian melampaui target, pertahankan dan bagikan caranya ke rekan satu tim.",
                        "Kualitas laporan sangat baik dan selalu tepat waktu."),
            "baik": ("Capaian sesuai target. Perhatikan kelengkapan lampiran bukti dukung.",
                     "Sudah baik; tingkatkan ketelitian pada rekap data."),
            "telat": ("Hasil kerja cukup, tetapi kehadiran sering terlambat; mohon diperbaiki.",
                      "Penyelesaian tugas baik, disiplin waktu masuk kerja perlu ditingkatkan."),
            "lemah": ("Beberapa tugas terlambat dan perlu perbaikan; kita bahas dalam dialog kinerja.",
                      "Kualitas hasil kerja belum sesuai ekspektasi; ikuti pendampingan dari kepala bidang.")}
TRAININGS = (("Pelatihan Manajemen Waktu dan Produktivitas", 12, "BKPSDM Lampung Selatan"),
             ("Bimtek Pelayanan Publik Prima", 16, "BPSDM Provinsi Lampung"),
             ("Pelatihan Penyusunan SKP dan Kinerja ASN", 8, "BKPSDM Lampung Selatan"),
             ("Diklat Pengelolaan Data dan Arsip Digital", 10, "ANRI"),
             ("Webinar Core Values BerAKHLAK", 4, "Kementerian PANRB"))
INNOVATIONS = ("Formulir daring usulan sertifikasi guru", "Dasbor rekap BOS per sekolah",
               "Antrian layanan mutasi berbasis WhatsApp", "Arsip digital SK kenaikan pangkat",
               "Kalender bersama jadwal akreditasi sekolah")


@dataclass
class Plan:
    agency: str
    today: date
    now: datetime  # aware, the agency's zone
    first: date  # the first day of the history
    months: list[str]  # YYYY-MM, oldest first, the current month last
    roster: list[dict]  # the roster rows with tmt and tpp
    personas: dict[str, str]
    holidays: list[tuple[date, str]] = field(default_factory=list)
    leaves: list[tuple[str, date, date, str, str]] = field(default_factory=list)  # nip, start, end, kind, note
    punches: dict[str, list[tuple[str, datetime]]] = field(default_factory=dict)  # device SN → (PIN, device time)
    absent_days: set[tuple[str, date]] = field(default_factory=set)  # TK (and not-yet-arrived today)
    history: dict[str, Any] = field(default_factory=dict)  # tugas's part (tugas.entrypoints.history)
    ratings: list[tuple[str, str, str, dict[str, str]]] = field(default_factory=list)  # nip, period, rater, levels
    trainings: list[tuple[str, str, int, date, str]] = field(default_factory=list)  # nip, title, jp, date, provider
    organisation: list[tuple[str, str]] = field(default_factory=list)  # period, predikat
    dialogs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def workdays(self) -> list[date]:
        off = {d for d, _ in self.holidays}
        days, d = [], self.first
        while d <= self.today:
            if d.weekday() < 5 and d not in off:
                days.append(d)
            d += timedelta(days=1)
        return days


def _sid(*parts: Any) -> str:
    return str(uuid.uuid5(NAMESPACE, "/".join(map(str, parts))))


def _month_start(day: date, back: int = 0) -> date:
    y, m = day.year, day.month - back
    while m < 1:
        y, m = y - 1, m + 12
    return date(y, m, 1)


def _weekday_on_or_before(day: date) -> date:
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def _at(day: date, hh: int, mm: int, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=zone)


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _end_of(day: date) -> time:
    return END_FRI if day.weekday() == 4 else END_MON_THU


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
    first = _month_start(today, 3)
    months = [f"{_month_start(today, k):%Y-%m}" for k in (3, 2, 1, 0)]
    people = demo_people(rows)
    head = rows[0]["nip"]
    by_nip = {r["nip"]: r for r in rows}
    staff = [r for r in rows if r["atasan_nip"]]
    personas = {head: "teladan"}
    for r in staff:
        personas[r["nip"]] = _pick(rng, {"teladan": 15, "baik": 50, "telat": 20, "lemah": 15})
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
    middle = _month_start(today, 2)
    holiday = middle + timedelta(days=(7 - middle.weekday()) % 7 + 14)  # the third Monday
    plan.holidays.append((holiday, "Cuti bersama instansi"))

    # excused days: cuti, sakit, dinas luar (three different ASN, none of the demo's token holders)
    others = [r["nip"] for r in staff if r["nip"] not in {p["nip"] for p in people.values()}]
    on_leave = rng.sample(others, 3)
    wd = [d for d in plan.workdays if d < today]
    for nip, kind, month_back, length, note in ((on_leave[0], "cuti", 2, 3, "Cuti tahunan"),
                                                (on_leave[1], "sakit", 1, 2, "Surat keterangan dokter"),
                                                (on_leave[2], "dinas_luar", 1, 2, "Rapat koordinasi di Bandar Lampung")):
        days = [d for d in wd if d >= _month_start(today, month_back) and d < _month_start(today, month_back - 1)]
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

    _punches(plan, rng, excused)
    _work(plan, rng, people)
    _ratings(plan, rng, people)
    for i, r in enumerate(staff):
        if rng.random() < 0.3:
            continue  # no training yet this year
        count = 2 if rng.random() < 0.25 else 1
        for title, jp, provider in rng.sample(TRAININGS, count):
            day = _weekday_on_or_before(first + timedelta(days=rng.randrange(0, max(1, (today - first).days))))
            plan.trainings.append((r["nip"], title, jp, day, provider))
    if not any(nip == people["pegawai"]["nip"] for nip, *_ in plan.trainings):
        plan.trainings.append((people["pegawai"]["nip"], TRAININGS[2][0], TRAININGS[2][1],
                               _weekday_on_or_before(first + timedelta(days=20)), TRAININGS[2][2]))
    plan.organisation.append((str(today.year), "Baik"))
    if first.year != today.year:
        plan.organisation.append((str(first.year), "Baik"))
    del by_nip
    return plan


def _punches(plan: Plan, rng: random.Random, excused: set[tuple[str, date]]) -> None:
    home = {"Sekretariat": DEVICES[0][0], "Bidang Pembinaan SD": DEVICES[0][0]}
    naive_now = plan.now.replace(tzinfo=None)
    for sn, _ in DEVICES:
        plan.punches[sn] = []
    for r in plan.roster:
        nip, pin = r["nip"], r["pin"]
        device = home.get(r["unit"], DEVICES[1][0])
        other = DEVICES[1][0] if device == DEVICES[0][0] else DEVICES[0][0]
        weights = PERSONAS[plan.personas[nip]]["days"]
        for day in plan.workdays:
            if (nip, day) in excused or (nip, day) in plan.absent_days:
                continue
            kind = _pick(rng, weights)
            start = datetime.combine(day, START)
            end = datetime.combine(day, _end_of(day))
            late = {"TL1": (1, 30), "TL2": (31, 60), "TL3": (61, 90), "TL4": (91, 150)}.get(kind)
            arrival = start + timedelta(minutes=rng.randint(*late)) if late else \
                start - timedelta(minutes=rng.randint(1, 35))
            early = {"PSW1": (1, 30), "PSW2": (31, 60), "PSW3": (61, 90)}.get(kind)
            departure = None if kind == "PSW4" else (
                end - timedelta(minutes=rng.randint(*early)) if early else end + timedelta(minutes=rng.randint(0, 50)))
            for t, sn in ((arrival, device), (departure, other if rng.random() < 0.1 else device)):
                if t is None:
                    continue
                t = t + timedelta(seconds=rng.randint(0, 59))
                if t < naive_now:
                    plan.punches[sn].append((pin, t))


def _task_steps(plan: Plan, rng: random.Random, persona: str, due: date, assigned: datetime, *,
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
        submitted = _at(due + timedelta(days=rng.randint(*spec["offset"])), rng.randint(9, 15), rng.randint(0, 59), zone)
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


def _work(plan: Plan, rng: random.Random, people: dict[str, dict]) -> None:
    zone = plan.now.tzinfo
    head = plan.roster[0]["nip"]
    skps, tasks, feedback, innovations = [], [], [], []
    years = sorted({int(m[:4]) for m in plan.months})
    for r in plan.roster:
        what = WHAT[r["unit"]]
        for year in years:
            created = min(_at(date(year, 1, 2), 9, 0, zone), plan.now - timedelta(hours=3))
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
                due = _weekday_on_or_before(start + timedelta(days=day - 1))
                early = current and k == 0
                assigned = _at(start - timedelta(days=12) if early else start - timedelta(days=4) if k == 3
                               else due - timedelta(days=21), 8, 15 + k * 7, zone)
                if assigned >= plan.now:
                    continue  # not assigned yet
                service = k == 1 and (r["unit"] != "Sekretariat" or r["nip"] == people["pegawai"]["nip"])
                cap = 65 if r["nip"] == people["pegawai"]["nip"] and k == 1 else None
                steps, target = _task_steps(plan, rng, persona, due, assigned, early=early, quality_cap=cap,
                                            waiting=k == 3,
                                            overdue=month == last_month and k == 1 and overdue_of[r["unit"]] == r["nip"])
                steps = [s for s in steps if s["at"] < plan.now]
                pick = k + m + int(r["pin"])
                title = TASKS[pick % len(TASKS)].format(what=what[pick % len(what)]) + f" {_month_label(month)}"
                task_id = _sid("task", r["nip"], month, k)
                tasks.append({"id": task_id, "nip": r["nip"], "assigned_by": r["atasan_nip"], "title": title,
                              "category": "pelayanan" if service else None, "due_date": due.isoformat(),
                              "target_quantity": target, "rhk": [y, (k + m) % len(RHK)], "steps": steps})
                if any(s["action"] == "return" for s in steps) and rng.random() < 0.5:
                    ret = next(s for s in steps if s["action"] == "return")
                    feedback.append({"id": _sid("fb", task_id, 1), "author": r["atasan_nip"], "task_id": task_id,
                                     "text": ret["feedback"] + " Saya tunggu perbaikannya besok.", "at": ret["at"] + timedelta(minutes=5)})
                    feedback.append({"id": _sid("fb", task_id, 2), "author": r["nip"], "task_id": task_id,
                                     "text": "Baik, segera saya perbaiki.", "at": ret["at"] + timedelta(hours=1)})
        # continuous feedback on each RHK, once a quarter, mid-quarter
        for month in plan.months:
            y, m = map(int, month.split("-"))
            if m % 3 != 2:
                continue
            for position in range(len(RHK)):
                at = _at(date(y, m, 10), 10, 5 * position, zone)
                if at < plan.now:
                    feedback.append({"id": _sid("rhk-fb", r["nip"], month, position), "author": r["atasan_nip"],
                                     "rhk": [r["nip"], y, position], "at": at,
                                     "text": FEEDBACK[persona][position % 2]})
    inventors = rng.sample([r for r in plan.roster if r["atasan_nip"] and plan.personas[r["nip"]] in ("teladan", "baik")],
                           len(INNOVATIONS))
    for i, (r, title) in enumerate(zip(inventors, INNOVATIONS)):
        proposed = _at(_month_start(plan.today, 2 - i % 3) + timedelta(days=3 + 4 * i), 10, 0, zone)
        if proposed >= plan.now - timedelta(days=1):
            proposed = plan.now - timedelta(days=2)
        innovations.append({"id": _sid("innovation", r["nip"], i), "nip": r["nip"], "title": title,
                            "description": f"Usulan inovasi: {title.lower()}.", "proposed_at": proposed,
                            "decided_at": proposed + timedelta(days=1), "approve": i != len(INNOVATIONS) - 1,
                            "note": "Disetujui, terapkan di unit" if i != len(INNOVATIONS) - 1 else "Belum siap, kaji ulang"})
    iso = _isoformat
    plan.history = {"agency": plan.agency, "skps": iso(skps), "tasks": iso(tasks), "feedback": iso(feedback),
                    "innovations": iso(innovations)}


def _isoformat(obj):
    if isinstance(obj, list):
        return [_isoformat(x) for x in obj]
    if isinstance(obj, dict):
        return {k: _isoformat(v) for k, v in obj.items()}
    if isinstance(obj, datetime):
        return obj.isoformat()
    return obj


MONTHS_ID = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
             "November", "Desember")


def _month_label(month: str) -> str:
    y, m = month.split("-")
    return f"{MONTHS_ID[int(m) - 1]} {y}"


def _levels(rng: random.Random, weights: dict[str, int]) -> dict[str, str]:
    return {v: _pick(rng, weights) for v in BERAKHLAK}


def _ratings(plan: Plan, rng: random.Random, people: dict[str, dict]) -> None:
    """Monthly BerAKHLAK ratings by the supervisor and by the ASN (self-ratings sit higher), and the
    current quarter's; some ASN rate themselves two levels above their supervisor on a value."""
    staff = [r for r in plan.roster if r["atasan_nip"]]
    team = [r["nip"] for r in staff if r["atasan_nip"] == people["atasan"]["nip"]]
    gaps = set(rng.sample(team, 2)) | set(rng.sample([r["nip"] for r in staff], 4))
    y, m = plan.today.year, plan.today.month
    quarter = f"{y}-Q{(m - 1) // 3 + 1}"
    periods = plan.months + [quarter]
    rated_by_self = {plan.months[-2], plan.months[-1], quarter}  # ASN rate themselves less often
    for r in staff:
        weights = PERSONAS[plan.personas[r["nip"]]]["levels"]
        for period in periods:
            boss = _levels(rng, weights)
            own = {v: LEVELS[min(2, LEVELS.index(lv) + (1 if rng.random() < 0.45 else 0))] for v, lv in boss.items()}
            if r["nip"] in gaps:
                for v in rng.sample(BERAKHLAK, 2):
                    boss[v], own[v] = "below", "above"
            plan.ratings.append((r["nip"], period, "atasan", boss))
            if period in rated_by_self:
                plan.ratings.append((r["nip"], period, "self", own))
    # a dialog kinerja held last month about one of the gaps
    nip = sorted(gaps & set(team))[0]
    day = _weekday_on_or_before(_month_start(plan.today, 1) + timedelta(days=20))
    plan.dialogs.append({"nip": nip, "period": plan.months[-2], "date": day.isoformat(),
                         "notes": "Membahas perbedaan penilaian nilai Akuntabel dan Kolaboratif.",
                         "follow_up": "Pendampingan penyusunan laporan dan keterlibatan dalam tim kerja lintas bidang.",
                         "values": ["akuntabel", "kolaboratif"]})
