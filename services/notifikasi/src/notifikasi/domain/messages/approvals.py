"""What waits for the supervisor (an SKP, a task or an innovation proposed, a correction, a leave
request) and how it was decided."""
from __future__ import annotations

from typing import Any, Mapping

from notifikasi.domain.messages.drafts import (ASN, ATASAN, CORRECTION_DECIDED, CORRECTION_REQUESTED, INNOVATION_PROPOSED,
                                               LEAVE_DECIDED, LEAVE_REQUESTED, SKP_SUBMITTED, TASK_PROPOSED, Draft, Person,
                                               supervisor)
from notifikasi.domain.messages.wording import date_span, due_text, format_date, quoted


def _waiting(data: Mapping[str, Any], asn: Person, kind: str, title: str, what: str) -> list[Draft]:
    atasan = supervisor(asn, data)
    if not atasan:
        return []
    return [Draft(atasan, ATASAN, kind, title, f"{asn.label} {what} Mohon diperiksa dan diputuskan.")]


def skp_submitted(data: Mapping[str, Any], asn: Person) -> list[Draft]:
    return _waiting(data, asn, SKP_SUBMITTED, "SKP menunggu persetujuan",
                    f"mengajukan SKP tahun {data.get('year')} (revisi {data.get('revision', 1)}).")


def task_proposed(data: Mapping[str, Any], asn: Person) -> list[Draft]:
    return _waiting(data, asn, TASK_PROPOSED, "Usulan tugas menunggu persetujuan",
                    f"mengusulkan tugas: {data.get('title')} (tenggat {due_text(data)}).")


def innovation_proposed(data: Mapping[str, Any], asn: Person) -> list[Draft]:
    return _waiting(data, asn, INNOVATION_PROPOSED, "Usulan inovasi menunggu persetujuan",
                    f"mengusulkan inovasi: {data.get('title')}.")


def correction_requested(data: Mapping[str, Any], asn: Person) -> list[Draft]:
    reason = quoted(data.get("reason"))
    return _waiting(data, asn, CORRECTION_REQUESTED, "Koreksi absen menunggu persetujuan",
                    f"mengajukan koreksi lupa absen untuk {format_date(data.get('date'))}"
                    + (f" (alasan: {reason})." if reason else "."))


LEAVE_KINDS = {"cuti": "cuti", "sakit": "izin sakit", "dinas_luar": "dinas luar"}
DECISIONS = {"approved": "disetujui", "rejected": "ditolak", "cancelled": "dibatalkan"}


def leave_requested(data: Mapping[str, Any], asn: Person) -> list[Draft]:
    kind = LEAVE_KINDS.get(str(data.get("kind")), str(data.get("kind")))
    reason = quoted(data.get("reason"))
    return _waiting(data, asn, LEAVE_REQUESTED, f"Permohonan {kind} menunggu persetujuan",
                    f"mengajukan {kind} {date_span(data)}" + (f" (alasan: {reason})." if reason else "."))


def _decision(data: Mapping[str, Any]) -> tuple[str, str]:
    verdict = DECISIONS.get(str(data.get("status")), str(data.get("status")))
    note = quoted(data.get("note"))
    return verdict, (f" Catatan: {note}" if note else "")


def correction_decided(data: Mapping[str, Any], asn: Person) -> list[Draft]:
    verdict, note = _decision(data)
    return [Draft(asn.nip, ASN, CORRECTION_DECIDED, f"Koreksi absen {verdict}",
                  f"Koreksi lupa absen Anda untuk {format_date(data.get('date'))} {verdict}.{note}")]


def leave_decided(data: Mapping[str, Any], asn: Person) -> list[Draft]:
    kind = LEAVE_KINDS.get(str(data.get("kind")), str(data.get("kind")))
    verdict, note = _decision(data)
    if data.get("status") == "cancelled":  # the ASN withdrew it: the supervisor has nothing left to decide
        atasan = supervisor(asn, data)
        return [Draft(atasan, ATASAN, LEAVE_DECIDED, f"Permohonan {kind} dibatalkan",
                      f"{asn.label} membatalkan permohonan {kind} {date_span(data)}.")] if atasan else []
    return [Draft(asn.nip, ASN, LEAVE_DECIDED, f"Permohonan {kind} {verdict}",
                  f"Permohonan {kind} Anda {date_span(data)} {verdict}.{note}")]
