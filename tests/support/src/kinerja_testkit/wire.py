"""What a connection sends PostgreSQL, counted at the driver from libpq's trace: the statements
sent, and the times a caller waits for the server. For tests that pin a path's round trips."""
from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import event


class Wire:
    """libpq's trace of every connection the engine opens from now on, read as statements sent
    and waits for the server."""

    _MESSAGE = re.compile(r"^([FB])\t\d+\t(\w+)\t? ?(.*)$")

    def __init__(self, engine, directory: Path):
        import psycopg

        self.files: list = []
        self.seen: dict[int, int] = {}

        def trace(dbapi_conn, _record):
            out = open(directory / f"{len(self.files)}.trace", "w")
            self.files.append(out)
            dbapi_conn.pgconn.trace(out.fileno())
            dbapi_conn.pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)

        engine.dispose()  # connections from here on are traced
        event.listen(engine, "connect", trace)

    def mark(self) -> None:
        self.seen = {i: len(self._lines(i)) for i in range(len(self.files))}

    def since_mark(self) -> tuple[list[str], int]:
        """(the first word of each statement sent since ``mark``, the waits for the server). A wait
        is a simple query or a Sync (each answered by a ReadyForQuery), or a Flush that asks for a
        statement's rows inside a pipeline with no Sync outstanding (one after a Sync, as psycopg
        sends at a pipeline's end, is answered in that Sync's round trip)."""
        statements, waits = [], 0
        for i in range(len(self.files)):
            names: dict[str, str] = {}  # prepared statement (named or not) -> its first word
            bound, outstanding = "", 0
            for n, line in enumerate(self._lines(i)):
                m = self._MESSAGE.match(line)
                if not m:
                    continue  # a statement's text goes on over lines
                side, kind, rest = m.groups()
                counted = n >= self.seen.get(i, 0)
                if kind == "Parse":
                    name, first = re.match(r'"([^"]*)" "([^\s"]*)', rest).groups()
                    names[name] = first.upper()
                elif kind == "Bind":
                    bound = names[re.match(r'"[^"]*" "([^"]*)"', rest).group(1)]
                elif kind == "Query" and counted:
                    statements.append(re.match(r'"([^\s"]*)', rest).group(1).upper())
                elif kind == "Execute" and counted:
                    statements.append(bound)
                if (side, kind) in (("F", "Query"), ("F", "Sync")):
                    waits += counted
                    outstanding += 1
                elif (side, kind) == ("B", "ReadyForQuery"):
                    outstanding -= 1
                elif (side, kind) == ("F", "Flush") and not outstanding:
                    waits += counted
        return statements, waits

    def _lines(self, i: int) -> list[str]:
        self.files[i].flush()
        return Path(self.files[i].name).read_text().splitlines()

    def close(self) -> None:
        for out in self.files:
            out.close()
