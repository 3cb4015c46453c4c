"""marshmallow fields shared by the HTTP APIs, and the ranges every value crossing the edge keeps.

A value an API accepts has a range in its schema, so a request never reaches code (date
arithmetic, a 32-bit column, a file name) with something it cannot hold; the OpenAPI documents
show the ranges (``minimum``/``maximum``, ``maxLength``, ``x-earliest``/``x-latest`` for dates):

- ids, offsets and ``Last-Event-ID``: 0 to 2^63 - 1 (a signed 64-bit column);
- counts and versions kept in 32-bit columns: up to 2^31 - 1;
- dates, periods and years: from 2000-01-01 to 2100-12-31 (``EARLIEST``, ``LATEST``; the README
  says so); times with an offset: the same window for their date;
- text: a maximum length, and no control characters (a single-line value: none at all; a
  multi-line one: line breaks and tabs only).
"""
from __future__ import annotations

import re
from datetime import date, datetime, timezone
from decimal import Decimal

from marshmallow import ValidationError, fields, validate

from kinerja.events.common import NIP_PATTERN

MAX_ID = 2**63 - 1
MAX_INT32 = 2**31 - 1
EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)
FIRST_YEAR, LAST_YEAR = EARLIEST.year, LATEST.year
# a month (YYYY-MM) within the window
MONTH_PATTERN = r"^(20\d{2}|2100)-(0[1-9]|1[0-2])$"
WINDOW = f"from {EARLIEST.isoformat()} to {LATEST.isoformat()}"

_SINGLE_LINE = re.compile(r"[\x00-\x1f\x7f]")
_MULTI_LINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def in_window(day: date) -> bool:
    return EARLIEST <= day <= LATEST


def check_window(day: date, what: str = "date") -> None:
    if not in_window(day):
        raise ValidationError(f"{what} must be {WINDOW}")


