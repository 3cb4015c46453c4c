"""Request and response schemas of the HTTP API (they also make its OpenAPI document)."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from kinerja.events.common import NIP_PATTERN
from kinerja.events.tugas import TASK_CATEGORIES, TASK_CATEGORY_DESCRIPTION
from kinerja.fields import MAX_ID, MONTH_PATTERN, BoundedDecimal, Count, Offset, Text, WindowDate, Year
from tugas.domain.tasks import STATUSES as TASK_STATUSES

PERIOD_PATTERN = MONTH_PATTERN
# a quantity fits its column (NUMERIC(14, 2)) with room to spare
MAX_QUANTITY = 1_000_000_000
MAX_LIMIT = 500


def quantity(**kw):
    return BoundedDecimal(0, MAX_QUANTITY, min_inclusive=False, **kw)


def object_id(**kw):
    """A task, RHK or other row id (a UUID; a little room for longer ones)."""
    return Text(64, 1, **kw)


def link_list(**kw):
    return fields.List(fields.Url(validate=validate.Length(max=2000)), load_default=list,
                       validate=validate.Length(max=50), **kw)


def nip(**kw):
    return fields.String(validate=validate.Regexp(NIP_PATTERN, error="NIP must be 18 digits"), **kw)


class TaskIn(Schema):
    nip = nip(load_default=None, metadata={"description": "the assignee: a direct subordinate of the caller "
                                                           "(assigned), or the caller (a proposal their supervisor "
                                                           "accepts); left out: the caller, as the token names them"})
    title = Text(500, 1, required=True)
    description = Text(20000, load_default=None, allow_none=True, multi_line=True)
    due_date = WindowDate(required=True)
    target_quantity = quantity(required=True, metadata={"description": "greater than 0"})
    rhk_id = object_id(load_default=None, allow_none=True)
    category = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(TASK_CATEGORIES),
                             metadata={"description": TASK_CATEGORY_DESCRIPTION})


class TaskQuery(Schema):
    assignee = nip()
    status = fields.String(validate=validate.OneOf(TASK_STATUSES))
    period = fields.String(validate=validate.Regexp(PERIOD_PATTERN, error="period must be YYYY-MM"),
                           metadata={"description": "tasks due in this month"})
    rhk = object_id()
    limit = fields.Integer(load_default=50, validate=validate.Range(1, MAX_LIMIT))
    offset = Offset(load_default=0)
    page = fields.Integer(validate=validate.Range(1, MAX_ID // MAX_LIMIT),
                          metadata={"description": "1-based; overrides offset"})


class VersionMixin(Schema):
    version = Count(1, load_default=None, allow_none=True,
                    metadata={"description": "the version you read; a stale one gives 409"})


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


class TaskPage(Schema):
    items = fields.List(fields.Nested(TaskOut))
    total = fields.Integer()
    limit = fields.Integer()
    offset = fields.Integer()


# -- SKP ----------------------------------------------------------------------------------------
class IndicatorSchema(Schema):
    indicator = Text(1000, 1, required=True, multi_line=True)
    target_quantity = quantity(required=True, as_string=True)
    unit = Text(100, 1, required=True, metadata={"description": "e.g. dokumen, laporan, kegiatan"})
    quality_target = fields.Integer(load_default=100, strict=True, validate=validate.Range(0, 100))
    time_target = Text(100, 1, load_default="12 bulan")


class RhkSchema(Schema):
    id = object_id(load_default=None, allow_none=True,
                   metadata={"description": "keep it to change an RHK; leave it out for a new one"})
    kind = fields.String(required=True, validate=validate.OneOf(["main", "additional"]))
    text = Text(2000, 1, required=True, multi_line=True)
    parent_rhk_id = object_id(load_default=None, allow_none=True,
                              metadata={"description": "the supervisor's RHK this one supports (cascading)"})
    indicators = fields.List(fields.Nested(IndicatorSchema), required=True, validate=validate.Length(min=1, max=20))


class SkpIn(Schema):
    year = Year(required=True, strict=True)
    rhk = fields.List(fields.Nested(RhkSchema), load_default=list, validate=validate.Length(max=50))


class RhkListIn(VersionMixin):
    rhk = fields.List(fields.Nested(RhkSchema), required=True, validate=validate.Length(max=50))


class SkpSubmitIn(VersionMixin):
    pass


class SkpApproveIn(VersionMixin):
    note = Text(5000, load_default=None, allow_none=True, multi_line=True)


class SkpReturnIn(VersionMixin):
    note = Text(5000, 1, required=True, multi_line=True)

    @validates_schema
    def not_blank(self, data, **_):
        if not data.get("note", "").strip():
            raise ValidationError("note must not be blank", "note")


class SkpQuery(Schema):
    nip = nip()
    year = Year()
    limit = fields.Integer(load_default=50, validate=validate.Range(1, MAX_LIMIT))
    offset = Offset(load_default=0)


class SkpRevisionOut(Schema):
    revision = fields.Integer()
    approved_by = fields.String()
    approved_at = fields.DateTime()
    note = fields.String(allow_none=True)
    rhk = fields.List(fields.Nested(RhkSchema))


class SkpSummaryOut(Schema):
    id = fields.String()
    nip = fields.String()
    agency = fields.String()
    year = fields.Integer()
    status = fields.String()
    atasan_nip = fields.String(allow_none=True)
    revision = fields.Integer(metadata={"description": "approvals so far"})
    note = fields.String(allow_none=True)
    approved_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    version = fields.Integer()
    rhk = fields.List(fields.Nested(RhkSchema))


class SkpOut(SkpSummaryOut):
    revisions = fields.List(fields.Nested(SkpRevisionOut), metadata={"description": "what each approval said"})


class SkpPage(Schema):
    items = fields.List(fields.Nested(SkpSummaryOut))
    total = fields.Integer()
    limit = fields.Integer()
    offset = fields.Integer()


# -- feedback -----------------------------------------------------------------------------------
class FeedbackIn(Schema):
    task_id = object_id(load_default=None, allow_none=True)
    rhk_id = object_id(load_default=None, allow_none=True)
    text = Text(5000, 1, required=True, multi_line=True)

    @validates_schema
    def one_subject(self, data, **_):
        if bool(data.get("task_id")) == bool(data.get("rhk_id")):
            raise ValidationError("give exactly one of task_id or rhk_id", "task_id")


class FeedbackQuery(Schema):
    task_id = object_id()
    rhk_id = object_id()

    @validates_schema
    def one_subject(self, data, **_):
        if bool(data.get("task_id")) == bool(data.get("rhk_id")):
            raise ValidationError("give exactly one of task_id or rhk_id", "task_id")


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


# -- innovation ---------------------------------------------------------------------------------
class InnovationIn(Schema):
    title = Text(500, 1, required=True)
    description = Text(20000, 1, required=True, multi_line=True)
    links = link_list(metadata={"description": "evidence: documents, photos, a demo"})


class InnovationApproveIn(Schema):
    note = Text(5000, load_default=None, allow_none=True, multi_line=True)


class InnovationRejectIn(Schema):
    note = Text(5000, 1, required=True, multi_line=True)


class InnovationQuery(Schema):
    nip = nip()
    status = fields.String(validate=validate.OneOf(["proposed", "approved", "rejected"]))
    limit = fields.Integer(load_default=50, validate=validate.Range(1, MAX_LIMIT))
    offset = Offset(load_default=0)


class InnovationOut(Schema):
    id = fields.String()
    agency = fields.String()
    nip = fields.String()
    title = fields.String()
    description = fields.String()
    links = fields.List(fields.String())
    status = fields.String()
    decided_by = fields.String(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    note = fields.String(allow_none=True)
    created_at = fields.DateTime()
    version = fields.Integer()


class InnovationPage(Schema):
    items = fields.List(fields.Nested(InnovationOut))
    total = fields.Integer()
    limit = fields.Integer()
    offset = fields.Integer()


# -- evidence -----------------------------------------------------------------------------------
class EvidenceOut(Schema):
    id = fields.String()
    task_id = fields.String()
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    uploaded_by = fields.String()
    uploaded_at = fields.DateTime()
