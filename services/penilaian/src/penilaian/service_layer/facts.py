"""The facts the events state, each kept by its own rule of which statement wins (highest
version, latest state, running maximum, latest rating...), so any order of the same events keeps
the same rows. Each store returns what moved: the days to recompute, or the row when it changed.
The caller holds the locks (``batch.Batch.prepare``)."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from kinerja.events.envelope import Event
from kinerja.events.tugas import TASK_OVERDUE
from kinerja.roster_slice import upsert_roster_row
from sqlalchemy.orm import Session

from penilaian.adapters.orm import (
    DialogRow,
    Employee,
    FeedbackFactRow,
    InnovationFactRow,
    OrganisationRatingRow,
    PolicyRow,
    RatingRow,
    SkpFactRow,
    TaskFactRow,
    TrainingRow,
)
from penilaian.domain.day_summaries import day_values, supersedes
from penilaian.domain.policy import make_policy, policy_values
from penilaian.domain.scoring import APPROVED, CANCELLED, STATUS_RANK, task_state_key
from penilaian.service_layer.batch import Batch
from penilaian.service_layer.times import as_utc, local_date


# -- facts of the roster, attendance and tasks --------------------------------------------------
def apply_roster(session: Session, event: Event, batch: Batch) -> Employee:
    d = event.data
    emp = upsert_roster_row(Employee, d, find=lambda nip: batch.get(Employee, nip),
                            add=lambda row: batch.added(Employee, row.nip, row))
    emp.jabatan = (d.get("jabatan") or "")[:200]
    # scores stored before the roster knew the ASN carry the agency of their events: follow the
    # roster (the batch does it for all its roster events at once, before any recompute)
    batch.roster_moves[emp.nip] = emp.agency
    return emp


def store_day_fact(session: Session, event: Event, batch: Batch) -> date | None:
    """Keep the summary ``domain.day_summaries`` says wins (highest version, ties: the greater
    event id). Returns the day when the stored fact changed, else None. The row is written with
    the batch's others (``Batch.write_facts``)."""
    d = event.data
    key = (d["nip"], d["date"])
    have = batch.day_version(key)
    if have is not None and not supersedes(d["version"], event.id, *have):
        return None
    batch.put_day(key, {"nip": d["nip"], "day": d["date"], "version": d["version"], "event_id": event.id,
                        "agency": event.agency, **day_values(d)})
    return d["date"]


def _open_on(event: Event, zone: ZoneInfo) -> date | None:
    d = event.data
    if event.type == TASK_OVERDUE:
        return max(local_date(event.time, zone), d["due_date"] + timedelta(days=1))
    if d["status"] in (APPROVED, CANCELLED):
        return None
    return local_date(event.time, zone)


def store_task_fact(session: Session, event: Event, zone: ZoneInfo, batch: Batch) -> dict[str, list[date]]:
    """Merge one task event into the task's fact: the state with the greatest
    ``task_state_key`` wins, and ``last_open_on`` is a running maximum. Both are order-independent.
    Returns the due dates to recompute per NIP (old and new, if the task moved: the ASN it
    belonged to was locked with the rest, ``batch.Batch.prepare``)."""
    d = event.data
    row = batch.get(TaskFactRow, d["task_id"])
    open_on = _open_on(event, zone)
    key = task_state_key(d["status"], as_utc(event.time), event.id)
    touched: dict[str, list[date]] = {}
    if row is None:
        row = batch.new_row(TaskFactRow, d["task_id"], task_id=d["task_id"], last_open_on=None)
        wins = True
    else:
        touched.setdefault(row.nip, []).append(row.due_date)
        wins = key > task_state_key(row.status, as_utc(row.event_time), row.event_id)
    before = (row.last_open_on, row.event_id)
    if open_on is not None and (row.last_open_on is None or open_on > row.last_open_on):
        row.last_open_on = open_on
    if wins:
        row.nip, row.agency, row.title = d["nip"], event.agency, d["title"]
        row.status, row.status_rank = d["status"], STATUS_RANK.get(d["status"], 1)
        row.event_time, row.event_id, row.due_date = as_utc(event.time), event.id, d["due_date"]
        row.target_quantity = str(Decimal(d["target_quantity"]))
        rq = d.get("realised_quantity")
        row.realised_quantity = str(Decimal(rq)) if rq is not None else None
        row.quality, row.category, row.rhk_id = d.get("quality"), d.get("category"), d.get("rhk_id")
        row.submitted_on = local_date(d.get("submitted_at"), zone)
        row.approved_on = local_date(d.get("approved_at"), zone)
    if not wins and before == (row.last_open_on, row.event_id):
        return {}
    touched.setdefault(row.nip, []).append(row.due_date)
    return touched


def store_innovation(session: Session, event: Event, zone: ZoneInfo, batch: Batch) -> dict[str, list[date]]:
    """One approval per innovation; if it is stated twice, the greater event id is kept. Returns
    the days to recompute per NIP (the one it counted for before too, if it named another ASN)."""
    d = event.data
    row = batch.get(InnovationFactRow, d["innovation_id"])
    if row is not None and row.event_id >= event.id:
        return {}
    touched: dict[str, list[date]] = {}
    if row is None:
        row = batch.new_row(InnovationFactRow, d["innovation_id"], innovation_id=d["innovation_id"])
    else:
        touched.setdefault(row.nip, []).append(row.approved_on)
    row.nip, row.title, row.event_id = d["nip"], d["title"], event.id
    row.approved_on = local_date(d["approved_at"], zone)
    touched.setdefault(row.nip, []).append(row.approved_on)
    return touched


