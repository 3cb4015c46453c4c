"""What the fault scenarios share: a roster and a punch plan, the scores DESIGN section 6 gives
for that plan (written from the rules here, not computed by kehadiran's code), the uploads
(ADMS and JSON), and the checks that read the databases and topics behind the services.

Expected scores are the *clean replay* of each scenario's input, worked out literally from the
rules: per scheduled workday (Mon–Thu 07:30–16:00 here), minutes late / early in bands of 30
(TL1–4 / PSW1–4 at 0.5, 1, 1.5, 2 %), a missing departure on a day that is over is PSW4, and
disiplin for the month = 100 − the month's deductions. No fault scenario may differ from it.
"""
from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Callable, Iterable

import requests
from sqlalchemy import create_engine, text

from kinerja.auth import issue_token
from kinerja.cli.roster import parse_roster, publish
from kinerja.config import DEV_JWT_SECRET
from kinerja.db import normalise_url
from kinerja.stack import Stack
from kinerja.testing import wait_until

WIB = timezone(timedelta(hours=7))
OPERATOR = {"Authorization": "Bearer " + issue_token(DEV_JWT_SECRET, role="operator", agency="*")}
PUNCH_TYPE = "kehadiran.punch.recorded.v1"
START_MIN = 7 * 60 + 30
END_MIN = 16 * 60  # Monday–Thursday
# (minutes late, minutes early or None for "no departure punch")
LATE_CHOICES = (0, 0, 12, 30, 31, 45, 61, 75, 91, 120)
EARLY_CHOICES = (0, 0, 0, 1, 29, 40, 60, 70, 95, None)


def nip_of(agency_no: int, k: int) -> str:
    return f"1985{agency_no:02d}122010{k:06d}"


def past_workdays(n: int) -> list[date]:
    """The n most recent Monday–Thursday dates before yesterday (WIB): days that are over."""
    day = datetime.now(WIB).date() - timedelta(days=2)
    out: list[date] = []
    while len(out) < n:
        if day.weekday() <= 3:
            out.append(day)
        day -= timedelta(days=1)
    return sorted(out)


@dataclass(frozen=True)
class Punch:
    device: str
    pin: str
    nip: str
    local: datetime  # naive WIB wall clock (the devices run at UTC+7)

    def adms_line(self) -> str:
        return f"{self.pin}\t{self.local:%Y-%m-%d %H:%M:%S}\t0\t1\t0\t0\t0"

    def json_item(self) -> dict:
        return {"pin": self.pin, "time": self.local.replace(tzinfo=WIB).isoformat()}


@dataclass
class Plan:
    """Staff, devices and who punched when; ``expected`` is what DESIGN's rules make of it."""

    agency: str
    staff: list[tuple[str, str]]  # (nip, pin)
    devices: list[str]
    days: list[date]
    punches: list[Punch] = field(default_factory=list)
    pattern: dict[tuple[str, date], tuple[int, int | None]] = field(default_factory=dict)

    @property
    def nips(self) -> list[str]:
        return [n for n, _ in self.staff]

    def periods(self) -> list[str]:
        return sorted({d.strftime("%Y-%m") for d in self.days})

    def roster_csv(self) -> str:
        return "nip,nama,agency,unit,jabatan,atasan_nip,pin\n" + "".join(
            f"{nip},ASN {pin},{self.agency},Umum,Staf,,{pin}\n" for nip, pin in self.staff)

    def expected(self) -> dict[tuple[str, str], tuple[Decimal, list[tuple[str, str]]]]:
        """(nip, period) → (disiplin, sorted [(date, code)]), from DESIGN section 6."""
        out: dict[tuple[str, str], tuple[Decimal, list[tuple[str, str]]]] = {}
        for nip in self.nips:
            for period in self.periods():
                total, codes = Decimal(0), []
                for (n, day), (late, early) in self.pattern.items():
                    if n != nip or day.strftime("%Y-%m") != period:
                        continue
                    for code, pct in day_codes(late, early):
                        total += pct
                        codes.append((day.isoformat(), code))
                out[(nip, period)] = (max(Decimal(0), 100 - total), sorted(codes))
        return out


