"""Live SSE stream clients for the benchmarks: one stream per NIP (a pegawai token), held by asyncio
raw-socket readers in processes of their own; what they read comes back over a pipe in batches.

A process sends ``("ready", streams open)`` once every stream is open, then ``("frames", [...])``
(what ``pick(nip, message)`` makes of each message it reads, None for the ones it skips) and
``("ended", n)`` while n of its streams have been closed by the server."""
from __future__ import annotations

import asyncio
import multiprocessing as mp
import time
from typing import Callable, Iterator


def reader_main(port: int, nips: list[str], conn, agency: str, pick: Callable, opening: int, fd_headroom: int,
                greeting: str | None) -> None:
    """Hold one stream per NIP (``opening`` being opened at a time; the first message must be the
    comment ``greeting`` when given) until the parent sends anything."""
    from kinerja.auth import issue_token
    from kinerja.config import DEV_JWT_SECRET
    from kinerja_testkit.sse import AsyncStream, raise_fd_limit

    raise_fd_limit(len(nips) + fd_headroom)

    async def run():
        sem = asyncio.Semaphore(opening)

        async def open_one(nip):
            async with sem:
                tok = issue_token(DEV_JWT_SECRET, role="pegawai", agency=agency, nip=nip)
                s = await AsyncStream("127.0.0.1", port, tok).open(timeout_s=120)
                if greeting is not None:
                    first = await s.next_message(120)
                    assert first.comment == greeting, first
                return nip, s

        streams = await asyncio.gather(*(open_one(n) for n in nips))
        out: asyncio.Queue = asyncio.Queue()

        async def pump(nip, s):
            while True:
                frame = pick(nip, await s.messages.get())
                if frame is not None:
                    out.put_nowait(frame)

        tasks = [asyncio.create_task(pump(n, s)) for n, s in streams]
        conn.send(("ready", len(streams)))
        loop = asyncio.get_running_loop()
        stop = loop.run_in_executor(None, conn.recv)  # any message from the parent: stop
        checked = time.monotonic()
        while not stop.done():
            batch = []
            try:
                batch.append(await asyncio.wait_for(out.get(), 0.2))
                while not out.empty():
                    batch.append(out.get_nowait())
            except asyncio.TimeoutError:
                pass
            if batch:
                conn.send(("frames", batch))
            # a look over every stream, at most every 0.2 s: after each frame it cost a pass over
            # 1,000 streams, CPU taken from the system being measured on the same cores
            if time.monotonic() - checked >= 0.2:
                checked = time.monotonic()
                dead = sum(1 for _, s in streams if s.ended)
                if dead:
                    conn.send(("ended", dead))
        for t in tasks:
            t.cancel()
        await asyncio.gather(*(s.close() for _, s in streams), return_exceptions=True)

    asyncio.run(run())


class StreamReaders:
    """``processes`` reader processes sharing ``nips``; ``pick`` must be a module-level function (it
    is sent to a spawned process)."""

    def __init__(self, port: int, nips: list[str], processes: int, *, agency: str, pick: Callable,
                 opening: int = 50, fd_headroom: int = 200, greeting: str | None = None):
        ctx = mp.get_context("spawn")
        self.pipes, self.procs = [], []
        for k in range(processes):
            parent, child = ctx.Pipe()
            p = ctx.Process(target=reader_main, daemon=True,
                            args=(port, nips[k::processes], child, agency, pick, opening, fd_headroom, greeting))
            p.start()
            self.pipes.append(parent)
            self.procs.append(p)
        self.ended = 0

    def wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        for pipe in self.pipes:
            if not pipe.poll(max(0.1, deadline - time.monotonic())):
                raise SystemExit("stream clients did not connect in time")
            kind, _ = pipe.recv()
            assert kind == "ready", kind

    def frames(self, wait_s: float = 0.0) -> Iterator:
        """Every frame read so far (waiting up to ``wait_s`` on each process for more)."""
        for pipe in self.pipes:
            while pipe.poll(wait_s):
                kind, payload = pipe.recv()
                if kind == "frames":
                    yield from payload
                elif kind == "ended":
                    self.ended = max(self.ended, payload)

    def stop(self) -> None:
        for pipe in self.pipes:
            try:
                pipe.send("stop")
            except (BrokenPipeError, OSError):
                pass
        for p in self.procs:
            p.join(20)
            if p.is_alive():
                p.kill()
