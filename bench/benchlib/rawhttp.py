"""Lean open-loop HTTP/1.1 keep-alive POSTs over raw asyncio sockets, for the senders: aiohttp's
client costs a sizeable share of a core at 1,000 POSTs/s, taken from the server on two cores.
Requests are built as bytes before the first is due; each connection carries one request at a
time (no pipelining) and is reused for the next when the answer is complete."""
from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from dataclasses import dataclass


@dataclass(eq=False)
class Job:
    first: int       # index of its first punch
    n: int           # punches in it
    request: bytes
    sent: float = 0.0
    attempt: int = 1


class _Conn(asyncio.Protocol):
    def __init__(self, pool: "Pool"):
        self.pool = pool
        self.transport: asyncio.Transport | None = None
        self.buf = b""
        self.job: Job | None = None
        self.closed = False

    def connection_made(self, transport) -> None:
        self.transport = transport

    def send(self, job: Job) -> None:
        self.job, self.buf = job, b""
        self.transport.write(job.request)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        end = self.buf.find(b"\r\n\r\n")
        if end < 0 or self.job is None:
            return
        head = self.buf[:end].lower()
        at = head.find(b"\r\ncontent-length:")
        if at < 0:  # not what a Flask JSON answer looks like: count it as failed, drop the connection
            self._finish(0, b"", close=True)
            return
        stop = head.find(b"\r\n", at + 2)
        total = end + 4 + int(head[at + 17:stop if stop > 0 else len(head)])
        if len(self.buf) < total:
            return
        self._finish(int(self.buf[9:12]), self.buf[end + 4:total], close=b"\r\nconnection: close" in head)

    def _finish(self, status: int, body: bytes, close: bool) -> None:
        job, self.job, self.buf = self.job, None, b""
        if close:
            self.closed = True
            self.transport.close()
        self.pool.answered(self, job, status, body)

    def connection_lost(self, exc) -> None:
        was_closed, self.closed = self.closed, True
        job, self.job = self.job, None
        self.pool.lost(self, job, was_closed)


class Pool:
    """Up to ``limit`` keep-alive connections; a due job goes on an idle one, a new one, or waits."""

    def __init__(self, host: str, port: int, limit: int, results: dict):
        self.host, self.port, self.limit, self.results = host, port, limit, results
        self.idle: list[_Conn] = []
        self.open = 0
        self.waiting: deque[Job] = deque()
        self.pending = 0
        self.submitting = True  # until ``finish``: no more jobs once it is called
        self.all_done = asyncio.Event()

    def finish(self) -> None:
        """No more jobs: ``all_done`` is set once the ones submitted are answered."""
        self.submitting = False
        if self.pending == 0:
            self.all_done.set()

    def submit(self, job: Job) -> None:
        self.pending += 1
        self._start(job)

    def _start(self, job: Job) -> None:
        while self.idle:
            conn = self.idle.pop()
            if not conn.closed:
                conn.send(job)
                return
        if self.open < self.limit:
            self.open += 1
            asyncio.get_running_loop().create_task(self._connect(job))
        else:
            self.waiting.append(job)

    async def _connect(self, job: Job) -> None:
        try:
            _, conn = await asyncio.get_running_loop().create_connection(lambda: _Conn(self), self.host, self.port)
        except OSError as exc:
            self.open -= 1
            self._record(job, False, repr(exc)[:80])
            return
        conn.send(job)

    def answered(self, conn: _Conn, job: Job, status: int, body: bytes) -> None:
        ok = False
        if status == 200:
            try:
                ok = json.loads(body).get("accepted", 0) == job.n
            except ValueError:
                pass
        self._record(job, ok, status)
        if conn.closed:
            return  # connection_lost counts it out
        if self.waiting:
            conn.send(self.waiting.popleft())
        else:
            self.idle.append(conn)

    def lost(self, conn: _Conn, job: Job | None, was_closed: bool) -> None:
        self.open -= 1
        if job is not None:
            if job.attempt == 1:  # a keep-alive connection the server closed: once more on another
                job.attempt = 2   # (a punch sent twice is stored once: ingest is idempotent)
                self._start(job)
            else:
                self._record(job, False, "connection lost")
        elif self.waiting and self.open < self.limit:
            self._start(self.waiting.popleft())

    def _record(self, job: Job, ok: bool, status) -> None:
        done = time.time()
        for k in range(job.n):
            self.results[job.first + k] = (job.sent, done, ok, status)
        self.pending -= 1
        if self.pending == 0 and not self.submitting:
            self.all_done.set()
