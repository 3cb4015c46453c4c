"""Topic ``penilaian.v1``: score updates, published only when a value changes."""
from marshmallow import Schema, fields, validate

from kinerja.events.common import nip_field
from kinerja.events.envelope import register

SCORE_UPDATED = "penilaian.score.updated.v1"

PREDIKATS = ("Sangat Baik", "Baik", "Butuh Perbaikan", "Kurang/Misconduct", "Sangat Kurang", "Belum dinilai")


class ComponentChange(Schema):
    component = fields.String(required=True)
    before = fields.Float(allow_none=True, load_default=None)
    after = fields.Float(allow_none=True, load_default=None)


@register(SCORE_UPDATED)
class ScoreUpdated(Schema):
    nip = nip_field(required=True)
    period = fields.String(required=True)
    disiplin = fields.Float(allow_none=True, load_default=None)
    produktivitas = fields.Float(allow_none=True, load_default=None)
    perilaku = fields.Float(allow_none=True, load_default=None)
    hasil_kerja = fields.Float(allow_none=True, load_default=None)
    total = fields.Float(allow_none=True, load_default=None)
    predikat = fields.String(required=True, validate=validate.OneOf(PREDIKATS))
    changes = fields.List(fields.Nested(ComponentChange), load_default=list)
    caused_by = fields.List(fields.String(), load_default=list)
    atasan_nip = nip_field(allow_none=True, load_default=None)
