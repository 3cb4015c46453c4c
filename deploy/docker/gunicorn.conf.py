"""gunicorn settings for every service's web process in the container image.

    gunicorn -c /app/gunicorn.conf.py        # serves $KINERJA_SERVICE's create_app() on 0.0.0.0:$PORT

A service that ships its own ``<service>.entrypoints.gunicorn_conf`` (notifikasi: gthread with
many threads, streams ended at once on SIGTERM) is taken as the base; this file then only binds to
``0.0.0.0:$PORT`` and adds Prometheus multiprocess mode. Variables: ``KINERJA_SERVICE`` (set by
the image), ``PORT`` (8000), ``WEB_WORKERS`` (2), ``WEB_THREADS`` (16), ``WEB_TIMEOUT`` (60),
``PROMETHEUS_MULTIPROC_DIR`` (/tmp/prometheus: emptied at start; ``/metrics`` sums the workers).
"""
import importlib
import os
import shutil

from kinerja.config import MAX_WEB_THREADS, MAX_WEB_WORKERS, port_number, whole_number

service = os.environ.get("KINERJA_SERVICE")
if not service:
    raise RuntimeError("KINERJA_SERVICE is not set (the image sets it to the service it was built for)")

worker_class = "gthread"
# a bad value stops gunicorn's start with the setting's name (0 s: gunicorn's "no timeout")
workers = whole_number(os.environ, "WEB_WORKERS", 2, 1, MAX_WEB_WORKERS)
threads = whole_number(os.environ, "WEB_THREADS", 16, 1, MAX_WEB_THREADS)
timeout = whole_number(os.environ, "WEB_TIMEOUT", 60, low=0)
graceful_timeout = 20
keepalive = 5
accesslog = "-"
# query strings may hold a token (EventSource): log the path only
access_log_format = '%(h)s - - %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(D)sus "%(a)s"'
# whatever the format, a token in a query string or the Authorization header is redacted
logger_class = "kinerja.accesslog.RedactingLogger"
# the workers' collector settings (a service's own hook, when it has one, does the same first)
from kinerja.gunicorn_hooks import control_socket_disable, post_worker_init  # noqa: E402,F401

try:  # the service's own settings first (e.g. notifikasi's thread count and SIGTERM handling)
    _own = importlib.import_module(f"{service}.entrypoints.gunicorn_conf")
except ModuleNotFoundError:
    _own = None
if _own is not None:
    for _name in ("worker_class", "workers", "threads", "worker_connections", "graceful_timeout", "keepalive",
                  "accesslog", "access_log_format", "logger_class", "post_worker_init"):
        if hasattr(_own, _name):
            globals()[_name] = getattr(_own, _name)

wsgi_app = f"{service}.entrypoints.app:create_app()"
bind = f"0.0.0.0:{port_number(os.environ, 'PORT', 8000)}"

os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", "/tmp/prometheus")


def on_starting(server):
    """A fresh multiprocess directory for each start (a restarted container may keep /tmp)."""
    path = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path, exist_ok=True)


def child_exit(server, worker):
    from kinerja.metrics import gunicorn_child_exit

    gunicorn_child_exit(server, worker)
