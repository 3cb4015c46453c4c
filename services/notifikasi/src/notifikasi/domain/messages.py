"""Who is told what: the notifications one event gives, with their text in Bahasa Indonesia.

Pure functions over plain values (the event's data as a dict, the people it concerns); no I/O and
no imports of the rest of the system. The service layer maps event types to these functions.

Recipients:
- the ASN the event concerns, for everything that happens to them (score, tasks assigned to them,
  approved, returned, cancelled or overdue, SKP approved, innovation approved, discipline alerts and
  their withdrawal);
- their supervisor (atasan) where it concerns the team: score updates, and every submission that
  waits for them (a task submitted for approval, a task or an innovation proposed, an SKP
  submitted, a correction of a forgotten punch or a leave request asked for), a task overdue,
  and discipline alerts (PP 94/2021 asks the atasan to act on them) and
  their withdrawal (the facts changed: there is no longer anything to act on).
  A supervisor is not told about what they did themselves (assigning, approving, returning,
  cancelling a task);
- feedback goes to its named recipient only.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, Mapping

# kinds (also the SSE ``event:`` name)
SCORE_UPDATED = "score.updated"
TASK_ASSIGNED = "task.assigned"
TASK_SUBMITTED = "task.submitted"
TASK_APPROVED = "task.approved"
TASK_RETURNED = "task.returned"
TASK_OVERDUE = "task.overdue"
TASK_CANCELLED = "task.cancelled"
TASK_RESCHEDULED = "task.rescheduled"
SKP_APPROVED = "skp.approved"
FEEDBACK_POSTED = "feedback.posted"
INNOVATION_APPROVED = "innovation.approved"
DISCIPLINE_ALERT = "discipline.alert"
DISCIPLINE_WITHDRAWN = "discipline.withdrawn"
# what waits for the supervisor, and how it was decided (issue 19)
SKP_SUBMITTED = "skp.submitted"
TASK_PROPOSED = "task.proposed"
INNOVATION_PROPOSED = "innovation.proposed"
CORRECTION_REQUESTED = "correction.requested"
CORRECTION_DECIDED = "correction.decided"
LEAVE_REQUESTED = "leave.requested"
LEAVE_DECIDED = "leave.decided"

ASN = "asn"
ATASAN = "atasan"

COMPONENT_LABELS = {
    "disiplin": "Disiplin",
    "produktivitas": "Produktivitas",
    "perilaku": "Perilaku kerja",
    "hasil_kerja": "Hasil kerja",
    "total": "Total",
    "total_partial": "Total sementara",
}

MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
          "Oktober", "November", "Desember")


@dataclass(frozen=True)
class Person:
    nip: str
    nama: str | None = None
    atasan_nip: str | None = None

    @property
    def label(self) -> str:
        """How a supervisor sees this person named: the name, else the NIP."""
        return self.nama or self.nip


@dataclass(frozen=True)
class Draft:
    """One notification to store: for ``recipient_nip``, in the role ``audience`` (asn / atasan)."""

    recipient_nip: str
    audience: str
    kind: str
    title: str
    body: str


def format_score(value: float | None) -> str:
    """97.5 → "97.5", 100.0 → "100", None → "belum dinilai"."""
    if value is None:
        return "belum dinilai"
    rounded = round(float(value), 2)
    text = f"{rounded:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


QUARTERS = ("I", "II", "III", "IV")


def format_period(period: str) -> str:
    """"2026-11" → "November 2026", "2026-Q4" → "Triwulan IV 2026", "2026" → "Tahun 2026";
    anything else is shown as it is."""
    try:
        if len(period) == 4 and period.isdigit():
            return f"Tahun {int(period)}"
        year, rest = period.split("-")
        if rest.startswith("Q"):
            return f"Triwulan {QUARTERS[int(rest[1:]) - 1]} {int(year)}"
        return f"{MONTHS[int(rest) - 1]} {int(year)}"
    except (ValueError, IndexError):
        return period


def format_date(value: Any) -> str:
    """A date (or ISO string) as "28 November 2026"."""
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    try:
        year, month, day = text[:10].split("-")
        return f"{int(day)} {MONTHS[int(month) - 1]} {int(year)}"
    except (ValueError, IndexError):
        return text


def _supervisor(asn: Person, data: Mapping[str, Any]) -> str | None:
    """The event's own atasan_nip wins over the roster's (it is what the publisher knew)."""
    atasan = data.get("atasan_nip") or asn.atasan_nip
    return atasan if atasan and atasan != asn.nip else None


def _changes(data: Mapping[str, Any]) -> str:
    parts = []
    for change in data.get("changes") or []:
        label = COMPONENT_LABELS.get(change.get("component"), str(change.get("component")))
        parts.append(f"{label} {format_score(change.get('before'))} → {format_score(change.get('after'))}")
    return "; ".join(parts)


def format_total(data: Mapping[str, Any]) -> str:
    """The final total, or while a part is unrated the provisional one, said to be so."""
    if data.get("total") is None and data.get("total_partial") is not None:
        return f"{format_score(data['total_partial'])} (sementara)"
    return format_score(data.get("total"))


def score_updated(data: Mapping[str, Any], asn: Person) -> list[Draft]:
    """One notification per change: the event of a change's latest month carries the quarter and
    the year it moved too (``also``); the events of those (``part_of``) tell nobody again."""
    if data.get("part_of"):
        return []
    total = format_total(data)
    predikat = data.get("predikat") or "Belum dinilai"
    period = format_period(str(data.get("period", "")))
    changes = _changes(data)
    tail = f" Perubahan: {changes}." if changes else ""
    also = [f"{format_period(str(a.get('period', '')))} {format_total(a)} ({a.get('predikat') or 'Belum dinilai'})"
            for a in data.get("also") or []]
    if also:
        tail += f" Juga: {'; '.join(also)}."
    drafts = [Draft(asn.nip, ASN, SCORE_UPDATED, f"Skor kinerja {period}",
                    f"Skor kinerja Anda berubah: {total} ({predikat}).{tail}")]
    atasan = _supervisor(asn, data)
    if atasan:
        drafts.append(Draft(atasan, ATASAN, SCORE_UPDATED, f"Skor kinerja tim {period}",
                            f"Skor kinerja {asn.label} berubah: {total} ({predikat}).{tail}"))
    return drafts


def _due(data: Mapping[str, Any]) -> str:
    return format_date(data["due_date"]) if data.get("due_date") else "-"


def task_assigned(data: Mapping[str, Any], asn: Person) -> list[Draft]:
    return [Draft(asn.nip, ASN, TASK_ASSIGNED, "Tugas baru",
                  f"Anda mendapat tugas baru: {data.get('title')} (tenggat {_due(data)}).")]


def task_submitted(data: Mapping[str, Any], asn: Person) -> list[Draft]:
    atasan = _supervisor(asn, data)
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
        changes.append(f"tenggat {format_date(data['previous_due_date'])} → {_due(data)}")
    before, after = data.get("previous_target_quantity"), data.get("target_quantity")
    if before is not None and after is not None and Decimal(str(before)) != Decimal(str(after)):
        changes.append(f"target {_quantity(before)} → {_quantity(after)}")
    if data.get("previous_title") and data["previous_title"] != data.get("title"):
        changes.append(f"judul semula \"{data['previous_title']}\"")
    what = "; ".join(changes) or f"tenggat {_due(data)}"
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
                    f"Tugas Anda melewati tenggat {_due(data)}: {data.get('title')}.")]
    atasan = _supervisor(asn, data)
    if atasan:
        drafts.append(Draft(atasan, ATASAN, TASK_OVERDUE, "Tugas tim melewati tenggat",
                            f"Tugas {asn.label} melewati tenggat {_due(data)}: {data.get('title')}."))
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


def discipline_alert(data: Mapping[str, Any], asn: Person) -> list[Draft]:
    days = data.get("days")
    if data.get("kind") == "consecutive":
        what = f"{days} hari kerja berturut-turut tanpa keterangan"
    else:
        what = f"{days} hari tanpa keterangan sepanjang tahun {data.get('year')}"
    drafts = [Draft(asn.nip, ASN, DISCIPLINE_ALERT, "Peringatan disiplin",
                    f"Anda tercatat tidak masuk kerja {what} (per {format_date(data.get('date'))}).")]
    atasan = _supervisor(asn, data)
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
    atasan = _supervisor(asn, data)
    if atasan:
        drafts.append(Draft(atasan, ATASAN, DISCIPLINE_WITHDRAWN, "Peringatan disiplin tim dicabut",
                            f"Peringatan disiplin {asn.label} karena {what}{raised} dicabut: {now}. "
                            "Tidak perlu ditindaklanjuti lagi."))
    return drafts


def _waiting(data: Mapping[str, Any], asn: Person, kind: str, title: str, what: str) -> list[Draft]:
    atasan = _supervisor(asn, data)
    if not atasan:
        return []
    return [Draft(atasan, ATASAN, kind, title, f"{asn.label} {what} Mohon diperiksa dan diputuskan.")]


def _quoted(text: Any, limit: int = 140) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def skp_submitted(data: Mapping[str, Any], asn: Person) -> list[Draft]:
    return _waiting(data, asn, SKP_SUBMITTED, "SKP menunggu persetujuan",
                    f"mengajukan SKP tahun {data.get('year')} (revisi {data.get('revision', 1)}).")


def task_proposed(data: Mapping[str, Any], asn: Person) -> list[Draft]:
    return _waiting(data, asn, TASK_PROPOSED, "Usulan tugas menunggu persetujuan",
                    f"mengusulkan tugas: {data.get('title')} (tenggat {_due(data)}).")


def innovation_proposed(data: Mapping[str, Any], asn: Person) -> list[Draft]:
    return _waiting(data, asn, INNOVATION_PROPOSED, "Usulan inovasi menunggu persetujuan",
                    f"mengusulkan inovasi: {data.get('title')}.")


def correction_requested(data: Mapping[str, Any], asn: Person) -> list[Draft]:
    reason = _quoted(data.get("reason"))
    return _waiting(data, asn, CORRECTION_REQUESTED, "Koreksi absen menunggu persetujuan",
                    f"mengajukan koreksi lupa absen untuk {format_date(data.get('date'))}"
                    + (f" (alasan: {reason})." if reason else "."))


LEAVE_KINDS = {"cuti": "cuti", "sakit": "izin sakit", "dinas_luar": "dinas luar"}
DECISIONS = {"approved": "disetujui", "rejected": "ditolak", "cancelled": "dibatalkan"}


def _span(data: Mapping[str, Any]) -> str:
    start, end = data.get("start_date"), data.get("end_date")
    return format_date(start) if not end or str(end)[:10] == str(start)[:10] else \
        f"{format_date(start)} s.d. {format_date(end)}"


def leave_requested(data: Mapping[str, Any], asn: Person) -> list[Draft]:
    kind = LEAVE_KINDS.get(str(data.get("kind")), str(data.get("kind")))
    reason = _quoted(data.get("reason"))
    return _waiting(data, asn, LEAVE_REQUESTED, f"Permohonan {kind} menunggu persetujuan",
                    f"mengajukan {kind} {_span(data)}" + (f" (alasan: {reason})." if reason else "."))


def _decision(data: Mapping[str, Any]) -> tuple[str, str]:
    verdict = DECISIONS.get(str(data.get("status")), str(data.get("status")))
    note = _quoted(data.get("note"))
    return verdict, (f" Catatan: {note}" if note else "")


def correction_decided(data: Mapping[str, Any], asn: Person) -> list[Draft]:
    verdict, note = _decision(data)
    return [Draft(asn.nip, ASN, CORRECTION_DECIDED, f"Koreksi absen {verdict}",
                  f"Koreksi lupa absen Anda untuk {format_date(data.get('date'))} {verdict}.{note}")]


def leave_decided(data: Mapping[str, Any], asn: Person) -> list[Draft]:
    kind = LEAVE_KINDS.get(str(data.get("kind")), str(data.get("kind")))
    verdict, note = _decision(data)
    if data.get("status") == "cancelled":  # the ASN withdrew it: the supervisor has nothing left to decide
        atasan = _supervisor(asn, data)
        return [Draft(atasan, ATASAN, LEAVE_DECIDED, f"Permohonan {kind} dibatalkan",
                      f"{asn.label} membatalkan permohonan {kind} {_span(data)}.")] if atasan else []
    return [Draft(asn.nip, ASN, LEAVE_DECIDED, f"Permohonan {kind} {verdict}",
                  f"Permohonan {kind} Anda {_span(data)} {verdict}.{note}")]


Rule = Callable[..., list[Draft]]


def unique_recipients(drafts: list[Draft]) -> list[Draft]:
    """At most one notification per recipient per event (the first rule wins)."""
    seen: set[str] = set()
    out = []
    for d in drafts:
        if d.recipient_nip not in seen:
            seen.add(d.recipient_nip)
            out.append(d)
    return out