def _band(minutes: int) -> int:
    return 1 if minutes <= 30 else 2 if minutes <= 60 else 3 if minutes <= 90 else 4


PERCENT = {1: Decimal("0.5"), 2: Decimal("1"), 3: Decimal("1.5"), 4: Decimal("2")}


def day_codes(late: int, early: int | None) -> list[tuple[str, Decimal]]:
    codes = []
    if late > 0:
        codes.append((f"TL{_band(late)}", PERCENT[_band(late)]))
    if early is None:
        codes.append(("PSW4", PERCENT[4]))  # the day is over and nobody punched out
    elif early > 0:
        codes.append((f"PSW{_band(early)}", PERCENT[_band(early)]))
    return codes


def make_plan(agency: str, agency_no: int, *, staff: int, devices: int, days: int, seed: int,
              out_on_other_device: bool = False) -> Plan:
    """Every ASN punches in (and mostly out) on every day; ASN k uses device k % devices (and, with
    ``out_on_other_device``, punches out on the next device, as at an office with two gates)."""
    rng = random.Random(seed)
    plan = Plan(agency=agency, staff=[(nip_of(agency_no, k), str(100 + k)) for k in range(staff)],
                devices=[f"FLT{agency_no:02d}{chr(65 + i)}" for i in range(devices)], days=past_workdays(days))
    for k, (nip, pin) in enumerate(plan.staff):
        dev_in = plan.devices[k % devices]
        dev_out = plan.devices[(k + 1) % devices] if out_on_other_device else dev_in
        for day in plan.days:
            late, early = rng.choice(LATE_CHOICES), rng.choice(EARLY_CHOICES)
            plan.pattern[(nip, day)] = (late, early)
            base = datetime.combine(day, datetime.min.time())
            plan.punches.append(Punch(dev_in, pin, nip, base + timedelta(minutes=START_MIN + late, seconds=k % 50)))
            if early is not None:
                plan.punches.append(Punch(dev_out, pin, nip, base + timedelta(minutes=END_MIN - early)))
    return plan


# -- the running system ------------------------------------------------------------------------
def register_devices(stack: Stack, plan: Plan) -> None:
    for sn in plan.devices:
        r = requests.post(f"{stack.url('kehadiran')}/api/v1/devices", json={"sn": sn, "agency": plan.agency, "tz": 7},
                          headers=OPERATOR, timeout=10)
        assert r.status_code == 201, r.text


def load_roster(stack: Stack, plan: Plan, db: "Db") -> None:
    """Publish the roster and wait until kehadiran holds it (so punches are not quarantined)."""
    parsed = parse_roster(plan.roster_csv())
    assert parsed.errors == []
    publish(parsed.events, stack.kafka_bootstrap, stack.topic_prefix)
    wait_until(lambda: db.scalar("SELECT count(*) FROM employees WHERE agency = :a", a=plan.agency) == len(plan.staff),
               60, message="kehadiran has read the roster")


def device_token(agency: str, sn: str) -> dict:
    return {"Authorization": "Bearer " + issue_token(DEV_JWT_SECRET, role="device", agency=agency, device_sn=sn)}


def post_adms(stack: Stack, sn: str, lines: list[str], timeout_s: float = 30) -> requests.Response:
    return requests.post(f"{stack.url('kehadiran')}/iclock/cdata", params={"SN": sn, "table": "ATTLOG", "Stamp": "1"},
                         data="\n".join(lines).encode(), timeout=timeout_s)


def score(stack: Stack, nip: str, period: str) -> dict | None:
    r = requests.get(f"{stack.url('penilaian')}/api/v1/scores/{nip}", params={"period": period},
                     headers=OPERATOR, timeout=10)
    return r.json() if r.status_code == 200 else None


