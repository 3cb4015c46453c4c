"""A consumer handler for the shared consumer loop's tests: a real database with the plumbing tables
(``processed_events`` records the ids) and, in order, what it applied of each event."""
from __future__ import annotations

from typing import Any, Callable

from sqlalchemy import MetaData

from kinerja.db import make_engine, make_session_factory
from kinerja.messaging.outbox import add_plumbing_tables


class AppliedSink:
    """``applied``: ``what(event)`` for each event handled, in order."""

    def __init__(self, url: str, what: Callable[[Any], Any]):
        metadata = MetaData()
        _, self.processed = add_plumbing_tables(metadata)
        engine = make_engine(url)
        metadata.create_all(engine)
        self.sessions = make_session_factory(engine)
        self.applied: list[Any] = []
        self._what = what

    def handle(self, session, event) -> None:
        self.applied.append(self._what(event))
