"""Topic ``tugas.v1``: SKP decisions, task lifecycle, feedback, innovation.

Task events carry what penilaian needs to score without calling back.
"""
from marshmallow import Schema, fields, validate

from kinerja.events.common import nip_field
from kinerja.events.envelope import register

TASK_ASSIGNED = "tugas.task.assigned.v1"
TASK_SUBMITTED = "tugas.task.submitted.v1"
TASK_APPROVED = "tugas.task.approved.v1"
TASK_RETURNED = "tugas.task.returned.v1"
TASK_OVERDUE = "tugas.task.overdue.v1"
TASK_CANCELLED = "tugas.task.cancelled.v1"
SKP_APPROVED = "tugas.skp.approved.v1"
FEEDBACK_POSTED = "tugas.feedback.posted.v1"
INNOVATION_APPROVED = "tugas.innovation.approved.v1"

TASK_STATUSES = ("assigned", "in_progress", "submitted", "approved", "returned", "cancelled")


class TaskState(Schema):
    task_id = fields.String(required=True)
    nip = nip_field(required=True)
    atasan_nip = nip_field(allow_none=True, load_default=None)
    title = fields.String(required=True)
    rhk_id = fields.String(allow_none=True, load_default=None)
    status = fields.String(required=True, validate=validate.OneOf(TASK_STATUSES))
    due_date = fields.Date(required=True)
    target_quantity = fields.Decimal(required=True, as_string=True)
    realised_quantity = fields.Decimal(allow_none=True, load_default=None, as_string=True)
    quality = fields.Integer(allow_none=True, load_default=None, validate=validate.Range(0, 100))
    submitted_at = fields.AwareDateTime(allow_none=True, load_default=None)
    approved_at = fields.AwareDateTime(allow_none=True, load_default=None)
    note = fields.String(allow_none=True, load_default=None)
    category = fields.String(allow_none=True, load_default=None)


for _type in (TASK_ASSIGNED, TASK_SUBMITTED, TASK_APPROVED, TASK_RETURNED, TASK_OVERDUE, TASK_CANCELLED):
    register(_type)(TaskState)


@register(SKP_APPROVED)
class SkpApproved(Schema):
    skp_id = fields.String(required=True)
    nip = nip_field(required=True)
    atasan_nip = nip_field(allow_none=True, load_default=None)
    year = fields.Integer(required=True)
    revision = fields.Integer(load_default=1)


@register(FEEDBACK_POSTED)
class FeedbackPosted(Schema):
    message_id = fields.String(required=True)
    thread_id = fields.String(required=True)
    nip = nip_field(required=True)
    author_nip = nip_field(required=True)
    recipient_nip = nip_field(required=True)
    text = fields.String(required=True)
    task_id = fields.String(allow_none=True, load_default=None)
    rhk_id = fields.String(allow_none=True, load_default=None)


@register(INNOVATION_APPROVED)
class InnovationApproved(Schema):
    innovation_id = fields.String(required=True)
    nip = nip_field(required=True)
    title = fields.String(required=True)
    approved_at = fields.AwareDateTime(required=True)
