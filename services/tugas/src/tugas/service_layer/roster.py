"""tugas's slice of the roster (``pegawai.v1``): who is whose direct supervisor."""
from __future__ import annotations

from typing import Sequence

from sqlalchemy.orm import Session

from kinerja import roster_slice
from kinerja.events.envelope import Event
from tugas.adapters.orm import Employee


def apply_roster_event(session: Session, event: Event) -> None:
    roster_slice.apply_roster_event(session, Employee, event)  # tugas keeps no column of its own


def apply_roster_batch(session: Session, events: Sequence[Event]) -> None:
    """A poll's roster events in order, rows read and written for the batch (the same rows as
    ``apply_roster_event`` for each in turn)."""
    roster_slice.apply_roster_batch(session, Employee, events)


def supervisor_of(session: Session, nip: str) -> str | None:
    emp = session.get(Employee, nip)
    return emp.atasan_nip if emp is not None and emp.active else None
