"""Bodies of the training API (JP records, progress to 20 JP, suggestions)."""
from marshmallow import Schema, fields, validate

from kinerja.fields import IsoDate, Text, WindowDate


class TrainingIn(Schema):
    title = Text(300, 1, required=True)
    jp = fields.Integer(required=True, validate=validate.Range(1, 500), metadata={"description": "jam pelajaran"})
    date = WindowDate(required=True)
    provider = Text(200, load_default="")


class TrainingRecordOut(Schema):
    id = fields.String()
    title = fields.String()
    jp = fields.Integer()
    date = IsoDate()
    provider = fields.String()


class SuggestionOut(Schema):
    topic = fields.String()
    reason = fields.String()


class TrainingOut(Schema):
    nip = fields.String()
    year = fields.Integer()
    records = fields.List(fields.Nested(TrainingRecordOut))
    jp_total = fields.Integer()
    jp_target = fields.Integer()
    jp_remaining = fields.Integer()
    met = fields.Boolean()
    suggestions = fields.List(fields.Nested(SuggestionOut))
