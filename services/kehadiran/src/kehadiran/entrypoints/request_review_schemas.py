"""The bodies of a decision on a leave request or a correction, the same for both: an approval's
optional note, a rejection's reason (which the ASN reads). Each kind names them as its API
documents them."""
from __future__ import annotations

from marshmallow import Schema

from kinerja.fields import Text

NOTE_LENGTH = 500


def decision_schemas(what: str, *, approve: str, reject: str) -> tuple[type[Schema], type[Schema]]:
    """(the approval's body, the rejection's) for a ``what`` (``request``, ``correction``), as the
    schemas ``approve`` and ``reject``."""
    approval = Schema.from_dict({"note": Text(NOTE_LENGTH, load_default="", multi_line=True)}, name=approve)
    rejection = Schema.from_dict({"note": Text(NOTE_LENGTH, 1, required=True, multi_line=True, metadata={
        "description": f"why the {what} is refused (the ASN reads it)"})}, name=reject)
    return approval, rejection
