"""Responses of the scores API: one ASN's score with its ledger, a month day by day, a team."""
from marshmallow import Schema, fields, validate

from kinerja.events.penilaian import PREDIKATS
from kinerja.fields import Instant, IsoDate
from penilaian.domain.scoring import LEVELS


class DeductionOut(Schema):
    date = IsoDate()
    code = fields.String()
    percent = fields.Float()
    minutes = fields.Integer(allow_none=True)


class DisiplinOut(Schema):
    score = fields.Float(allow_none=True, metadata={"description": "null: belum dinilai"})
    deductions = fields.List(fields.Nested(DeductionOut))


class TaskOut(Schema):
    task_id = fields.String()
    title = fields.String()
    due_date = IsoDate()
    status = fields.String()
    score = fields.Float()
    quantity = fields.Float(allow_none=True)
    quality = fields.Float(allow_none=True)
    timeliness = fields.Float(allow_none=True)
    event_id = fields.String()


class LedgerEntryOut(Schema):
    component = fields.String(validate=validate.OneOf(["disiplin", "produktivitas", "perilaku", "predikat"]), metadata={
        "description": "disiplin, produktivitas or perilaku; predikat: the matrix cell that gave the predikat "
                       "(0 points)"})
    points = fields.Float(metadata={"description": "the entries of a component sum to its score"})
    rule = fields.String()
    event_ids = fields.List(fields.String())
    date = IsoDate(allow_none=True)
    correction = fields.Boolean(dump_default=False, metadata={
        "description": "the day behind the entry rests on an approved correction (lupa absen)"})


class PredikatBasisOut(Schema):
    hasil_kerja = fields.Float(allow_none=True)
    hasil_kerja_level = fields.String(allow_none=True, validate=validate.OneOf(LEVELS), metadata={
        "description": "the matrix row: above (≥ above_from), meets (≥ meets_from), below; null: belum dinilai"})
    perilaku = fields.Float(allow_none=True)
    perilaku_level = fields.String(allow_none=True, validate=validate.OneOf(LEVELS), metadata={
        "description": "the matrix column, by the same cut-offs"})
    above_from = fields.Float(metadata={"description": "cut-off of 'above expectation' (the agency's policy)"})
    meets_from = fields.Float(metadata={"description": "cut-off of 'meets expectation'"})
    predikat = fields.String(validate=validate.OneOf(PREDIKATS))
    rule = fields.String(metadata={"description": "the same in a sentence (also the ledger's predikat entry)"})


class ScoreOut(Schema):
    nip = fields.String()
    nama = fields.String(allow_none=True)
    unit = fields.String(allow_none=True)
    atasan_nip = fields.String(allow_none=True)
    period = fields.String()
    disiplin = fields.Nested(DisiplinOut)
    produktivitas = fields.Float(allow_none=True)
    berakhlak = fields.Float(allow_none=True)
    perilaku = fields.Float(allow_none=True)
    hasil_kerja = fields.Float(allow_none=True)
    total = fields.Float(allow_none=True, metadata={
        "description": "final total (60 % hasil kerja + 40 % perilaku kerja); null while either part is unrated"})
    total_partial = fields.Float(allow_none=True, metadata={
        "description": "while one part is unrated: the rated part alone, not final (the page says \"sementara\"); "
                       "null once the total is final or nothing is rated"})
    predikat = fields.String(validate=validate.OneOf(PREDIKATS))
    predikat_basis = fields.Nested(PredikatBasisOut, metadata={
        "description": "the PermenPANRB 6/2022 matrix cell behind the predikat and the cut-offs"})
    tasks = fields.List(fields.Nested(TaskOut))
    ledger = fields.List(fields.Nested(LedgerEntryOut))
    updated_at = Instant(allow_none=True)


class HistoryDayOut(Schema):
    date = IsoDate()
    disiplin = fields.Float(allow_none=True)
    produktivitas = fields.Float(allow_none=True)
    perilaku = fields.Float(allow_none=True)
    hasil_kerja = fields.Float(allow_none=True)
    total = fields.Float(allow_none=True)
    total_partial = fields.Float(allow_none=True)
    predikat = fields.String()


class ScoreHistoryOut(Schema):
    nip = fields.String()
    period = fields.String()
    days = fields.List(fields.Nested(HistoryDayOut), metadata={
        "description": "per day up to today: the month's score counting the days and tasks due up to that day"})


class TeamMemberOut(Schema):
    nip = fields.String()
    nama = fields.String()
    unit = fields.String()
    disiplin = fields.Float(allow_none=True)
    produktivitas = fields.Float(allow_none=True)
    perilaku = fields.Float(allow_none=True)
    hasil_kerja = fields.Float(allow_none=True)
    total = fields.Float(allow_none=True, metadata={"description": "null while either part is unrated"})
    total_partial = fields.Float(allow_none=True, metadata={"description": "not final: the rated part alone"})
    predikat = fields.String()


class TeamOut(Schema):
    atasan_nip = fields.String()
    period = fields.String()
    members = fields.List(fields.Nested(TeamMemberOut))
