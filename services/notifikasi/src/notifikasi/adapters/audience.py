"""Who else an event's inbox rows reach, read in one statement: the recipients' e-mail
preferences for immediate mail (with the roster's address, for a preference without its own),
and the active webhooks of the events' agencies (a ``UNION ALL`` of the two look-ups)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterable

from sqlalchemy import String, Text, cast, literal_column, null, select, text, union_all
from sqlalchemy.orm import Session

from kinerja.db import planned_each_time
from notifikasi.adapters.in_chunks import list_value, member_of_param, probe_each
from notifikasi.adapters.orm import EmailPreference, Employee, Webhook
from notifikasi.domain import email as rules


@dataclass(frozen=True, slots=True)
class ImmediatePreference:
    """A recipient who wants each notification mailed at once."""

    nip: str
    agency: str
    email: str | None  # the preference's own address
    roster_email: str | None  # the roster's, when the roster row is active and of the same agency

    @property
    def address(self) -> str | None:
        return self.email or self.roster_email


@dataclass(frozen=True, slots=True)
class ActiveWebhook:
    id: int
    agency: str
    event_types: tuple[str, ...]  # empty: every type

    def wants(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types


@dataclass
class Audience:
    preferences: dict[str, ImmediatePreference] = field(default_factory=dict)
    webhooks: dict[str, list[ActiveWebhook]] = field(default_factory=dict)  # by agency, in id order


_READS: dict[tuple[str, bool, bool], Any] = {}


def _statement(dialect: str, recipients: bool, agencies: bool):
    """The look-up for recipients and/or agencies, built once (a parameter for each list)."""
    key = (dialect, recipients, agencies)
    stmt = _READS.get(key)
    if stmt is None and dialect == "postgresql":
        stmt = _READS[key] = text(_postgres(recipients, agencies))
    if stmt is None:
        p, e, w = EmailPreference.__table__, Employee.__table__, Webhook.__table__
        queries = []
        if recipients:
            queries.append(select(literal_column("'p'"), p.c.nip, p.c.agency, p.c.email, e.c.email, e.c.agency, e.c.active)
                           .select_from(p.outerjoin(e, e.c.nip == p.c.nip))
                           .where(member_of_param(p.c.nip, "nips", dialect), p.c.mode == rules.IMMEDIATE))
        if agencies:
            queries.append(select(literal_column("'w'"), cast(w.c.id, String), w.c.agency, cast(w.c.event_types, Text),
                                  null(), null(), null())
                           .where(member_of_param(w.c.agency, "agencies", dialect), w.c.active.is_(True)))
        stmt = _READS[key] = queries[0] if len(queries) == 1 else union_all(*queries)
    return stmt


def _postgres(recipients: bool, agencies: bool) -> str:
    """The look-up on PostgreSQL: a recipient's preference and roster row each one index probe
    (``in_chunks.probe_each``; as ``nip = ANY(<list>)`` joined to the roster, a poll of 200
    rescanned the 20,000-row roster per preference under a plan kept from a one-row roster, and
    walked it in a hash join with the statistics taken), the webhooks (a few rows an agency) by
    their agency."""
    parts = []
    if recipients:
        prefs = probe_each("email_preferences", "nip", "email_preferences.nip, email_preferences.agency, "
                           "email_preferences.email", "nips", f"email_preferences.mode = '{rules.IMMEDIATE}'")
        parts.append(f"SELECT 'p', p.nip, p.agency, p.email, e.email, e.agency, e.active FROM ({prefs}) AS p "
                     "LEFT JOIN LATERAL (SELECT email, agency, active FROM employees WHERE employees.nip = p.nip "
                     "LIMIT 1) AS e ON true")
    if agencies:
        parts.append("SELECT 'w', CAST(id AS varchar), agency, CAST(event_types AS text), NULL, NULL, NULL "
                     "FROM webhooks WHERE agency = ANY(CAST(:agencies AS varchar[])) AND active IS true")
    return " UNION ALL ".join(parts)


def read_audience(session: Session, recipients: Iterable[str], agencies: Iterable[str]) -> Audience:
    """The immediate-mail preferences of ``recipients`` and the active webhooks of ``agencies``:
    one statement."""
    wanted, agencies = sorted(set(recipients)), sorted(set(agencies))
    out = Audience()
    if not wanted and not agencies:
        return out
    dialect = session.get_bind().dialect.name
    params = {}
    if wanted:
        params["nips"] = list_value(wanted, dialect)
    if agencies:
        params["agencies"] = list_value(agencies, dialect)
    with planned_each_time(session):  # no plan kept from tables of another size
        rows = session.execute(_statement(dialect, bool(wanted), bool(agencies)), params).all()
    for kind, key, agency, a, b, c, active in rows:
        if kind == "p":
            roster = b if active and c == agency else None
            out.preferences[key] = ImmediatePreference(key, agency, a, roster)
        else:
            types = json.loads(a) if isinstance(a, str) else (a or [])
            out.webhooks.setdefault(agency, []).append(ActiveWebhook(int(key), agency, tuple(types or ())))
    for group in out.webhooks.values():
        group.sort(key=lambda h: h.id)
    return out
