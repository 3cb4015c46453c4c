"""Which data schema belongs to which event type.

Imports nothing of ours, so every contract module can register itself here without a cycle;
``catalogue`` imports the contracts, so a lookup through it always sees every type.
"""
from __future__ import annotations

from marshmallow import Schema

_SCHEMAS: dict[str, type[Schema]] = {}
_INSTANCES: dict[str, Schema] = {}


class InvalidEvent(ValueError):
    """A message that cannot be applied: undecodable, unknown type, or breaking its schema."""


def register(event_type: str):
    """Class decorator: the data schema of ``event_type``."""

    def wrap(schema_cls: type[Schema]) -> type[Schema]:
        _SCHEMAS[event_type] = schema_cls
        return schema_cls

    return wrap


def registered_types() -> list[str]:
    return sorted(_SCHEMAS)


def schema_instance(event_type: str) -> Schema:
    """One instance per type, reused (building one per message was most of the cost of
    decoding); raises InvalidEvent for a type nobody registered."""
    schema = _INSTANCES.get(event_type)
    if schema is not None:
        return schema
    try:
        schema = _INSTANCES[event_type] = _SCHEMAS[event_type]()
    except KeyError:
        raise InvalidEvent(f"unknown event type {event_type!r}") from None
    return schema
