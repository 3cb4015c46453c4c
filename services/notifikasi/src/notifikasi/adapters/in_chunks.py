"""Long ``IN (...)`` lists read a slice at a time: a statement may carry only so many bound
parameters (SQLite's limit, PostgreSQL's 65,535), and a roster or a batch of events can be longer."""
from __future__ import annotations

from typing import Iterator, Sequence, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

T = TypeVar("T")

IN_CHUNK = 500


def chunks(values: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def pairs_where_in(session: Session, first, second, key, values: Sequence) -> set[tuple]:
    """The (``first``, ``second``) column pairs of the rows whose ``key`` is one of ``values``."""
    out: set[tuple] = set()
    for part in chunks(values):
        out.update(tuple(row) for row in session.execute(select(first, second).where(key.in_(part))).all())
    return out
