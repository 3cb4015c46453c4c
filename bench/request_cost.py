"""What one punch request costs kehadiran's web process, without a network or a quiet machine:
a single-punch JSON request and a one-line ADMS upload through the Flask app in-process (the
WSGI app gunicorn serves), on SQLite or PostgreSQL, with the SQL statements counted and the
time split by cProfile. The day worker is not part of the request and not counted.

    .venv/bin/python bench/request_cost.py --db sqlite --requests 2000 [--profile 25] [--batch 100]

Prints CPU time per request (process time: the machine's other load lengthens it less than wall
time) and statements per request. Under ``valgrind --tool=callgrind`` with ``--requests 0`` and
``--requests N`` the difference of the instruction counts over N is a per-request figure that
does not depend on the machine being quiet at all.
"""
from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import event

from kehadiran.adapters.orm import Employee, pin_key
from kehadiran.entrypoints.app import create_app
from kehadiran.entrypoints.migrate import main as migrate
from kehadiran.service_layer.devices import register_device
from kinerja.auth import issue_token
from kinerja.config import DEV_JWT_SECRET

AGENCY = "bench"
PEOPLE = 5000  # --people


def setup(database_url: str, devices: int):
    migrate(database_url)
    app = create_app({"database_url": database_url, "kafka_bootstrap": "127.0.0.1:1"})
    runtime = app.extensions["kinerja_runtime"]
    with runtime.session() as s, s.begin():
        # pin_key as the roster consumer writes it (``service_layer.roster``)
        s.add_all(Employee(nip=f"19900101{i:010d}", nama=f"ASN {i}", agency=AGENCY, unit="Sekretariat", pin=str(i),
                           pin_key=pin_key(str(i)), active=True) for i in range(1, PEOPLE + 1))
        for c in range(devices):
            register_device(s, sn=f"BENCH{c:04d}", agency=AGENCY, tz_offset_minutes=420)
    if runtime.engine.dialect.name == "postgresql":
        # statistics, as a live database has them (autovacuum analyses a roster within a minute of
        # its load): never analysed, a roster of up to a few thousand ASN got the single-punch read
        # a plan that goes through the agency's whole roster for the PIN (the (agency, pin) and
        # (agency, pin_key) indexes tie on a table that small, and the planner took the one that
        # matches the agency only): ~250-400 us of the backend a request at 2,000 ASN, measured
        # as the request's cost though the real system pays it only in a roster's first minute
        with runtime.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    return app


def requests(kind: str, n: int, devices: int, batch: int = 1):
    """(path, kwargs) of n requests of ``batch`` punches each, devices taking turns, each punch new."""
    base = datetime.now(timezone(timedelta(hours=7))).replace(microsecond=0, tzinfo=None) - timedelta(days=1)
    tokens = [issue_token(DEV_JWT_SECRET, role="device", agency=AGENCY, device_sn=f"BENCH{c:04d}")
              for c in range(devices)]
    out = []
    for i in range(n):
        c = i % devices
        punches = [(1 + k % PEOPLE, base - timedelta(seconds=k)) for k in range(i * batch, (i + 1) * batch)]
        if kind == "json":
            out.append(("/api/v1/punches", {"json": {"punches": [{"pin": str(pin), "time": when.isoformat() + "+07:00"}
                                                                 for pin, when in punches]},
                                            "headers": {"Authorization": f"Bearer {tokens[c]}"}}))
        else:
            out.append((f"/iclock/cdata?SN=BENCH{c:04d}&table=ATTLOG&Stamp={i}",
                        {"data": "".join(f"{pin}\t{when:%Y-%m-%d %H:%M:%S}\t0\t1\t0\t0\t0\n"
                                         for pin, when in punches).encode(),
                         "content_type": "text/plain"}))
    return out


def package_of(filename: str) -> str:
    """``sqlalchemy``, ``flask``, ``kehadiran`` ... of a profiled function's file."""
    parts = Path(filename).parts
    for marker in ("site-packages", "src"):
        if marker in parts and parts.index(marker) + 1 < len(parts):
            return parts[parts.index(marker) + 1].removesuffix(".py")
    return "python" if filename.startswith("/") else filename[:30]


