"""Request and response schemas of the HTTP API (they also make its OpenAPI document)."""
from marshmallow import Schema, fields, validate

from kinerja.fields import Id


class InboxQuery(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200))
    before_id = Id(load_default=None, allow_none=True, metadata={"description": "the next page: ids below this one"})
    unread = fields.Boolean(load_default=False, metadata={"description": "only unread notifications"})


class NotificationOut(Schema):
    id = fields.Integer()
    kind = fields.String()
    title = fields.String()
    body = fields.String()
    audience = fields.String(metadata={"description": "asn: about you; atasan: about your team"})
    subject_nip = fields.String()
    recipient_nip = fields.String()
    agency = fields.String()
    event_id = fields.String()
    event_type = fields.String()
    payload = fields.Dict()
    created_at = fields.String()
    read_at = fields.String(allow_none=True)


class InboxPage(Schema):
    items = fields.List(fields.Nested(NotificationOut))
    unread = fields.Integer(metadata={"description": "unread notifications in the whole inbox"})
    next_before_id = fields.Integer(allow_none=True, metadata={"description": "pass as before_id for the next page"})
