"""Decoding a replayed record once, fast: the envelope and the data of the types a rebuild applies
by the thousand (day summaries, task states, innovations) are checked by hand, field by field,
instead of by marshmallow (~115 µs a day summary there, ~15 µs here).

The check is never looser than the schema: a value it is not sure of (a string where a number
goes, a date in another ISO form, evidence files, anything unexpected) sends the record to
``decode_event``'s schemas, which accept it or raise ``InvalidEvent`` with their reason. So a
record the fast path accepts is one the schema accepts, giving the same ``Event``
(``tests/unit/test_trusted_decode.py`` holds the two side by side); nothing malformed passes.
The envelope, the field checks and the roster's check are ``kinerja.events.trusted``'s.
"""
from __future__ import annotations

import re
from decimal import Decimal

from kinerja.events import trusted
from kinerja.events.kehadiran import CODES, DAY_SUMMARIZED
from kinerja.events.penilaian import RATING_LEVELS, RATING_RECORDED
from kinerja.events.trusted import (Unsure, any_text, array as _list, boolean as _bool, day as _date,
                                    decimal as _decimal, integer as _int, nip as _nip, opt_text as _opt_text,
                                    opt_time as _opt_time, text as _text, time as _time)
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

_PERIOD = re.compile(r"\d{4}(-(0[1-9]|1[0-2])|-Q[1-4])?\Z")
_TASK_TYPES = frozenset({TASK_ASSIGNED, TASK_SUBMITTED, TASK_APPROVED, TASK_RETURNED, TASK_OVERDUE, TASK_CANCELLED})
_CODES = frozenset(CODES)
_STATUSES = frozenset(TASK_STATUSES)
_Unsure = Unsure
loads = trusted.loads  # the rebuild's reader parses with it

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
        if type(i) is not str:
            raise _Unsure
    for i in correction_ids:
        if type(i) is not str or len(i) > 64:
            raise _Unsure
    # the usual summary's plain fields checked in line (each a call saved: a day summary is most of
    # a batch); the same checks as ``trusted``'s
    final, workday, corrected = d.get("final"), d.get("workday"), d.get("corrected", False)
    late, early = d.get("minutes_late", 0), d.get("minutes_early", 0)
    if (type(final) is not bool or type(workday) is not bool or type(corrected) is not bool
            or type(late) is not int or type(early) is not int):
        raise _Unsure
    excused, unit, arrival, departure = d.get("excused"), d.get("unit"), d.get("arrival"), d.get("departure")
    return {"nip": _nip(d.get("nip")), "date": _date(d.get("date")), "version": version,
            "final": final, "workday": workday, "excused": None if excused is None else _text(excused),
            "arrival": None if arrival is None else _time(arrival),
            "departure": None if departure is None else _time(departure),
            "minutes_late": late, "minutes_early": early,
            "deductions": deductions, "punch_event_ids": list(ids), "unit": None if unit is None else _text(unit),
            "corrected": corrected, "correction_ids": list(correction_ids)}


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


CHECKS = {DAY_SUMMARIZED: _day, INNOVATION_APPROVED: _innovation, RATING_RECORDED: _rating,
          **{kind: _task for kind in _TASK_TYPES}, **trusted.EMPLOYEE_CHECKS}

#: ``decode_event(raw)``, parsing the JSON once (``obj`` when the caller parsed it already)
decode_record = trusted.Decoder(CHECKS)


def _fast(obj: dict):
    """The hand-checked event, or ``Unsure``."""
    kind = obj.get("type")
    check = CHECKS.get(kind) if type(kind) is str else None
    if check is None:
        raise Unsure
    return trusted.checked(obj, check)
