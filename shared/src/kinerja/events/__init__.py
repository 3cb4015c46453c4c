"""Event contracts: the envelope and one schema module per topic.

``registry`` (imports nothing of ours) ← the per-topic contracts (``kehadiran``, ``pegawai``,
``penilaian``, ``tugas``, with field types from ``common``) ← ``catalogue`` (loads them all) ←
``envelope`` (``make_event``, ``decode_event``). Changes are additive; a breaking change is a new
type with a new version suffix.
"""
from kinerja.events.catalogue import data_schema, known_types  # noqa: F401
from kinerja.events.envelope import Event, decode_event, make_event  # noqa: F401
from kinerja.events.registry import InvalidEvent  # noqa: F401
