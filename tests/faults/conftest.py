"""Fault scenarios (``make test-faults``): fixtures that give a test parts of its own to break
(a broker it may stop, a PostgreSQL it may restart), a stack factory that prints the logs of a
failed scenario, and the per-scenario report printed at the end of the session and written to
``artifacts/faults-report.txt``."""
from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import pytest

from kinerja.localbroker import LocalBroker, find_kafka_home, free_port
from kinerja.stack import Stack
from kinerja.testing import ThrowawayPostgres, test_failed

REPO = Path(__file__).resolve().parents[2]
REPORT_PATH = REPO / "artifacts" / "faults-report.txt"
ALL_SERVICES = ("kehadiran", "tugas", "penilaian", "notifikasi")


# -- the report --------------------------------------------------------------------------------
@dataclass
class Row:
    nodeid: str
    scenario: str
    events_in: int
    scored: int
    duplicates: int  # re-sent or re-delivered copies the system absorbed
    duplicates_in_scores: int  # copies that reached a score: must be 0
    losses: int  # accepted but not scored: must be 0
    expected: str  # where the expected scores come from
    note: str = ""


@dataclass
class FaultReport:
    rows: list[Row] = field(default_factory=list)
    outcomes: dict[str, str] = field(default_factory=dict)

    def add(self, nodeid: str, scenario: str, *, events_in: int, scored: int, duplicates: int,
            duplicates_in_scores: int, losses: int, expected: str, note: str = "") -> None:
        self.rows = [r for r in self.rows if r.nodeid != nodeid]
        self.rows.append(Row(nodeid, scenario, events_in, scored, duplicates, duplicates_in_scores, losses,
                             expected, note))

    def table(self) -> str:
        head = ("scenario", "events in", "scored", "dups absorbed", "dups in scores", "losses", "result", "expected from")
        body = [(r.scenario, str(r.events_in), str(r.scored), str(r.duplicates), str(r.duplicates_in_scores),
                 str(r.losses), self.outcomes.get(r.nodeid, "?"), r.expected) for r in self.rows]
        widths = [max(len(x) for x in col) for col in zip(head, *body)]
        line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
        out = [line(head), line(["-" * w for w in widths])] + [line(b) for b in body]
        notes = [f"- {r.scenario}: {r.note}" for r in self.rows if r.note]
        return "\n".join(out + ([""] + notes if notes else []))


_REPORT = pytest.StashKey[FaultReport]()


def pytest_configure(config):
    config.stash[_REPORT] = FaultReport()


@pytest.fixture(scope="session")
def fault_report(pytestconfig) -> FaultReport:
    return pytestconfig.stash[_REPORT]


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    report = config.stash.get(_REPORT, None)
    if report is None or not report.rows:
        return
    for outcome in ("passed", "failed", "xfailed", "xpassed", "error", "skipped"):
        for rep in terminalreporter.stats.get(outcome, []):
            if getattr(rep, "nodeid", None) and (rep.when == "call" or outcome in ("error", "skipped")):
                report.outcomes[rep.nodeid] = outcome
    table = report.table()
    terminalreporter.write_sep("=", "fault scenarios")
    terminalreporter.write_line(table)
    REPORT_PATH.parent.mkdir(parents=True, exist_ok=True)
    REPORT_PATH.write_text(table + "\n")
    terminalreporter.write_line(f"(written to {REPORT_PATH.relative_to(REPO)})")


# -- parts a test may break ------------------------------------------------------------------
@pytest.fixture
def own_broker() -> Iterator[LocalBroker]:
    """A broker of the test's own (topics without prefix), since the test stops it."""
    data = Path(tempfile.mkdtemp(prefix="kinerja-faults-kafka-"))
    broker = LocalBroker(home=find_kafka_home(), data_dir=data, port=free_port(), controller_port=free_port(),
                         partitions=3)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture
def own_postgres() -> Iterator[tuple[ThrowawayPostgres, str]]:
    """A PostgreSQL cluster of the test's own, since the test restarts it."""
    pg = ThrowawayPostgres()
    url = pg.start()
    try:
        yield pg, url
    finally:
        pg.stop()


@pytest.fixture
def make_stack(tmp_path, request) -> Iterator[Callable[..., Stack]]:
    """Start kehadiran and penilaian (web, consumer, relay each; ``relays=2`` for two relays per
    service) as processes; logs of a failed test are printed; every process is stopped after."""
    stacks: list[Stack] = []

    def make(bootstrap: str, prefix: str, database_urls: dict[str, str], **kw) -> Stack:
        # the checks read every outbox row back (punch rows ⇔ punch events): keep sent rows a day
        kw["extra_env"] = {"KINERJA_OUTBOX_RETENTION_S": "86400",
                           # a durable server's way (the test clusters run with fsync off, where
                           # ``auto`` notifies from inside): punch requests' notifications sent after
                           # their commit by the web process, through restarts and kills too
                           "KINERJA_NOTIFY_AFTER_COMMIT": "on", **kw.get("extra_env", {})}
        stack = Stack(var_dir=tmp_path / f"var{len(stacks)}", kafka_bootstrap=bootstrap, topic_prefix=prefix,
                      ports={svc: free_port() for svc in ALL_SERVICES}, database_urls=database_urls,
                      services=kw.pop("services", ("kehadiran", "penilaian")), **kw)
        stacks.append(stack)
        stack.start()
        stack.wait_ready(90)
        return stack

    try:
        yield make
    finally:
        for stack in stacks:
            if test_failed(request):
                for p in stack.procs:
                    print(f"--- {p.name}\n{stack.tail(p, 40)}")
            stack.stop()
