"""Bodies of the tasks API: assigning or proposing a task, each lifecycle action, the list."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from kinerja.events.tugas import TASK_CATEGORIES, TASK_CATEGORY_DESCRIPTION
from kinerja.fields import MAX_ID, BoundedDecimal, Nip, Text, WindowDate
from tugas.domain.tasks import STATUSES as TASK_STATUSES
from tugas.entrypoints.schemas import (MAX_LIMIT, MAX_QUANTITY, PERIOD_PATTERN, PageOut, PagingArgs, VersionMixin,
                                       link_list, object_id, quantity)

class TaskIn(Schema):
    nip = Nip(load_default=None, metadata={"description": "the assignee: a direct subordinate of the caller "
                                                           "(assigned), or the caller (a proposal their supervisor "
                                                           "accepts); left out: the caller, as the token names them"})
    title = Text(500, 1, required=True)
    description = Text(20000, load_default=None, allow_none=True, multi_line=True)
    due_date = WindowDate(required=True)
    target_quantity = quantity(required=True, metadata={"description": "greater than 0"})
    rhk_id = object_id(load_default=None, allow_none=True)
    category = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(TASK_CATEGORIES),
                             metadata={"description": TASK_CATEGORY_DESCRIPTION})


class TaskQuery(PagingArgs):
    assignee = Nip()
    status = fields.String(validate=validate.OneOf(TASK_STATUSES))
    period = fields.String(validate=validate.Regexp(PERIOD_PATTERN, error="period must be YYYY-MM"),
                           metadata={"description": "tasks due in this month"})
    rhk = object_id()
    page = fields.Integer(validate=validate.Range(1, MAX_ID // MAX_LIMIT),
                          metadata={"description": "1-based; overrides offset"})


class StartIn(VersionMixin):
    pass


class SubmitIn(VersionMixin):
    note = Text(5000, load_default=None, allow_none=True, multi_line=True)
    links = link_list()


class ApproveIn(VersionMixin):
    realised_quantity = BoundedDecimal(0, MAX_QUANTITY, required=True)
    quality = fields.Integer(required=True, strict=True, validate=validate.Range(0, 100),
                             metadata={"description": "a whole number from 0 to 100"})
    note = Text(5000, load_default=None, allow_none=True, multi_line=True)


class ReturnIn(VersionMixin):
    feedback = Text(5000, 1, required=True, multi_line=True)

    @validates_schema
    def not_blank(self, data, **_):
        if not data.get("feedback", "").strip():
            raise ValidationError("feedback must not be blank", "feedback")


class AcceptIn(VersionMixin):
    due_date = WindowDate(load_default=None, allow_none=True, metadata={"description": "change the proposed due date"})
    target_quantity = quantity(load_default=None, allow_none=True)


class RescheduleIn(VersionMixin):
    due_date = WindowDate(load_default=None, allow_none=True,
                          metadata={"description": "the new due date; a date in the past is allowed (a deadline "
                                                   "that has already passed: the task is then late or overdue)"})
    title = Text(500, 1, load_default=None, allow_none=True)
    target_quantity = quantity(load_default=None, allow_none=True, metadata={"description": "greater than 0"})

    @validates_schema
    def something_to_change(self, data, **_):
        if data.get("due_date") is None and data.get("title") is None and data.get("target_quantity") is None:
            raise ValidationError("give at least one of due_date, title, target_quantity", "_schema")
        if data.get("title") is not None and not data["title"].strip():
            raise ValidationError("title must not be blank", "title")


class RejectIn(VersionMixin):
    reason = Text(5000, 1, required=True, multi_line=True)


class CancelIn(VersionMixin):
    reason = Text(5000, load_default=None, allow_none=True, multi_line=True)


class TaskOut(Schema):
    id = fields.String()
    agency = fields.String()
    nip = fields.String()
    atasan_nip = fields.String(allow_none=True)
    assigned_by = fields.String()
    title = fields.String()
    description = fields.String(allow_none=True)
    category = fields.String(allow_none=True, validate=validate.OneOf(TASK_CATEGORIES),
                             metadata={"description": TASK_CATEGORY_DESCRIPTION})
    rhk_id = fields.String(allow_none=True)
    status = fields.String()
    due_date = fields.Date()
    target_quantity = fields.Decimal(as_string=True)
    realised_quantity = fields.Decimal(as_string=True, allow_none=True)
    quality = fields.Integer(allow_none=True)
    submitted_at = fields.DateTime(allow_none=True)
    approved_at = fields.DateTime(allow_none=True)
    note = fields.String(allow_none=True)
    links = fields.List(fields.String())
    overdue_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    version = fields.Integer()


class TaskPage(PageOut):
    items = fields.List(fields.Nested(TaskOut))
