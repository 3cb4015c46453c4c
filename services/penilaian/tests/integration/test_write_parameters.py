"""How a live transaction's writes reach PostgreSQL: each table's rows as ONE JSON text
(``bulk_writes``: made in C by orjson, parsed by the server), not one array a column, which psycopg
dumps element by element in Python (a sixth of a live batch's CPU). And what they store reads
back exactly: the day's deductions (JSON), the month's sums (exact decimals), the score, the
claimed ids' instants (with their offset)."""
import threading
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import event, select

from kinerja.testing import consumer_record, create_postgres_database
from penilaian.adapters.orm import DayFactRow, MonthTotalsRow, ScoreRow
from penilaian.entrypoints.consumer import make_consumer
from kinerja_testkit.penilaian import day_event, make_penilaian, roster_event

pytestmark = pytest.mark.integration

NIPS = [f"1990010120200122{i:02d}" for i in range(20)]
NOV = date(2026, 11, 2)


def test_each_write_sends_its_rows_as_one_json_text_and_they_read_back_exactly(postgres_server):
    p = make_penilaian(create_postgres_database(postgres_server))
    try:
        c = make_consumer(p.runtime, batch_size=100)
        stop = threading.Event()
        offsets = iter(range(10_000))

        def poll(events) -> None:
            assert c.process_batch([consumer_record(e, next(offsets), "t.kehadiran.v1") for e in events], stop)

        poll([roster_event(nip, f"Pegawai {i}") for i, nip in enumerate(NIPS)])
        sent: list[tuple[str, dict]] = []
        event.listen(p.runtime.engine, "do_execute",
                     lambda cursor, statement, parameters, context: sent.append((statement, parameters)))
        started = datetime.now(timezone.utc)
        poll([day_event(nip, NOV, ("TL1", "0.5")) for nip in NIPS])
        writes = [(sql, params) for sql, params in sent if "INSERT" in sql]
        assert len(writes) == 2, [sql for sql, _ in writes]  # the ids' claim; the gathered last writes
        for sql, params in writes:
            rows = {k: v for k, v in params.items() if k not in ("lock_c", "lock_n")}  # the claim's lock keys
            assert rows and all(isinstance(v, str) for v in rows.values()), (sql, {k: type(v) for k, v in rows.items()})
            assert len(rows) == sql.count("json_populate_recordset")
        with p.runtime.session() as s:
            day = s.get(DayFactRow, (NIPS[3], NOV))
            assert day.deductions and day.deductions[0]["code"] == "TL1" and Decimal(day.deductions[0]["percent"]) == Decimal("0.5")
            assert Decimal(s.get(MonthTotalsRow, (NIPS[3], "2026-11")).deductions) == Decimal("0.5")
            assert s.get(ScoreRow, (NIPS[3], "2026-11")).disiplin == Decimal("99.5")
            at = s.execute(select(p.runtime.processed_table.c.processed_at).where(
                p.runtime.processed_table.c.offset >= 20)).scalars().all()
            assert len(at) == 20 and all(started - timedelta(seconds=1) <= t <= datetime.now(timezone.utc) for t in at)
    finally:
        p.runtime.dispose()
