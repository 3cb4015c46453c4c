"""Decoding a replayed record once, fast: the envelope and the data of the types a rebuild applies
by the thousand (day summaries, task states, innovations) are checked by hand, field by field,
instead of by marshmallow (~115 µs a day summary there, ~15 µs here).

The check is never looser than the schema: a value it is not sure of (a string where a number
goes, a date in another ISO form, evidence files, anything unexpected) sends the record to
``decode_event``'s schemas, which accept it or raise ``InvalidEvent`` with their reason. So a
record the fast path accepts is one the schema accepts, giving the same ``Event``
(``tests/unit/test_trusted_decode.py`` holds the two side by side); nothing malformed passes.
"""
from __future__ import annotations

import json
import re

import orjson
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from marshmallow import ValidationError

from kinerja.events.envelope import EnvelopeSchema, Event, InvalidEvent, data_schema
from kinerja.events.kehadiran import CODES, DAY_SUMMARIZED
from kinerja.events.pegawai import EMPLOYEE_UPSERTED, TMT_WINDOW
from kinerja.events.penilaian import RATING_LEVELS, RATING_RECORDED
from kinerja.events.tugas import (
    INNOVATION_APPROVED,
    TASK_APPROVED,
    TASK_ASSIGNED,
    TASK_CANCELLED,
    TASK_OVERDUE,
    TASK_RETURNED,
    TASK_SUBMITTED,
    TASK_STATUSES,
)

_NIP = re.compile(r"\d{18}\Z")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
# the forms our producers write (isoformat with an offset or Z); anything else goes to the schema
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})\Z")
_DECIMAL = re.compile(r"-?\d{1,30}(\.\d{1,30})?\Z")
_PIN = re.compile(r"\d{1,20}\Z")
_PERIOD = re.compile(r"\d{4}(-(0[1-9]|1[0-2])|-Q[1-4])?\Z")
_TASK_TYPES = frozenset({TASK_ASSIGNED, TASK_SUBMITTED, TASK_APPROVED, TASK_RETURNED, TASK_OVERDUE, TASK_CANCELLED})
_CODES = frozenset(CODES)
_STATUSES = frozenset(TASK_STATUSES)
_ENVELOPE = EnvelopeSchema()


class _Unsure(Exception):
    """The fast check cannot vouch for a value: the schema decides."""


