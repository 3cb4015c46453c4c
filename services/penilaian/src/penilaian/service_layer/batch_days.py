"""Day facts in one transaction (``BatchDays``): plain rows, the version of each day as it stands,
the batch's winners written together (or left for the transaction's last statement), and the
facts of a month as the recompute sums them, read once with what the batch stored over them."""
from __future__ import annotations

from datetime import date
from typing import Iterable

from sqlalchemy.orm import Session

from penilaian.adapters.day_fact_rows import stored_versions, write_day_facts
from penilaian.adapters.fact_queries import load_spans
from penilaian.service_layer import span_facts
from penilaian.service_layer.batch_rows import PLAIN_MODELS

Span = tuple[str, date, date]  # (nip, first day, last day)


class BatchDays:
    """Part of ``batch.Batch``: ``day_versions`` ((version, event id) stored per key), ``day_rows``
    (the rows the batch's summaries won), ``spans`` (the facts of (nip, month start, month end) as
    read, ``facts_of``), and with ``defer_days`` the day rows won but left for the transaction's
    last statement (``pending_days``)."""

    session: Session
    rows: dict

    def init_days(self) -> None:
        self.day_versions: dict[tuple[str, date], tuple | None] = {}
        self.day_rows: dict[tuple[str, date], dict] = {}
        self.spans: dict[Span, tuple[list, list, list]] = {}
        self.defer_days = False
        self.pending_days: dict[tuple[str, date], dict] = {}

    def read_months(self, days: Iterable[tuple[str, date]], spans: list[Span]) -> None:
        """The facts of ``spans`` read once, the stored versions of ``days`` (within them) with
        them: the recompute sums them (``facts_of``) instead of reading them again."""
        self.day_versions.update(dict.fromkeys(days))
        self.spans.update(load_spans(self.session, spans, versions=self.day_versions))

    def prefetch_days(self, keys: Iterable[tuple[str, date]]) -> None:
        todo = [k for k in keys if k not in self.day_versions]
        if todo:
            self.day_versions.update(dict.fromkeys(todo) | stored_versions(self.session, todo))

    def day_version(self, key: tuple[str, date]) -> tuple | None:
        """(version, event id) of the day as it stands in this transaction (None: no fact)."""
        if key not in self.day_versions:
            self.prefetch_days([key])
        return self.day_versions[key]

    def put_day(self, key: tuple[str, date], row: dict) -> None:
        # a later summary of the same day in the batch replaces the row still to be written
        self.day_rows[key] = row
        self.day_versions[key] = (row["version"], row["event_id"])

    def write_facts(self) -> None:
        """The day facts the batch's summaries won and the task and innovation facts that changed,
        one statement a table (before any recompute: it reads them). With ``defer_days`` the day
        facts are kept in ``pending_days`` instead, for the caller to write with its last
        statement: the recompute reads them from there (``facts_of``)."""
        rows, self.day_rows = self.day_rows, {}
        if self.defer_days:
            self.pending_days.update(rows)
        else:
            write_day_facts(self.session, list(rows.values()))
        self.write_records()

    write_days = write_facts  # the name the rebuild's batches call it by

    def facts_of(self, spans: list[Span]) -> dict[Span, tuple[list, list, list]]:
        """The facts of each (nip, start, end) as they stand in this transaction: read once (at
        ``prepare``, or now) with what the batch stored over them (``span_facts``)."""
        todo = [span for span in spans if span not in self.spans]
        if todo:
            self.spans.update(load_spans(self.session, todo))
        return span_facts.overlaid(self.spans, spans, self.pending_days,
                                   {model: self.rows.get(model, {}) for model in PLAIN_MODELS})

    def take_pending_days(self) -> list[dict]:
        rows, self.pending_days = list(self.pending_days.values()), {}
        return rows
