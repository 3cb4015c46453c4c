"""Bodies of the feedback API: a message on a task's or an RHK's thread, and the thread."""
from marshmallow import Schema, ValidationError, fields, validates_schema

from kinerja.fields import Text
from tugas.entrypoints.schemas import object_id


class OneSubject(Schema):
    """A thread is about a task or an RHK: exactly one of the two ids."""

    @validates_schema
    def one_subject(self, data, **_):
        if bool(data.get("task_id")) == bool(data.get("rhk_id")):
            raise ValidationError("give exactly one of task_id or rhk_id", "task_id")


class FeedbackIn(OneSubject):
    task_id = object_id(load_default=None, allow_none=True)
    rhk_id = object_id(load_default=None, allow_none=True)
    text = Text(5000, 1, required=True, multi_line=True)


class FeedbackQuery(OneSubject):
    task_id = object_id()
    rhk_id = object_id()


class FeedbackMessageOut(Schema):
    id = fields.String()
    thread_id = fields.String()
    author_nip = fields.String()
    recipient_nip = fields.String()
    text = fields.String()
    created_at = fields.DateTime()


class FeedbackThreadOut(Schema):
    thread_id = fields.String(allow_none=True)
    nip = fields.String(allow_none=True)
    task_id = fields.String(allow_none=True)
    rhk_id = fields.String(allow_none=True)
    messages = fields.List(fields.Nested(FeedbackMessageOut))
