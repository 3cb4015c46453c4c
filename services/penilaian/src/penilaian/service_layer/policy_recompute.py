"""A policy version's recompute, done by the consumer, not by the request that set it.

``PUT /api/v1/policy`` stores the version, publishes ``penilaian.policy.set.v1`` and queues the
recompute (one row per version, in the same transaction; applying the event queues it too, so a
database restored from the topics does the same). The consumer process then works through the
agency's ASN between polls (``PolicyRecomputer``), in batches of at most ``batch_size`` ASN in NIP
order, each batch one transaction that recomputes every stored period of theirs starting on or
after the version's month and moves the row's cursor past them: a crash loses at most the batch
in hand, which the next step does again (a recompute is idempotent). With several consumer
processes a queued row is taken by one at a time (``SKIP LOCKED`` on PostgreSQL, which never waits;
SQLite has one writer), and each batch takes its ASN's locks in one pass, in the order every
transaction takes them (``locks``).

Which ASN: those whose scores are filed under the agency, and those the roster ever placed in it
(``agency_memberships``): a period is scored by the policy of the agency on its first day.
"""
from __future__ import annotations

import logging
import threading
import time
from datetime import date, datetime, timezone
from typing import Callable
from zoneinfo import ZoneInfo

from sqlalchemy import select, union
from sqlalchemy.orm import Session

from kinerja.db import planned_each_time
from penilaian.adapters.key_lists import one_of
from penilaian.adapters.orm import MembershipRow, PolicyRecomputeRow, ScoreRow
from penilaian.domain.periods import parse_period
from penilaian.service_layer.touched import Touched
from penilaian.service_layer.recompute import recompute_many

log = logging.getLogger(__name__)

DEFAULT_BATCH = 200


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def queue(session: Session, policy_id: str, agency: str, effective_from: date, now: datetime | None = None) -> bool:
    """Queue the recompute of a version once (a version queued before, done or not, is left as
    it is); True when queued now."""
    if session.get(PolicyRecomputeRow, policy_id) is not None:
        return False
    session.add(PolicyRecomputeRow(policy_id=policy_id, agency=agency, effective_from=effective_from,
                                   cursor_nip=None, asn=0, batches=0, queued_at=now or utcnow(), done_at=None))
    session.flush()
    return True


def pending(session: Session) -> int:
    return len(session.execute(select(PolicyRecomputeRow.policy_id).where(
        PolicyRecomputeRow.done_at.is_(None))).all())


def finish_all(session: Session, now: datetime | None = None) -> None:
    """Mark every queued recompute done (a rebuild recomputes everything itself)."""
    for row in session.execute(select(PolicyRecomputeRow).where(PolicyRecomputeRow.done_at.is_(None))).scalars():
        row.done_at = now or utcnow()


def affected_nips(session: Session, agency: str, after: str | None, limit: int) -> list[str]:
    """The next ``limit`` NIPs after ``after`` filed or placed in ``agency``, in order. Each side
    is cut to its own first ``limit`` (read along its (agency, nip) index, migration 0013) before
    the two are merged: the first ``limit`` of the union are among them. Merged whole, every score
    row and membership past the cursor was read and sorted for each batch (100,000-165,000 rows a
    batch at 20,000 ASN: a recompute's batches together quadratic); with an (agency) index only, a
    plan made on nearly empty tables still read the agency's every row (test_batch_plans)."""
    def first(model):
        query = select(model.nip.label("nip")).where(model.agency == agency)
        if after is not None:
            query = query.where(model.nip > after)
        return select(query.distinct().order_by(model.nip).limit(limit).subquery().c.nip)

    both = union(first(ScoreRow), first(MembershipRow)).subquery()
    with planned_each_time(session):  # planned for the tables' size now, not as they were when empty
        return list(session.execute(select(both.c.nip).order_by(both.c.nip).limit(limit)).scalars())


