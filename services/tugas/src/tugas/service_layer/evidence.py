"""Evidence files of a task: stored under the service's evidence dir, described by a row.

The file is written (to a temporary name, then renamed) before the row is committed; if the
transaction fails the file is removed, so a row never names a missing file.
"""
from __future__ import annotations

import hashlib
import os
import re
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
from tugas.service_layer.context import Actor, utcnow
from tugas.service_layer.task_visibility import read_task
from tugas.service_layer.tasks import load_task

OPEN_FOR_EVIDENCE = (task_rules.ASSIGNED, task_rules.IN_PROGRESS, task_rules.RETURNED)
CHUNK = 64 * 1024


# what a download is served as when the uploader said so; anything else (HTML, SVG, scripts, XML,
# or a type nobody recognises) is served as application/octet-stream, always as an attachment
SAFE_TYPES = frozenset({
    "application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp", "text/plain", "text/csv",
    "application/zip", "application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.spreadsheet",
})
OCTET_STREAM = "application/octet-stream"
MAX_NAME = 120  # characters of the stored name (the file system allows 255 bytes; the row 255)
_MIME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+-]{0,60}/[A-Za-z0-9][A-Za-z0-9.+-]{0,100}$")


def stored_name(filename: str | None) -> str:
    """The upload's name made safe (``secure_filename``) and short enough for any file system,
    keeping its extension."""
    name = secure_filename(filename or "") or "evidence"
    if len(name) > MAX_NAME:
        stem, ext = os.path.splitext(name)
        ext = ext[:16]
        name = stem[:MAX_NAME - len(ext)] + ext
    return name


def declared_type(content_type: str | None) -> str:
    """The uploader's ``type/subtype`` when it is one, lower-cased; else application/octet-stream."""
    value = (content_type or "").split(";", 1)[0].strip().lower()
    return value if _MIME.match(value) else OCTET_STREAM


def served_type(content_type: str) -> str:
    """What a download is served as: the stored type if it is on the safe list."""
    return content_type if content_type in SAFE_TYPES else OCTET_STREAM


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
    name = stored_name(filename)
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
    row = EvidenceRow(id=evidence_id, task_id=task.id, filename=name, content_type=declared_type(content_type),
                      size=size, sha256=digest.hexdigest(), path=str(relative), uploaded_by=actor.nip, uploaded_at=now)
    session.add(row)
    session.flush()
    return row, target


def list_evidence(session: Session, actor: Actor, task_id: str) -> list[EvidenceRow]:
    task = read_task(session, actor, task_id)
    return list(session.execute(
        select(EvidenceRow).where(EvidenceRow.task_id == task.id).order_by(EvidenceRow.uploaded_at, EvidenceRow.id)
    ).scalars())


def get_evidence(session: Session, actor: Actor, task_id: str, evidence_id: str) -> EvidenceRow:
    for row in list_evidence(session, actor, task_id):
        if row.id == evidence_id:
            return row
    raise EvidenceNotFound(evidence_id)
