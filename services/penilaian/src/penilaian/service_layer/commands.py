"""The facts penilaian records itself (ratings, training, dialogs, policy versions, the
organisation's predikat), as the API asks: each is built as an event, applied here as the consumer
would apply it, and put in the outbox in the same transaction; the consumer later finds the fact
already stored (a no-op), and a rebuild from the topics stores it again."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kinerja.events import decode_event, make_event
from kinerja.events.envelope import Event
from kinerja.events.penilaian import (
    DIALOG_RECORDED,
    ORGANISATION_RATED,
    POLICY_SET,
    RATING_RECORDED,
    TRAINING_RECORDED,
)
from kinerja.messaging.outbox import Outbox
from penilaian.adapters.orm import DialogRow, Employee, OrganisationRatingRow, PolicyRow, RatingRow, TrainingRow
from penilaian.domain.periods import Period
from penilaian.domain.policy import make_policy, policy_values
from penilaian.service_layer.intake import apply_batch
from penilaian.service_layer.locks import lock_agency
from penilaian.service_layer.score_rows import SOURCE
from penilaian.service_layer.times import utcnow


def _record(session: Session, outbox: Outbox, event: Event, zone: ZoneInfo) -> None:
    # apply the event as the consumer will see it (encoded, then decoded with its schema)
    apply_batch(session, outbox, [decode_event(event.to_bytes())], tz=zone.key)
    outbox.add(session, event)


def agency_of(session: Session, nip: str, default: str) -> str:
    emp = session.get(Employee, nip)
    return emp.agency if emp is not None else default


def record_rating(session: Session, outbox: Outbox, *, nip: str, period: Period, rater: str, rated_by: str,
                  levels: dict[str, str], zone: ZoneInfo, now: datetime | None = None,
                  agency: str = "-") -> RatingRow:
    """Store (or replace) a rating and publish it; the supervisor's moves perilaku kerja, so the
    period is recomputed and published like any other change."""
    if rater not in ("atasan", "self"):
        raise ValueError(rater)
    event = make_event(RATING_RECORDED, subject=nip, agency=agency_of(session, nip, agency), source=SOURCE,
                       data={"rating_id": str(uuid.uuid4()), "nip": nip, "period": period.name, "rater": rater,
                             "rated_by": rated_by, "levels": dict(levels), "rated_at": now or utcnow()})
    _record(session, outbox, event, zone)
    return session.get(RatingRow, (nip, period.name, rater))


def record_training(session: Session, outbox: Outbox, *, nip: str, title: str, jp: int, day: date, provider: str,
                    recorded_by: str, zone: ZoneInfo, now: datetime | None = None, agency: str = "-") -> TrainingRow:
    event = make_event(TRAINING_RECORDED, subject=nip, agency=agency_of(session, nip, agency), source=SOURCE,
                       data={"training_id": str(uuid.uuid4()), "nip": nip, "title": title, "jp": jp, "date": day,
                             "provider": provider, "recorded_by": recorded_by, "recorded_at": now or utcnow()})
    _record(session, outbox, event, zone)
    return session.get(TrainingRow, event.data["training_id"])


def record_dialog(session: Session, outbox: Outbox, *, nip: str, atasan_nip: str, period: Period, day: date,
                  notes: str, follow_up: str, values: list[str], recorded_by: str, zone: ZoneInfo,
                  now: datetime | None = None, agency: str = "-") -> DialogRow:
    event = make_event(DIALOG_RECORDED, subject=nip, agency=agency_of(session, nip, agency), source=SOURCE,
                       data={"dialog_id": str(uuid.uuid4()), "nip": nip, "atasan_nip": atasan_nip,
                             "period": period.name, "date": day, "notes": notes, "follow_up": follow_up,
                             "values": list(values), "recorded_by": recorded_by, "recorded_at": now or utcnow()})
    _record(session, outbox, event, zone)
    return session.get(DialogRow, event.data["dialog_id"])


def set_policy(session: Session, outbox: Outbox, *, agency: str, effective_from: date, values: dict[str, Any],
               set_by: str, zone: ZoneInfo, now: datetime | None = None) -> PolicyRow:
    """A new version of the agency's policy from ``effective_from``'s month (raises BadPolicy for
    numbers that make no sense): stored and published, and its recompute queued. The agency's
    periods from then on are recomputed by the consumer in bounded batches, not in this request
    (``policy_recompute``), so the request costs the same for 10 ASN or 100,000."""
    policy = make_policy(values)
    lock_agency(session, agency)  # serialise version numbers per agency (the key applying the version takes)
    version = (session.execute(select(func.max(PolicyRow.version)).where(PolicyRow.agency == agency)).scalar() or 0) + 1
    event = make_event(POLICY_SET, subject=agency, agency=agency, source=SOURCE,
                       data={"policy_id": str(uuid.uuid4()), "agency": agency, "version": version,
                             "effective_from": effective_from.replace(day=1), **policy_values(policy),
                             "set_by": set_by, "set_at": now or utcnow()})
    _record(session, outbox, event, zone)
    return session.get(PolicyRow, event.data["policy_id"])


def rate_organisation(session: Session, outbox: Outbox, *, agency: str, period: Period, predikat: str, set_by: str,
                      zone: ZoneInfo, now: datetime | None = None) -> OrganisationRatingRow:
    event = make_event(ORGANISATION_RATED, subject=agency, agency=agency, source=SOURCE,
                       data={"rating_id": str(uuid.uuid4()), "agency": agency, "period": period.name,
                             "predikat": predikat, "set_by": set_by, "set_at": now or utcnow()})
    _record(session, outbox, event, zone)
    return session.get(OrganisationRatingRow, (agency, period.name))