def decode_record(raw: bytes | None, obj: Any = None) -> Event:
    """``decode_event(raw)``, parsing the JSON once (``obj`` when the caller parsed it already)."""
    if raw is None:
        raise InvalidEvent("empty message (tombstone)")
    if obj is None:
        try:
            obj = loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InvalidEvent(f"not JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise InvalidEvent("envelope is not a JSON object")
    try:
        return _fast(obj)
    except _Unsure:
        return _by_schema(obj)


def loads(raw: bytes) -> Any:
    """``json.loads(raw)``, by orjson (a few times faster) when it can: what it refuses (NaN, an
    integer beyond 64 bits, UTF-16, a lone surrogate, malformed JSON) is left to ``json.loads``,
    which then accepts or raises exactly as before."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw)


def _by_schema(obj: dict) -> Event:
    """What ``kinerja.events.envelope.decode_event`` does after ``json.loads``."""
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


def _fast(obj: dict) -> Event:
    kind = obj.get("type")
    if type(kind) is not str:
        raise _Unsure
    if kind == DAY_SUMMARIZED:
        make = _day
    elif kind in _TASK_TYPES:
        make = _task
    elif kind == INNOVATION_APPROVED:
        make = _innovation
    elif kind == EMPLOYEE_UPSERTED:
        make = _employee
    elif kind == RATING_RECORDED:
        make = _rating
    else:
        raise _Unsure
    if obj.get("specversion", "1.0") != "1.0":
        raise _Unsure
    data = obj.get("data")
    if type(data) is not dict:
        raise _Unsure
    return Event(id=_text(obj.get("id"), 200), type=kind, source=_text(obj.get("source"), 200),
                 time=_time(obj.get("time")), subject=_text(obj.get("subject"), 64),
                 agency=_text(obj.get("agency"), 64), data=make(data))


def _text(v: Any, longest: int | None = None) -> str:
    if type(v) is not str or (longest is not None and not 1 <= len(v) <= longest):
        raise _Unsure
    return v


def _opt_text(v: Any) -> str | None:
    return None if v is None else _text(v)


def _nip(v: Any) -> str:
    if type(v) is not str or not _NIP.match(v):
        raise _Unsure
    return v


def _int(v: Any) -> int:
    if type(v) is not int:
        raise _Unsure
    return v


def _bool(v: Any) -> bool:
    if type(v) is not bool:
        raise _Unsure
    return v


def _date(v: Any) -> date:
    if type(v) is not str or not _DATE.match(v):
        raise _Unsure
    try:
        return date.fromisoformat(v)
    except ValueError:
        raise _Unsure from None


def _time(v: Any) -> datetime:
    if type(v) is not str or not _TIME.match(v):
        raise _Unsure
    try:
        return datetime.fromisoformat(v)
    except ValueError:
        raise _Unsure from None


def _opt_time(v: Any) -> datetime | None:
    return None if v is None else _time(v)


def _decimal(v: Any) -> Decimal:
    if type(v) is not str or not _DECIMAL.match(v):
        raise _Unsure
    try:
        return Decimal(v)
    except InvalidOperation:
        raise _Unsure from None


_DAY_KEYS = frozenset({"nip", "date", "version", "final", "workday", "excused", "arrival", "departure",
                       "minutes_late", "minutes_early", "deductions", "punch_event_ids", "unit", "corrected",
                       "correction_ids"})
_HUNDREDTH = Decimal("0.01")


def _day(d: dict) -> dict:
    if not d.keys() <= _DAY_KEYS:
        raise _Unsure  # unknown keys: the schema excludes them
    version = _int(d.get("version"))
    if version < 1:
        raise _Unsure
    deductions = []
    for x in _list(d.get("deductions", [])):
        if type(x) is not dict or not x.keys() <= {"code", "percent", "minutes"}:
            raise _Unsure
        code = x.get("code")
        if type(code) is not str or code not in _CODES:
            raise _Unsure
        minutes = x.get("minutes")
        deductions.append({"code": code, "percent": _decimal(x.get("percent")).quantize(_HUNDREDTH),
                           "minutes": None if minutes is None else _int(minutes)})
    ids = _list(d.get("punch_event_ids", []))
    correction_ids = _list(d.get("correction_ids", []))
    for i in ids:
        _text(i)
    for i in correction_ids:
        if type(i) is not str or len(i) > 64:
            raise _Unsure
    return {"nip": _nip(d.get("nip")), "date": _date(d.get("date")), "version": version,
            "final": _bool(d.get("final")), "workday": _bool(d.get("workday")), "excused": _opt_text(d.get("excused")),
            "arrival": _opt_time(d.get("arrival")), "departure": _opt_time(d.get("departure")),
            "minutes_late": _int(d.get("minutes_late", 0)), "minutes_early": _int(d.get("minutes_early", 0)),
            "deductions": deductions, "punch_event_ids": list(ids), "unit": _opt_text(d.get("unit")),
            "corrected": _bool(d.get("corrected", False)), "correction_ids": list(correction_ids)}


_TASK_KEYS = frozenset({"task_id", "nip", "atasan_nip", "title", "rhk_id", "status", "due_date", "target_quantity",
                        "realised_quantity", "quality", "submitted_at", "approved_at", "note", "category",
                        "evidence"})


def _task(d: dict) -> dict:
    if not d.keys() <= _TASK_KEYS or d.get("evidence", []) != [] or type(d.get("evidence", [])) is not list:
        raise _Unsure  # unknown keys, or evidence files: the schema
    status = d.get("status")
    if type(status) is not str or status not in _STATUSES:
        raise _Unsure
    quality = d.get("quality")
    if quality is not None and not 0 <= _int(quality) <= 100:
        raise _Unsure
    realised = d.get("realised_quantity")
    atasan = d.get("atasan_nip")
    return {"task_id": _text(d.get("task_id")), "nip": _nip(d.get("nip")),
            "atasan_nip": None if atasan is None else _nip(atasan), "title": _text(d.get("title")),
            "rhk_id": _opt_text(d.get("rhk_id")), "status": status, "due_date": _date(d.get("due_date")),
            "target_quantity": _decimal(d.get("target_quantity")),
            "realised_quantity": None if realised is None else _decimal(realised), "quality": quality,
            "submitted_at": _opt_time(d.get("submitted_at")), "approved_at": _opt_time(d.get("approved_at")),
            "note": _opt_text(d.get("note")), "category": _opt_text(d.get("category")), "evidence": []}


def _innovation(d: dict) -> dict:
    if not d.keys() <= {"innovation_id", "nip", "title", "approved_at"}:
        raise _Unsure
    return {"innovation_id": _text(d.get("innovation_id")), "nip": _nip(d.get("nip")), "title": _text(d.get("title")),
            "approved_at": _time(d.get("approved_at"))}


def _list(v: Any) -> list:
    if type(v) is not list:
        raise _Unsure
    return v


# the roster's fields a fast check vouches for; tpp, email or timezone (rare) go to the schema
_EMPLOYEE_KEYS = frozenset({"nip", "nama", "agency", "unit", "jabatan", "atasan_nip", "pin", "active", "tmt"})


def _employee(d: dict) -> dict:
    if not d.keys() <= _EMPLOYEE_KEYS:
        raise _Unsure
    out = {"nip": _nip(d.get("nip")), "nama": _text(d.get("nama"), 200), "agency": _text(d.get("agency"), 64),
           "unit": _text(d.get("unit"), 200), "jabatan": _any_text(d.get("jabatan", "")),
           "atasan_nip": None if d.get("atasan_nip") is None else _nip(d["atasan_nip"]),
           "pin": None if d.get("pin") is None else _pin(d["pin"]), "active": _bool(d.get("active", True))}
    if "tmt" in d:
        tmt = d["tmt"]
        if tmt is not None:
            tmt = _date(tmt)
            if not TMT_WINDOW[0] <= tmt <= TMT_WINDOW[1]:
                raise _Unsure
        out["tmt"] = tmt
    return out


_RATING_KEYS = frozenset({"rating_id", "nip", "period", "rater", "rated_by", "levels", "rated_at"})
_LEVELS = frozenset(RATING_LEVELS)


def _rating(d: dict) -> dict:
    if not d.keys() <= _RATING_KEYS:
        raise _Unsure
    period, rater, levels = d.get("period"), d.get("rater"), d.get("levels")
    if type(period) is not str or not _PERIOD.match(period) or rater not in ("atasan", "self"):
        raise _Unsure
    if type(levels) is not dict or any(type(k) is not str or type(v) is not str or v not in _LEVELS
                                       for k, v in levels.items()):
        raise _Unsure
    return {"rating_id": _text(d.get("rating_id"), 64), "nip": _nip(d.get("nip")), "period": period, "rater": rater,
            "rated_by": _nip(d.get("rated_by")), "levels": dict(levels), "rated_at": _time(d.get("rated_at"))}


def _any_text(v: Any) -> str:
    if type(v) is not str:
        raise _Unsure
    return v


def _pin(v: Any) -> str:
    if type(v) is not str or not _PIN.match(v):
        raise _Unsure
    return v
