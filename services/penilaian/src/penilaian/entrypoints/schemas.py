"""The query arguments the penilaian blueprints share: a period, a month, a year, an agency.
Each API's own bodies are in its ``*_schemas.py``."""
from marshmallow import Schema, fields, validate

from kinerja.fields import Agency, Year

# a month, a quarter or a year within the window (kinerja.fields)
PERIOD_PATTERN = r"^(20\d{2}|2100)(-(0[1-9]|1[0-2])|-Q[1-4])?$"


class PeriodArgs(Schema):
    period = fields.String(
        validate=validate.Regexp(PERIOD_PATTERN, error="period must be YYYY-MM, YYYY-Qn or YYYY"),
        metadata={"description": "YYYY-MM (month), YYYY-Qn (quarter) or YYYY (year); default: this month"},
    )


MONTH_ARG = r"^(19|20)\d{2}-(0[1-9]|1[0-2])$"


class MonthArgs(Schema):
    period = fields.String(
        validate=validate.Regexp(MONTH_ARG, error="period must be YYYY-MM"),
        metadata={"description": "YYYY-MM; default: this month"},
    )


class DocumentArgs(Schema):
    period = fields.String(
        required=True, validate=validate.Regexp(PERIOD_PATTERN, error="period must be YYYY-Qn, YYYY or YYYY-MM"),
        metadata={"description": "the appraisal period: a quarter (YYYY-Qn) or a year (YYYY); a month (YYYY-MM) "
                                 "for an agency that evaluates monthly (PermenPANRB 6/2022 allows periodic "
                                 "evaluation by month, quarter or semester)"})


class YearArgs(Schema):
    year = Year(metadata={"description": "default: this year"})


class AgencyArgs(Schema):
    agency = Agency(metadata={"description": "operators only; an admin always gets their own agency"})