def score_mismatches(stack: Stack, plan: Plan) -> list[str]:
    out = []
    for (nip, period), (want, codes) in plan.expected().items():
        s = score(stack, nip, period)
        if s is None:
            out.append(f"{nip} {period}: no score")
            continue
        got = s["disiplin"]["score"]
        got_codes = sorted((d["date"], d["code"]) for d in s["disiplin"]["deductions"])
        if got is None or Decimal(str(got)) != want or got_codes != codes:
            out.append(f"{nip} {period}: disiplin {got} {got_codes} != {want} {codes}")
    return out


def wait_for_expected_scores(stack: Stack, plan: Plan, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    bad: list[str] = ["not checked"]
    while time.monotonic() < deadline:
        check_alive(stack)
        try:
            bad = score_mismatches(stack, plan)
        except requests.RequestException as exc:
            bad = [repr(exc)]
        if not bad:
            return
        time.sleep(0.5)
    raise AssertionError(f"scores differ from the clean replay after {timeout_s}s ({len(bad)} of "
                         f"{len(plan.expected())}):\n" + "\n".join(bad[:15]))


def check_alive(stack: Stack) -> None:
    """Fail at once when a process of the stack has exited (no point waiting for it)."""
    for p in stack.procs:
        if p.popen.poll() is not None:
            raise AssertionError(f"{p.name} exited ({p.popen.returncode}):\n{stack.tail(p, 15)}")


class Db:
    """Read-only look at one service's database, to check what the APIs cannot show."""

    def __init__(self, url: str):
        self.engine = create_engine(normalise_url(url), pool_pre_ping=True, pool_size=2)

    def rows(self, sql: str, **params) -> list:
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).all()

    def scalar(self, sql: str, **params):
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()

    def close(self) -> None:
        self.engine.dispose()


@dataclass
class Ledger:
    """What reached the scores, measured from both sides."""

    punches_in: int
    punch_rows: int
    punch_events_in_outbox: int
    scored: int
    duplicate_rows: int
    duplicates_in_scores: int
    losses: int
    detail: list[str] = field(default_factory=list)


def ingest_ledger(plan: Plan, kehadiran: Db, penilaian: Db) -> Ledger:
    """Punch rows ⇔ punch events in the outbox one-to-one; the punch events penilaian's day facts
    are built on; and what is missing or doubled between them."""
    detail = []
    rows = kehadiran.rows("SELECT device_sn, person_key, device_time, nip, event_id FROM punches WHERE agency = :a",
                          a=plan.agency)
    identities = Counter((r.device_sn, r.person_key, r.device_time) for r in rows)
    duplicate_rows = sum(c - 1 for c in identities.values())
    wanted = {(p.device, p.pin, p.local) for p in plan.punches}
    stored = set(identities)
    if wanted - stored:
        detail.append(f"{len(wanted - stored)} punches never stored, e.g. {sorted(wanted - stored)[:3]}")
    if stored - wanted:
        detail.append(f"{len(stored - wanted)} punches stored that nobody sent")
    quarantined = sum(1 for r in rows if r.nip is None)
    if quarantined:
        detail.append(f"{quarantined} punches still in quarantine")
    row_events = Counter(r.event_id for r in rows if r.event_id)
    outbox_events: Counter = Counter()
    for event_id, value in kehadiran.rows("SELECT event_id, value FROM outbox"):
        if json.loads(value)["type"] == PUNCH_TYPE:
            outbox_events[event_id] += 1
    if set(row_events) != set(outbox_events) or any(c != 1 for c in (*row_events.values(), *outbox_events.values())):
        detail.append(f"punch rows and outbox punch events not one-to-one: {len(row_events)} rows with an event, "
                      f"{len(outbox_events)} punch events in the outbox")
    scored_ids: Counter = Counter()
    for (ids,) in penilaian.rows("SELECT punch_event_ids FROM day_facts WHERE agency = :a", a=plan.agency):
        scored_ids.update(json.loads(ids) if isinstance(ids, str) else ids)
    scored = set(scored_ids) & set(row_events)
    dup_scores = sum(c - 1 for c in scored_ids.values())
    lost = len(wanted) - len(scored)
    return Ledger(punches_in=len(wanted), punch_rows=len(rows), punch_events_in_outbox=sum(outbox_events.values()),
                  scored=len(scored), duplicate_rows=duplicate_rows, duplicates_in_scores=dup_scores,
                  losses=lost, detail=detail)


