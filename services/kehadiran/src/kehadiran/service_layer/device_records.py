"""What an ADMS device uploads besides punches: the users enrolled on it and its operation log
(OPERLOG, and the users a ``DATA QUERY`` answer brings), and the photos and biometric templates
of push 3.x, kept only where the deployment says so. The caller owns the transaction."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kehadiran.adapters.adms import PIN_RE, OperRecord, QueryRecord, parse_time, user_of
from kehadiran.adapters.orm import Device, DeviceOperLog, DeviceUpload, DeviceUser


def record_operlog(session: Session, device: Device, records: Iterable[OperRecord], now: datetime) -> int:
    """Store USER records (latest wins) and OPLOG entries (once each). Fingerprint, face and photo
    templates are biometric data we have no use for: acknowledged, not stored. Returns how many
    records were accepted (all well-formed ones, re-sent ones included)."""
    accepted = 0
    for record in records:
        accepted += 1
        if record.kind == "USER":
            user = user_of(record)
            assert user is not None
            row = session.get(DeviceUser, (device.sn, user.pin))
            if row is None:
                row = DeviceUser(device_sn=device.sn, pin=user.pin)
                session.add(row)
            row.name, row.privilege = user.name[:100], user.privilege
            row.card = user.card[:32] if user.card else None
            row.group = user.group[:16] if user.group else None
            row.updated_at = now
        elif record.kind == "OPLOG":
            v = record.values
            op_time = parse_time(v["time"])
            objects = "\t".join(v.get(k, "") for k in ("obj1", "obj2", "obj3", "obj4"))[:200]
            key = dict(device_sn=device.sn, op=v["op"][:16], admin=v["admin"][:32], op_time=op_time, objects=objects)
            exists = session.execute(select(DeviceOperLog.id).filter_by(**key)).first()
            if exists:
                continue
            try:
                with session.begin_nested():
                    session.add(DeviceOperLog(**key, received_at=now))
                    session.flush()
            except IntegrityError:
                pass  # stored concurrently by a re-sent batch
    session.flush()
    return accepted


# -- photos and biometric templates (push 3.x) ------------------------------------------------
@dataclass(frozen=True)
class UploadPolicy:
    """What becomes of a photo or template a terminal pushes: acknowledged always (an error reply
    would make it push again forever), stored only when the deployment says so, each at most
    ``max_bytes``, the newest ``keep`` per device and kind."""

    photos: bool = False  # KEHADIRAN_DEVICE_PHOTOS=store
    templates: bool = False  # KEHADIRAN_DEVICE_TEMPLATES=store (biometric data: off unless needed)
    max_bytes: int = 256 * 1024  # KEHADIRAN_DEVICE_UPLOAD_MAX_BYTES
    keep: int = 500  # KEHADIRAN_DEVICE_UPLOADS_KEEP


def store_upload(session: Session, device: Device, kind: str, pin: str | None, label: str, content: bytes | None,
                 now: datetime, policy: UploadPolicy) -> bool:
    """Keep one photo (``kind`` photo) or template (template) if the policy allows it; True when it
    is stored (now or before). Beyond ``keep`` per device and kind, the oldest go."""
    allowed = policy.photos if kind == "photo" else policy.templates
    if not allowed or not content or len(content) > policy.max_bytes:
        return False
    digest = hashlib.sha256(content).hexdigest()
    found = session.execute(select(DeviceUpload.id).where(DeviceUpload.device_sn == device.sn,
                                                          DeviceUpload.kind == kind,
                                                          DeviceUpload.sha256 == digest)).first()
    if found:
        return True
    try:
        with session.begin_nested():
            session.add(DeviceUpload(device_sn=device.sn, agency=device.agency, kind=kind, pin=pin, label=label[:100],
                                     size=len(content), sha256=digest, content=content, received_at=now))
            session.flush()
    except IntegrityError:
        return True  # the same upload, stored by a concurrent request
    stale = session.execute(select(DeviceUpload.id).where(DeviceUpload.device_sn == device.sn,
                                                          DeviceUpload.kind == kind)
                            .order_by(DeviceUpload.id.desc()).offset(policy.keep).limit(1000)).scalars().all()
    if stale:
        session.execute(delete(DeviceUpload).where(DeviceUpload.id.in_(stale)))
    return True


def record_query_users(session: Session, device: Device, records: Iterable[QueryRecord], now: datetime) -> int:
    """The ``user`` records of a ``DATA QUERY`` answer (keys in lower case), kept like OPERLOG's."""
    def field(values: dict[str, str], name: str) -> str:
        return values.get(name.lower(), values.get(name, ""))

    users = [OperRecord(r.line_no, "USER", {"PIN": r.values["PIN"].strip(), "Name": field(r.values, "Name"),
                                            "Pri": field(r.values, "Pri"), "Card": field(r.values, "Card"),
                                            "Grp": field(r.values, "Grp")})
             for r in records if r.table in ("user", "userinfo") and PIN_RE.match(r.values.get("PIN", "").strip())]
    return record_operlog(session, device, users, now)
