"""Bodies of the innovations API: a proposal, its decision, the list."""
from marshmallow import Schema, fields, validate

from kinerja.fields import Nip, Text
from tugas.entrypoints.schemas import PageOut, PagingArgs, link_list

class InnovationIn(Schema):
    title = Text(500, 1, required=True)
    description = Text(20000, 1, required=True, multi_line=True)
    links = link_list(metadata={"description": "evidence: documents, photos, a demo"})


class InnovationApproveIn(Schema):
    note = Text(5000, load_default=None, allow_none=True, multi_line=True)


class InnovationRejectIn(Schema):
    note = Text(5000, 1, required=True, multi_line=True)


class InnovationQuery(PagingArgs):
    nip = Nip()
    status = fields.String(validate=validate.OneOf(["proposed", "approved", "rejected"]))


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


class InnovationPage(PageOut):
    items = fields.List(fields.Nested(InnovationOut))
