"""A score update: the ASN and their supervisor are told the new total and what changed."""
from __future__ import annotations

from typing import Any, Mapping

from notifikasi.domain.messages.drafts import ASN, ATASAN, SCORE_UPDATED, Draft, Person, supervisor
from notifikasi.domain.messages.wording import format_period, format_score

COMPONENT_LABELS = {
    "disiplin": "Disiplin",
    "produktivitas": "Produktivitas",
    "perilaku": "Perilaku kerja",
    "hasil_kerja": "Hasil kerja",
    "total": "Total",
    "total_partial": "Total sementara",
}


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
    atasan = supervisor(asn, data)
    if atasan:
        drafts.append(Draft(atasan, ATASAN, SCORE_UPDATED, f"Skor kinerja tim {period}",
                            f"Skor kinerja {asn.label} berubah: {total} ({predikat}).{tail}"))
    return drafts
