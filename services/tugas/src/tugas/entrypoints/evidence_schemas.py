"""What the evidence API says of a stored file."""
from marshmallow import Schema, fields


class EvidenceOut(Schema):
    id = fields.String()
    task_id = fields.String()
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    uploaded_by = fields.String()
    uploaded_at = fields.DateTime()
