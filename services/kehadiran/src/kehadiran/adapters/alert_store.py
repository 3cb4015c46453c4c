"""The PP 94/2021 alerts' statements: the alerts raised and the year's day records of many ASN
read a statement per chunk, raised and withdrawn alerts written in bulk. Core, built once."""
from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any, Iterable, NamedTuple

from sqlalchemy import bindparam, delete, select
from sqlalchemy.engine import Connection

from kehadiran.adapters.calendar_orm import DisciplineAlertRow
from kehadiran.adapters.list_member import MEMBER, lists
from kehadiran.adapters.orm import DaySummaryRow, Employee

ALERTS = DisciplineAlertRow.__table__


class RaisedAlert(NamedTuple):
    kind: str
    threshold: int
    day: date


_RAISED = {d: select(ALERTS.c.nip, ALERTS.c.year, ALERTS.c.kind, ALERTS.c.threshold, ALERTS.c.day).where(
    m(ALERTS.c.nip, "nips")) for d, m in MEMBER.items()}
_AGENCIES = {d: select(Employee.nip, Employee.agency).where(m(Employee.nip, "nips")) for d, m in MEMBER.items()}
_YEAR_DAYS = {d: select(DaySummaryRow.nip, DaySummaryRow.day, DaySummaryRow.payload).where(
    m(DaySummaryRow.nip, "nips"), DaySummaryRow.day >= bindparam("lo"), DaySummaryRow.day <= bindparam("hi"))
    for d, m in MEMBER.items()}
_WITHDRAW = delete(ALERTS).where(ALERTS.c.nip == bindparam("k_nip"), ALERTS.c.year == bindparam("k_year"),
                                 ALERTS.c.kind == bindparam("k_kind"), ALERTS.c.threshold == bindparam("k_threshold"))


def raised(conn: Connection, nips: Iterable[str]) -> dict[tuple[str, int], dict[tuple[str, int], RaisedAlert]]:
    """The alerts standing for each (NIP, year) of ``nips``, keyed by (kind, threshold)."""
    out: dict[tuple[str, int], dict[tuple[str, int], RaisedAlert]] = defaultdict(dict)
    for chunk in lists(conn, sorted(set(nips))):
        for nip, year, kind, threshold, day in conn.execute(_RAISED[conn.dialect.name], {"nips": chunk}).all():
            out[(nip, year)][(kind, threshold)] = RaisedAlert(kind, threshold, day)
    return out


def agencies(conn: Connection, nips: Iterable[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for chunk in lists(conn, sorted(set(nips))):
        out.update(conn.execute(_AGENCIES[conn.dialect.name], {"nips": chunk}).all())
    return out


def year_days(conn: Connection, keys: Iterable[tuple[str, int]]) -> dict[tuple[str, int], list[tuple[date, dict]]]:
    """Each (NIP, year)'s day records (day, payload), a statement per year and chunk of NIPs."""
    by_year: dict[int, set[str]] = defaultdict(set)
    for nip, year in keys:
        by_year[year].add(nip)
    out: dict[tuple[str, int], list[tuple[date, dict]]] = defaultdict(list)
    for year, nips in sorted(by_year.items()):
        for chunk in lists(conn, sorted(nips)):
            for nip, day, payload in conn.execute(_YEAR_DAYS[conn.dialect.name], {
                    "nips": chunk, "lo": date(year, 1, 1), "hi": date(year, 12, 31)}).all():
                out[(nip, year)].append((day, payload))
    return out


def add(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """``[{nip, year, kind, threshold, day, raised_at}]``"""
    if rows:
        conn.execute(ALERTS.insert(), rows)


def withdraw(conn: Connection, keys: list[tuple[str, int, str, int]]) -> None:
    """``[(nip, year, kind, threshold)]``"""
    if keys:
        conn.execute(_WITHDRAW, [{"k_nip": n, "k_year": y, "k_kind": k, "k_threshold": t} for n, y, k, t in keys])
