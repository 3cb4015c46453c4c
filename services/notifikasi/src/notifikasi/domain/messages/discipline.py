"""Discipline alerts (PP 94/2021) and their withdrawal, to the ASN and their supervisor."""
from __future__ import annotations

from typing import Any, Mapping

from notifikasi.domain.messages.drafts import ASN, ATASAN, DISCIPLINE_ALERT, DISCIPLINE_WITHDRAWN, Draft, Person, supervisor
from notifikasi.domain.messages.wording import format_date


def discipline_alert(data: Mapping[str, Any], asn: Person) -> list[Draft]:
    days = data.get("days")
    if data.get("kind") == "consecutive":
        what = f"{days} hari kerja berturut-turut tanpa keterangan"
    else:
        what = f"{days} hari tanpa keterangan sepanjang tahun {data.get('year')}"
    drafts = [Draft(asn.nip, ASN, DISCIPLINE_ALERT, "Peringatan disiplin",
                    f"Anda tercatat tidak masuk kerja {what} (per {format_date(data.get('date'))}).")]
    atasan = supervisor(asn, data)
    if atasan:
        drafts.append(Draft(atasan, ATASAN, DISCIPLINE_ALERT, "Peringatan disiplin tim",
                            f"{asn.label} tercatat tidak masuk kerja {what} "
                            f"(per {format_date(data.get('date'))}). Sesuai PP 94/2021 perlu ditindaklanjuti."))
    return drafts


def discipline_withdrawn(data: Mapping[str, Any], asn: Person) -> list[Draft]:
    threshold, days = data.get("threshold"), data.get("days")
    if data.get("kind") == "consecutive":
        what = f"{threshold} hari kerja berturut-turut tanpa keterangan"
        now = f"rangkaian terpanjang kini {days} hari"
    else:
        what = f"{threshold} hari tanpa keterangan sepanjang tahun {data.get('year')}"
        now = f"kini tercatat {days} hari"
    raised = f" (per {format_date(data['raised_on'])})" if data.get("raised_on") else ""
    drafts = [Draft(asn.nip, ASN, DISCIPLINE_WITHDRAWN, "Peringatan disiplin dicabut",
                    f"Peringatan disiplin Anda karena {what}{raised} dicabut: {now}, setelah data kehadiran "
                    "diperbarui (cuti, sakit, dinas luar, absen terlambat masuk atau koreksi).")]
    atasan = supervisor(asn, data)
    if atasan:
        drafts.append(Draft(atasan, ATASAN, DISCIPLINE_WITHDRAWN, "Peringatan disiplin tim dicabut",
                            f"Peringatan disiplin {asn.label} karena {what}{raised} dicabut: {now}. "
                            "Tidak perlu ditindaklanjuti lagi."))
    return drafts
