"""What every notifikasi blueprint reads from a request the same way: who may read an inbox and
the caller as a person with a NIP (everyone reads only their own inbox)."""
from __future__ import annotations

from werkzeug.exceptions import Forbidden

from kinerja.auth import Principal, current_principal

READER_ROLES = ("pegawai", "atasan", "admin", "operator")


def own_identity() -> Principal:
    """The caller, who must be a person (a NIP), not a device: everyone reads only their own inbox."""
    principal = current_principal()
    if not principal.nip:
        raise Forbidden("this token names no NIP, so it has no inbox")
    return principal
