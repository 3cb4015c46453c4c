"""The records penilaian passes over from their bytes (its own score updates, punches, alerts):
the shared rule (``kinerja.messaging.skipping.skip_types``: the first ``"type"`` in the bytes
says "keep" at once, a skip is confirmed by the whole JSON) with the JSON read by
``kinerja.events.trusted.loads`` (orjson, ``json.loads`` for what orjson refuses or could read
otherwise) instead of ``json.loads``: half of a live poll's records are punches, and confirming
each with ``json.loads`` was ~20 µs of the ~25 µs a punch cost. Same answers as the shared
rule for any bytes (``tests/unit/test_decoding.py`` holds the two side by side)."""
from __future__ import annotations

import re
from typing import Callable, Iterable

from kinerja.events.trusted import loads

# as ``kinerja.messaging.skipping``: the envelope's "type" usually comes before "data"
_TYPE = re.compile(rb'"type"\s*:\s*"([^"]{1,200})"')


def skip_types(types: Iterable[str]) -> Callable[[bytes | None], bool]:
    """Pass over exactly ``types``: true only for a JSON object whose envelope ``type`` is one of
    them; anything else (undecodable bytes included) takes the usual path, and the DLQ."""
    listed = frozenset(types)
    listed_bytes = frozenset(t.encode() for t in listed)

    def skip(raw: bytes | None) -> bool:
        if not raw:
            return False
        m = _TYPE.search(raw)
        if m is None or m.group(1) not in listed_bytes:
            return False
        try:
            envelope = loads(raw)
        except ValueError:  # UnicodeDecodeError included
            return False
        kind = envelope.get("type") if type(envelope) is dict else None
        return type(kind) is str and kind in listed

    return skip
