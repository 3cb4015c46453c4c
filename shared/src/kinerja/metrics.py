"""Prometheus metrics for every Kinerja process (prometheus-client).

Web apps: :func:`instrument_app` (called by :func:`kinerja.web.configure_app`) times every request
by route and serves ``GET /metrics`` (public blueprint ``metrics``). Under gunicorn with several
workers set ``PROMETHEUS_MULTIPROC_DIR`` to an empty, writable directory (the image's gunicorn
config does, see ``deploy/docker/gunicorn.conf.py``): each worker then writes its values there and
``/metrics`` sums them over the workers.

Consumers and relays are processes of their own (their own pods on Kubernetes), so they serve
their metrics on their own small HTTP port: :func:`serve_process_metrics` reads
``<SERVICE>_<ROLE>_METRICS_PORT`` (e.g. ``PENILAIAN_CONSUMER_METRICS_PORT``), else
``KINERJA_METRICS_PORT``; 0 or unset means off. ``KINERJA_METRICS_ADDR`` is the address it binds
(127.0.0.1; the image sets 0.0.0.0).

Metric objects are module-level singletons (prometheus-client registers each name once per
process); the labels say which service, consumer group or route a value belongs to.
"""
from __future__ import annotations

import logging
import os
import time
from typing import Any

from prometheus_client import (CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Gauge, Histogram,
                               generate_latest, start_http_server)

from kinerja.config import whole_number

log = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

# -- web -----------------------------------------------------------------------------------------
HTTP_LATENCY = Histogram(
    "kinerja_http_request_duration_seconds", "HTTP request latency by route (until the response is returned)",
    ["service", "method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
SSE_STREAMS_OPEN = Gauge(
    "kinerja_sse_streams_open", "open Server-Sent Events streams (notifikasi)", ["service"],
    multiprocess_mode="livesum",
)

DEVICE_ADDRESS_CHANGES = Counter("kinerja_device_address_changes_total",
                                 "attendance devices seen calling from another source address (kehadiran)", ["service"])
DEVICE_REFUSED = Counter("kinerja_device_requests_refused_total",
                         "device protocol requests refused for their address or communication key (kehadiran)",
                         ["service", "reason"])
WEBHOOK_DESTINATIONS_REFUSED = Counter("kinerja_webhook_destinations_refused_total",
                                       "webhook deliveries refused because the destination is not allowed (notifikasi)",
                                       ["service"])
WEBHOOK_FAILURES = Counter("kinerja_webhook_failures_total", "webhook delivery attempts that failed (notifikasi)",
                           ["service"])

# -- consumer ------------------------------------------------------------------------------------
EVENTS_APPLIED = Counter("kinerja_consumer_events_applied_total", "events applied, by type",
                         ["group", "topic", "type"])
DUPLICATES = Counter("kinerja_consumer_duplicates_total", "re-delivered events that were no-ops",
                     ["group", "topic"])
DEAD_LETTERED = Counter("kinerja_consumer_dead_lettered_total", "messages sent to <topic>.dlq",
                        ["group", "topic"])
DB_RETRIES = Counter("kinerja_consumer_db_retries_total", "apply attempts retried because the database was away",
                     ["group"])
CONSUMER_LAG = Gauge("kinerja_consumer_lag", "log end offset minus the consumer's position, per assigned partition",
                     ["group", "topic", "partition"], multiprocess_mode="liveall")

# -- relay ---------------------------------------------------------------------------------------
RELAY_PUBLISHED = Counter("kinerja_relay_published_total", "outbox rows published and marked sent", ["service"])
OUTBOX_PENDING = Gauge("kinerja_outbox_pending", "outbox rows not yet published", ["service"],
                       multiprocess_mode="liveall")
RELAY_IN_FLIGHT = Gauge("kinerja_relay_in_flight", "outbox rows sent and not yet acknowledged", ["service"],
                        multiprocess_mode="liveall")
RELAY_BUCKETS = Gauge("kinerja_relay_buckets", "outbox key buckets this relay holds (of 64)", ["service"],
                      multiprocess_mode="liveall")
OUTBOX_TRIMMED = Counter("kinerja_outbox_trimmed_total", "sent outbox rows deleted after the retention", ["service"])
PROCESSED_TRIMMED = Counter("kinerja_processed_events_trimmed_total",
                            "processed_events records deleted after the retention", ["group"])
OUTBOX_OLDEST_AGE = Gauge("kinerja_outbox_oldest_age_seconds", "age of the oldest unpublished outbox row (0 when empty)",
                          ["service"], multiprocess_mode="liveall")


def registry() -> CollectorRegistry:
    """What ``/metrics`` shows: every worker's values in multiprocess mode, else this process's."""
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        reg = CollectorRegistry()
        multiprocess.MultiProcessCollector(reg)
        return reg
    return REGISTRY


def render() -> tuple[bytes, str]:
    return generate_latest(registry()), CONTENT_TYPE_LATEST


# -- Flask ---------------------------------------------------------------------------------------
def instrument_app(app: Any, service: str) -> None:
    """Time each request by its route rule (``/api/v1/scores/<nip>``, not the raw path) and add
    the public ``metrics`` blueprint with ``GET /metrics``."""
    from flask import Blueprint, Response, g, request

    @app.before_request
    def _start_timer():
        g._kinerja_t0 = time.perf_counter()

    # each route's histogram child, as ``labels`` finds it (the same object), without its lock and
    # checks on every request
    children: dict[tuple[str, str, int], Any] = {}

    @app.after_request
    def _observe(response):
        t0 = getattr(g, "_kinerja_t0", None)
        if t0 is not None:
            req = request._get_current_object()
            key = (req.method, req.url_rule.rule if req.url_rule is not None else "<unmatched>", response.status_code)
            child = children.get(key)
            if child is None:
                if len(children) > 10_000:  # methods and statuses are few; bounded all the same
                    children.clear()
                child = children[key] = HTTP_LATENCY.labels(service, key[0], key[1], str(key[2]))
            child.observe(time.perf_counter() - t0)
        return response

    bp = Blueprint("metrics", __name__)

    @bp.get("/metrics")
    def metrics():
        body, content_type = render()
        return Response(body, content_type=content_type)

    app.register_blueprint(bp)


# -- consumer and relay processes ----------------------------------------------------------------
def metrics_port(service: str, role: str) -> int:
    """``<SERVICE>_<ROLE>_METRICS_PORT``, else ``KINERJA_METRICS_PORT``, else 0 (off)."""
    names = (f"{service.upper()}_{role.upper()}_METRICS_PORT", "KINERJA_METRICS_PORT")
    return whole_number(os.environ, names, 0, 0, 65535)


def serve_process_metrics(service: str, role: str) -> int:
    """Serve this process's metrics on its own port when one is configured; returns the port (0: off)."""
    port = metrics_port(service, role)
    if port <= 0:
        return 0
    addr = os.environ.get("KINERJA_METRICS_ADDR") or "127.0.0.1"
    start_http_server(port, addr=addr, registry=registry())
    log.info("metrics served", extra={"port": port, "addr": addr, "role": role})
    return port


def gunicorn_child_exit(server, worker) -> None:  # pragma: no cover - called by gunicorn
    """gunicorn ``child_exit`` hook: drop a dead worker's live gauges in multiprocess mode."""
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
