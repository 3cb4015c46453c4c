"""Long ``IN (...)`` lists read a slice at a time: a statement may carry only so many bound
parameters (SQLite's limit, PostgreSQL's 65,535), and a roster or a batch of events can be longer.
On PostgreSQL a list is one array parameter instead (``member_of``, ``in_slices``)."""
from __future__ import annotations

from typing import Iterator, Sequence, TypeVar

from sqlalchemy import any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

T = TypeVar("T")

IN_CHUNK = 500


def chunks(values: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def member_of(column, values: Sequence, dialect: str):
    """``column IN values`` as each database does it best: on PostgreSQL ``= ANY`` of one array
    parameter, so the statement's text is the same whatever the count (an expanding ``IN`` is a
    new text for each count, compiled again by SQLAlchemy and parsed again by the driver and the
    server: a third of a small poll's statements missed psycopg's query cache), an ``IN`` list
    elsewhere."""
    if dialect == "postgresql":
        return column == any_(bindparam(None, value=list(values), type_=ARRAY(column.type)))
    return column.in_(values)


def in_slices(values: Sequence[T], dialect: str) -> Iterator[Sequence[T]]:
    """``values`` as the lists ``member_of`` takes: all at once on PostgreSQL (an array parameter
    has no length limit), ``IN_CHUNK`` at a time elsewhere."""
    if dialect == "postgresql":
        if values:
            yield values
        return
    yield from chunks(values)


def pairs_where_in(session: Session, first, second, key, values: Sequence) -> set[tuple]:
    """The (``first``, ``second``) column pairs of the rows whose ``key`` is one of ``values``."""
    out: set[tuple] = set()
    for part in chunks(values):
        out.update(tuple(row) for row in session.execute(select(first, second).where(key.in_(part))).all())
    return out
