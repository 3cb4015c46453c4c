"""marshmallow fields shared by the HTTP APIs."""
from __future__ import annotations

from datetime import timezone

from marshmallow import fields


class Instant(fields.DateTime):
    """An instant, always with its offset on the wire: a naive value (SQLite keeps none; we store
    UTC) leaves as +00:00 rather than as a time nobody can place."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return super()._serialize(value, attr, obj, **kwargs)
