"""Decoding the consumer's records fast: the envelope and the data of ``penilaian.score.updated.v1``
(three a punch, most of what notifikasi applies) are checked by hand, field by field, instead of
by marshmallow; every other type goes through ``decode_event``'s schemas as before.

The check is never looser than the schema: a value it is not sure of (a number as a string, a
date in another ISO form, a key the schema does not name, anything unexpected) sends the record
to the schemas, which accept it or raise ``InvalidEvent`` with their reason. So a record the fast
path accepts is one the schema accepts, giving the same ``Event``, its data's keys in the schema's
order (they reach webhook bodies and inbox payloads as JSON); ``tests/unit/test_trusted_decode.py``
holds the two side by side over generated valid and broken events.
"""
from __future__ import annotations

import json
import math
import re
from datetime import datetime
from typing import Any

import orjson
from marshmallow import ValidationError

from kinerja.events.envelope import EnvelopeSchema, Event, InvalidEvent, data_schema
from kinerja.events.penilaian import PREDIKATS, SCORE_UPDATED

_NIP = re.compile(r"\d{18}\Z")
# the forms our producers write (isoformat with an offset or Z); anything else goes to the schema
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})\Z")
_PREDIKATS = frozenset(PREDIKATS)
_ENVELOPE = EnvelopeSchema()


class _Unsure(Exception):
    """The fast check cannot vouch for a value: the schema decides."""


def decode_record(raw: bytes | None) -> Event:
    """``kinerja.events.envelope.decode_event(raw)``: the same event, or ``InvalidEvent``."""
    if raw is None:
        raise InvalidEvent("empty message (tombstone)")
    try:
        obj = _loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidEvent(f"not JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise InvalidEvent("envelope is not a JSON object")
    if obj.get("type") == SCORE_UPDATED:
        try:
            return _score_event(obj)
        except _Unsure:
            pass
    return _by_schema(obj)


def _loads(raw: bytes) -> Any:
    """``json.loads(raw)``, by orjson when it can: what it refuses (NaN, an integer beyond 64
    bits, UTF-16, a lone surrogate, malformed JSON) is left to ``json.loads``, which then accepts
    or raises exactly as ``decode_event`` does."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw)


def _by_schema(obj: dict) -> Event:
    """What ``decode_event`` does after ``json.loads``."""
    try:
        env = _ENVELOPE.load(obj, unknown="exclude")
    except ValidationError as exc:
        raise InvalidEvent(f"bad envelope: {exc.messages}") from None
    schema = data_schema(env["type"])
    try:
        data = schema.load(env["data"], unknown="exclude")
    except ValidationError as exc:
        raise InvalidEvent(f"{env['type']}: bad data: {exc.messages}") from None
    return Event(id=env["id"], type=env["type"], source=env["source"], time=env["time"], subject=env["subject"],
                 agency=env["agency"], data=data)


def _score_event(obj: dict) -> Event:
    if obj.get("specversion", "1.0") != "1.0":
        raise _Unsure
    data = obj.get("data")
    if type(data) is not dict:
        raise _Unsure
    return Event(id=_text(obj.get("id"), 200), type=SCORE_UPDATED, source=_text(obj.get("source"), 200),
                 time=_time(obj.get("time")), subject=_text(obj.get("subject"), 64),
                 agency=_text(obj.get("agency"), 64), data=_score(data))


# ``ScoreUpdated``'s fields in its order (the order its load gives the keys)
_SCORE_KEYS = ("nip", "period", "disiplin", "produktivitas", "perilaku", "hasil_kerja", "total", "total_partial",
               "predikat", "changes", "caused_by", "atasan_nip", "also", "part_of")
_SCORE_KEY_SET = frozenset(_SCORE_KEYS)
_PERIOD_KEYS = frozenset({"period", "disiplin", "produktivitas", "perilaku", "hasil_kerja", "total", "total_partial",
                          "predikat", "changes"})
_CHANGE_KEYS = frozenset({"component", "before", "after"})


def _score(d: dict) -> dict:
    if not d.keys() <= _SCORE_KEY_SET:
        raise _Unsure  # keys the schema does not name: it leaves them out
    get = d.get
    atasan, part_of = get("atasan_nip"), get("part_of")
    caused_by = _list(get("caused_by", []))
    for cause in caused_by:
        if type(cause) is not str:
            raise _Unsure
    if part_of is not None and (type(part_of) is not str or len(part_of) > 64):
        raise _Unsure
    return {"nip": _nip(get("nip")), "period": _text(get("period")), "disiplin": _float(get("disiplin")),
            "produktivitas": _float(get("produktivitas")), "perilaku": _float(get("perilaku")),
            "hasil_kerja": _float(get("hasil_kerja")), "total": _float(get("total")),
            "total_partial": _float(get("total_partial")), "predikat": _predikat(get("predikat")),
            "changes": _changes(get("changes", [])), "caused_by": list(caused_by),
            "atasan_nip": None if atasan is None else _nip(atasan),
            "also": [_period_score(p) for p in _list(get("also", []))], "part_of": part_of}


def _period_score(p: Any) -> dict:
    if type(p) is not dict or not p.keys() <= _PERIOD_KEYS:
        raise _Unsure  # the nested schema refuses keys it does not name
    get = p.get
    return {"period": _text(get("period")), "disiplin": _float(get("disiplin")),
            "produktivitas": _float(get("produktivitas")), "perilaku": _float(get("perilaku")),
            "hasil_kerja": _float(get("hasil_kerja")), "total": _float(get("total")),
            "total_partial": _float(get("total_partial")), "predikat": _predikat(get("predikat")),
            "changes": _changes(get("changes", []))}


def _changes(v: Any) -> list[dict]:
    out = []
    for c in _list(v):
        if type(c) is not dict or not c.keys() <= _CHANGE_KEYS:
            raise _Unsure
        out.append({"component": _text(c.get("component")), "before": _float(c.get("before")),
                    "after": _float(c.get("after"))})
    return out


def _text(v: Any, longest: int | None = None) -> str:
    if type(v) is not str or (longest is not None and not 1 <= len(v) <= longest):
        raise _Unsure
    return v


def _nip(v: Any) -> str:
    if type(v) is not str or not _NIP.match(v):
        raise _Unsure
    return v


def _predikat(v: Any) -> str:
    if type(v) is not str or v not in _PREDIKATS:
        raise _Unsure
    return v


def _float(v: Any) -> float | None:
    """A ``fields.Float(allow_none=True)``: None, or a finite JSON number as a float."""
    if v is None:
        return None
    kind = type(v)
    if kind is float:
        if not math.isfinite(v):
            raise _Unsure
        return v
    if kind is int:
        try:
            return float(v)
        except OverflowError:
            raise _Unsure from None
    raise _Unsure  # a number as a string, a bool: the schema


def _list(v: Any) -> list:
    if type(v) is not list:
        raise _Unsure
    return v


def _time(v: Any) -> datetime:
    if type(v) is not str or not _TIME.match(v):
        raise _Unsure
    try:
        return datetime.fromisoformat(v)
    except ValueError:
        raise _Unsure from None
