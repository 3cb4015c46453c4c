"""``GET /api/v1/stream``: the caller's own notifications as Server-Sent Events.

Each message has ``id:`` (the inbox row id), ``event:`` (the kind, e.g. ``score.updated``) and one
``data:`` line of JSON; a comment line (``: heartbeat``) goes out every ``sse_heartbeat_s``
(default 15 s) so proxies keep the connection and a gone client is noticed. A client resumes with
the ``Last-Event-ID`` header (EventSource sends it on reconnect) or ``?last_event_id=``: it is sent
every inbox row with a greater id, then the live ones. Without it the stream starts at "now"; a
page that has just listed the inbox passes the newest id it saw to miss nothing in between.
EventSource cannot set headers, so the token may come as ``?access_token=``: this route alone
accepts that (``kinerja_query_token``, see kinerja.auth); access logs redact it.

How the rows get here, and why this way
---------------------------------------
The consumer is its own process (``notifikasi-consumer``) and writes the inbox, the rows of one
poll in one transaction. Each web worker process runs ONE background thread, the inbox tailer
(:mod:`notifikasi.service_layer.fanout`), that is woken when such a transaction commits (PostgreSQL:
``LISTEN notifikasi_inbox``, sent by a trigger; SQLite: a datagram from the writing process), reads
the rows with an id greater than the last it saw in one query, renders each once, and puts it on
the in-process queue of every connected client it is for. Unwoken it still looks every
``sse_poll_s`` (2 s). N open streams cost one indexed query per wake-up per worker, not N; a
stream's thread only waits on its own queue.

- Several instances behind a load balancer just work: each tails the shared database and serves
  its own clients; no instance needs to know of the others, and no sticky sessions are needed,
  since a reconnect to another instance resumes from the database by ``Last-Event-ID``.
- The inbox is the single source of what a client is shown, live or on resume, so the two cannot
  disagree, and a client that was away (or too slow, see ``sse_queue_size``) misses nothing.
- kafka-python stays out of the web process. Consuming Kafka in each web worker would make each
  worker its own consumer group member (or group) with offsets to manage, rebalances whenever
  gunicorn recycles a worker, and an inbox written N times or not at all.
- Why not gevent workers with monkey-patching: kafka-python runs its own background threads
  (heartbeat, sender) and relies on real blocking selectors and locks; under gevent's patched
  ``threading``/``socket``/``select`` they turn into greenlets that starve or deadlock when any
  code blocks the hub without yielding (C extensions such as the database driver, CPU work), which
  shows up as consumer group heartbeat timeouts and stalled producers. Keeping Kafka in a separate,
  unpatched process removes that conflict whatever worker class serves HTTP.

Worker class: gthread, measured
-------------------------------
The web process is served by gunicorn's ``gthread`` workers (see ``gunicorn_conf``): one thread per
open stream, ``NOTIFIKASI_THREADS`` (default 1000) per worker, ``NOTIFIKASI_WORKERS`` (default 2)
per instance. Threads are started only as connections need them, and an idle stream thread is a
blocked ``queue.get``, so the cap is cheap; it is per worker and as high as the instance's target
because the kernel does not spread connections evenly over the workers (``worker_connections`` is
``threads`` + a few, so a full worker stops accepting and its sibling takes over).

Since this process has no Kafka client, gevent workers would be safe here too (the conflict above
is kafka-python's, and it lives in ``notifikasi-consumer``), so both were measured with
``bench/stream_fanout.py`` on the project's 2-CPU machine (PostgreSQL, one instance, clients on
the same machine; figures in BENCHMARKS.md):

- gthread 2 x 1000 threads, 1,000 streams: one score event for one stream p50 47 ms, p99 139 ms
  (the tailer then polled every 0.1 s; it is woken now); one event for every stream at once: all delivered in 0.40 s;
  262 MiB RSS for the instance.
- gthread 2 x 5000 threads, 5,000 streams: single p50 35 ms, p99 148 ms; burst all delivered in
  2.9 s; 443 MiB.
- gevent (``-k gevent``, same code, psycopg not made gevent-aware): 1,000 streams single p50 61 ms,
  burst 0.41 s, 254 MiB; 5,000 streams single p50 53 ms, burst 2.7 s, 349 MiB. Delivery is the
  same within noise (an earlier 1,000-stream gevent run took 1.5 s for the burst); gevent uses less
  memory at 5,000 and accepted connections faster in these runs.

gthread stays the default: it delivers as fast, needs no monkey-patching, no question of whether
the database driver yields to the gevent hub (not checked for psycopg 3 here) and no extra
dependency, and it holds the thousands of streams per instance issue 6 asks for at a few hundred
MiB (for 5,000 on one instance set ``NOTIFIKASI_THREADS=5000``). If memory per stream
becomes the limit well beyond 5,000 per instance, gevent is the measured next step (this module
already keeps Kafka out of the web process, which is what makes it safe); before that, run more
instances (each tails the shared database and serves its own clients).
``services/notifikasi/tests/integration/test_stream_scale.py`` holds 1,000 concurrent streams on
one real gunicorn instance with these settings and checks delivery and ``Last-Event-ID`` resume.

A generator stops when its client disconnects: the next write (at the latest the next heartbeat)
fails, the server closes the response, and the subscription is removed from the tailer.
"""
from __future__ import annotations

