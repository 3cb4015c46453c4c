"""Work: tasks assigned, submitted, rescheduled, approved, returned, overdue or cancelled; an SKP or an
innovation approved; feedback."""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Mapping

from notifikasi.domain.messages.drafts import (ASN, ATASAN, FEEDBACK_POSTED, INNOVATION_APPROVED, SKP_APPROVED,
                                               TASK_APPROVED, TASK_ASSIGNED, TASK_CANCELLED, TASK_OVERDUE,
                                               TASK_RESCHEDULED, TASK_RETURNED, TASK_SUBMITTED, Draft, Person,
                                               supervisor)
from notifikasi.domain.messages.wording import due_text, format_date


def task_assigned(data: Mapping[str, Any], asn: Person) -> list[Draft]:
    return [Draft(asn.nip, ASN, TASK_ASSIGNED, "Tugas baru",
                  f"Anda mendapat tugas baru: {data.get('title')} (tenggat {due_text(data)}).")]


def task_submitted(data: Mapping[str, Any], asn: Person) -> list[Draft]:
    atasan = supervisor(asn, data)
    if not atasan:
        return []
    files = len(data.get("evidence") or ())
    attached = f" ({files} berkas bukti)" if files else ""
    return [Draft(atasan, ATASAN, TASK_SUBMITTED, "Tugas menunggu persetujuan",
                  f"{asn.label} mengirim hasil tugas: {data.get('title')}{attached}. Mohon diperiksa.")]


def _quantity(value: Any) -> str:
    text = str(value)
    return text.rstrip("0").rstrip(".") if "." in text else text


def task_rescheduled(data: Mapping[str, Any], asn: Person) -> list[Draft]:
    """The ASN is told what their supervisor changed: the due date, the target, the title."""
    changes = []
    if data.get("previous_due_date") and str(data["previous_due_date"]) != str(data.get("due_date")):
        changes.append(f"tenggat {format_date(data['previous_due_date'])} → {due_text(data)}")
    before, after = data.get("previous_target_quantity"), data.get("target_quantity")
    if before is not None and after is not None and Decimal(str(before)) != Decimal(str(after)):
        changes.append(f"target {_quantity(before)} → {_quantity(after)}")
    if data.get("previous_title") and data["previous_title"] != data.get("title"):
        changes.append(f"judul semula \"{data['previous_title']}\"")
    what = "; ".join(changes) or f"tenggat {due_text(data)}"
    return [Draft(asn.nip, ASN, TASK_RESCHEDULED, "Jadwal tugas diubah",
                  f"Atasan mengubah tugas Anda: {data.get('title')} ({what}).")]


def task_approved(data: Mapping[str, Any], asn: Person) -> list[Draft]:
    quality = data.get("quality")
    extra = f" Nilai kualitas: {quality}." if quality is not None else ""
    return [Draft(asn.nip, ASN, TASK_APPROVED, "Tugas disetujui",
                  f"Tugas Anda disetujui: {data.get('title')}.{extra}")]


def task_returned(data: Mapping[str, Any], asn: Person) -> list[Draft]:
    note = data.get("note")
    extra = f" Catatan atasan: {note}" if note else ""
    return [Draft(asn.nip, ASN, TASK_RETURNED, "Tugas dikembalikan",
                  f"Tugas Anda dikembalikan untuk diperbaiki: {data.get('title')}.{extra}")]


def task_overdue(data: Mapping[str, Any], asn: Person) -> list[Draft]:
    drafts = [Draft(asn.nip, ASN, TASK_OVERDUE, "Tugas melewati tenggat",
                    f"Tugas Anda melewati tenggat {due_text(data)}: {data.get('title')}.")]
    atasan = supervisor(asn, data)
    if atasan:
        drafts.append(Draft(atasan, ATASAN, TASK_OVERDUE, "Tugas tim melewati tenggat",
                            f"Tugas {asn.label} melewati tenggat {due_text(data)}: {data.get('title')}."))
    return drafts


def task_cancelled(data: Mapping[str, Any], asn: Person) -> list[Draft]:
    return [Draft(asn.nip, ASN, TASK_CANCELLED, "Tugas dibatalkan",
                  f"Tugas Anda dibatalkan: {data.get('title')}.")]


def skp_approved(data: Mapping[str, Any], asn: Person) -> list[Draft]:
    return [Draft(asn.nip, ASN, SKP_APPROVED, "SKP disetujui",
                  f"SKP Anda tahun {data.get('year')} (revisi {data.get('revision', 1)}) telah disetujui.")]


def innovation_approved(data: Mapping[str, Any], asn: Person) -> list[Draft]:
    return [Draft(asn.nip, ASN, INNOVATION_APPROVED, "Inovasi disetujui",
                  f"Usulan inovasi Anda disetujui: {data.get('title')}.")]


def feedback_posted(data: Mapping[str, Any], asn: Person, author: Person | None = None) -> list[Draft]:
    recipient = data.get("recipient_nip")
    if not recipient or recipient == data.get("author_nip"):
        return []
    who = author.label if author else data.get("author_nip")
    text = str(data.get("text", ""))
    excerpt = text if len(text) <= 140 else text[:139] + "…"
    return [Draft(recipient, ASN if recipient == asn.nip else ATASAN, FEEDBACK_POSTED, "Umpan balik baru",
                  f"{who} menulis: {excerpt}")]
