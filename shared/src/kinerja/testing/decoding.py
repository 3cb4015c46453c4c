"""Holding a fast decoder (``kinerja.events.trusted``) and the schemas (``decode_event``) side by
side: ``judged_alike`` decodes one record both ways and asserts the same verdict (the same
``Event``, its data's keys in the same order and its time with the same offset, or the same
reason); ``broken_in_turn`` gives copies of a valid envelope with each field of the chosen parts
replaced by each of ``BROKEN_VALUES`` or removed."""
from __future__ import annotations

import copy
import json
from typing import Any, Callable, Iterator

import pytest

from kinerja.events.envelope import Event, InvalidEvent, decode_event

# values a producer never writes where a field wants another: wrong types, lengths, forms of dates,
# times, numbers and NIPs
BROKEN_VALUES: list[Any] = [
    None, "", "x" * 300, 7, 7.0, -0.0, 2**70, True, "7", "97.5", "1e3", "NaN", "-1", "1.005", [], {}, [None], ["x"],
    [{}], "2026-11-03", "2026-11-03T07:00:00", "2026-11-03T07:00:00Z", "2026-11-03T07:00:00+07:00",
    "2026-11-03 07:00:00+07:00", "2026-11-03T07:00:00.1234567+07:00", "20261103", "1949-12-31", "2101-01-01",
    "199501012020011003\n", "١٩٩٥٠١٠١٢٠٢٠٠١١٠٠٣", "1001\n", "x" * 64, "x" * 65, "x" * 201, "1.0",
]
MISSING = object()


def judged_alike(decode: Callable[[bytes | None], Event], obj: Any) -> str:
    """``"accepted"`` or ``"refused"``, having asserted that ``decode`` and ``decode_event`` agree
    on ``obj`` (an envelope, or raw bytes)."""
    raw = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
    try:
        want = decode_event(raw)
    except InvalidEvent as exc:
        with pytest.raises(InvalidEvent) as refused:
            decode(raw)
        assert str(refused.value) == str(exc)
        return "refused"
    got = decode(raw)
    assert got == want
    # what reaches webhook bodies, inbox payloads and stored rows: the data's keys in the same
    # order, the time with the same offset
    assert json.dumps(got.data, default=repr) == json.dumps(want.data, default=repr)
    assert got.time.isoformat() == want.time.isoformat()
    return "accepted"


def broken_in_turn(obj: dict, parts: Callable[[dict], list[dict]] = lambda o: [o, o["data"]],
                   values: list[Any] = BROKEN_VALUES) -> Iterator[dict]:
    """Copies of ``obj`` with one field of one of ``parts(copy)`` (the envelope and its data by
    default) set to one of ``values``, or removed; every field of every part in turn."""
    for index, part in enumerate(parts(obj)):
        for key in list(part):
            if part is obj and key == "data":
                continue
            for value in list(values) + [MISSING]:
                bad = copy.deepcopy(obj)
                target = parts(bad)[index]
                if value is MISSING:
                    target.pop(key)
                else:
                    target[key] = value
                yield bad
