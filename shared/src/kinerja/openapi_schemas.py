"""What the OpenAPI documents say beyond the views' own schemas: the error body every API answers
with, and how Decimal fields and nullable nested schemas are rendered (apispec's converter)."""
from __future__ import annotations

from decimal import Decimal

from marshmallow import Schema
from marshmallow import fields as ma_fields


class FieldErrorSchema(Schema):
    field = ma_fields.String(allow_none=True, metadata={
        "description": "the value at fault: a dotted path into the body or the query (punches.0.time); "
                       "null when the request as a whole is at fault"})
    reason = ma_fields.String(metadata={"description": "why, in the client's language"})
    in_ = ma_fields.String(data_key="in", metadata={"description": "json, query, form, files, headers or path, "
                                                                   "when the request's schema refused it"})


class RejectedItemSchema(Schema):
    index = ma_fields.Integer(metadata={"description": "the item's position (0-based), or a CSV line (line)"})
    line = ma_fields.Integer()
    error = ma_fields.String()
    errors = ma_fields.Dict(keys=ma_fields.String(), values=ma_fields.List(ma_fields.String()),
                            metadata={"description": "field → the reasons it was refused"})


class ErrorSchema(Schema):
    """Every error the APIs answer (4xx and 5xx), in Bahasa Indonesia unless the client asks for
    English (``Accept-Language: en``; ``Content-Language`` says which)."""

    code = ma_fields.Integer(metadata={"description": "the HTTP status code"})
    status = ma_fields.String(metadata={"description": "the HTTP status name"})
    message = ma_fields.String(metadata={"description": "what went wrong, in a sentence (for a refused value: "
                                                        "the field and why)"})
    field = ma_fields.String(allow_none=True, metadata={"description": "the first value at fault (when there is one)"})
    reason = ma_fields.String(metadata={"description": "why that value was refused"})
    errors = ma_fields.List(ma_fields.Nested(FieldErrorSchema), metadata={
        "description": "every value at fault, each with its reason (empty when none is)"})
    detail = ma_fields.Dict(keys=ma_fields.String(), values=ma_fields.List(ma_fields.Nested(RejectedItemSchema)), metadata={
        "description": "structured extras of some refusals: rejected, the items of a batch refused one by one"})


def decimal_properties(self, field, ret, **kwargs) -> dict:
    """Decimal fields in the OpenAPI document: a ``string`` (format decimal) when they travel as
    strings, else a ``number`` whose bounds are numbers, not the strings apispec renders."""
    from marshmallow import fields as ma_fields

    if not isinstance(field, ma_fields.Decimal):
        return {}
    if field.as_string:
        bounds = {f"x-{bound}": str(ret.pop(bound)) for bound in ("minimum", "maximum", "exclusiveMinimum",
                                                                  "exclusiveMaximum") if bound in ret}
        return {"type": "string", "format": "decimal", "pattern": r"^-?\d+(\.\d+)?$", "maxLength": 32, **bounds}
    return {k: float(ret[k]) for k in ("minimum", "maximum") if isinstance(ret.get(k), (str, Decimal))}


def nullable_nested(self, field, ret, **kwargs) -> dict:
    """A nested schema that may be null, as OpenAPI 3.0 says it (``allOf`` + ``nullable``), not
    apispec's ``anyOf`` with an empty object beside it (which reads as "any object")."""
    any_of = ret.get("anyOf")
    if isinstance(any_of, list) and len(any_of) == 2:
        stub = {"type": "object", "nullable": True}
        refs = [x for x in any_of if x != stub]
        if len(refs) == 1 and stub in any_of:
            ret.pop("anyOf")
            return {"allOf": refs, "nullable": True}
    return {}
