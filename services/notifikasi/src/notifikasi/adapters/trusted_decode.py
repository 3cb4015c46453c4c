"""Decoding the consumer's records fast: the envelope and the data of ``penilaian.score.updated.v1``
(three a punch, most of what notifikasi applies) and of the roster's ``pegawai.employee.upserted.v1``
are checked by hand, field by field, instead of by marshmallow (``kinerja.events.trusted``, which
holds the envelope's checks and the roster's); every other type goes through the schemas as before.

The check is never looser than the schema: a value it is not sure of (a number as a string, a
date in another ISO form, a key the schema does not name, anything unexpected) sends the record
to the schemas, which accept it or raise ``InvalidEvent`` with their reason. So a record the fast
path accepts is one the schema accepts, giving the same ``Event``, its data's keys in the schema's
order (they reach webhook bodies and inbox payloads as JSON); ``tests/unit/test_trusted_decode.py``
holds the two side by side over generated valid and broken events.
"""
from __future__ import annotations

from typing import Any

from kinerja.events import trusted
from kinerja.events.penilaian import PREDIKATS, SCORE_UPDATED
from kinerja.events.trusted import Unsure, array as _list, nip as _nip, opt_float as _float, text as _text

_PREDIKATS = frozenset(PREDIKATS)
_Unsure = Unsure

# ``ScoreUpdated``'s fields in its order (the order its load gives the keys)
_SCORE_KEYS = ("nip", "period", "disiplin", "produktivitas", "perilaku", "hasil_kerja", "total", "total_partial",
               "predikat", "changes", "caused_by", "atasan_nip", "also", "part_of")
_SCORE_KEY_SET = frozenset(_SCORE_KEYS)
_PERIOD_KEYS = frozenset({"period", "disiplin", "produktivitas", "perilaku", "hasil_kerja", "total", "total_partial",
                          "predikat", "changes"})
_CHANGE_KEYS = frozenset({"component", "before", "after"})


def _score(d: dict) -> dict:
    if not d.keys() <= _SCORE_KEY_SET:
        raise Unsure  # keys the schema does not name: it leaves them out
    get = d.get
    atasan, part_of = get("atasan_nip"), get("part_of")
    caused_by = _list(get("caused_by", []))
    for cause in caused_by:
        if type(cause) is not str:
            raise Unsure
    if part_of is not None and (type(part_of) is not str or len(part_of) > 64):
        raise Unsure
    return {"nip": _nip(get("nip")), "period": _text(get("period")), "disiplin": _float(get("disiplin")),
            "produktivitas": _float(get("produktivitas")), "perilaku": _float(get("perilaku")),
            "hasil_kerja": _float(get("hasil_kerja")), "total": _float(get("total")),
            "total_partial": _float(get("total_partial")), "predikat": _predikat(get("predikat")),
            "changes": _changes(get("changes", [])), "caused_by": list(caused_by),
            "atasan_nip": None if atasan is None else _nip(atasan),
            "also": [_period_score(p) for p in _list(get("also", []))], "part_of": part_of}


def _period_score(p: Any) -> dict:
    if type(p) is not dict or not p.keys() <= _PERIOD_KEYS:
        raise Unsure  # the nested schema refuses keys it does not name
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
            raise Unsure
        out.append({"component": _text(c.get("component")), "before": _float(c.get("before")),
                    "after": _float(c.get("after"))})
    return out


def _predikat(v: Any) -> str:
    if type(v) is not str or v not in _PREDIKATS:
        raise Unsure
    return v


CHECKS = {SCORE_UPDATED: _score, **trusted.EMPLOYEE_CHECKS}

#: ``kinerja.events.envelope.decode_event(raw)``: the same event, or ``InvalidEvent``
decode_record = trusted.Decoder(CHECKS)


def _score_event(obj: dict):
    """A score update vouched for by hand, or ``Unsure``."""
    return trusted.checked(obj, _score)
