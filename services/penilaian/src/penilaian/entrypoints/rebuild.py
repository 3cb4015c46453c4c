"""Rebuild penilaian from the topics into a fresh database and compare it with the live tables.

``penilaian-rebuild`` and ``kinerja scores rebuild`` (``rebuild_cli``) call :func:`rebuild`. It reads ``pegawai.v1``, ``penilaian.v1`` (the
facts penilaian recorded itself: ratings, training, dialogs, policy versions, the organisation's
predikat; its score updates are skipped), ``kehadiran.v1`` and ``tugas.v1`` from offset 0 up to the
end offsets captured when it starts, with manual partition assignment (no consumer group, nothing
committed), stores the facts in batches, recomputes every affected ASN once at the end, and then
compares every score row (values and ledger) and every recorded fact with the live database.
Scores are a function of the events (DESIGN section 4), so any difference is a bug, or events that
reached the live tables and not the topics (an undrained outbox) or arrived after the start.
"""
from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterator

from sqlalchemy import func, insert, select

from kinerja.config import load_settings
from kinerja.db import make_engine, make_session_factory
from kinerja.events.envelope import InvalidEvent
from kinerja.events.kehadiran import DAY_SUMMARIZED
from kinerja.events.pegawai import EMPLOYEE_UPSERTED
from kinerja.events.penilaian import (
    DIALOG_RECORDED,
    MEMBERSHIP_RECORDED,
    ORGANISATION_RATED,
    POLICY_SET,
    RATING_RECORDED,
    TRAINING_RECORDED,
)
from kinerja.messaging import topics
from kinerja.messaging.outbox import add_plumbing_tables, utcnow
from kinerja.messaging.replay import read_to_end
from kinerja.messaging.topics import topic
from penilaian.adapters.orm import (
    DialogRow,
    Employee,
    FeedbackFactRow,
    OrganisationRatingRow,
    PolicyRow,
    RatingRow,
    ScoreRow,
    SkpFactRow,
    TrainingRow,
    metadata,
)
from kinerja.events.envelope import decode_event
from penilaian.entrypoints.migrate import main as migrate
from penilaian.service_layer import policy_recompute
from penilaian.service_layer.scoring import (
    FEEDBACK_POSTED,
    INNOVATION_APPROVED,
    SKP_APPROVED,
    TASK_TYPES,
    Batch,
    Policies,
    Touched,
    recompute_many,
    store_event,
)

# the order the topics are read in: the roster first (as in the live system, where it long precedes
# the facts), then penilaian's own facts, then attendance and tasks. Any order gives the same result.
TOPICS = (topics.PEGAWAI, topics.PENILAIAN, topics.KEHADIRAN, topics.TUGAS)
APPLIED_TYPES = frozenset({EMPLOYEE_UPSERTED, DAY_SUMMARIZED, INNOVATION_APPROVED, RATING_RECORDED,
                           TRAINING_RECORDED, DIALOG_RECORDED, POLICY_SET, ORGANISATION_RATED, SKP_APPROVED,
                           FEEDBACK_POSTED, MEMBERSHIP_RECORDED, *TASK_TYPES})
SCORE_FIELDS = ("agency", "disiplin", "produktivitas", "berakhlak", "perilaku", "hasil_kerja", "total", "total_partial",
                "predikat")


@dataclass
class Report:
    target_url: str
    read: dict[str, int] = field(default_factory=dict)  # messages per topic
    applied: int = 0
    duplicates: int = 0
    ignored: int = 0  # types penilaian does not apply (punches, its own score updates, ...)
    invalid: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    asn_recomputed: int = 0
    rows_compared: int = 0
    differences: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds_read_apply: float = 0.0
    seconds_recompute: float = 0.0
    seconds_compare: float = 0.0

    @property
    def messages(self) -> int:
        return sum(self.read.values())

    @property
    def events_per_s(self) -> float:
        busy = self.seconds_read_apply + self.seconds_recompute
        return self.messages / busy if busy else 0.0

    def summary(self, show: int = 20) -> str:
        lines = [
            f"rebuilt into {self.target_url}",
            "read " + ", ".join(f"{t}: {n}" for t, n in self.read.items()) + f" ({self.messages} messages)",
            f"applied {self.applied}, duplicates {self.duplicates}, not for penilaian {self.ignored}, "
            f"invalid {len(self.invalid)}, failed {len(self.failed)}",
            f"recomputed {self.asn_recomputed} ASN; read+apply {self.seconds_read_apply:.1f} s, recompute "
            f"{self.seconds_recompute:.1f} s ({self.events_per_s:.0f} messages/s), compare {self.seconds_compare:.1f} s",
            f"compared {self.rows_compared} score rows: "
            + ("no differences" if not self.differences else f"{len(self.differences)} differences"),
        ]
        lines += [f"  {d}" for d in self.differences[:show]]
        if len(self.differences) > show:
            lines.append(f"  ... and {len(self.differences) - show} more")
        lines += [f"warning: {w}" for w in self.warnings]
        lines += [f"invalid: {x}" for x in self.invalid[:show]] + [f"failed: {x}" for x in self.failed[:show]]
        return "\n".join(lines)


