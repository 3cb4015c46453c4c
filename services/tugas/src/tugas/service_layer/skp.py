"""SKP handlers: drafts, RHK with indicators and cascading links, submission, approval (a revision
each time, with ``tugas.skp.approved.v1``) and return. One transaction per command; every change is
a conditional UPDATE on the SKP's version, as for tasks."""
from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kinerja.auth import SUPERVISING_ROLES
from kinerja.events import make_event
from kinerja.events.tugas import SKP_APPROVED, SKP_SUBMITTED
from kinerja.messaging.outbox import Outbox
from tugas.adapters.orm import Employee, RhkRow, SkpRevisionRow, SkpRow, TaskRow
from tugas.domain import skp as rules
from tugas.domain.errors import IllegalTransition, InvalidInput, NotAllowed
from tugas.domain.skp import Indicator, Rhk, Skp
from tugas.service_layer.context import SOURCE, Actor, as_utc, utcnow
from tugas.service_layer.roster import supervisor_of
from tugas.service_layer.tasks import ConcurrentUpdate


class SkpNotFound(Exception):
    pass


class SkpExists(IllegalTransition):
    pass


# -- mapping ----------------------------------------------------------------------------------
def rhk_from_input(item: dict[str, Any]) -> Rhk:
    return Rhk(
        id=item.get("id") or str(uuid.uuid4()), kind=item["kind"], text=item["text"],
        parent_rhk_id=item.get("parent_rhk_id"),
        indicators=tuple(Indicator(indicator=i["indicator"], target_quantity=Decimal(str(i["target_quantity"])),
                                   unit=i["unit"], quality_target=i.get("quality_target", 100),
                                   time_target=i.get("time_target") or "12 bulan")
                         for i in item.get("indicators") or ()),
    )


def indicator_json(ind: Indicator) -> dict[str, Any]:
    return {"indicator": ind.indicator, "target_quantity": str(ind.target_quantity), "unit": ind.unit,
            "quality_target": ind.quality_target, "time_target": ind.time_target}


def rhk_rows(session: Session, skp_id: str) -> list[RhkRow]:
    return list(session.execute(
        select(RhkRow).where(RhkRow.skp_id == skp_id).order_by(RhkRow.position, RhkRow.id)).scalars())


def to_domain(session: Session, row: SkpRow) -> Skp:
    rhks = tuple(
        Rhk(id=r.id, kind=r.kind, text=r.text, parent_rhk_id=r.parent_rhk_id,
            indicators=tuple(Indicator(indicator=i["indicator"], target_quantity=Decimal(i["target_quantity"]),
                                       unit=i["unit"], quality_target=i["quality_target"],
                                       time_target=i["time_target"]) for i in r.indicators))
        for r in rhk_rows(session, row.id))
    return Skp(id=row.id, nip=row.nip, year=row.year, status=row.status, atasan_nip=row.atasan_nip,
               revision=row.revision, note=row.note, rhks=rhks, approved_at=as_utc(row.approved_at),
               version=row.version)


def content(skp: Skp) -> dict[str, Any]:
    return {"rhk": [{"id": r.id, "kind": r.kind, "text": r.text, "parent_rhk_id": r.parent_rhk_id,
                     "indicators": [indicator_json(i) for i in r.indicators]} for r in skp.rhks]}


def supervisor_rhk_ids(session: Session, nip: str, year: int) -> frozenset[str]:
    """RHK of the supervisor's SKP for the same year: what a cascading link may point at."""
    atasan = supervisor_of(session, nip)
    if atasan is None:
        return frozenset()
    return frozenset(session.execute(
        select(RhkRow.id).join(SkpRow, SkpRow.id == RhkRow.skp_id).where(SkpRow.nip == atasan, SkpRow.year == year)
    ).scalars())


