"""Innovation proposals (inovasi): the ASN proposes, their supervisor approves or rejects. Pure rules."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from tugas.domain.errors import IllegalTransition, InvalidInput, NotAllowed

PROPOSED = "proposed"
APPROVED = "approved"
REJECTED = "rejected"
STATUSES = (PROPOSED, APPROVED, REJECTED)


@dataclass(frozen=True)
class Innovation:
    id: str
    nip: str
    title: str
    description: str
    links: tuple[str, ...] = field(default_factory=tuple)
    status: str = PROPOSED
    decided_by: str | None = None
    decided_at: datetime | None = None
    note: str | None = None
    version: int = 1


def propose(*, innovation_id: str, actor_nip: str, title: str, description: str,
            links: tuple[str, ...] = ()) -> Innovation:
    title, description = (title or "").strip(), (description or "").strip()
    if not title or not description:
        raise InvalidInput("an innovation needs a title and a description")
    return Innovation(id=innovation_id, nip=actor_nip, title=title, description=description, links=tuple(links))


def _decide(inn: Innovation, actor_nip: str, supervisor_nip: str | None, action: str) -> None:
    if supervisor_nip is None or actor_nip != supervisor_nip:
        raise NotAllowed(f"only the proposer's supervisor may {action} this innovation")
    if inn.status != PROPOSED:
        raise IllegalTransition(f"cannot {action} an innovation that is {inn.status}")


def approve(inn: Innovation, *, actor_nip: str, supervisor_nip: str | None, at: datetime,
            note: str | None = None) -> Innovation:
    _decide(inn, actor_nip, supervisor_nip, "approve")
    return replace(inn, status=APPROVED, decided_by=actor_nip, decided_at=at, note=note or None, version=inn.version + 1)


def reject(inn: Innovation, *, actor_nip: str, supervisor_nip: str | None, at: datetime, note: str) -> Innovation:
    _decide(inn, actor_nip, supervisor_nip, "reject")
    if not (note or "").strip():
        raise InvalidInput("a note is required when rejecting an innovation")
    return replace(inn, status=REJECTED, decided_by=actor_nip, decided_at=at, note=note.strip(), version=inn.version + 1)
