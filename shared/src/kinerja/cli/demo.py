"""A demo agency: Dinas Pendidikan Kabupaten Lampung Selatan, ~50 ASN in four units with their
supervisors, two attendance devices, the default schedule (kehadiran's default)."""
from __future__ import annotations

import random

AGENCY = "disdik-lamsel"
UNITS = ("Sekretariat", "Bidang Pembinaan SD", "Bidang Pembinaan SMP", "Bidang GTK")
FIRST = ("Ahmad", "Budi", "Citra", "Dewi", "Eko", "Fitri", "Gunawan", "Hendra", "Indah", "Joko", "Kartika",
         "Lestari", "Made", "Nur", "Oktavia", "Putri", "Rahmat", "Sari", "Taufik", "Utami", "Wahyu", "Yuni")
LAST = ("Saputra", "Wijaya", "Lestari", "Hidayat", "Pratama", "Susanti", "Nugroho", "Rahayu", "Setiawan",
        "Kusuma", "Permata", "Siregar", "Harahap", "Simanjuntak")
DEVICES = (("LMS0001", "Kantor Disdik - Lobi"), ("LMS0002", "Kantor Disdik - Lantai 2"))


def make_nip(i: int, rng: random.Random) -> str:
    """Realistic shape: birth date (8), appointment year-month (6), sex (1), serial (3)."""
    year = rng.randint(1968, 1996)
    birth = f"{year}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    appointed = f"{min(year + rng.randint(22, 30), 2024)}{rng.choice(('01', '03', '04', '12'))}"
    return f"{birth}{appointed}{rng.choice('12')}{i:03d}"


def demo_roster(size: int = 50, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    rows: list[dict] = []
    head = {"nip": make_nip(1, rng), "nama": "Drs. Hermansyah, M.Pd.", "agency": AGENCY, "unit": UNITS[0],
            "jabatan": "Kepala Dinas", "atasan_nip": "", "pin": "1"}
    rows.append(head)
    per_unit = (size - 1) // len(UNITS)
    n = 2
    for unit in UNITS:
        chief = {"nip": make_nip(n, rng), "nama": f"{rng.choice(FIRST)} {rng.choice(LAST)}, S.Pd.", "agency": AGENCY,
                 "unit": unit, "jabatan": f"Kepala {unit}", "atasan_nip": head["nip"], "pin": str(n)}
        rows.append(chief)
        n += 1
        for _ in range(per_unit - 1):
            rows.append({"nip": make_nip(n, rng), "nama": f"{rng.choice(FIRST)} {rng.choice(LAST)}", "agency": AGENCY,
                         "unit": unit, "jabatan": rng.choice(("Analis Kebijakan", "Pengelola Data", "Penata Kelola",
                                                              "Pranata Komputer", "Arsiparis")),
                         "atasan_nip": chief["nip"], "pin": str(n)})
            n += 1
    while len(rows) < size:
        rows.append({"nip": make_nip(n, rng), "nama": f"{rng.choice(FIRST)} {rng.choice(LAST)}", "agency": AGENCY,
                     "unit": UNITS[0], "jabatan": "Pengadministrasi Umum", "atasan_nip": head["nip"], "pin": str(n)})
        n += 1
    return rows


def roster_csv(rows: list[dict]) -> str:
    """The roster as the CSV ``kinerja roster import`` reads (with ``tmt`` and ``tpp`` when the
    rows have them)."""
    import csv
    import io

    from kinerja.cli.roster import COLUMNS, OPTIONAL

    columns = COLUMNS + tuple(c for c in OPTIONAL if any(c in r for r in rows))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
