"""Every event type we know: importing this module loads each per-topic contract (their
``@register`` fills the registry), so its lookups never miss a type that exists."""
from marshmallow import Schema

from kinerja.events import kehadiran, pegawai, penilaian, tugas  # noqa: F401  (they register)
from kinerja.events.registry import registered_types, schema_instance

TOPIC_MODULES = (kehadiran, pegawai, penilaian, tugas)


def known_types() -> list[str]:
    return registered_types()


def data_schema(event_type: str) -> Schema:
    """The data schema of a type (one shared instance); InvalidEvent when it is unknown."""
    return schema_instance(event_type)
