"""What a rule gives: a ``Draft`` per recipient, in the role of the ASN the event concerns or of their
supervisor; the kinds (also the SSE ``event:`` name), and who the supervisor is."""
from __future__ import annotations

from dataclasses import dataclass
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


def supervisor(asn: Person, data: Mapping[str, Any]) -> str | None:
    """The event's own atasan_nip wins over the roster's (it is what the publisher knew)."""
    atasan = data.get("atasan_nip") or asn.atasan_nip
    return atasan if atasan and atasan != asn.nip else None


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
