"""The fields the tugas request bodies share: quantities, row ids, links, the version a change
was read at, paging. Each API's bodies are in its ``*_schemas.py``."""
from marshmallow import Schema, fields, validate

from kinerja.fields import MONTH_PATTERN, BoundedDecimal, Count, Offset, Text

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


class VersionMixin(Schema):
    version = Count(1, load_default=None, allow_none=True,
                    metadata={"description": "the version you read; a stale one gives 409"})


class PagingArgs(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(1, MAX_LIMIT))
    offset = Offset(load_default=0)


class PageOut(Schema):
    """A page of a list; each list adds its ``items``."""

    total = fields.Integer()
    limit = fields.Integer()
    offset = fields.Integer()
