"""The roster slice every service keeps: the shared columns come from one mixin (each service
adds its own) and applying ``pegawai.employee_upserted`` twice leaves the same row."""
from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import String, create_engine, inspect
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from kinerja.events import make_event
from kinerja.events.pegawai import EMPLOYEE_UPSERTED
from kinerja.roster_slice import RosterColumns, apply_roster_event, upsert_roster_row

pytestmark = pytest.mark.unit

NIP, BOSS = "198503122010011001", "197001012000011001"


class Base(DeclarativeBase):
    pass


class Employee(RosterColumns, Base):
    __tablename__ = "employees"
    jabatan: Mapped[str] = mapped_column(String(200), default="")  # a service's own column


def _event(**changes):
    data = {"nip": NIP, "nama": "Siti", "agency": "disdik", "unit": "Bidang SD", "atasan_nip": BOSS, **changes}
    return make_event(EMPLOYEE_UPSERTED, subject=NIP, agency=data["agency"], data=data, source="test")


@pytest.fixture
def session():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        yield s


def test_a_service_table_has_the_shared_columns_and_its_own():
    table = Employee.__table__
    assert [c.name for c in table.primary_key] == ["nip"]
    assert {"nip", "nama", "agency", "unit", "atasan_nip", "active", "jabatan"} == set(table.c.keys())
    assert {tuple(i.columns.keys()) for i in table.indexes} == {("agency",), ("atasan_nip",)}


def test_the_same_event_twice_leaves_one_row_with_the_same_values(session):
    event = _event()
    apply_roster_event(session, Employee, event)
    session.commit()
    apply_roster_event(session, Employee, event)
    session.commit()
    rows = session.query(Employee).all()
    assert [(r.nip, r.nama, r.agency, r.unit, r.atasan_nip, r.active) for r in rows] == [
        (NIP, "Siti", "disdik", "Bidang SD", BOSS, True)]


def test_a_later_event_moves_the_employee_and_keeps_the_service_column(session):
    emp = apply_roster_event(session, Employee, _event())
    emp.jabatan = "Guru Ahli Muda"
    session.commit()
    apply_roster_event(session, Employee, _event(agency="dinkes", unit="Puskesmas", atasan_nip=None, active=False))
    session.commit()
    emp = session.get(Employee, NIP)
    assert (emp.agency, emp.unit, emp.atasan_nip, emp.active, emp.jabatan) == (
        "dinkes", "Puskesmas", None, False, "Guru Ahli Muda")


def test_other_events_change_nothing(session):
    other = replace(_event(), type="pegawai.something_else")
    assert apply_roster_event(session, Employee, other) is None
    session.commit()
    assert session.query(Employee).count() == 0


def test_a_batch_finds_rows_it_already_holds():
    held: dict[str, Employee] = {}
    first = upsert_roster_row(Employee, _event().data, find=held.get, add=lambda r: held.__setitem__(r.nip, r))
    again = upsert_roster_row(Employee, _event(nama="Siti Aminah").data, find=held.get,
                              add=lambda r: pytest.fail("added twice"))
    assert again is first and first.nama == "Siti Aminah" and list(held) == [NIP]