def event_type_of(raw: bytes | None) -> str | None:
    try:
        return json.loads(raw).get("type") if raw else None
    except (ValueError, AttributeError):
        return None


def fresh_sqlite_url(var_dir: Path | None = None) -> str:
    base = var_dir or Path(tempfile.gettempdir())
    base.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path = Path(tempfile.mkdtemp(prefix=f"penilaian-rebuild-{stamp}-", dir=base)) / "penilaian.db"
    return f"sqlite:///{path}"


def rebuild(*, bootstrap: str, prefix: str = "", live_url: str | None, target_url: str | None = None,
            tz: str = "Asia/Jakarta", batch_size: int = 2000, recompute_batch: int = 200,
            progress: Callable[[str], None] | None = None, timeout_s: float = 1800.0) -> Report:
    """Replay the topics into ``target_url`` (a new SQLite file when None; it must hold no scores
    yet) and compare with ``live_url`` (skipped when None). Returns the report; ``differences``
    empty means the live tables are exactly what the events give."""
    say = progress or (lambda _msg: None)
    target_url = target_url or fresh_sqlite_url()
    migrate(target_url)
    engine = make_engine(target_url)
    sessions = make_session_factory(engine)
    _, processed = add_plumbing_tables(metadata)
    report = Report(target_url=target_url)
    try:
        with sessions() as s:
            if s.execute(select(func.count()).select_from(ScoreRow)).scalar_one():
                raise RuntimeError(f"{target_url} already holds scores; rebuild into an empty database")
        from zoneinfo import ZoneInfo

        zone = ZoneInfo(tz)
        touched = Touched()
        seen: set[str] = set()
        began = time.monotonic()
        pending: list[tuple[Any, Any]] = []

        def flush() -> None:
            if not pending:
                return
            try:
                with sessions() as s, s.begin():
                    _store(s, pending, zone, touched, processed)
                report.applied += len(pending)
            except Exception:  # noqa: BLE001 - find the one that fails, keep the rest
                for event, msg in pending:
                    try:
                        with sessions() as s, s.begin():
                            _store(s, [(event, msg)], zone, touched, processed)
                        report.applied += 1
                    except Exception as exc:  # noqa: BLE001
                        report.failed.append(f"{msg.topic}[{msg.partition}]@{msg.offset} {event.type} {event.id}: {exc!r}"[:500])
            pending.clear()

        names = [topic(t, prefix) for t in TOPICS]
        for name, msgs in read_to_end(bootstrap, names, timeout_s=timeout_s, client_id="penilaian-rebuild"):
            report.read[name] = report.read.get(name, 0) + len(msgs)
            for msg in msgs:
                kind = event_type_of(msg.value)
                if kind is not None and kind not in APPLIED_TYPES and _known(kind):
                    report.ignored += 1
                    continue
                try:
                    event = decode_event(msg.value)
                except InvalidEvent as exc:
                    report.invalid.append(f"{msg.topic}[{msg.partition}]@{msg.offset}: {exc}"[:500])
                    continue
                if event.id in seen:
                    report.duplicates += 1
                    continue
                seen.add(event.id)
                if event.type not in APPLIED_TYPES:
                    report.ignored += 1
                    continue
                pending.append((event, msg))
                if len(pending) >= batch_size:
                    flush()
            say(f"read {report.messages} messages ({name})")
        flush()
        report.seconds_read_apply = time.monotonic() - began

        began = time.monotonic()
        nips = sorted(touched.days)
        for i in range(0, len(nips), recompute_batch):
            part = Touched()
            for nip in nips[i:i + recompute_batch]:
                part.days[nip], part.agency[nip], part.cause[nip] = touched.days[nip], touched.agency[nip], touched.cause[nip]
            with sessions() as s, s.begin():
                recompute_many(s, None, part, zone=zone, policies=Policies(s))
        with sessions() as s, s.begin():
            policy_recompute.finish_all(s)  # every ASN was just recomputed under every version
        report.asn_recomputed = len(nips)
        report.seconds_recompute = time.monotonic() - began
        say(f"recomputed {len(nips)} ASN")

        if live_url:
            began = time.monotonic()
            compare(live_url, target_url, report)
            report.seconds_compare = time.monotonic() - began
    finally:
        engine.dispose()
    return report


def _known(kind: str) -> bool:
    from kinerja.events.envelope import known_types

    return kind in known_types()