def count_statements(engine, statements: Counter) -> None:
    """Every statement the driver sends, by its first word, the hand-written ones on the DBAPI
    cursor (``raw_sql``) and the pool's own (a ping, BEGIN, COMMIT) included; on PostgreSQL
    ``round trips`` too (libpq's ReadyForQuery messages: a pipeline's statements share one)."""
    engine.dispose()  # connections made from here on are counted
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _trace(dbapi_conn, _record):
            dbapi_conn.set_trace_callback(lambda stmt: statements.update([stmt.split(None, 1)[0].upper()]))
        return
    import psycopg

    for cls in (psycopg.Cursor,):
        original = cls.execute

        def counted(self, query, *a, _original=original, **kw):
            text_ = query if isinstance(query, str) else getattr(query, "as_string", lambda _c: str(query))(None)
            statements.update([text_.split(None, 1)[0].upper() if text_.strip() else "(empty)"])
            return _original(self, query, *a, **kw)
        cls.execute = counted
    for name in ("commit", "rollback"):
        original = getattr(psycopg.Connection, name)

        def ended(self, *a, _original=original, _name=name, **kw):
            if self.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                statements.update([_name.upper()])
            return _original(self, *a, **kw)
        setattr(psycopg.Connection, name, ended)
    trace_dir = Path(tempfile.mkdtemp(prefix="kinerja-trace-"))
    traced: list = []

    @event.listens_for(engine, "connect")
    def _pq_trace(dbapi_conn, _record):
        out = open(trace_dir / f"{len(traced)}.trace", "w")
        traced.append(out)
        dbapi_conn.pgconn.trace(out.fileno())
        dbapi_conn.pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)

    def round_trips() -> tuple[int, int]:
        """(ReadyForQuery messages: the answers of Syncs and simple queries; Flush requests with no
        Sync outstanding: psycopg reading a statement's rows inside a pipeline, a wait of its own.
        A Flush psycopg sends behind a pipeline's last Sync shares that Sync's round trip.)"""
        ready = flushes = 0
        for out in traced:
            out.flush()
            outstanding = 0
            for line in Path(out.name).read_text().splitlines():
                side, _, rest = line.partition("\t")
                kind = rest.partition("\t")[2].split("\t", 1)[0]
                if side == "F" and kind in ("Query", "Sync"):
                    outstanding += 1
                elif side == "B" and kind == "ReadyForQuery":
                    ready += 1
                    outstanding -= 1
                elif side == "F" and kind == "Flush" and not outstanding:
                    flushes += 1
        return ready, flushes
    statements.round_trips = round_trips  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite", help="sqlite, or a PostgreSQL URL of an empty database")
    parser.add_argument("--kind", choices=["json", "adms"], default="json")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--devices", type=int, default=50)
    parser.add_argument("--batch", type=int, default=1, help="punches a request (ADMS lines, JSON items)")
    parser.add_argument("--profile", type=int, default=0, help="print the top N functions by own time")
    parser.add_argument("--count", action="store_true",
                        help="count the statements (and PostgreSQL round trips) the driver sends; "
                             "the counting costs CPU, so time without it")
    parser.add_argument("--dump", help="write the profile's stats to this file (pstats; snakeviz, gprof2dot)")
    parser.add_argument("--people", type=int, default=PEOPLE, help="ASN on the roster (fewer: a faster set-up)")
    args = parser.parse_args()
    globals()["PEOPLE"] = args.people
    url = f"sqlite:///{tempfile.mkdtemp(prefix='kinerja-cost-')}/kehadiran.db" if args.db == "sqlite" else args.db
    app = setup(url, args.devices)
    client = app.test_client()
    warm = requests(args.kind, 50, args.devices, args.batch)
    for path, kw in warm:  # first requests build caches (statements, schemas)
        client.post(path, **{**kw, **({"data": kw["data"].replace(b"\t0\t1", b"\t0\t1", 1)} if "data" in kw else {})})
    todo = requests(args.kind, args.requests + 50, args.devices, args.batch)[50:]
    statements: Counter = Counter()
    engine = app.extensions["kinerja_runtime"].engine
    if args.count:
        count_statements(engine, statements)
    trips0 = getattr(statements, "round_trips", lambda: (0, 0))()
    # CPU time, not wall: waits for the database server (and a loaded machine) are not this process's cost
    profiler = cProfile.Profile(time.process_time) if args.profile else None
    cpu, wall = time.process_time(), time.perf_counter()
    if profiler:
        profiler.enable()
    for path, kw in todo:
        r = client.post(path, **kw)
        assert r.status_code == 200, r.text
    if profiler:
        profiler.disable()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    n = max(1, len(todo))
    print(f"{args.kind} on {engine.dialect.name}: {len(todo)} requests of {args.batch} punches, "
          f"{cpu / n * 1e6:.0f} us CPU and "
          f"{wall / n * 1e6:.0f} us wall a request (this process; the database server's share is not in it)")
    if args.count:
        print(f"statements a request: {sum(statements.values()) / n:.2f} ("
              + ", ".join(f"{k} {v / n:.2f}" for k, v in statements.most_common()) + ")")
    if hasattr(statements, "round_trips"):
        ready, flushes = (a - b for a, b in zip(statements.round_trips(), trips0))
        print(f"round trips a request: {(ready + flushes) / n:.2f} (ReadyForQuery {ready / n:.2f}, "
              f"pipeline flushes {flushes / n:.2f})")
    if profiler and args.dump:
        profiler.dump_stats(args.dump)
    if profiler:
        stats = pstats.Stats(profiler, stream=sys.stdout)
        by_package: Counter = Counter()
        for (filename, _, _), (_, _, tottime, _, _) in stats.stats.items():
            by_package[package_of(filename)] += tottime
        total = sum(by_package.values())
        print("own time by package: " + ", ".join(f"{k} {v / total:.0%}" for k, v in by_package.most_common(14)))
        stats.sort_stats("tottime").print_stats(args.profile)
    app.extensions["kinerja_runtime"].dispose()


if __name__ == "__main__":
    main()
