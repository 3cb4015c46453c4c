"""Load a recorded history of work into tugas through its own handlers, each step at its recorded
time: ``python -m tugas.entrypoints.history FILE.json``.

For the demo agency (``kinerja demo`` writes the file), and for an agency that brings the months
of SKP and tasks it kept elsewhere. Nothing is written around the rules: every step is the command
the API would run (assign, start, submit, return, approve; SKP draft, submit, approve; feedback;
innovation proposal and decision), with the actor and the clock the file gives, and its events go
out through the outbox like any other. Loading the same file again adds nothing: SKPs are known by
(ASN, year), tasks, messages and innovations by the ids the file gives.

The file (JSON)::

    {"agency": "disdik-lamsel",
     "skps": [{"nip", "year", "rhk": [{"kind", "text", "indicators": [...]}],
               "created_at", "submitted_at", "approved_at" (or null)}],
     "tasks": [{"id", "nip", "assigned_by", "title", "category", "due_date", "target_quantity",
                "rhk": [year, position] or null,
                "steps": [{"action": "assign"|"start"|"submit"|"return"|"approve", "at", ...args}]}],
     "feedback": [{"id", "author", "task_id" or "rhk": [nip, year, position], "text", "at"}],
     "innovations": [{"id", "nip", "title", "description", "proposed_at", "decided_at", "approve"}]}

Times are ISO 8601 with an offset. Prints what it loaded and what it found loaded already.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from kinerja.runtime import ServiceRuntime
from tugas.adapters.orm import Employee, FeedbackMessageRow, InnovationRow, RhkRow, SkpRow, TaskRow
from tugas.entrypoints.runtime import make_runtime
from tugas.service_layer import feedback as feedback_service
from tugas.service_layer import innovation as innovation_service
from tugas.service_layer import skp as skp_service
from tugas.service_layer.context import Actor
from tugas.service_layer.overdue import flag_overdue
from tugas.service_layer.tasks import assign_task, change_task

TASK_ACTIONS = ("start", "submit", "return", "approve")


class HistoryError(Exception):
    """A step the rules refused: the file does not describe a history that could have happened."""


def _at(text: str) -> datetime:
    t = datetime.fromisoformat(text)
    if t.tzinfo is None:
        raise HistoryError(f"time {text!r} has no offset")
    return t.astimezone(timezone.utc)


def wait_for_roster(runtime: ServiceRuntime, nips: set[str], timeout_s: float) -> None:
    """tugas learns the roster from ``pegawai.v1``: wait until it names every ASN of the history."""
    deadline = time.monotonic() + timeout_s
    while True:
        with runtime.session() as session:
            known = set(session.execute(select(Employee.nip).where(Employee.nip.in_(sorted(nips)))).scalars())
        if known >= nips:
            return
        if time.monotonic() > deadline:
            raise HistoryError(f"tugas does not know {len(nips - known)} ASN of the history after {timeout_s:.0f} s "
                               f"(is its consumer reading pegawai.v1?), e.g. {sorted(nips - known)[:3]}")
        time.sleep(0.2)


def _role(session, nip: str) -> str:
    """An ASN with someone reporting to them acts as a supervisor (known once per session)."""
    roles = session.info.setdefault("history.roles", {})
    if nip not in roles:
        boss = session.execute(select(Employee.nip).where(Employee.atasan_nip == nip).limit(1)).first()
        roles[nip] = "atasan" if boss else "pegawai"
    return roles[nip]


def load_skp(runtime: ServiceRuntime, agency: str, item: dict[str, Any]) -> bool:
    with runtime.session() as session, session.begin():
        if session.execute(select(SkpRow.id).where(SkpRow.nip == item["nip"], SkpRow.year == item["year"])).first():
            return False
        me = Actor(item["nip"], _role(session, item["nip"]), agency)
        row = skp_service.create_skp(session, me, year=item["year"], rhks=item["rhk"], now=_at(item["created_at"]))
        if item.get("submitted_at"):
            skp_service.change_skp(session, runtime.outbox, me, row.id, "submit", now=_at(item["submitted_at"]))
        if item.get("approved_at"):
            boss = session.get(Employee, item["nip"]).atasan_nip
            skp_service.change_skp(session, runtime.outbox, Actor(boss, "atasan", agency), row.id, "approve",
                                   now=_at(item["approved_at"]), note=item.get("note"))
    return True


def rhk_id(session, nip: str, year: int, position: int) -> str:
    known = session.info.setdefault("history.rhk", {})
    if (nip, year) not in known:
        known[(nip, year)] = session.execute(select(RhkRow.id).join(SkpRow, SkpRow.id == RhkRow.skp_id)
                                             .where(SkpRow.nip == nip, SkpRow.year == year)
                                             .order_by(RhkRow.position, RhkRow.id)).scalars().all()
    rows = known[(nip, year)]
    if position >= len(rows):
        raise HistoryError(f"{nip} has no RHK {position} in the SKP of {year}")
    return rows[position]


def load_task(session, outbox, agency: str, item: dict[str, Any], zone: ZoneInfo) -> bool:
    """One task's story, in the caller's transaction."""
    if session.get(TaskRow, item["id"]) is not None:
        return False
    steps = item["steps"]
    if not steps or steps[0]["action"] != "assign":
        raise HistoryError(f"task {item['id']}: the first step must be assign")
    assigned = _at(steps[0]["at"])
    rhk = rhk_id(session, item["nip"], *item["rhk"]) if item.get("rhk") else None
    boss = Actor(item["assigned_by"], "atasan", agency)
    assign_task(session, outbox, boss, assignee_nip=item["nip"], title=item["title"],
                due_date=date.fromisoformat(item["due_date"]),
                target_quantity=Decimal(str(item["target_quantity"])), today=assigned.astimezone(zone).date(),
                rhk_id=rhk, category=item.get("category"), description=item.get("description"),
                now=assigned, task_id=item["id"])
    me = Actor(item["nip"], _role(session, item["nip"]), agency)
    for step in steps[1:]:
        action = step["action"]
        if action not in TASK_ACTIONS:
            raise HistoryError(f"task {item['id']}: unknown action {action!r}")
        actor = boss if action in ("return", "approve") else me
        args = {k: v for k, v in step.items() if k not in ("action", "at")}
        if action == "approve":
            args["realised_quantity"] = Decimal(str(args["realised_quantity"]))
        change_task(session, outbox, actor, item["id"], action, now=_at(step["at"]), **args)
    return True


def load_feedback(runtime: ServiceRuntime, agency: str, item: dict[str, Any]) -> bool:
    with runtime.session() as session, session.begin():
        if session.get(FeedbackMessageRow, item["id"]) is not None:
            return False
        target = {"task_id": item["task_id"]} if item.get("task_id") else {"rhk_id": rhk_id(session, *item["rhk"])}
        feedback_service.post_message(session, runtime.outbox, Actor(item["author"], _role(session, item["author"]), agency),
                                      text=item["text"], now=_at(item["at"]), message_id=item["id"], **target)
    return True


def load_innovation(runtime: ServiceRuntime, agency: str, item: dict[str, Any]) -> bool:
    with runtime.session() as session, session.begin():
        if session.get(InnovationRow, item["id"]) is not None:
            return False
        me = Actor(item["nip"], _role(session, item["nip"]), agency)
        innovation_service.propose(session, me, title=item["title"], description=item.get("description", ""),
                                   links=item.get("links", []), now=_at(item["proposed_at"]), innovation_id=item["id"])
        if item.get("decided_at"):
            boss = Actor(session.get(Employee, item["nip"]).atasan_nip, "atasan", agency)
            innovation_service.decide(session, runtime.outbox, boss, item["id"],
                                      "approve" if item.get("approve", True) else "reject",
                                      note=item.get("note"), now=_at(item["decided_at"]))
    return True


def load_history(runtime: ServiceRuntime, history: dict[str, Any], *, roster_timeout_s: float = 120.0) -> Counter:
    """Load every part of ``history`` (skipping what is loaded already); returns the counts."""
    agency = history["agency"]
    zone = ZoneInfo(runtime.settings.timezone)
    nips = {s["nip"] for s in history.get("skps", [])} | {t["nip"] for t in history.get("tasks", [])}
    nips |= {t["assigned_by"] for t in history.get("tasks", [])} | {i["nip"] for i in history.get("innovations", [])}
    wait_for_roster(runtime, nips, roster_timeout_s)
    counts: Counter = Counter()
    parts = (("feedback", lambda item: load_feedback(runtime, agency, item)),
             ("innovations", lambda item: load_innovation(runtime, agency, item)))
    by_asn: dict[str, list[dict]] = {}
    for item in history.get("tasks", []):
        by_asn.setdefault(item["nip"], []).append(item)
    for item in history.get("skps", []):
        counts["skps" if load_skp(runtime, agency, item) else "skps already loaded"] += 1
    for nip, items in by_asn.items():  # one transaction per ASN's tasks
        with runtime.session() as session, session.begin():
            for item in items:
                try:
                    loaded = load_task(session, runtime.outbox, agency, item, zone)
                except HistoryError:
                    raise
                except Exception as exc:  # a rule refused a step: say which task
                    raise HistoryError(f"task {item['id']} ({item['title']}): {exc}") from exc
                counts["tasks" if loaded else "tasks already loaded"] += 1
    for name, load in parts:
        for item in history.get(name, []):
            try:
                counts[name if load(item) else f"{name} already loaded"] += 1
            except HistoryError:
                raise
            except Exception as exc:  # a rule refused a step: say which item
                raise HistoryError(f"{name} item {item.get('id') or item.get('nip')}: {exc}") from exc
    # what the consumer's sweep would flag by now: the tasks past due and not approved
    with runtime.session() as session, session.begin():
        counts["overdue flagged"] = flag_overdue(session, runtime.outbox, today=datetime.now(zone).date())
    return counts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", help="the history as JSON ('-' reads standard input)")
    parser.add_argument("--roster-timeout", type=float, default=120.0,
                        help="seconds to wait for tugas to know every ASN of the history")
    args = parser.parse_args(argv)
    text = sys.stdin.read() if args.file == "-" else open(args.file, encoding="utf-8").read()
    runtime = make_runtime()
    try:
        counts = load_history(runtime, json.loads(text), roster_timeout_s=args.roster_timeout)
    except HistoryError as exc:
        print(f"history refused: {exc}", file=sys.stderr)
        sys.exit(1)
    finally:
        runtime.dispose()
    print(json.dumps(dict(sorted(counts.items()))))


if __name__ == "__main__":
    main()