def _store(session, pending, zone, touched: Touched, processed) -> None:
    policies = Policies(session)
    batch = Batch(session)
    batch.prepare([event for event, _ in pending])
    rows = []
    for event, msg in pending:
        store_event(session, event, zone, touched, policies, batch)
        rows.append({"event_id": event.id, "topic": msg.topic, "partition": msg.partition, "offset": msg.offset,
                     "processed_at": utcnow()})
    batch.follow_roster()
    batch.touch_moved(touched, {})
    session.execute(insert(processed), rows)


# -- comparing ---------------------------------------------------------------------------------
def _score_rows(session) -> dict[tuple[str, str], dict[str, Any]]:
    """Every score row with something rated (a row with nothing rated equals no row at all: the
    API computes that from the facts alike), as comparable values."""
    out = {}
    for r in session.execute(select(ScoreRow)).scalars():
        if not (r.detail.get("ledger") or r.total is not None or r.total_partial is not None or r.disiplin is not None):
            continue
        out[(r.nip, r.period)] = {**{f: getattr(r, f) for f in SCORE_FIELDS},
                                  "detail": json.dumps(r.detail, sort_keys=True)}
    return out


def _facts(session) -> dict[str, set]:
    return {
        "ratings": {(r.nip, r.period, r.rater, r.rating_id, json.dumps(r.levels, sort_keys=True))
                    for r in session.execute(select(RatingRow)).scalars()},
        "training": {(r.id, r.nip, r.title, r.jp, r.day.isoformat(), r.provider)
                     for r in session.execute(select(TrainingRow)).scalars()},
        "dialogs": {(r.id, r.nip, r.atasan_nip, r.period, r.day.isoformat(), r.notes, r.follow_up)
                    for r in session.execute(select(DialogRow)).scalars()},
        "policy versions": {(r.policy_id, r.agency, r.version, r.effective_from.isoformat(),
                             json.dumps(r.values, sort_keys=True))
                            for r in session.execute(select(PolicyRow)).scalars()},
        "organisation predikat": {(r.agency, r.period, r.rating_id, r.predikat)
                                  for r in session.execute(select(OrganisationRatingRow)).scalars()},
        "roster": {(r.nip, r.agency, r.unit, r.atasan_nip, r.active, r.jabatan)
                   for r in session.execute(select(Employee)).scalars()},
        "approved SKPs": {(r.nip, r.year, r.skp_id, r.revision, json.dumps(r.rhk, sort_keys=True))
                          for r in session.execute(select(SkpFactRow)).scalars()},
        "feedback": {(r.message_id, r.nip, r.author_nip, r.task_id, r.rhk_id, r.text)
                     for r in session.execute(select(FeedbackFactRow)).scalars()},
    }


def compare(live_url: str, rebuilt_url: str, report: Report) -> None:
    live_engine, rebuilt_engine = make_engine(live_url), make_engine(rebuilt_url)
    try:
        with make_session_factory(live_engine)() as live, make_session_factory(rebuilt_engine)() as rebuilt:
            a, b = _score_rows(live), _score_rows(rebuilt)
            report.rows_compared = len(set(a) | set(b))
            for key in sorted(set(a) | set(b)):
                nip, period = key
                if key not in b:
                    report.differences.append(f"score {nip} {period}: in the live tables only ({a[key]['predikat']}, total {a[key]['total']})")
                elif key not in a:
                    report.differences.append(f"score {nip} {period}: in the rebuild only ({b[key]['predikat']}, total {b[key]['total']})")
                else:
                    moved = [f for f in (*SCORE_FIELDS, "detail") if a[key][f] != b[key][f]]
                    if moved:
                        shown = ", ".join(f"{f} {a[key][f]} → {b[key][f]}" if f != "detail" else "ledger/detail"
                                          for f in moved)
                        report.differences.append(f"score {nip} {period}: live vs rebuild: {shown}")
            fa, fb = _facts(live), _facts(rebuilt)
            for name in fa:
                only_live, only_rebuilt = fa[name] - fb[name], fb[name] - fa[name]
                for x in sorted(only_live, key=str)[:50]:
                    report.differences.append(f"{name}: in the live tables only: {x}")
                for x in sorted(only_rebuilt, key=str)[:50]:
                    report.differences.append(f"{name}: in the rebuild only: {x}")
            outbox, _ = add_plumbing_tables(metadata)
            unsent = live.execute(select(func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None))).scalar_one()
            if unsent:
                report.warnings.append(f"the live outbox holds {unsent} unsent events: facts recorded by the API "
                                       "but not yet on penilaian.v1 are missing from the rebuild until the relay sends them")
    finally:
        live_engine.dispose()
        rebuilt_engine.dispose()


def main_settings():
    return load_settings("penilaian")
