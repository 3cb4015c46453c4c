"""A small Server-Sent Events reader for the journeys across services (tests/e2e, the compose stack):
a thread fills a queue with parsed events; ``wait_for`` finds the first one that matches."""
from __future__ import annotations

import json
import queue
import threading
import time
from dataclasses import dataclass

import requests


@dataclass
class SseEvent:
    id: str | None
    event: str | None
    data: dict


class SseClient:
    def __init__(self, url: str, token: str, last_event_id: str | None = None):
        headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        self.response = requests.get(url, headers=headers, stream=True, timeout=(5, 60))
        self.response.raise_for_status()
        self.events: "queue.Queue[SseEvent]" = queue.Queue()
        self.seen: list[SseEvent] = []
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        fields: dict[str, str] = {}
        try:
            for raw in self.response.iter_lines(decode_unicode=True):
                if raw is None:
                    continue
                if raw == "":
                    if "data" in fields:
                        self.events.put(SseEvent(fields.get("id"), fields.get("event"), json.loads(fields["data"])))
                    fields = {}
                elif raw.startswith(":"):
                    continue
                else:
                    key, _, value = raw.partition(":")
                    fields[key] = value[1:] if value.startswith(" ") else value
        except (requests.RequestException, AttributeError, ValueError):
            pass

    def wait_for(self, predicate, timeout_s: float = 30.0) -> SseEvent:
        """The first event (already seen or arriving before the deadline) that satisfies predicate."""
        for ev in self.seen:
            if predicate(ev):
                return ev
        deadline = time.monotonic() + timeout_s
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no matching SSE event within {timeout_s}s; saw {[e.data for e in self.seen]}")
            try:
                ev = self.events.get(timeout=remaining)
            except queue.Empty:
                continue
            self.seen.append(ev)
            if predicate(ev):
                return ev

    def close(self) -> None:
        self.response.close()