def _keep(session: Session, batch: Batch | None, model: type, key, row) -> None:
    """A new row: in a batch, added with the batch's others (flushed together); else flushed now."""
    if batch is not None:
        batch.added(model, key, row)
    else:
        session.add(row)
        session.flush()


# -- facts penilaian records itself (``commands``): ratings, training, dialogs, policy, the
# organisation's predikat
def store_rating(session: Session, event: Event, batch: Batch | None = None) -> RatingRow | None:
    """Keep the latest rating per (ASN, period, rater) by (rated_at, rating_id); the row when it
    changed, else None. With ``batch``, the row comes from its bulk read (``Batch.prepare``) and
    is flushed with the batch's others."""
    d = event.data
    key = (d["nip"], d["period"], d["rater"])
    row = batch.get(RatingRow, key) if batch is not None else session.get(RatingRow, key)
    if row is not None and (as_utc(row.rated_at), row.rating_id) >= (as_utc(d["rated_at"]), d["rating_id"]):
        return None
    if row is None:
        row = RatingRow(nip=d["nip"], period=d["period"], rater=d["rater"])
        if batch is not None:
            batch.added(RatingRow, key, row)
        else:
            session.add(row)
    row.rating_id, row.rated_by, row.levels = d["rating_id"], d["rated_by"], dict(d["levels"])
    row.rated_at = as_utc(d["rated_at"])
    if batch is None:
        session.flush()
    return row


def store_training(session: Session, event: Event, batch: Batch | None = None) -> TrainingRow | None:
    d = event.data
    if (batch.get(TrainingRow, d["training_id"]) if batch is not None else session.get(TrainingRow, d["training_id"])) is not None:
        return None
    row = TrainingRow(id=d["training_id"], nip=d["nip"], title=d["title"], jp=d["jp"], day=d["date"],
                      provider=d.get("provider") or "", recorded_by=d["recorded_by"], recorded_at=as_utc(d["recorded_at"]))
    _keep(session, batch, TrainingRow, d["training_id"], row)
    return row


def store_dialog(session: Session, event: Event, batch: Batch | None = None) -> DialogRow | None:
    d = event.data
    if (batch.get(DialogRow, d["dialog_id"]) if batch is not None else session.get(DialogRow, d["dialog_id"])) is not None:
        return None
    row = DialogRow(id=d["dialog_id"], nip=d["nip"], atasan_nip=d["atasan_nip"], period=d["period"], day=d["date"],
                    notes=d["notes"], follow_up=d.get("follow_up") or "", values=list(d.get("values") or []),
                    recorded_by=d["recorded_by"], recorded_at=as_utc(d["recorded_at"]))
    _keep(session, batch, DialogRow, d["dialog_id"], row)
    return row


def store_policy(session: Session, event: Event) -> PolicyRow | None:
    d = event.data
    if session.get(PolicyRow, d["policy_id"]) is not None:
        return None
    values = policy_values(make_policy(d))
    row = PolicyRow(policy_id=d["policy_id"], agency=d["agency"], version=d["version"],
                    effective_from=d["effective_from"].replace(day=1), values=values, set_by=d["set_by"],
                    set_at=as_utc(d["set_at"]))
    session.add(row)
    session.flush()
    return row


def store_organisation_rating(session: Session, event: Event) -> OrganisationRatingRow | None:
    d = event.data
    row = session.get(OrganisationRatingRow, (d["agency"], d["period"]))
    if row is not None and (as_utc(row.set_at), row.rating_id) >= (as_utc(d["set_at"]), d["rating_id"]):
        return None
    if row is None:
        row = OrganisationRatingRow(agency=d["agency"], period=d["period"])
        session.add(row)
    row.rating_id, row.predikat, row.set_by, row.set_at = d["rating_id"], d["predikat"], d["set_by"], as_utc(d["set_at"])
    session.flush()
    return row


# -- facts of tugas the evaluation document shows (no score depends on them) ---------------------
def store_skp(session: Session, event: Event, batch: Batch | None = None) -> SkpFactRow | None:
    """Keep the latest approved revision of an ASN's SKP of a year (ties: the greater event id)."""
    d = event.data
    key = (d["nip"], d["year"])
    row = batch.get(SkpFactRow, key) if batch is not None else session.get(SkpFactRow, key)
    if row is not None and (row.revision, row.event_id) >= (d.get("revision", 1), event.id):
        return None
    if row is None:
        row = SkpFactRow(nip=d["nip"], year=d["year"])
        if batch is not None:
            batch.added(SkpFactRow, key, row)
        else:
            session.add(row)
    row.skp_id, row.revision, row.event_id = d["skp_id"], d.get("revision", 1), event.id
    row.atasan_nip = d.get("atasan_nip")
    row.approved_at = as_utc(d["approved_at"]) if d.get("approved_at") else None
    row.rhk = [{"id": r["id"], "kind": r["kind"], "text": r["text"],
                "indicators": [{k: str(v) if k == "target_quantity" else v for k, v in i.items()}
                               for i in r.get("indicators") or []]} for r in d.get("rhk") or []]
    if batch is None:
        session.flush()
    return row


def store_feedback(session: Session, event: Event, batch: Batch | None = None) -> FeedbackFactRow | None:
    d = event.data
    if (batch.get(FeedbackFactRow, d["message_id"]) if batch is not None else session.get(FeedbackFactRow, d["message_id"])) is not None:
        return None
    row = FeedbackFactRow(message_id=d["message_id"], nip=d["nip"], author_nip=d["author_nip"],
                          task_id=d.get("task_id"), rhk_id=d.get("rhk_id"), text=d["text"][:5000],
                          posted_at=as_utc(d.get("posted_at") or event.time))
    _keep(session, batch, FeedbackFactRow, d["message_id"], row)
    return row

