"""What a batch of events made stale (``Touched``): the days per ASN whose month, quarter and year a
recompute takes again (``recompute.recompute_many``)."""
from __future__ import annotations

from datetime import date
from typing import Iterable


class Touched:
    """What a batch of events made stale: per NIP the days whose month, quarter and year must be
    recomputed, the agency to file them under if the roster does not know the ASN, and the event
    that last made us look (named as ``caused_by`` in the score updates)."""

    def __init__(self) -> None:
        self.days: dict[str, set[date]] = {}
        self.agency: dict[str, str] = {}
        self.cause: dict[str, str] = {}

    def add(self, nip: str, days: Iterable[date], *, agency: str, cause: str) -> None:
        days = [d for d in days if d is not None]
        if not days:
            return
        self.days.setdefault(nip, set()).update(days)
        self.agency[nip], self.cause[nip] = agency, cause
