"""Request and response schemas of the HTTP API (they also make its OpenAPI document)."""
from marshmallow import Schema, fields, validate

from kinerja.fields import Id


class InboxQuery(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200))
    before_id = Id(load_default=None, allow_none=True, metadata={"description": "the next page: ids below this one"})
    unread = fields.Boolean(load_default=False, metadata={"description": "only unread notifications"})


EMAIL_STATUSES = ("pending", "sent", "failed")


class EmailStatusOut(Schema):
    """Where the e-mail of a notification is: waiting (for its batch window, or for a retry after
    a failed attempt: ``attempts`` and ``last_error`` say so), sent, or given up."""

    id = fields.Integer()
    status = fields.String(validate=validate.OneOf(EMAIL_STATUSES))
    to_address = fields.String()
    attempts = fields.Integer(metadata={"description": "attempts made so far"})
    last_error = fields.String(allow_none=True, metadata={"description": "why the last attempt failed"})
    next_attempt_at = fields.String(allow_none=True, metadata={"description": "pending: when it is tried next"})
    sent_at = fields.String(allow_none=True)
    created_at = fields.String()


class EmailMessageOut(EmailStatusOut):
    recipient_nip = fields.String()
    subject = fields.String()
    kind = fields.String(metadata={"description": "immediate (batched over a few minutes) or digest (daily)"})
    notification_id = fields.Integer(allow_none=True)


class EmailMessagesQuery(Schema):
    status = fields.String(load_default=None, validate=validate.OneOf(EMAIL_STATUSES))
    nip = fields.String(load_default=None, validate=validate.Regexp(r"^\d{18}$", error="NIP must be 18 digits"),
                        metadata={"description": "an admin: one person's; others read only their own"})
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200))
    before_id = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(1, 2**63 - 1),
                               metadata={"description": "the next page: ids below this one"})


class EmailMessagesPage(Schema):
    items = fields.List(fields.Nested(EmailMessageOut))
    next_before_id = fields.Integer(allow_none=True)


class MarkAllReadIn(Schema):
    up_to_id = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(1, 2**63 - 1), metadata={
        "description": "the newest notification id the reader has seen: newer ones stay unread (default: all)"})


class MarkAllReadOut(Schema):
    marked = fields.Integer(metadata={"description": "notifications marked read now"})
    unread = fields.Integer(metadata={"description": "unread notifications left"})


def payload_schemas() -> dict[str, type[Schema]]:
    """The data schema of each event type the inbox tells of, by component name (the OpenAPI
    document describes a notification's payload with them)."""
    from kinerja.events.envelope import data_schema
    from notifikasi.service_layer.notifications import RULES

    return {f"Event{type(data_schema(t)).__name__}": type(data_schema(t)) for t in sorted(RULES)}


class MailerNoticePayload(Schema):
    """What the agency's admins are told of the mailer carries no event data."""


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
    payload = fields.Dict(metadata={
        "description": "the data of the event the notification is about (its type in event_type), as published; "
                       "empty for the mailer's notices to the admins (event_type notifikasi.mailer)",
        "oneOf": [{"$ref": f"#/components/schemas/{name}"} for name in sorted(payload_schemas())]
        + [{"$ref": "#/components/schemas/MailerNoticePayload"}]})
    created_at = fields.String()
    read_at = fields.String(allow_none=True)
    email = fields.Nested(EmailStatusOut, allow_none=True, metadata={
        "description": "the e-mail sent about it, if the recipient takes e-mail at once: its delivery status"})


class InboxPage(Schema):
    items = fields.List(fields.Nested(NotificationOut))
    unread = fields.Integer(metadata={"description": "unread notifications in the whole inbox"})
    next_before_id = fields.Integer(allow_none=True, metadata={"description": "pass as before_id for the next page"})
