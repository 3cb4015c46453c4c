"""The HTTP limit an ingest figure is held against: a minimal standard-library server (one
process, ``ThreadingHTTPServer``, HTTP/1.1 keep-alive) that reads each request's body and answers
as kehadiran would (``OK:<lines>`` to an ADMS ATTLOG upload, the counts to a JSON batch) without
storing anything. The same client driving it on the same machine gives what the client, the loopback
and the two cores allow at all; kehadiran's figure is then a ratio to that."""
from __future__ import annotations

import json
import multiprocessing
import socket
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator


class _Answer(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.startswith("/iclock/cdata"):
            out, kind = b"OK:%d" % body.count(b"\n"), "text/plain"
        else:
            n = len(json.loads(body)["punches"])
            out, kind = json.dumps({"accepted": n, "duplicates": 0, "quarantined": 0}).encode(), "application/json"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args) -> None:  # a log line per request would be most of the cost
        pass


def _serve(sock: socket.socket) -> None:
    server = ThreadingHTTPServer(sock.getsockname(), _Answer, bind_and_activate=False)
    server.socket.close()
    server.socket = sock
    server.daemon_threads = True
    server.serve_forever()


@contextmanager
def stdlib_server() -> Iterator[str]:
    """The minimal server in a process of its own (not sharing the client's interpreter lock);
    yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    proc = multiprocessing.get_context("fork").Process(target=_serve, args=(sock,), daemon=True)
    proc.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        proc.terminate()
        proc.join(10)
        sock.close()
