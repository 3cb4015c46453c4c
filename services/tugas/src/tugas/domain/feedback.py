"""Continuous feedback (umpan balik berkelanjutan): a thread on an RHK or a task, between the ASN
and their supervisor. Pure rules."""
from __future__ import annotations

from tugas.domain.errors import InvalidInput, NotAllowed

MAX_TEXT = 5000


def recipient(*, owner_nip: str, supervisor_nip: str | None, author_nip: str) -> str:
    """Who a message goes to: the ASN writes to the supervisor, the supervisor to the ASN."""
    if author_nip == owner_nip:
        if supervisor_nip is None:
            raise NotAllowed("you have no supervisor on the roster to write to")
        return supervisor_nip
    if supervisor_nip is not None and author_nip == supervisor_nip:
        return owner_nip
    raise NotAllowed("only the ASN and their supervisor take part in this thread")


def check_text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise InvalidInput("a message needs text")
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"a message is at most {MAX_TEXT} characters")
    return text
