"""``/healthz`` and ``/readyz`` of every web app (see :func:`health_blueprint`)."""
from __future__ import annotations

import socket
import time
from typing import Callable

from flask import Blueprint, jsonify
from sqlalchemy import text

from kinerja.config import Settings
from kinerja.db import read_only

class _Cached:
    def __init__(self, fn: Callable[[], str | None], ttl_s: float = 2.0):
        self.fn, self.ttl_s, self.at, self.value = fn, ttl_s, 0.0, None

    def __call__(self) -> str | None:
        now = time.monotonic()
        if now - self.at > self.ttl_s:
            self.value, self.at = self.fn(), now
        return self.value


def kafka_reachable(bootstrap: str, timeout_s: float = 1.0) -> str | None:
    """None when some bootstrap broker accepts a TCP connection, else the reason."""
    last = "no bootstrap servers configured"
    for hostport in bootstrap.split(","):
        host, _, port = hostport.strip().rpartition(":")
        try:
            with socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout_s):
                return None
        except OSError as exc:
            last = f"{hostport}: {exc}"
    return last


def health_blueprint(engine_getter: Callable, settings: Settings, *, needs_kafka: bool = True,
                     lines: dict[str, Callable[[], tuple[dict, str | None]]] | None = None) -> Blueprint:
    """``/healthz``: the process answers. ``/readyz``: its database is reachable, and Kafka too.

    ``lines``: more parts to report, each a function giving its line (a dict) and a problem (or
    None); a problem makes the answer ``degraded`` like Kafka's (503 with ``strict=1``). A line that
    cannot be read (the database away) is left out: the database's own problem says why.

    A web process never talks to Kafka itself (it writes the outbox), so Kafka being away makes it
    ``degraded`` (200, named in ``problems``), not unready: taking it out of a load balancer then
    would turn away the punches the outbox exists to keep. ``/readyz?strict=1`` answers 503 for
    Kafka too, for whoever wants that. ``needs_kafka=False`` leaves Kafka out altogether."""
    bp = Blueprint("health", __name__)
    kafka_check = _Cached(lambda: kafka_reachable(settings.kafka_bootstrap))

    def db_check() -> str | None:
        try:
            with read_only(engine_getter().connect()) as conn:
                conn.execute(text("SELECT 1"))
            return None
        except Exception as exc:  # noqa: BLE001 - any failure means not ready
            return repr(exc)[:300]

    @bp.get("/healthz")
    def healthz():
        return jsonify(status="ok", service=settings.service)

    @bp.get("/readyz")
    def readyz():
        from flask import request

        database = db_check()
        kafka = kafka_check() if needs_kafka else None
        problems = {k: v for k, v in {"database": database, "kafka": kafka}.items() if v}
        extra = {}
        for name, line in (lines or {}).items():
            if database:
                break
            try:
                extra[name], problem = line()
            except Exception as exc:  # noqa: BLE001 - a report line never fails the probe
                extra[name], problem = {"status": "unknown"}, f"cannot be read: {exc!r}"[:300]
            if problem:
                problems[name] = problem
        strict = request.args.get("strict") in ("1", "true")
        if database or (strict and problems):
            return jsonify(status="not ready", service=settings.service, problems=problems, **extra), 503
        return jsonify(status="degraded" if problems else "ready", service=settings.service, problems=problems,
                       **extra), 200

    return bp
