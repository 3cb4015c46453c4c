"""A person's e-mail preference: at once, a daily digest at their hour, or off; to their own address,
else the roster's."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from notifikasi.adapters.orm import EmailPreference, Employee
from notifikasi.domain import email as rules
from notifikasi.service_layer.clock import utcnow


class NoAddress(ValueError):
    """E-mail wanted, but neither the request nor the roster gives an address."""


def roster_address(session: Session, nip: str, agency: str) -> str | None:
    emp = session.get(Employee, nip)
    return emp.email if emp is not None and emp.active and emp.agency == agency else None


def set_preference(session: Session, *, nip: str, agency: str, email: str | None, mode: str, digest_hour: int = 16,
                   now: datetime | None = None) -> EmailPreference:
    """``email`` None: the roster's address (raises NoAddress when e-mail is wanted and there is none)."""
    now = now or utcnow()
    if email is None and mode != rules.OFF and roster_address(session, nip, agency) is None:
        raise NoAddress("no e-mail address: give one, or ask the agency's admin to add it to the roster")
    pref = session.get(EmailPreference, nip)
    if pref is None:
        pref = EmailPreference(nip=nip, agency=agency, email=email, mode=mode, digest_hour=digest_hour,
                               updated_at=now, last_digest_at=now)  # a first digest covers from now on
        session.add(pref)
    else:
        if mode == rules.DIGEST and pref.mode != rules.DIGEST:
            pref.last_digest_at = now
        pref.agency, pref.email, pref.mode, pref.digest_hour, pref.updated_at = agency, email, mode, digest_hour, now
    session.flush()
    return pref

