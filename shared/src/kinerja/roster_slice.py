"""The slice of the roster (``pegawai.v1``) every service keeps in its own ``employees`` table.

Each service owns its table (it adds the columns only it needs), but the columns all of them share
and the idempotent upsert of ``pegawai.employee_upserted`` are defined here once: a service's
``Employee`` model mixes in :class:`RosterColumns`, its consumer calls :func:`upsert_roster_row`
(or :func:`apply_roster_event`) and then sets its own columns."""
from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence, TypeVar

from sqlalchemy import Boolean, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from kinerja.events.envelope import Event
from kinerja.events.pegawai import EMPLOYEE_UPSERTED


class RosterColumns:
    """Who the ASN is, where they work, who supervises them and whether they are still active.
    A service that never looks employees up by supervisor may override ``atasan_nip`` without
    the index."""

    nip: Mapped[str] = mapped_column(String(18), primary_key=True)
    nama: Mapped[str] = mapped_column(String(200))
    agency: Mapped[str] = mapped_column(String(64), index=True)
    unit: Mapped[str] = mapped_column(String(200))
    atasan_nip: Mapped[str | None] = mapped_column(String(18), nullable=True, index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


E = TypeVar("E", bound=RosterColumns)


def apply_roster_fields(row: RosterColumns, data: Mapping[str, Any]) -> None:
    """The shared columns from an event's data; applying the same event twice changes nothing."""
    row.nama, row.agency, row.unit = data["nama"], data["agency"], data["unit"]
    row.atasan_nip, row.active = data.get("atasan_nip"), data.get("active", True)


def upsert_roster_row(model: type[E], data: Mapping[str, Any], *, find: Callable[[str], E | None],
                      add: Callable[[E], None]) -> E:
    """The row of ``data["nip"]``, created through ``add`` when ``find`` has none, with the shared
    columns set. ``find``/``add`` let a batch consumer serve rows it has already read."""
    row = find(data["nip"])
    if row is None:
        row = model(nip=data["nip"])
        add(row)
    apply_roster_fields(row, data)
    return row


def upsert_employee(session: Session, model: type[E], data: Mapping[str, Any]) -> E:
    return upsert_roster_row(model, data, find=lambda nip: session.get(model, nip), add=session.add)


def apply_roster_event(session: Session, model: type[E], event: Event) -> E | None:
    """Upsert the employee an ``employee_upserted`` event names; any other event: None."""
    if event.type != EMPLOYEE_UPSERTED:
        return None
    return upsert_employee(session, model, event.data)


def apply_roster_batch(session: Session, model: type[E], events: Sequence[Event], chunk: int = 500) -> dict[str, E]:
    """``apply_roster_event`` for each of ``events`` in turn, in the caller's transaction, with
    the batch's rows read by one query per ``chunk`` NIPs and written by one flush: the last event
    of a NIP wins, as one at a time. Returns the rows upserted, by NIP."""
    upserts = [event.data for event in events if event.type == EMPLOYEE_UPSERTED]
    nips = sorted({data["nip"] for data in upserts})
    rows: dict[str, E] = {}
    for i in range(0, len(nips), chunk):
        rows.update((row.nip, row) for row in session.execute(
            select(model).where(model.nip.in_(nips[i:i + chunk]))).scalars())

    def add(row: E) -> None:
        session.add(row)
        rows[row.nip] = row

    for data in upserts:
        upsert_roster_row(model, data, find=rows.get, add=add)
    session.flush()
    return rows
