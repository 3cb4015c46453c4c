"""A cheap SSE client for many connections at once: asyncio streams over raw sockets (HTTP/1.1,
chunked or close-delimited bodies), used by the 1,000-stream test and bench/stream_fanout.py."""
from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field


@dataclass
class SseMessage:
    id: int | None
    event: str | None
    data: dict | None
    comment: str | None
    at: float  # time.perf_counter() when it was read


@dataclass
class AsyncStream:
    host: str
    port: int
    token: str
    last_event_id: int | None = None
    status: int = 0
    messages: "asyncio.Queue[SseMessage]" = field(default_factory=asyncio.Queue)
    _reader: asyncio.StreamReader | None = None
    _writer: asyncio.StreamWriter | None = None
    _task: asyncio.Task | None = None
    ended: bool = False

    async def open(self, timeout_s: float = 30.0) -> "AsyncStream":
        self._reader, self._writer = await asyncio.wait_for(asyncio.open_connection(self.host, self.port), timeout_s)
        head = (f"GET /api/v1/stream?access_token={self.token} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                "Accept: text/event-stream\r\nCache-Control: no-cache\r\n")
        if self.last_event_id is not None:
            head += f"Last-Event-ID: {self.last_event_id}\r\n"
        self._writer.write((head + "\r\n").encode())
        await self._writer.drain()
        status_line = await asyncio.wait_for(self._reader.readline(), timeout_s)
        parts = status_line.split()
        self.status = int(parts[1]) if len(parts) > 1 else 0
        headers = {}
        while True:
            line = await asyncio.wait_for(self._reader.readline(), timeout_s)
            if line in (b"\r\n", b"\n", b""):
                break
            key, _, value = line.decode("latin-1").partition(":")
            headers[key.strip().lower()] = value.strip()
        chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        self._task = asyncio.create_task(self._read(chunked))
        return self

    async def _body(self, chunked: bool):
        reader = self._reader
        if not chunked:
            while data := await reader.read(65536):
                yield data
            return
        while True:
            size_line = await reader.readline()
            if not size_line:
                return
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                return
            data = await reader.readexactly(size)
            await reader.readexactly(2)
            yield data

    async def _read(self, chunked: bool) -> None:
        buffer = b""
        try:
            async for data in self._body(chunked):
                buffer += data
                while b"\n\n" in buffer:
                    frame, buffer = buffer.split(b"\n\n", 1)
                    self.messages.put_nowait(parse_frame(frame, time.perf_counter()))
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.ended = True

    async def next_event(self, timeout_s: float) -> SseMessage:
        """The next message with data (comments such as heartbeats are skipped)."""
        deadline = time.monotonic() + timeout_s
        while True:
            msg = await asyncio.wait_for(self.messages.get(), max(0.001, deadline - time.monotonic()))
            if msg.comment is None or msg.data is not None:
                return msg

    async def next_message(self, timeout_s: float) -> SseMessage:
        return await asyncio.wait_for(self.messages.get(), timeout_s)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        if self._writer is not None:
            self._writer.close()
            try:
                await self._writer.wait_closed()
            except (ConnectionError, OSError):
                pass


def parse_frame(frame: bytes, at: float) -> SseMessage:
    ident = event = comment = None
    data_lines = []
    for line in frame.decode("utf-8", "replace").split("\n"):
        if line.startswith(":"):
            comment = line[1:].strip()
        elif line.startswith("id:"):
            ident = int(line[3:].strip())
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data_lines.append(line[5:].lstrip())
    data = json.loads("\n".join(data_lines)) if data_lines else None
    return SseMessage(ident, event, data, comment if data is None else None, at)


def raise_fd_limit(wanted: int) -> int:
    """Raise this process's open-file limit towards ``wanted`` (children inherit it); the new soft limit."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(max(soft, wanted), hard) if hard != resource.RLIM_INFINITY else max(soft, wanted)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]
