"""Topic ``tugas.v1``: SKP decisions, task lifecycle, feedback, innovation.

Task events carry what penilaian needs to score without calling back.
"""
from marshmallow import Schema, fields, validate

from kinerja.events.common import nip_field
from kinerja.events.registry import register

TASK_ASSIGNED = "tugas.task.assigned.v1"
TASK_SUBMITTED = "tugas.task.submitted.v1"
TASK_APPROVED = "tugas.task.approved.v1"
TASK_RETURNED = "tugas.task.returned.v1"
TASK_OVERDUE = "tugas.task.overdue.v1"
TASK_CANCELLED = "tugas.task.cancelled.v1"
TASK_RESCHEDULED = "tugas.task.rescheduled.v1"
SKP_APPROVED = "tugas.skp.approved.v1"
FEEDBACK_POSTED = "tugas.feedback.posted.v1"
INNOVATION_APPROVED = "tugas.innovation.approved.v1"
# submissions that wait for the supervisor (issue 19): notifikasi tells them
SKP_SUBMITTED = "tugas.skp.submitted.v1"
TASK_PROPOSED = "tugas.task.proposed.v1"
INNOVATION_PROPOSED = "tugas.innovation.proposed.v1"

TASK_STATUSES = ("assigned", "in_progress", "submitted", "approved", "returned", "cancelled", "proposed")
# what kind of work a task is (tugas's API takes only these; penilaian suggests public-service
# training from ``pelayanan`` tasks of low quality). Events keep the field a free string, so
# tasks stored before the list existed still decode.
TASK_CATEGORIES = ("pelayanan", "administrasi", "teknis", "perencanaan", "pengawasan", "lainnya")
TASK_CATEGORY_DESCRIPTION = (
    "pelayanan: public service to citizens or other agencies (low quality suggests public-service training); "
    "administrasi: correspondence, records, finance; teknis: the technical work of the position; "
    "perencanaan: plans, budgets, reports; pengawasan: supervision, inspection, audit; lainnya: anything else")


class EvidenceFile(Schema):
    """One evidence file of a task as uploaded: its name, size in bytes and SHA-256, so a reader of
    the event knows what was handed in without fetching the files."""

    evidence_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    name = fields.String(required=True, validate=validate.Length(min=1, max=255))
    size = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=2**63 - 1))
    sha256 = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{64}$", error="a SHA-256 in hex"))
    content_type = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=200))


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
    # additive: on submitted events, the evidence files handed in with the submission
    evidence = fields.List(fields.Nested(EvidenceFile), load_default=list, validate=validate.Length(max=1000))


# a proposal (status "proposed") is an ASN's own task waiting for the supervisor to accept it;
# penilaian scores no proposal (it counts once accepted, as tugas.task.assigned.v1)
for _type in (TASK_ASSIGNED, TASK_SUBMITTED, TASK_APPROVED, TASK_RETURNED, TASK_OVERDUE, TASK_CANCELLED,
              TASK_PROPOSED):
    register(_type)(TaskState)


@register(TASK_RESCHEDULED)
class TaskRescheduled(TaskState):
    """The supervisor changed an open task's terms: its state after the change (the due date,
    title and target now in force, its status unchanged) and the terms before it. A new due date
    moves the task to the period it now falls in and is what its timeliness is judged by."""

    previous_due_date = fields.Date(required=True)
    previous_title = fields.String(required=True)
    previous_target_quantity = fields.Decimal(required=True, as_string=True)
    rescheduled_by = nip_field(allow_none=True, load_default=None)


class SkpIndicator(Schema):
    indicator = fields.String(required=True, validate=validate.Length(max=1000))
    target_quantity = fields.Decimal(required=True, as_string=True)
    unit = fields.String(required=True, validate=validate.Length(max=100))
    quality_target = fields.Integer(load_default=100, validate=validate.Range(0, 100))
    time_target = fields.String(load_default="12 bulan", validate=validate.Length(max=100))


class SkpRhk(Schema):
    id = fields.String(required=True, validate=validate.Length(max=64))
    kind = fields.String(required=True, validate=validate.OneOf(["main", "additional"]))
    text = fields.String(required=True, validate=validate.Length(max=2000))
    parent_rhk_id = fields.String(allow_none=True, load_default=None)
    indicators = fields.List(fields.Nested(SkpIndicator), load_default=list)


@register(SKP_APPROVED)
class SkpApproved(Schema):
    skp_id = fields.String(required=True)
    nip = nip_field(required=True)
    atasan_nip = nip_field(allow_none=True, load_default=None)
    year = fields.Integer(required=True)
    revision = fields.Integer(load_default=1)
    # additive: the approved plan (RHK with indicators and targets) and when it was approved, so
    # penilaian can print the evaluation document without reading tugas's tables
    approved_at = fields.AwareDateTime(allow_none=True, load_default=None)
    rhk = fields.List(fields.Nested(SkpRhk), load_default=list)


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
    posted_at = fields.AwareDateTime(allow_none=True, load_default=None)  # additive


@register(INNOVATION_APPROVED)
class InnovationApproved(Schema):
    innovation_id = fields.String(required=True)
    nip = nip_field(required=True)
    title = fields.String(required=True)
    approved_at = fields.AwareDateTime(required=True)


@register(SKP_SUBMITTED)
class SkpSubmitted(Schema):
    """The ASN submitted their SKP draft (a first plan or a revision) to their supervisor."""

    skp_id = fields.String(required=True, validate=validate.Length(max=64))
    nip = nip_field(required=True)
    atasan_nip = nip_field(allow_none=True, load_default=None)
    year = fields.Integer(required=True)
    revision = fields.Integer(load_default=1, metadata={"description": "the revision approval would make"})
    submitted_at = fields.AwareDateTime(required=True)


@register(INNOVATION_PROPOSED)
class InnovationProposed(Schema):
    innovation_id = fields.String(required=True, validate=validate.Length(max=64))
    nip = nip_field(required=True)
    atasan_nip = nip_field(allow_none=True, load_default=None)
    title = fields.String(required=True)
    proposed_at = fields.AwareDateTime(required=True)
