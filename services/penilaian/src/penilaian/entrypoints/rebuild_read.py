"""Sorting the records a rebuild reads, and reading a share of a topic's partitions in a worker
process.

``Sorter.take`` decides each record once: passed over (a type penilaian does not keep, known from
the envelope's ``type`` and confirmed by the JSON), malformed (counted and named), a duplicate
(among the recent ids of its partition), folded in memory (``service_layer.replay``), or handed to
the live path. ``fold_share`` runs in a worker: it reads the partitions ``p % of == share`` of one
topic and returns its folded day facts (packed: bytes, ``FactFold.pack_days``), the days they touch,
its counts, end offsets, recent ids and its own peak memory, for the parent to take in
(``take_share``) and write the day facts from, a chunk at a time.
"""
from __future__ import annotations

import re
from typing import Any, Callable
from zoneinfo import ZoneInfo

from kinerja.events.envelope import InvalidEvent, known_types
from kinerja.messaging.replay import RecentIds, read_to_end
from penilaian.adapters.process_memory import own_peak_rss_mb, rss_mb
from penilaian.adapters.trusted_decode import decode_record, loads
from penilaian.entrypoints.rebuild_compare import NAMED, Report
from penilaian.service_layer.replay import FOLDED_TYPES, FactFold, MonthsTouched
from penilaian.service_layer.scoring import Touched

_TYPE = re.compile(rb'"type"\s*:\s*"([^"\\]{1,200})"')


class Sorter:
    def __init__(self, report: Report, fold: FactFold, recent: RecentIds, applied_types: frozenset[str],
                 store: Callable[[Any, Any], None]) -> None:
        self.report, self.fold, self.recent, self.store = report, fold, recent, store
        self.applied_types = applied_types
        self.passed_over = frozenset(known_types()) - applied_types

    def take(self, msg) -> None:
        report = self.report
        raw, obj = msg.value, None
        m = _TYPE.search(raw) if raw else None
        if m is not None and m.group(1).decode() in self.passed_over:
            try:  # the envelope's type, as the JSON says (a "type" key inside data is not it)
                obj = loads(raw)
            except (UnicodeDecodeError, ValueError):
                obj = None
            if isinstance(obj, dict) and obj.get("type") in self.passed_over:
                report.ignored += 1
                return
        try:
            event = decode_record(raw, obj)
        except InvalidEvent as exc:
            report.invalid_count += 1
            if len(report.invalid) < NAMED:
                report.invalid.append(f"{msg.topic}[{msg.partition}]@{msg.offset}: {exc}"[:500])
            return
        if self.recent.seen(msg.partition, event.id):
            report.duplicates += 1
            return
        if event.type not in self.applied_types:
            report.ignored += 1
            return
        if event.type in FOLDED_TYPES:
            try:
                self.fold.add(event)
                report.applied += 1
            except Exception as exc:  # noqa: BLE001 - named in the report, the rest goes on
                report.failed.append(f"{msg.topic}[{msg.partition}]@{msg.offset} {event.type} {event.id}: {exc!r}"[:500])
            return
        self.store(event, msg)


def fold_share(bootstrap: str, name: str, share: int, of: int, *, tz: str, applied_types: frozenset[str],
               dedup_window: int, tail_ids: int, timeout_s: float) -> dict:
    """In a worker process: read and sort the partitions ``p % of == share`` of ``name``. Only
    folded types may be applied there; any other record to apply is returned as bytes for the
    parent's live path (``to_store``)."""
    report = Report(target_url="", start_rss_mb=rss_mb())
    touched = MonthsTouched()
    fold = FactFold(ZoneInfo(tz), touched)
    recent = RecentIds(dedup_window)
    to_store: list[tuple[str, int, int, bytes]] = []
    sorter = Sorter(report, fold, recent, applied_types,
                    lambda event, msg: to_store.append((msg.topic, msg.partition, msg.offset, msg.value)))
    ends: dict = {}
    for _, msgs in read_to_end(bootstrap, [name], timeout_s=timeout_s, client_id=f"penilaian-rebuild-{share}",
                               partitions=lambda _t, p: p % of == share, ends_out=ends):
        report.read[name] = report.read.get(name, 0) + len(msgs)
        for msg in msgs:
            sorter.take(msg)
    if fold.has_tasks_or_innovations():
        raise RuntimeError(f"{name}: tasks or innovations met in a worker; read that topic in one process")
    days = fold.pack_days()
    return {"report": report, "days": days, "peak_rows": fold.peak,
            "touched": (touched.days, touched.agency, touched.cause),
            "ends": ends, "tails": {(name, p): recent.last(p, tail_ids) for p in recent.partitions()},
            "to_store": to_store, "peak_rss_mb": own_peak_rss_mb()}


def take_share(share: dict, report: Report, touched: Touched, tails: dict, ends: dict) -> None:
    """A worker's counts, days to recompute (in the one-process order), end offsets and tail ids
    into the parent's; its day facts (``share["days"]``) are the caller's to write."""
    theirs: Report = share["report"]
    for t, n in theirs.read.items():
        report.read[t] = report.read.get(t, 0) + n
    report.applied += theirs.applied
    report.duplicates += theirs.duplicates
    report.ignored += theirs.ignored
    report.invalid_count += theirs.invalid_count
    report.invalid += theirs.invalid[:max(0, NAMED - len(report.invalid))]
    report.failed += theirs.failed
    report.fold_peak_rows = max(report.fold_peak_rows, share["peak_rows"])
    report.worker_peak_rss_mb = max(report.worker_peak_rss_mb, share["peak_rss_mb"])
    report.worker_start_rss_mb = max(report.worker_start_rss_mb, theirs.start_rss_mb)
    days, agency, cause = share["touched"]
    for nip in sorted(days):
        touched.add(nip, days[nip], agency=agency[nip], cause=cause[nip])
    tails.update(share["tails"])
    ends.update(share["ends"])