class Instant(fields.DateTime):
    """An instant, always with its offset on the wire: a naive value (SQLite keeps none; we store
    UTC) leaves as +00:00 rather than as a time nobody can place."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return super()._serialize(value, attr, obj, **kwargs)


class WindowDate(fields.Date):
    """A date within the window (``EARLIEST`` .. ``LATEST``)."""

    def __init__(self, **kw):
        kw.setdefault("metadata", {})
        kw["metadata"] = {"x-earliest": EARLIEST.isoformat(), "x-latest": LATEST.isoformat(), **kw["metadata"]}
        super().__init__(**kw)

    def _deserialize(self, value, attr, data, **kwargs):
        day = super()._deserialize(value, attr, data, **kwargs)
        check_window(day)
        return day


class _WindowDateTimeMixin:
    def _deserialize(self, value, attr, data, **kwargs):
        moment: datetime = super()._deserialize(value, attr, data, **kwargs)
        # the date as written, before any conversion: an offset can push 0001-01-01 or
        # 9999-12-31 past what a datetime holds
        check_window(moment.date(), "time")
        return moment


def _window_metadata(kw: dict) -> dict:
    kw["metadata"] = {"x-earliest": EARLIEST.isoformat(), "x-latest": f"{LATEST.isoformat()}T23:59:59",
                      **kw.get("metadata", {})}
    return kw


class WindowAwareDateTime(_WindowDateTimeMixin, fields.AwareDateTime):
    """An RFC 3339 time with an offset, its date within the window."""

    def __init__(self, **kw):
        super().__init__(**_window_metadata(kw))


class WindowDateTime(_WindowDateTimeMixin, fields.DateTime):
    """A time with or without an offset, its date within the window."""

    def __init__(self, **kw):
        super().__init__(**_window_metadata(kw))


def Year(**kw) -> fields.Integer:  # noqa: N802 - reads like a field class
    return fields.Integer(validate=validate.Range(FIRST_YEAR, LAST_YEAR), **kw)


def Month(**kw) -> fields.String:  # noqa: N802
    """A month ``YYYY-MM`` within the window."""
    return fields.String(validate=validate.Regexp(MONTH_PATTERN, error=f"period must be YYYY-MM {WINDOW}"), **kw)


def Id(**kw) -> fields.Integer:  # noqa: N802
    """A row id: 1 .. 2^63 - 1."""
    return fields.Integer(validate=validate.Range(1, MAX_ID), **kw)


def Offset(**kw) -> fields.Integer:  # noqa: N802
    """A paging offset: 0 .. 2^63 - 1."""
    return fields.Integer(validate=validate.Range(0, MAX_ID), **kw)


def Count(minimum: int = 0, maximum: int = MAX_INT32, **kw) -> fields.Integer:  # noqa: N802
    """A whole number kept in a 32-bit column."""
    return fields.Integer(validate=validate.Range(minimum, maximum), **kw)


class NoControlCharacters(validate.Validator):
    def __init__(self, multi_line: bool = False):
        self.pattern = _MULTI_LINE if multi_line else _SINGLE_LINE
        self.multi_line = multi_line

    def __call__(self, value):
        if isinstance(value, str) and self.pattern.search(value):
            allowed = " (line breaks and tabs are)" if self.multi_line else ""
            raise ValidationError(f"control characters are not allowed{allowed}")
        return value


def Text(max_length: int, min_length: int = 0, *, multi_line: bool = False, validate_more=(),  # noqa: N802
         **kw) -> fields.String:
    """A string with a length and no control characters."""
    validators = [validate.Length(min=min_length, max=max_length), NoControlCharacters(multi_line), *validate_more]
    return fields.String(validate=validators, **kw)


def Agency(**kw) -> fields.String:  # noqa: N802
    return Text(64, 1, **kw)


class MaxPlaces(validate.Validator):
    """At most ``places`` digits after the point (``1e-999999`` is not a policy anyone means)."""

    def __init__(self, places: int):
        self.places = places

    def __call__(self, value):
        if isinstance(value, Decimal) and value.is_finite() and -value.as_tuple().exponent > self.places:
            raise ValidationError(f"at most {self.places} digits after the decimal point")
        return value


def BoundedDecimal(minimum: Decimal | int | str, maximum: Decimal | int | str, *,  # noqa: N802
                   places: int | None = 2, max_places: int = 6, min_inclusive: bool = True, **kw) -> fields.Decimal:
    """A decimal within [minimum, maximum], finite; rounded to ``places``, or (``places=None``) kept
    as written with at most ``max_places`` digits after the point."""
    validators = [validate.Range(Decimal(str(minimum)), Decimal(str(maximum)), min_inclusive=min_inclusive)]
    if places is None:
        validators.append(MaxPlaces(max_places))
    return fields.Decimal(places=places, allow_nan=False, validate=validators, **kw)


class Entries(validate.Validator):
    """A map of ``minimum`` to ``maximum`` entries."""

    def __init__(self, minimum: int = 0, maximum: int = 100):
        self.minimum, self.maximum = minimum, maximum

    def __call__(self, value):
        if isinstance(value, dict) and not self.minimum <= len(value) <= self.maximum:
            raise ValidationError(f"between {self.minimum} and {self.maximum} entries")
        return value


def Map(maximum: int, minimum: int = 0, **kw) -> fields.Dict:  # noqa: N802
    """A ``fields.Dict`` of at most ``maximum`` entries (``maxProperties`` in the document)."""
    metadata = {"maxProperties": maximum, **({"minProperties": minimum} if minimum else {}), **kw.pop("metadata", {})}
    return fields.Dict(validate=Entries(minimum, maximum), metadata=metadata, **kw)



def Nip(**kw) -> fields.String:  # noqa: N802
    """An ASN's NIP: 18 digits (``kinerja.events.common.NIP_PATTERN``)."""
    return fields.String(validate=validate.Regexp(NIP_PATTERN, error="NIP must be 18 digits"), **kw)


def IsoDate(**kw) -> fields.String:  # noqa: N802
    """A date a read model already holds as ``YYYY-MM-DD`` text (documented as a date)."""
    return fields.String(metadata={"format": "date", **kw.pop("metadata", {})}, **kw)
