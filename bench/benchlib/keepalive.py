"""A lean HTTP/1.1 keep-alive client for the ingest benchmarks: ``http.client`` on one connection
per device thread. ``requests`` spends about 1.4 ms of CPU a request in the client (measured
against the stdlib server: 0.2–0.3 ms with this), which on two cores is CPU taken from the
server being measured, and it capped the single-punch run near 600 requests/s whatever the
server did."""
from __future__ import annotations

import http.client
from urllib.parse import urlsplit


class KeepAlive:
    def __init__(self, base_url: str, headers: dict[str, str] | None = None, timeout: float = 120.0):
        u = urlsplit(base_url)
        self.host, self.port, self.timeout = u.hostname, u.port, timeout
        self.headers = dict(headers or {})
        self.conn: http.client.HTTPConnection | None = None

    def post(self, path: str, body: bytes, content_type: str) -> tuple[int, bytes]:
        headers = {**self.headers, "Content-Type": content_type}
        for attempt in (1, 2):  # a keep-alive connection the server closed is reopened once
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self.conn.request("POST", path, body=body, headers=headers)
                r = self.conn.getresponse()
                return r.status, r.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def __enter__(self) -> "KeepAlive":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
