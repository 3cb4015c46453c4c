"""The fact rows one transaction has read, by model and primary key (``BatchRows``): fetched for a
whole batch of events in one query per table (``prefetch``) instead of one ``session.get`` per
event; a key fetched and not found is known to be absent until the batch adds it. Task and
innovation facts are plain records (``FactRecord``, ``PLAIN_MODELS``): read in bulk, merged in
memory by the rules of ``facts``, and those that changed written in one statement a table
(``write_records``); other rows are ORM objects, in the session, flushed together."""
from __future__ import annotations

from typing import Any, Iterable

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from kinerja.db import planned_each_time
from penilaian.adapters.bulk_writes import upsert
from penilaian.adapters.key_lists import one_of
from penilaian.adapters.orm import InnovationFactRow, TaskFactRow

PLAIN_MODELS = (TaskFactRow, InnovationFactRow)
CHUNK = 500  # keys a query


class FactRecord:
    """One row of a plain-record table, its columns as attributes (all of them: None until set)."""

    def __init__(self, **columns) -> None:
        self.__dict__.update(columns)

    @classmethod
    def blank(cls, model: type, **columns) -> "FactRecord":
        return cls(**(dict.fromkeys(model.__table__.columns.keys()) | columns))

    def __repr__(self) -> str:
        return f"FactRecord({self.__dict__!r})"


class BatchRows:
    """Part of ``batch.Batch``: ``rows`` (model -> key -> row, None when known absent) and ``read``
    (plain records as read: written only if changed)."""

    session: Session

    def init_rows(self) -> None:
        self.rows: dict[type, dict[Any, Any]] = {}
        self.read: dict[type, dict[Any, dict]] = {}

    def prefetch(self, model: type, keys: Iterable[Any]) -> None:
        known = self.rows.setdefault(model, {})
        todo = sorted({k for k in keys if k not in known})
        if not todo:
            return
        pk = model.__mapper__.primary_key
        plain = model in PLAIN_MODELS
        what = select(*(getattr(model, c) for c in model.__table__.columns.keys())) if plain else select(model)
        read = self.read.setdefault(model, {})
        for i in range(0, len(todo), CHUNK):
            chunk = todo[i:i + CHUNK]
            if len(pk) == 1:
                where = one_of(pk[0], chunk, self.session.get_bind().dialect.name == "postgresql")
                key_of = lambda r: getattr(r, pk[0].key)  # noqa: E731
            else:
                where = tuple_(*pk).in_(chunk)
                key_of = lambda r: tuple(getattr(r, c.key) for c in pk)  # noqa: E731
            if plain:
                with planned_each_time(self.session):  # an array of keys (``key_lists``)
                    found = self.session.execute(what.where(where)).all()
                for r in found:
                    row = FactRecord(**r._mapping)
                    known[key_of(row)] = row
                    read[key_of(row)] = dict(r._mapping)
            else:
                with planned_each_time(self.session):
                    found = self.session.execute(what.where(where)).scalars().all()
                for row in found:
                    known[key_of(row)] = row
            for k in chunk:
                known.setdefault(k, None)

    def get(self, model: type, key: Any):
        known = self.rows.setdefault(model, {})
        if key in known:
            return known[key]
        if model in PLAIN_MODELS:
            self.prefetch(model, [key])
            return known[key]
        row = known[key] = self.session.get(model, key)
        return row

    def new_row(self, model: type, key: Any, **columns) -> Any:
        """A row not stored yet, added to the batch (a plain record for ``PLAIN_MODELS``)."""
        row = FactRecord.blank(model, **columns) if model in PLAIN_MODELS else model(**columns)
        self.added(model, key, row)
        return row

    def added(self, model: type, key: Any, row: Any) -> None:
        if model not in PLAIN_MODELS:
            self.session.add(row)
        self.rows.setdefault(model, {})[key] = row

    def write_records(self) -> None:
        """The plain records that changed since read, one statement a table."""
        for model in PLAIN_MODELS:
            records, read = self.rows.get(model, {}), self.read.get(model, {})
            upsert(self.session, model.__table__, [vars(r) for k, r in records.items()
                                                   if r is not None and vars(r) != read.get(k)])
            read.update({k: dict(vars(r)) for k, r in records.items() if r is not None})
