"""gunicorn settings for notifikasi's web process:

    gunicorn -c python:notifikasi.entrypoints.gunicorn_conf 'notifikasi.entrypoints.app:create_app()'

gthread workers: every open stream holds one thread, so ``threads`` bounds the open streams per
worker. Each worker runs its own inbox tailer (one query per tick, whatever the number of streams).
See ``stream_api`` for the design, the measurements and why gthread rather than gevent.

``threads`` defaults to 1000 per worker, so ONE worker can hold the whole 1,000 streams an
instance is sized for: the kernel does not spread connections evenly over the workers' accept
calls, and a connection accepted by a worker whose threads are all held by streams would wait
forever. The cap costs nothing until used (the thread pool starts threads only as connections
need them; an idle stream thread is a blocked ``queue.get``, a few tens of KiB resident).
``worker_connections`` is ``threads`` plus a little room for keep-alive connections, so a full
worker stops accepting and its sibling takes the next connection.

Variables: ``NOTIFIKASI_BIND`` (default
127.0.0.1:$NOTIFIKASI_PORT, port 8004), ``NOTIFIKASI_WORKERS`` (2), ``NOTIFIKASI_THREADS`` (1000),
``NOTIFIKASI_GRACEFUL_TIMEOUT`` (5 s), ``NOTIFIKASI_ACCESS_LOG`` (``-``: stdout; query strings,
which may hold a token, are left out).
"""
import os

from kinerja.config import DEFAULT_PORTS, MAX_WEB_THREADS, MAX_WEB_WORKERS, port_number, whole_number

# read when gunicorn executes this file at its start; a bad value stops it there, named
_port = port_number(os.environ, "NOTIFIKASI_PORT", DEFAULT_PORTS["notifikasi"])
bind = os.environ.get("NOTIFIKASI_BIND") or f"127.0.0.1:{_port}"
worker_class = "gthread"
workers = whole_number(os.environ, "NOTIFIKASI_WORKERS", 2, 1, MAX_WEB_WORKERS)
threads = whole_number(os.environ, "NOTIFIKASI_THREADS", 1000, 1, MAX_WEB_THREADS)
# gthread stops accepting at worker_connections open connections (streams + keep-alive ones): a
# full worker leaves new connections to its siblings (64 spare for keep-alive connections)
worker_connections = threads + 64
# streams never finish by themselves; on shutdown do not wait long for them (clients reconnect
# with Last-Event-ID and miss nothing)
graceful_timeout = whole_number(os.environ, "NOTIFIKASI_GRACEFUL_TIMEOUT", 5, low=0)
keepalive = 5
accesslog = os.environ.get("NOTIFIKASI_ACCESS_LOG") or "-"
# EventSource sends its token as ?access_token=...: log the path without the query string
access_log_format = '%(h)s - - %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(D)sus "%(a)s"'
# and whatever a format prints, a token in a query string or the Authorization header is redacted
logger_class = "kinerja.accesslog.RedactingLogger"
# no control socket (see kinerja.gunicorn_hooks: one shared default path, not writable in the image)
control_socket_disable = True


def post_worker_init(worker):
    """On SIGTERM, end this worker's streams at once (the tailer closes every subscription) so the
    worker does not sit out the graceful timeout; clients reconnect elsewhere with Last-Event-ID.
    And the collector tuned as every web worker's (``kinerja.gunicorn_hooks``)."""
    import signal

    from kinerja.gunicorn_hooks import post_worker_init as shared_post_worker_init
    from kinerja.webapp import RUNTIME_EXTENSION

    shared_post_worker_init(worker)

    previous = signal.getsignal(signal.SIGTERM)

    def on_term(signum, frame):
        runtime = getattr(worker.wsgi, "extensions", {}).get(RUNTIME_EXTENSION)
        if runtime is not None and "tailer" in runtime.__dict__:
            runtime.tailer.stop(timeout_s=0)  # never block in a signal handler
        if callable(previous):
            previous(signum, frame)

    signal.signal(signal.SIGTERM, on_term)


def child_exit(server, worker):
    """With several workers and ``PROMETHEUS_MULTIPROC_DIR`` (``kinerja up`` sets it then), drop a
    dead worker's open-stream gauge, or ``/metrics`` would count its streams as open forever."""
    from kinerja.metrics import gunicorn_child_exit

    gunicorn_child_exit(server, worker)
