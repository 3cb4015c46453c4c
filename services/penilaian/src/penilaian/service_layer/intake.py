"""Applying events: the facts of a batch stored in one transaction (locks and rows taken up front by
``batch.Batch``), then each affected ASN recomputed once (``recompute``)."""
from __future__ import annotations

from typing import Iterable
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from kinerja.events.envelope import Event
from kinerja.events.kehadiran import DAY_SUMMARIZED
from kinerja.events.pegawai import EMPLOYEE_UPSERTED
from kinerja.events.penilaian import (
    DIALOG_RECORDED,
    MEMBERSHIP_RECORDED,
    ORGANISATION_RATED,
    POLICY_SET,
    RATING_RECORDED,
    TRAINING_RECORDED,
)
from kinerja.events.tugas import FEEDBACK_POSTED, INNOVATION_APPROVED, SKP_APPROVED
from kinerja.messaging.outbox import Outbox
from penilaian.adapters.bulk_writes import Writes
from penilaian.adapters.orm import ScoreRow
from penilaian.domain.periods import parse_period
from penilaian.service_layer import memberships, policy_recompute
from penilaian.service_layer.batch import Batch
from penilaian.service_layer.batch_keys import TASK_TYPES
from penilaian.service_layer.touched import Touched
from penilaian.service_layer.facts import (
    apply_roster,
    store_day_fact,
    store_dialog,
    store_feedback,
    store_innovation,
    store_organisation_rating,
    store_policy,
    store_rating,
    store_skp,
    store_task_fact,
    store_training,
)
from penilaian.service_layer.recompute import Policies, recompute_many


def apply_event(session: Session, outbox: Outbox, event: Event, *, tz: str) -> list[ScoreRow]:
    """Apply one event from ``kehadiran.v1``, ``tugas.v1``, ``pegawai.v1`` or ``penilaian.v1``;
    returns the score rows whose values changed. Types that do not bear on scores (and
    penilaian's own score updates) are accepted and ignored."""
    return apply_batch(session, outbox, [event], tz=tz)


def apply_batch(session: Session, outbox: Outbox | None, events: Iterable[Event], *, tz: str,
                writes: Writes | None = None, batch: Batch | None = None) -> list[ScoreRow]:
    """Store the facts of several events, then recompute each affected ASN once. Gives the same
    rows as applying the events one by one (scores are a function of the stored facts); the score
    updates published are the net changes. ``outbox`` None publishes nothing (a rebuild).
    ``writes``: the last writes (scores, month totals, outbox) are gathered there for the caller
    to send with its own, in one statement (``bulk_writes.Writes``); None: sent here. ``batch``:
    one ``prepare``d already (with these events or more: the consumer's claim,
    ``entrypoints.consumer``)."""
    zone = ZoneInfo(tz)
    touched = Touched()
    policies = Policies(session)
    events = list(events)
    if batch is None:
        batch = Batch(session)
        batch.prepare(events, read_months=True)
    batch.defer_days = True  # written with the recompute's last writes (``recompute_many``)
    agencies: dict[str, str] = {}
    for event in events:
        store_event(session, event, zone, touched, policies, batch)
        if event.type in (EMPLOYEE_UPSERTED, MEMBERSHIP_RECORDED):
            agencies[event.data["nip"]] = event.data["agency"]
    batch.write_facts()
    batch.follow_roster()
    batch.touch_moved(touched, agencies)
    if outbox is not None and batch.stated:
        outbox.add_many(session, [memberships.recorded_event(nip, st) for nip, st in batch.stated])
    batch.stated.clear()
    return recompute_many(session, outbox, touched, zone=zone, policies=policies, batch=batch, writes=writes)


def store_event(session: Session, event: Event, zone: ZoneInfo, touched: Touched, policies: Policies,
                batch: Batch | None = None) -> None:
    """Store the fact one event states; note in ``touched`` what must be recomputed. ``batch``
    (shared by the events of one transaction, ``prepare``d with all of them) holds the rows read
    and the locks taken; the caller calls its ``write_facts`` and ``follow_roster`` once the events
    are stored."""
    if batch is None:
        batch = Batch(session)
        batch.prepare([event])
        store_event(session, event, zone, touched, policies, batch)
        batch.write_facts()
        batch.follow_roster()
        batch.touch_moved(touched, {event.data["nip"]: event.data["agency"]} if event.type in (
            EMPLOYEE_UPSERTED, MEMBERSHIP_RECORDED) else {})
        return
    t = event.type
    if t == EMPLOYEE_UPSERTED:
        apply_roster(session, event, batch)
        batch.note_statement(event.data["nip"], memberships.from_roster(event, zone), cause=event.id,
                             from_roster=True)
    elif t == MEMBERSHIP_RECORDED:
        batch.note_statement(event.data["nip"], memberships.from_recorded(event), cause=event.id,
                             from_roster=False)
    elif t == DAY_SUMMARIZED:
        touched.add(event.data["nip"], [store_day_fact(session, event, batch)], agency=event.agency, cause=event.id)
    elif t in TASK_TYPES:
        for nip, days in sorted(store_task_fact(session, event, zone, batch).items()):
            touched.add(nip, days, agency=event.agency, cause=event.id)
    elif t == INNOVATION_APPROVED:
        for nip, days in sorted(store_innovation(session, event, zone, batch).items()):
            touched.add(nip, days, agency=event.agency, cause=event.id)
    elif t == RATING_RECORDED:
        row = store_rating(session, event, batch)
        if row is not None and row.rater == "atasan":
            touched.add(row.nip, [parse_period(row.period).start], agency=event.agency, cause=row.rating_id)
    elif t == TRAINING_RECORDED:
        store_training(session, event, batch)
    elif t == DIALOG_RECORDED:
        store_dialog(session, event, batch)
    elif t == POLICY_SET:
        # the version is stored; its agency's ASN are recomputed by the consumer in bounded batches
        # (``policy_recompute``), not in this transaction
        row = store_policy(session, event)
        if row is not None:
            policies.forget(row.agency)
        policy_recompute.queue(session, event.data["policy_id"], event.data["agency"],
                               event.data["effective_from"].replace(day=1))
    elif t == ORGANISATION_RATED:
        store_organisation_rating(session, event)
    elif t == SKP_APPROVED:
        store_skp(session, event, batch)
    elif t == FEEDBACK_POSTED:
        store_feedback(session, event, batch)

