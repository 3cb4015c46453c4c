"""The event envelope: CloudEvents attribute names, JSON on the wire, keyed by NIP.

``make_event`` builds one; ``decode_event`` turns bytes from Kafka back into an ``Event`` or
raises ``InvalidEvent`` with a reason fit for the DLQ header (``parse_envelope`` then
``decode_object``; ``kinerja.events.trusted`` is the fast path of the consumers).
"""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Mapping

from marshmallow import Schema, ValidationError, fields, validate

# data_schema, known_types and InvalidEvent are re-exported: callers import them from here
from kinerja.events.catalogue import data_schema, known_types  # noqa: F401
from kinerja.events.registry import InvalidEvent


class EnvelopeSchema(Schema):
    id = fields.String(required=True, validate=validate.Length(min=1, max=200))
    type = fields.String(required=True, validate=validate.Length(min=1, max=200))
    source = fields.String(required=True, validate=validate.Length(min=1, max=200))
    time = fields.AwareDateTime(required=True, format="iso")
    subject = fields.String(required=True, validate=validate.Length(min=1, max=64))
    agency = fields.String(required=True, validate=validate.Length(min=1, max=64))
    specversion = fields.String(load_default="1.0")
    data = fields.Dict(required=True)


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    source: str
    time: datetime
    subject: str
    agency: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self, data_schema: Schema | None = None) -> dict[str, Any]:
        data = data_schema.dump(self.data) if data_schema is not None else self.data
        return {
            "specversion": "1.0",
            "id": self.id,
            "type": self.type,
            "source": self.source,
            "time": self.time.isoformat(),
            "subject": self.subject,
            "agency": self.agency,
            "data": data,
        }

    def to_bytes(self) -> bytes:
        return json.dumps(self.to_dict(), separators=(",", ":"), default=str).encode()

    @property
    def key(self) -> bytes:
        return self.subject.encode()


def make_event(
    event_type: str,
    *,
    subject: str,
    agency: str,
    data: Mapping[str, Any],
    source: str,
    time: datetime | None = None,
    event_id: str | None = None,
) -> Event:
    """Validate ``data`` against the type's schema and wrap it; raises InvalidEvent if it breaks it."""
    schema = data_schema(event_type)
    dumped = schema.dump(data)
    errors = schema.validate(dumped)
    if errors:
        raise InvalidEvent(f"{event_type}: {errors}")
    return Event(
        id=event_id or str(uuid.uuid4()),
        type=event_type,
        source=source,
        time=time or datetime.now(timezone.utc),
        subject=subject,
        agency=agency,
        data=dumped,
    )


_ENVELOPE = EnvelopeSchema()


def decode_event(raw: bytes | str | None) -> Event:
    """Bytes from Kafka → Event with its data loaded by the type's schema: ``parse_envelope`` then
    ``decode_object``."""
    return decode_object(parse_envelope(raw))


def parse_envelope(raw: bytes | str | None) -> dict:
    """The JSON object of a record, or ``InvalidEvent`` (a tombstone, not JSON, not an object)."""
    if raw is None:
        raise InvalidEvent("empty message (tombstone)")
    try:
        obj = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidEvent(f"not JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise InvalidEvent("envelope is not a JSON object")
    return obj


def decode_object(obj: dict) -> Event:
    """A parsed envelope → Event, by the schemas: the envelope's, then the type's for its data.
    One envelope schema serves every message (building one, its fields deep-copied, was half the
    time of a decode; marshmallow schemas keep no per-load state), as ``data_schema`` keeps one per
    type. Raises ``InvalidEvent`` with the schema's reason."""
    try:
        env = _ENVELOPE.load(obj, unknown="exclude")
    except ValidationError as exc:
        raise InvalidEvent(f"bad envelope: {exc.messages}") from None
    schema = data_schema(env["type"])
    try:
        data = schema.load(env["data"], unknown="exclude")
    except ValidationError as exc:
        raise InvalidEvent(f"{env['type']}: bad data: {exc.messages}") from None
    return Event(
        id=env["id"],
        type=env["type"],
        source=env["source"],
        time=env["time"],
        subject=env["subject"],
        agency=env["agency"],
        data=data,
    )
