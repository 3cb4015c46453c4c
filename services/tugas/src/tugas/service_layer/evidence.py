"""Evidence files of a task: stored under the service's evidence dir, described by a row.

The file is written (to a temporary name, then renamed) before the row is committed; if the
transaction fails the file is removed, so a row never names a missing file.
"""
from __future__ import annotations

import hashlib
import os
import uuid
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.utils import secure_filename

from tugas.adapters.orm import EvidenceRow
from tugas.domain import tasks as task_rules
from tugas.domain.errors import IllegalTransition, InvalidInput, NotAllowed
from tugas.service_layer.tasks import Actor, can_see, load_task, utcnow

OPEN_FOR_EVIDENCE = (task_rules.ASSIGNED, task_rules.IN_PROGRESS, task_rules.RETURNED)
CHUNK = 64 * 1024


class EvidenceNotFound(Exception):
    pass


class FileTooLarge(InvalidInput):
    pass


def store_evidence(session: Session, actor: Actor, task_id: str, *, stream: BinaryIO, filename: str,
                   content_type: str, evidence_dir: Path, max_bytes: int,
                   now: datetime | None = None) -> tuple[EvidenceRow, Path]:
    """Write the upload and add its row; returns the row and the file's path (the caller removes the
    file if the transaction does not commit)."""
    now = now or utcnow()
    task = load_task(session, actor, task_id)
    if actor.nip != task.nip:
        raise NotAllowed("only the assignee adds evidence to this task")
    if task.status not in OPEN_FOR_EVIDENCE:
        raise IllegalTransition(f"cannot add evidence to a task that is {task.status}")
    name = secure_filename(filename or "") or "evidence"
    evidence_id = str(uuid.uuid4())
    relative = Path(task.id) / f"{evidence_id}-{name}"
    target = evidence_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    digest, size = hashlib.sha256(), 0
    try:
        with open(partial, "wb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise FileTooLarge(f"file is larger than {max_bytes} bytes")
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise InvalidInput("file is empty")
        os.replace(partial, target)
    finally:
        if partial.exists():
            partial.unlink()
    row = EvidenceRow(id=evidence_id, task_id=task.id, filename=name, content_type=content_type or "application/octet-stream",
                      size=size, sha256=digest.hexdigest(), path=str(relative), uploaded_by=actor.nip, uploaded_at=now)
    session.add(row)
    session.flush()
    return row, target


def list_evidence(session: Session, actor: Actor, task_id: str) -> list[EvidenceRow]:
    task = load_task(session, actor, task_id)
    if not can_see(session, actor, task):
        raise NotAllowed("this task is neither yours nor your team's")
    return list(session.execute(
        select(EvidenceRow).where(EvidenceRow.task_id == task.id).order_by(EvidenceRow.uploaded_at, EvidenceRow.id)
    ).scalars())


def get_evidence(session: Session, actor: Actor, task_id: str, evidence_id: str) -> EvidenceRow:
    for row in list_evidence(session, actor, task_id):
        if row.id == evidence_id:
            return row
    raise EvidenceNotFound(evidence_id)
