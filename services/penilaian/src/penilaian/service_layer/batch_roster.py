"""The roster in one transaction (``BatchRoster``): each ASN's statements of agency read once, those
that are news kept (and published when a roster event made them), the periods of an ASN whose
agency changed somewhere marked for recompute, and score rows moved to the roster's agency."""
from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from penilaian.adapters.orm import ScoreRow
from penilaian.domain import membership
from penilaian.domain.membership import Statement
from penilaian.domain.periods import parse_period
from penilaian.service_layer import memberships
from penilaian.service_layer.touched import Touched

CHUNK = 500  # ASN a query


class BatchRoster:
    """Part of ``batch.Batch``: ``statements`` (nip -> its agency statements, read once),
    ``roster_moves`` (nip -> agency its score rows must follow), ``moved`` (nip -> the event
    whose statement changed its agency somewhere), ``stated`` (roster statements kept: published
    as recorded)."""

    session: Session

    def init_roster(self) -> None:
        self.roster_moves: dict[str, str] = {}
        self.statements: dict[str, list[Statement]] = {}
        self.moved: dict[str, str] = {}
        self.stated: list[tuple[str, Statement]] = []

    def read_statements(self, nips: set[str]) -> None:
        self.statements.update({nip: [] for nip in nips} | memberships.statements_of(self.session, nips))

    def statements_of(self, nip: str) -> list[Statement]:
        if nip not in self.statements:
            self.read_statements({nip})
        return self.statements[nip]

    def note_statement(self, nip: str, statement: Statement, *, cause: str, from_roster: bool) -> None:
        """Keep a statement of the ASN's agency if it is news: a roster event's when it changes
        the agency of some month, a recorded one's whenever it is newer for its month."""
        known = self.statements_of(nip)
        if from_roster and not membership.changes_anything(known, statement):
            return
        after = membership.kept(known, statement)
        if after == known:
            return
        memberships.store(self.session, nip, statement, stored=any(s.since == statement.since for s in known))
        self.statements[nip] = after
        self.moved[nip] = cause
        if from_roster:
            self.stated.append((nip, statement))

    def touch_moved(self, touched: Touched, agency_of: dict[str, str]) -> None:
        """Every stored period of the ASN whose agency changed somewhere is recomputed (each by the
        policy of its agency on its first day); one query per 500 ASN. The stored months name them
        all: a month is recomputed with its quarter and year, and no quarter or year is stored
        without a month of it (a day touched stores all three), while a year's own first day would
        name January, which may never have been touched."""
        nips = sorted(self.moved)
        periods: dict[str, list] = {}
        for i in range(0, len(nips), CHUNK):
            for nip, name in self.session.execute(select(ScoreRow.nip, ScoreRow.period).where(
                    ScoreRow.nip.in_(nips[i:i + CHUNK]))):
                period = parse_period(name)
                if period.kind == "month":
                    periods.setdefault(nip, []).append(period.start)
        for nip in nips:
            touched.add(nip, periods.get(nip, []), agency=agency_of.get(nip, "-"), cause=self.moved[nip])
        self.moved.clear()

    def follow_roster(self) -> None:
        """Score rows stored before the roster knew the ASN (or under its former agency) follow
        the roster's agency: one UPDATE per agency for the roster events of the batch so far."""
        by_agency: dict[str, list[str]] = {}
        for nip, agency in self.roster_moves.items():
            by_agency.setdefault(agency, []).append(nip)
        self.roster_moves.clear()
        for agency, nips in sorted(by_agency.items()):
            nips.sort()
            for i in range(0, len(nips), CHUNK):
                self.session.execute(update(ScoreRow).where(ScoreRow.nip.in_(nips[i:i + CHUNK]),
                                                            ScoreRow.agency != agency).values(agency=agency))