def relay_buckets(db: Db) -> dict[int, int]:
    """OS process id of each relay on this database → key buckets it holds (its advisory locks,
    named by the application_name of its claims connection)."""
    from kinerja.messaging.claims import lock_namespace

    rows = db.rows(
        "SELECT a.application_name AS app, count(*) AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 "
        "AND l.classid = CAST(:ns AS integer)::oid "
        "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) GROUP BY 1",
        ns=lock_namespace("bucket", "outbox"))
    return {int(r.app.rsplit(" ", 1)[1]): r.n for r in rows}


def wait_days_worked(db: Db, timeout_s: float) -> None:
    """kehadiran's day worker has nothing left to do (a round in hand still shows its markers
    until it commits): every day summary the punches call for is in the outbox."""
    wait_until(lambda: db.scalar("SELECT (SELECT count(*) FROM dirty_days) + (SELECT count(*) FROM dirty_pins)") == 0,
               timeout_s, message="the day worker went through every marker")


def wait_outbox_drained(db: Db, timeout_s: float) -> None:
    wait_until(lambda: db.scalar("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 0, timeout_s,
               message="the outbox drained")


# -- topics -----------------------------------------------------------------------------------
def read_topic(bootstrap: str, name: str, timeout_s: float = 30) -> list:
    """Every record of a topic, from offset 0 to its end offsets now (no consumer group)."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None,
                             consumer_timeout_ms=1000, client_id="faults-reader")
    try:
        parts = wait_until(lambda: consumer.partitions_for_topic(name), 20, message=f"metadata of {name}")
        tps = [TopicPartition(name, p) for p in sorted(parts)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        ends = consumer.end_offsets(tps)
        records = []
        deadline = time.monotonic() + timeout_s
        while any(consumer.position(tp) < ends[tp] for tp in tps):
            if time.monotonic() > deadline:
                raise AssertionError(f"could not read {name} to its end in {timeout_s}s")
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend(batch)
        return records
    finally:
        consumer.close()


def event_ids(records: Iterable) -> Counter:
    ids: Counter = Counter()
    for r in records:
        try:
            ids[json.loads(r.value)["id"]] += 1
        except (ValueError, KeyError, TypeError):
            ids["<undecodable>"] += 1
    return ids


def run_threads(targets: list[Callable[[], None]]) -> None:
    """Run the callables in parallel; re-raise the first failure."""
    errors: list[BaseException] = []

    def wrap(fn):
        def run():
            try:
                fn()
            except BaseException as exc:  # noqa: BLE001 - reported by the caller
                errors.append(exc)
        return run

    threads = [threading.Thread(target=wrap(fn), daemon=True) for fn in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    if errors:
        raise errors[0]


RULES = "DESIGN §6 rules, written out"


def record(report, request, scenario: str, ledger: Ledger, *, duplicates: int, note: str = "",
           expected: str = RULES) -> None:
    """One row of the session's fault table (before the test's own assertions, so a failure shows)."""
    report.add(request.node.nodeid, scenario, events_in=ledger.punches_in, scored=ledger.scored,
               duplicates=duplicates, duplicates_in_scores=ledger.duplicates_in_scores + ledger.duplicate_rows,
               losses=ledger.losses, expected=expected, note=note)


def assert_clean(ledger: Ledger) -> None:
    assert ledger.detail == []
    assert (ledger.losses, ledger.duplicates_in_scores, ledger.duplicate_rows) == (0, 0, 0)
    assert ledger.scored == ledger.punches_in == ledger.punch_rows == ledger.punch_events_in_outbox