import queue
from typing import Iterator

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint
from werkzeug.exceptions import BadRequest

from kinerja.auth import require_auth
from kinerja.db import read_only_session
from kinerja.fields import MAX_ID
from kinerja.webapp import current_runtime
from notifikasi.adapters import inbox
from notifikasi.entrypoints.params import READER_ROLES, own_identity
from notifikasi.entrypoints.runtime import NotifikasiRuntime
from notifikasi.service_layer.fanout import CLOSED, Subscription, render_frame

blp = Blueprint("stream", __name__, url_prefix="/api/v1", description="Live notifications (Server-Sent Events)")

BACKLOG_PAGE = 500
def last_event_id() -> int | None:
    raw = (request.headers.get("Last-Event-ID") or request.args.get("last_event_id") or "").strip()
    if raw == "":
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 19 or int(raw) > MAX_ID:
        raise BadRequest(f"Last-Event-ID must be a notification id, a whole number from 0 to {MAX_ID}")
    return int(raw)


@blp.route("/stream")
class Stream(MethodView):
    # EventSource cannot set headers: this route alone takes the token as ?access_token=
    kinerja_query_token = True

    @require_auth(*READER_ROLES)
    @blp.doc(
        security=[{"bearer": []}],
        parameters=[
            {"in": "header", "name": "Last-Event-ID", "required": False,
             "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID},
             "description": "resume: every notification with a greater id is sent first"},
            {"in": "query", "name": "last_event_id", "required": False,
             "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID},
             "description": "the same as Last-Event-ID, for a first connection"},
            {"in": "query", "name": "access_token", "schema": {"type": "string", "maxLength": 8192},
             "required": False,
             "description": "the bearer token, for EventSource which cannot set headers"},
        ],
        responses={"200": {"description": "text/event-stream: id, event (the kind) and data (JSON) per notification",
                           "content": {"text/event-stream": {"schema": {"type": "string"}}}}},
    )
    def get(self):
        """The caller's own notifications, live, resumable with Last-Event-ID."""
        principal = own_identity()
        after = last_event_id()
        runtime = current_runtime(NotifikasiRuntime)
        tailer = runtime.tailer
        # subscribe before reading any backlog, so nothing committed in between is lost
        sub = tailer.subscribe(principal.nip, principal.agency, tuple(inbox.recipients_of(principal.nip, principal.role)))
        response = Response(
            _events(runtime, sub, after),
            mimetype="text/event-stream",
            headers={"Cache-Control": "no-cache, no-store", "X-Accel-Buffering": "no"},
        )
        # also covers a client gone before the generator's first step (its finally would not run)
        response.call_on_close(lambda: tailer.unsubscribe(sub))
        return response


def _backlog(runtime, sub: Subscription, after: int) -> Iterator:
    """The caller's rows with id > ``after``, a page per short session (no connection is held
    while the client reads)."""
    while True:
        with read_only_session(runtime.session_factory) as session:
            rows = inbox.own_rows_after(session, nip=sub.recipients or sub.nip, agency=sub.agency, after_id=after,
                                        limit=BACKLOG_PAGE)
            frames = [render_frame(row) for row in rows]
        yield from frames
        if len(frames) < BACKLOG_PAGE:
            return
        after = frames[-1].id


def _events(runtime, sub: Subscription, after: int | None) -> Iterator[bytes]:
    opts = runtime.stream_options
    tailer = runtime.tailer
    try:
        # the first bytes out send the headers too, so the client knows it is subscribed
        yield f"retry: {opts.retry_ms}\n: terhubung\n\n".encode()
        sent: set[int] = set()
        if after is not None:
            for frame in _backlog(runtime, sub, after):
                sent.add(frame.id)
                yield frame.data
        while True:
            try:
                frame = sub.queue.get(timeout=opts.heartbeat_s)
            except queue.Empty:
                if sub.closed:
                    return
                yield b": heartbeat\n\n"
                continue
            if frame is CLOSED:
                return
            if frame.id in sent:  # already sent from the backlog
                sent.discard(frame.id)
                continue
            yield frame.data
    finally:
        tailer.unsubscribe(sub)
