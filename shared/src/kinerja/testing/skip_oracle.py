"""The oracle of the tests of a consumer's skip (``kinerja.messaging.skipping``, penilaian's
``skippable``): the rule as it was first written, with ``json.loads``. The skip now confirms a type
by orjson, and must answer as this does for any bytes: valid, odd or randomly broken."""
from __future__ import annotations

import json
import re
from collections.abc import Callable

_TYPE = re.compile(rb'"type"\s*:\s*"([^"]{1,200})"')


def skipped_by_json_loads(raw: bytes, passes: Callable[[str], bool]) -> bool:
    """Whether ``raw`` is passed over: its bytes name a type ``passes`` lets by, and ``json.loads``
    reads it as an object whose ``type`` is a string ``passes`` lets by. Raises ``RecursionError``
    where ``json.loads`` does (nesting too deep)."""
    m = _TYPE.search(raw)
    if m is None or not passes(m.group(1).decode("latin-1")):
        return False
    try:
        envelope = json.loads(raw)
    except ValueError:
        return False
    kind = envelope.get("type") if isinstance(envelope, dict) else None
    return isinstance(kind, str) and passes(kind)
