"""Where a real HTTP server matters: a body sent chunked (no Content-Length) past ``max_body_bytes``
is still refused with 413, by the device protocol and by a JSON route, and nothing is stored."""
from __future__ import annotations

import threading

import pytest
import requests
from werkzeug.serving import make_server

from .conftest import MAX_BODY
from .world import A_DEVICE, ADMIN, AGENCY, bearer, token

pytestmark = pytest.mark.integration


@pytest.fixture
def served(world_of):
    w = world_of("kehadiran")
    server = make_server("127.0.0.1", 0, w.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield w, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)


def _chunks(total: int, piece: bytes):
    sent = 0
    while sent < total:
        yield piece
        sent += len(piece)


def _send(base, method, path, query, headers, piece):
    return requests.request(method, base + path, params=query, headers=headers,
                            data=_chunks(MAX_BODY * 4, piece), timeout=30)


# a chunked body over the limit is refused whole (kinerja.web reads limit + 1 bytes), never cut
# short with OK:<n> for the first part of a device's batch
def test_a_chunked_oversized_device_upload_is_413(served, security_report):
    w, base = served
    before = w.row_counts()
    resp = _send(base, "POST", "/iclock/cdata", {"SN": A_DEVICE, "table": "ATTLOG"}, {"Content-Type": "text/plain"},
                 b"3\t2026-01-05 07:31:00\t0\t1\t0\t0\t0\n")
    ok = resp.status_code == 413
    security_report.attempt("oversized body (chunked, real server)", "kehadiran", "POST", "/iclock/cdata",
                            status=resp.status_code, got_through=None if ok else f"{resp.status_code} "
                            f"{resp.text.strip()[:40]}")
    assert ok, (resp.status_code, resp.text[:200])
    assert w.row_counts() == before


def test_a_chunked_oversized_json_body_is_refused(served, security_report):
    w, base = served
    before = w.row_counts()
    headers = {"Content-Type": "application/json", **bearer(token("admin", AGENCY, ADMIN))}
    resp = _send(base, "POST", "/api/v1/calendar/holidays", None, headers, b'{"csv": "' + b"x" * 500)
    # 413 is the right answer; a 400 for the (truncated, so malformed) JSON at least refuses it
    ok = resp.status_code in (413, 400)
    security_report.attempt("oversized body (chunked, real server)", "kehadiran", "POST", "/api/v1/calendar/holidays",
                            status=resp.status_code, got_through=None if ok else f"{resp.status_code}")
    assert ok, (resp.status_code, resp.text[:200])
    assert w.row_counts() == before
