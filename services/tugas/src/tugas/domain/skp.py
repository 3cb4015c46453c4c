"""SKP (Sasaran Kinerja Pegawai, PermenPANRB 6/2022): one plan per ASN per year.

    draft -> submitted -> approved
      ^         |           |
      |         v           | (the ASN edits an approved plan: a new revision is drafted)
    returned <--+           v
                          draft

An SKP holds RHK (main and additional), each with indicators and targets (quantity with unit,
quality, time), optionally supporting one of the supervisor's RHK (cascading). The ASN drafts and
submits; the supervisor approves or returns it with a note. Each approval is a new revision.
Pure rules; no I/O.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation

from tugas.domain.errors import IllegalTransition, InvalidInput, NotAllowed

DRAFT = "draft"
SUBMITTED = "submitted"
APPROVED = "approved"
RETURNED = "returned"
STATUSES = (DRAFT, SUBMITTED, APPROVED, RETURNED)
KINDS = ("main", "additional")

ALLOWED_FROM: dict[str, tuple[str, ...]] = {
    "edit": (DRAFT, RETURNED, APPROVED),
    "submit": (DRAFT, RETURNED),
    "approve": (SUBMITTED,),
    "return": (SUBMITTED,),
}


@dataclass(frozen=True)
class Indicator:
    indicator: str
    target_quantity: Decimal
    unit: str
    quality_target: int = 100
    time_target: str = "12 bulan"


@dataclass(frozen=True)
class Rhk:
    id: str
    kind: str
    text: str
    indicators: tuple[Indicator, ...]
    parent_rhk_id: str | None = None


@dataclass(frozen=True)
class Skp:
    id: str
    nip: str
    year: int
    status: str = DRAFT
    atasan_nip: str | None = None
    revision: int = 0  # approvals so far
    note: str | None = None
    rhks: tuple[Rhk, ...] = field(default_factory=tuple)
    approved_at: datetime | None = None
    version: int = 1


def _check_from(skp: Skp, action: str) -> None:
    allowed = ALLOWED_FROM[action]
    if skp.status not in allowed:
        raise IllegalTransition(f"cannot {action} an SKP that is {skp.status}; allowed from: {', '.join(allowed)}")


def check_rhks(rhks: tuple[Rhk, ...], *, supervisor_rhk_ids: frozenset[str]) -> None:
    """Every RHK has a kind, a text and at least one indicator with a target above 0 and a quality
    target of 0–100; a cascading link names one of the supervisor's RHK of the same year."""
    for i, rhk in enumerate(rhks):
        where = f"rhk[{i}]"
        if rhk.kind not in KINDS:
            raise InvalidInput(f"{where}: kind must be one of {', '.join(KINDS)}")
        if not rhk.text.strip():
            raise InvalidInput(f"{where}: text is required")
        if not rhk.indicators:
            raise InvalidInput(f"{where}: at least one indicator is required")
        for j, ind in enumerate(rhk.indicators):
            try:
                ok = Decimal(ind.target_quantity).is_finite() and Decimal(ind.target_quantity) > 0
            except (InvalidOperation, TypeError, ValueError):
                ok = False
            if not ok:
                raise InvalidInput(f"{where}.indicators[{j}]: target_quantity must be greater than 0")
            if not ind.indicator.strip() or not ind.unit.strip():
                raise InvalidInput(f"{where}.indicators[{j}]: indicator and unit are required")
            if isinstance(ind.quality_target, bool) or not 0 <= ind.quality_target <= 100:
                raise InvalidInput(f"{where}.indicators[{j}]: quality_target must be 0 to 100")
        if rhk.parent_rhk_id is not None and rhk.parent_rhk_id not in supervisor_rhk_ids:
            raise InvalidInput(f"{where}: parent_rhk_id {rhk.parent_rhk_id!r} is not an RHK of your supervisor's SKP")


def draft(*, skp_id: str, nip: str, year: int, atasan_nip: str | None, rhks: tuple[Rhk, ...],
          supervisor_rhk_ids: frozenset[str]) -> Skp:
    if not 2000 <= year <= 2100:
        raise InvalidInput("year is out of range")
    check_rhks(rhks, supervisor_rhk_ids=supervisor_rhk_ids)
    return Skp(id=skp_id, nip=nip, year=year, atasan_nip=atasan_nip, rhks=rhks)


def edit(skp: Skp, *, actor_nip: str, rhks: tuple[Rhk, ...], supervisor_rhk_ids: frozenset[str]) -> Skp:
    """The owner changes the RHK. An approved plan goes back to draft: the next approval is a new
    revision, and the approved one stays on record."""
    if actor_nip != skp.nip:
        raise NotAllowed("only the owner of an SKP may change it")
    _check_from(skp, "edit")
    check_rhks(rhks, supervisor_rhk_ids=supervisor_rhk_ids)
    return replace(skp, rhks=rhks, status=DRAFT, version=skp.version + 1)


def submit(skp: Skp, *, actor_nip: str) -> Skp:
    if actor_nip != skp.nip:
        raise NotAllowed("only the owner of an SKP may submit it")
    _check_from(skp, "submit")
    if not any(r.kind == "main" for r in skp.rhks):
        raise InvalidInput("an SKP needs at least one main RHK")
    return replace(skp, status=SUBMITTED, version=skp.version + 1)


def _require_supervisor(skp: Skp, actor_nip: str, supervisor_nip: str | None, action: str) -> None:
    if supervisor_nip is None or actor_nip != supervisor_nip:
        raise NotAllowed(f"only the owner's supervisor may {action} this SKP")


def approve(skp: Skp, *, actor_nip: str, supervisor_nip: str | None, at: datetime, note: str | None = None) -> Skp:
    _require_supervisor(skp, actor_nip, supervisor_nip, "approve")
    _check_from(skp, "approve")
    return replace(skp, status=APPROVED, atasan_nip=actor_nip, revision=skp.revision + 1, approved_at=at,
                   note=note or None, version=skp.version + 1)


def return_for_revision(skp: Skp, *, actor_nip: str, supervisor_nip: str | None, note: str) -> Skp:
    _require_supervisor(skp, actor_nip, supervisor_nip, "return")
    _check_from(skp, "return")
    note = (note or "").strip()
    if not note:
        raise InvalidInput("a note is required when returning an SKP")
    return replace(skp, status=RETURNED, atasan_nip=actor_nip, note=note, version=skp.version + 1)