# -- commands ---------------------------------------------------------------------------------
def create_skp(session: Session, actor: Actor, *, year: int, rhks: list[dict[str, Any]],
               now: datetime | None = None) -> SkpRow:
    now = now or utcnow()
    me = session.get(Employee, actor.nip or "")
    if me is None or not me.active or me.agency != actor.agency:
        raise NotAllowed("you are not on your agency's roster")
    exists = session.execute(select(SkpRow.id).where(SkpRow.nip == me.nip, SkpRow.year == year)).first()
    if exists:
        raise SkpExists(f"you already have an SKP for {year} ({exists[0]}); change that one")
    skp = rules.draft(skp_id=str(uuid.uuid4()), nip=me.nip, year=year, atasan_nip=me.atasan_nip,
                      rhks=tuple(rhk_from_input({**r, "id": None}) for r in rhks),
                      supervisor_rhk_ids=supervisor_rhk_ids(session, me.nip, year))
    row = SkpRow(id=skp.id, nip=skp.nip, agency=me.agency, year=skp.year, status=skp.status,
                 atasan_nip=skp.atasan_nip, revision=0, created_at=now, updated_at=now, version=skp.version)
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        raise SkpExists(f"you already have an SKP for {year}") from None
    _write_rhks(session, row, skp.rhks, old=[])
    return row


def _write_rhks(session: Session, row: SkpRow, rhks: tuple[Rhk, ...], old: list[RhkRow]) -> None:
    by_id = {r.id: r for r in old}
    removed = [r for r in old if r.id not in {x.id for x in rhks}]
    for gone in removed:
        used = session.execute(select(TaskRow.id).where(TaskRow.rhk_id == gone.id).limit(1)).first()
        supported = session.execute(select(RhkRow.id).where(RhkRow.parent_rhk_id == gone.id).limit(1)).first()
        if used or supported:
            raise IllegalTransition(f"RHK {gone.id} has tasks or supporting RHK of subordinates; keep it")
        session.delete(gone)
    session.flush()
    for position, r in enumerate(rhks):
        target = by_id.get(r.id)
        if target is None:
            target = RhkRow(id=r.id, skp_id=row.id, nip=row.nip)
            session.add(target)
        target.kind, target.text, target.parent_rhk_id = r.kind, r.text, r.parent_rhk_id
        target.indicators = [indicator_json(i) for i in r.indicators]
        target.position = position
    session.flush()


def load_skp(session: Session, actor: Actor, skp_id: str) -> SkpRow:
    row = session.get(SkpRow, skp_id)
    if row is None or row.agency != actor.agency:
        raise SkpNotFound(skp_id)
    return row


