"""The evaluation document an ASN and their appraiser sign at the end of a period ("Dokumen
Evaluasi Kinerja Pegawai", PermenPANRB 6/2022): what goes in each part, as plain values. Pure: the
service layer hands in the facts, an adapter lays the values out on paper.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Iterable

from penilaian.domain.periods import Period
from penilaian.domain.scoring import ABOVE, BELOW, MEETS, fmt

LEVEL_TEXT = {ABOVE: "Di atas ekspektasi", MEETS: "Sesuai ekspektasi", BELOW: "Di bawah ekspektasi"}
KIND_TEXT = {"main": "Utama", "additional": "Tambahan"}
MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
          "November", "Desember")
QUARTER_TEXT = ("I", "II", "III", "IV")

# the core values and their key behaviours (SE MenPANRB 20/2021), as the form prints them
BERAKHLAK_TEXT = {
    "berorientasi_pelayanan": ("Berorientasi Pelayanan", "Memahami dan memenuhi kebutuhan masyarakat; ramah, cekatan, "
                               "solutif, dan dapat diandalkan; melakukan perbaikan tiada henti."),
    "akuntabel": ("Akuntabel", "Melaksanakan tugas dengan jujur, bertanggung jawab, cermat, disiplin dan berintegritas "
                  "tinggi; menggunakan barang milik negara secara bertanggung jawab, efektif, dan efisien; tidak "
                  "menyalahgunakan kewenangan jabatan."),
    "kompeten": ("Kompeten", "Meningkatkan kompetensi diri untuk menjawab tantangan yang selalu berubah; membantu "
                 "orang lain belajar; melaksanakan tugas dengan kualitas terbaik."),
    "harmonis": ("Harmonis", "Menghargai setiap orang apa pun latar belakangnya; suka menolong orang lain; membangun "
                 "lingkungan kerja yang kondusif."),
    "loyal": ("Loyal", "Memegang teguh ideologi Pancasila, UUD 1945, setia kepada NKRI serta pemerintahan yang sah; "
              "menjaga nama baik sesama ASN, pimpinan, instansi, dan negara; menjaga rahasia jabatan dan negara."),
    "adaptif": ("Adaptif", "Cepat menyesuaikan diri menghadapi perubahan; terus berinovasi dan mengembangkan "
                "kreativitas; bertindak proaktif."),
    "kolaboratif": ("Kolaboratif", "Memberi kesempatan kepada berbagai pihak untuk berkontribusi; terbuka dalam bekerja "
                    "sama untuk menghasilkan nilai tambah; menggerakkan pemanfaatan berbagai sumber daya untuk tujuan "
                    "bersama."),
}


def date_text(day: date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def period_text(period: Period) -> str:
    """"Triwulan IV (1 Oktober – 31 Desember 2026)", "Tahunan 2026", or a month's name."""
    span = f"{date_text(period.start)} – {date_text(period.end)}"
    if period.kind == "quarter":
        return f"Triwulan {QUARTER_TEXT[(period.start.month - 1) // 3]} ({span})"
    if period.kind == "year":
        return f"Tahunan {period.start.year} ({span})"
    return f"Bulanan {MONTHS[period.start.month - 1]} {period.start.year}"


@dataclass(frozen=True)
class TaskOutcome:
    """What the document needs of one task due in the period."""

    rhk_id: str | None
    status: str
    target_quantity: Decimal
    realised_quantity: Decimal | None
    quality: int | None
    due_date: date
    submitted_on: date | None
    overdue: bool


def realisation_text(tasks: Iterable[TaskOutcome]) -> str:
    """The realisation of an RHK in the period, from the tasks that serve it: how many were
    approved, the quantity realised against their targets, the mean quality, how many on time;
    what is still open or past due."""
    tasks = list(tasks)
    if not tasks:
        return "Belum ada tugas jatuh tempo pada periode ini."
    done = [t for t in tasks if t.status == "approved"]
    parts = []
    if done:
        target = sum((t.target_quantity for t in done), Decimal(0))
        realised = sum((t.realised_quantity or Decimal(0) for t in done), Decimal(0))
        share = f" ({fmt((realised / target * 100).quantize(Decimal('1')))} %)" if target > 0 else ""
        qualities = [t.quality for t in done if t.quality is not None]
        on_time = sum(1 for t in done if t.submitted_on is not None and t.submitted_on <= t.due_date)
        parts.append(f"{len(done)} tugas disetujui; kuantitas {fmt(realised)} dari target {fmt(target)}{share}")
        if qualities:
            mean = (Decimal(sum(qualities)) / len(qualities)).quantize(Decimal("1"))
            parts.append(f"kualitas rata-rata {fmt(mean)}")
        parts.append(f"{on_time} dari {len(done)} tepat waktu")
    late = [t for t in tasks if t.status not in ("approved", "cancelled") and t.overdue]
    still_open = [t for t in tasks if t.status not in ("approved", "cancelled") and not t.overdue]
    if late:
        parts.append(f"{len(late)} tugas lewat tenggat belum disetujui")
    if still_open:
        parts.append(f"{len(still_open)} tugas masih berjalan")
    return "; ".join(parts) + "."


def target_text(indicator: dict) -> str:
    """"12 laporan; kualitas 90; 12 bulan"."""
    qty = Decimal(str(indicator.get("target_quantity", "0")))
    return "; ".join(p for p in (f"{fmt(qty.normalize())} {indicator.get('unit', '')}".strip(),
                                 f"kualitas {indicator.get('quality_target', 100)}",
                                 indicator.get("time_target") or "") if p)


def level_text(level: str | None) -> str:
    return LEVEL_TEXT.get(level, "Belum dinilai") if level else "Belum dinilai"
