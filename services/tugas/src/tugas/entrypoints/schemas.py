"""The fields the tugas request bodies share: quantities, row ids, links, the version a change
was read at, the paging limit. Each API's bodies are in its ``*_schemas.py``."""
from marshmallow import Schema, fields, validate

from kinerja.events.common import NIP_PATTERN
from kinerja.fields import MONTH_PATTERN, BoundedDecimal, Count, Text

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


def nip(**kw):
    return fields.String(validate=validate.Regexp(NIP_PATTERN, error="NIP must be 18 digits"), **kw)


class VersionMixin(Schema):
    version = Count(1, load_default=None, allow_none=True,
                    metadata={"description": "the version you read; a stale one gives 409"})