def _save(session: Session, row: SkpRow, read_version: int, new: Skp, now: datetime) -> None:
    result = session.execute(
        update(SkpRow).where(SkpRow.id == row.id, SkpRow.version == read_version)
        .values(status=new.status, atasan_nip=new.atasan_nip, revision=new.revision, note=new.note,
                approved_at=new.approved_at, version=new.version, updated_at=now)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise ConcurrentUpdate("the SKP was changed by someone else at the same time; reload it and try again")
    session.refresh(row)


def change_skp(session: Session, outbox: Outbox, actor: Actor, skp_id: str, action: str, *,
               expected_version: int | None = None, now: datetime | None = None, **args: Any) -> SkpRow:
    now = now or utcnow()
    row = load_skp(session, actor, skp_id)
    if expected_version is not None and expected_version != row.version:
        raise ConcurrentUpdate(f"SKP changed since version {expected_version} (now at version {row.version})")
    skp = to_domain(session, row)
    nip = actor.nip or ""
    if action == "edit":
        known = {r.id for r in skp.rhks}
        unknown = sorted({r["id"] for r in args["rhks"] if r.get("id")} - known)
        if unknown:
            raise InvalidInput(f"unknown RHK {unknown[0]!r} in this SKP (leave id out for a new one)")
        new = rules.edit(skp, actor_nip=nip, rhks=tuple(rhk_from_input(r) for r in args["rhks"]),
                         supervisor_rhk_ids=supervisor_rhk_ids(session, skp.nip, skp.year))
    elif action == "submit":
        new = rules.submit(skp, actor_nip=nip)
    elif action == "approve":
        new = rules.approve(skp, actor_nip=nip, supervisor_nip=supervisor_of(session, skp.nip), at=now,
                            note=args.get("note"))
    elif action == "return":
        new = rules.return_for_revision(skp, actor_nip=nip, supervisor_nip=supervisor_of(session, skp.nip),
                                        note=args.get("note") or "")
    else:  # pragma: no cover
        raise ValueError(action)
    _save(session, row, skp.version, new, now)
    if action == "edit":
        _write_rhks(session, row, new.rhks, old=rhk_rows(session, row.id))
    if action == "submit":  # it waits for the supervisor now: tell them
        outbox.add(session, make_event(SKP_SUBMITTED, subject=new.nip, agency=row.agency, source=SOURCE, time=now,
                                       data={"skp_id": new.id, "nip": new.nip,
                                             "atasan_nip": supervisor_of(session, new.nip) or new.atasan_nip,
                                             "year": new.year, "revision": new.revision + 1, "submitted_at": now}))
    if action == "approve":
        session.add(SkpRevisionRow(skp_id=row.id, revision=new.revision, approved_by=nip, approved_at=now,
                                   note=new.note, content=content(new)))
        # the plan itself travels with the approval: penilaian's evaluation document shows it
        outbox.add(session, make_event(SKP_APPROVED, subject=new.nip, agency=row.agency, source=SOURCE, time=now,
                                       data={"skp_id": new.id, "nip": new.nip, "atasan_nip": new.atasan_nip,
                                             "year": new.year, "revision": new.revision, "approved_at": now,
                                             **content(new)}))
    return row


# -- queries ----------------------------------------------------------------------------------
def visible_skps(actor: Actor):
    query = select(SkpRow).where(SkpRow.agency == actor.agency)
    if actor.role == "admin":
        return query
    if actor.role in SUPERVISING_ROLES:
        team = select(Employee.nip).where(Employee.atasan_nip == actor.nip)
        return query.where(or_(SkpRow.nip == actor.nip, SkpRow.nip.in_(team)))
    return query.where(SkpRow.nip == actor.nip)


def can_see(session: Session, actor: Actor, row: SkpRow) -> bool:
    if row.agency != actor.agency:
        return False
    if actor.role == "admin" or row.nip == actor.nip:
        return True
    return actor.role in SUPERVISING_ROLES and supervisor_of(session, row.nip) == actor.nip


def can_see_for_cascade(session: Session, actor: Actor, row: SkpRow) -> bool:
    """A subordinate may read their supervisor's SKP: that is what they cascade from."""
    return row.agency == actor.agency and supervisor_of(session, actor.nip or "") == row.nip



def read_skp(session: Session, actor: Actor, skp_id: str) -> SkpRow:
    """The SKP, if the caller may see it (a subordinate may read their supervisor's, to cascade)."""
    row = load_skp(session, actor, skp_id)
    if not (can_see(session, actor, row) or can_see_for_cascade(session, actor, row)):
        raise NotAllowed("this SKP is neither yours, your team's nor your supervisor's")
    return row


def list_skps(session: Session, actor: Actor, *, nip: str | None = None, year: int | None = None,
              limit: int = 50, offset: int = 0) -> tuple[list[SkpRow], int]:
    query = visible_skps(actor)
    if nip:
        query = query.where(SkpRow.nip == nip)
    if year:
        query = query.where(SkpRow.year == year)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(query.order_by(SkpRow.year.desc(), SkpRow.nip).limit(limit).offset(offset)).scalars()
    return list(rows), total


def revisions(session: Session, skp_id: str) -> list[SkpRevisionRow]:
    return list(session.execute(
        select(SkpRevisionRow).where(SkpRevisionRow.skp_id == skp_id).order_by(SkpRevisionRow.revision)).scalars())
