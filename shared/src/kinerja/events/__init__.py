"""Event contracts: the envelope and one schema module per topic.

Changes are additive; a breaking change is a new type with a new version suffix.
"""
from kinerja.events.envelope import (  # noqa: F401
    Event,
    InvalidEvent,
    decode_event,
    data_schema,
    known_types,
    make_event,
)