def due(session: Session, nips: list[str], policy_id: str, effective_from: date) -> dict[str, list[date]]:
    """The ASN of ``nips`` the version's recompute must do, each with the first days of its stored
    periods from ``effective_from`` on; an ASN every one of whose such rows was scored by this very
    version (``ScoreRow.policy_id``) is left out: those rows already are what a recompute gives.

    Why that is safe: a row is written with the version it was scored by, in the transaction that
    also rewrites the month totals and every period containing the months it touched, so such a
    row is up to date with its facts and this version (versions never change once stored). A
    transaction still running on the ASN cannot undo it: it holds the ASN's lock from before it
    reads the policy versions (``Policies.check``, after the batch's locks), so if it read the
    versions before this one was stored it also took the lock before any transaction that scored
    with this one, and that one could not have written its row until it committed. A row scored by
    another version (an older one, or none: the defaults) is recomputed, as every row was before.
    Leaving them out also spares their locks: a version early in a stream (a consumer catching up)
    finds most of the agency scored by it already, and a step holding 200 ASN' locks across every
    partition made the group's other consumers wait on it (bench/penilaian_apply.py, 3 consumers)."""
    starts: dict[str, list[date]] = {}
    stale: set[str] = set()
    # planned with its keys at each run, one array of them on PostgreSQL (``key_lists``): the read
    # is a batch's few hundred rows, but a generic plan made while the table was nearly empty walks
    # every score row (60,000 at 20,000 ASN: ~0.23 s a batch; test_batch_plans)
    where = one_of(ScoreRow.nip, nips, session.get_bind().dialect.name == "postgresql")
    with planned_each_time(session):
        found = session.execute(select(ScoreRow.nip, ScoreRow.period, ScoreRow.policy_id).where(where)).all()
    for nip, name, scored_by in found:
        start = parse_period(name).start
        if start >= effective_from:
            starts.setdefault(nip, []).append(start)
            if scored_by != policy_id:
                stale.add(nip)
    return {nip: starts[nip] for nip in sorted(stale)}


def step(session: Session, outbox, *, zone: ZoneInfo, batch_size: int = DEFAULT_BATCH,
         now: datetime | None = None) -> int | None:
    """One batch of the oldest queued recompute, in the caller's transaction: how many ASN it
    recomputed, or None when nothing is queued (or every queued row is another process's now)."""
    query = (select(PolicyRecomputeRow).where(PolicyRecomputeRow.done_at.is_(None))
             .order_by(PolicyRecomputeRow.queued_at, PolicyRecomputeRow.policy_id).limit(1))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    job = session.execute(query).scalar_one_or_none()
    if job is None:
        return None
    nips = affected_nips(session, job.agency, job.cursor_nip, batch_size)
    touched = Touched()
    if nips:
        for nip, starts in due(session, nips, job.policy_id, job.effective_from).items():
            touched.add(nip, starts, agency=job.agency, cause=job.policy_id)
        recompute_many(session, outbox, touched, zone=zone)
        job.cursor_nip = nips[-1]
    job.asn += len(nips)
    job.batches += 1
    if len(nips) < batch_size:
        job.done_at = now or utcnow()
    return len(nips)


class PolicyRecomputer:
    """The consumer's between-polls work: one batch per call while a recompute is queued (each its
    own transaction), and a look at the queue at most every ``idle_check_s`` otherwise (or at once
    after ``wake``: the consumer applied a policy event). Never raises: an error is logged and the
    next call tries again, a little later each time."""

    def __init__(self, session_factory: Callable[[], Session], outbox, *, tz: str,
                 batch_size: int = DEFAULT_BATCH, idle_check_s: float = 2.0):
        self.session_factory, self.outbox, self.zone = session_factory, outbox, ZoneInfo(tz)
        self.batch_size, self.idle_check_s = batch_size, idle_check_s
        self._next_check = 0.0  # look at once: a recompute may be left from before a restart
        self._lock = threading.Lock()
        self.batches = 0

    def wake(self) -> None:
        self._next_check = 0.0

    def __call__(self) -> bool:
        """One step; True when it recomputed a batch (more may be waiting: the consumer loop then
        polls briefly, so a recompute goes on at its pace while no record comes)."""
        now = time.monotonic()
        if now < self._next_check or not self._lock.acquire(blocking=False):
            return False
        try:
            with self.session_factory() as session, session.begin():
                done = step(session, self.outbox, zone=self.zone, batch_size=self.batch_size)
            if done is None:
                self._next_check = now + self.idle_check_s
                return False
            self.batches += 1
            return True
        except Exception:  # noqa: BLE001 - the database may be away; the consumer loop goes on
            log.warning("policy recompute step failed; trying again later", exc_info=True)
            self._next_check = now + self.idle_check_s
            return False
        finally:
            self._lock.release()
