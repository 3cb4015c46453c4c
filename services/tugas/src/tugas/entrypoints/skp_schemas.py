"""Bodies of the SKP API: the RHK with their indicators, the approval cycle, the list."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from kinerja.fields import Nip, Text, Year
from tugas.entrypoints.schemas import PageOut, PagingArgs, VersionMixin, object_id, quantity

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


class SkpQuery(PagingArgs):
    nip = Nip()
    year = Year()


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


class SkpPage(PageOut):
    items = fields.List(fields.Nested(SkpSummaryOut))
