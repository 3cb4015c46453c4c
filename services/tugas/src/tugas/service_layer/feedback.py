"""Feedback threads on a task or an RHK; each message is a ``tugas.feedback.posted.v1`` event so
notifikasi can deliver it."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kinerja.events import make_event
from kinerja.events.tugas import FEEDBACK_POSTED
from kinerja.messaging.outbox import Outbox
from tugas.adapters.orm import FeedbackMessageRow, FeedbackThreadRow, RhkRow, SkpRow, TaskRow
from tugas.domain import feedback as rules
from tugas.domain.errors import InvalidInput, NotAllowed
from tugas.service_layer.context import SOURCE, Actor, utcnow
from tugas.service_layer.roster import supervisor_of
from tugas.service_layer.tasks import TaskNotFound


class SubjectNotFound(TaskNotFound):
    pass


def _subject(session: Session, actor: Actor, task_id: str | None, rhk_id: str | None) -> tuple[str, str]:
    """(owner NIP, agency) of the task or RHK a thread is about."""
    if bool(task_id) == bool(rhk_id):
        raise InvalidInput("give exactly one of task_id or rhk_id")
    if task_id:
        task = session.get(TaskRow, task_id)
        if task is None or task.agency != actor.agency:
            raise SubjectNotFound(task_id)
        return task.nip, task.agency
    rhk = session.get(RhkRow, rhk_id)
    skp = session.get(SkpRow, rhk.skp_id) if rhk is not None else None
    if skp is None or skp.agency != actor.agency:
        raise SubjectNotFound(rhk_id)
    return skp.nip, skp.agency


def _thread(session: Session, task_id: str | None, rhk_id: str | None) -> FeedbackThreadRow | None:
    column = FeedbackThreadRow.task_id if task_id else FeedbackThreadRow.rhk_id
    return session.execute(select(FeedbackThreadRow).where(column == (task_id or rhk_id))).scalars().first()


def post_message(session: Session, outbox: Outbox, actor: Actor, *, text: str, task_id: str | None = None,
                 rhk_id: str | None = None, now: datetime | None = None,
                 message_id: str | None = None) -> FeedbackMessageRow:
    """``message_id``: a caller-chosen id (a history loaded again finds its messages), else a new one."""
    now = now or utcnow()
    owner, agency = _subject(session, actor, task_id, rhk_id)
    to = rules.recipient(owner_nip=owner, supervisor_nip=supervisor_of(session, owner), author_nip=actor.nip or "")
    text = rules.check_text(text)
    thread = _thread(session, task_id, rhk_id)
    if thread is None:
        thread = FeedbackThreadRow(id=str(uuid.uuid4()), agency=agency, nip=owner, task_id=task_id, rhk_id=rhk_id,
                                   created_at=now)
        try:
            with session.begin_nested():
                session.add(thread)
                session.flush()
        except IntegrityError:  # opened concurrently by the other participant
            thread = _thread(session, task_id, rhk_id)
    message = FeedbackMessageRow(id=message_id or str(uuid.uuid4()), thread_id=thread.id, author_nip=actor.nip, recipient_nip=to,
                                 text=text, created_at=now)
    session.add(message)
    session.flush()
    outbox.add(session, make_event(FEEDBACK_POSTED, subject=owner, agency=agency, source=SOURCE, time=now, data={
        "message_id": message.id, "thread_id": thread.id, "nip": owner, "author_nip": message.author_nip,
        "recipient_nip": to, "text": text, "task_id": task_id, "rhk_id": rhk_id, "posted_at": now}))
    return message


def read_thread(session: Session, actor: Actor, *, task_id: str | None = None,
                rhk_id: str | None = None) -> tuple[FeedbackThreadRow | None, list[FeedbackMessageRow]]:
    owner, _ = _subject(session, actor, task_id, rhk_id)
    if not (actor.role == "admin" or actor.nip == owner or supervisor_of(session, owner) == actor.nip):
        raise NotAllowed("only the ASN, their supervisor and the agency admin read this thread")
    thread = _thread(session, task_id, rhk_id)
    if thread is None:
        return None, []
    messages = session.execute(
        select(FeedbackMessageRow).where(FeedbackMessageRow.thread_id == thread.id)
        .order_by(FeedbackMessageRow.created_at, FeedbackMessageRow.id)).scalars()
    return thread, list(messages)
