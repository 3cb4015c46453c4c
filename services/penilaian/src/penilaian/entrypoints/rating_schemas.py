"""Bodies of the BerAKHLAK ratings and dialog kinerja APIs."""
from marshmallow import Schema, fields, validate

from kinerja.fields import Instant, IsoDate, Map, Text, WindowDate
from penilaian.domain.scoring import BERAKHLAK_VALUES, LEVELS


class RatingIn(Schema):
    levels = Map(
        len(BERAKHLAK_VALUES), 1,
        keys=fields.String(validate=validate.OneOf(BERAKHLAK_VALUES)),
        values=fields.String(validate=validate.OneOf(LEVELS)),
        required=True, metadata={"description": "BerAKHLAK value → below / meets / above"},
    )


class RatingSideOut(Schema):
    levels = fields.Dict(keys=fields.String(), values=fields.String())
    rated_by = fields.String()
    rated_at = Instant()
    rating_id = fields.String()


class ValueComparisonOut(Schema):
    value = fields.String()
    supervisor = fields.String(allow_none=True)
    self = fields.String(allow_none=True)
    gap = fields.Integer(allow_none=True)
    dialog_needed = fields.Boolean(metadata={
        "description": "two levels apart and no dialog kinerja about it recorded since the later rating"})
    dialog_id = fields.String(allow_none=True, metadata={
        "description": "the dialog kinerja that answered this gap (GET /api/v1/dialogs/<nip>)"})


class DialogHeldOut(Schema):
    id = fields.String()
    date = IsoDate()
    follow_up = fields.String()
    recorded_at = Instant()


class RatingsOut(Schema):
    nip = fields.String()
    period = fields.String()
    supervisor = fields.Nested(RatingSideOut, allow_none=True)
    self = fields.Nested(RatingSideOut, allow_none=True)
    values = fields.List(fields.Nested(ValueComparisonOut))
    dialog_needed = fields.Boolean(metadata={
        "description": "some value is two levels apart and no dialog kinerja has answered it yet"})
    dialogs_held = fields.List(fields.Nested(DialogHeldOut), metadata={
        "description": "the dialogs kinerja that answered the gaps of this period"})


class DialogIn(Schema):
    date = WindowDate(required=True, metadata={"description": "the day the dialogue was held"})
    notes = Text(4000, 1, required=True, multi_line=True)
    follow_up = Text(4000, 1, required=True, multi_line=True, metadata={"description": "the follow-up both agreed"})
    values = fields.List(fields.String(validate=validate.OneOf(BERAKHLAK_VALUES)), load_default=list,
                         validate=validate.Length(max=len(BERAKHLAK_VALUES)),
                         metadata={"description": "the BerAKHLAK values discussed"})


class DialogOut(Schema):
    id = fields.String()
    nip = fields.String()
    atasan_nip = fields.String()
    period = fields.String()
    date = IsoDate()
    notes = fields.String()
    follow_up = fields.String()
    values = fields.List(fields.String())
    recorded_by = fields.String()
    recorded_at = Instant()


class DialogsOut(Schema):
    nip = fields.String()
    period = fields.String(allow_none=True)
    dialogs = fields.List(fields.Nested(DialogOut))
