"""What every tugas blueprint reads from a request the same way: the caller, as the service
layer's ``Actor``."""
from __future__ import annotations

from kinerja.auth import current_principal
from tugas.service_layer.context import Actor


def actor() -> Actor:
    p = current_principal()
    return Actor(nip=p.nip, role=p.role, agency=p.agency)
