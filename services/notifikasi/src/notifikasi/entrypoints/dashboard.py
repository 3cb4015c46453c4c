"""The web dashboard: static HTML + vanilla JS served by notifikasi, no build step.

``/dashboard/`` (``index.html``, ``app.js``, ``style.css`` from ``notifikasi/static/dashboard``) and
``/dashboard/config.js``, which tells the page where the other services answer (``KEHADIRAN_URL``,
``TUGAS_URL``, ``PENILAIAN_URL``; the stream is this service, same origin). The page reads those
APIs directly from the browser (every service allows the dashboard's origin, see
``kinerja.web.enable_cors``); services still never call each other.

Sign-in: the page takes a token from ``#token=<jwt>`` (``kinerja up`` prints such links for the demo
ASN, a supervisor and an admin, and an agency's OIDC provider can redirect there), moves it to
``sessionStorage`` and clears the fragment. The blueprint is public (``kinerja.auth.PUBLIC_BLUEPRINTS``):
the files hold no data; every API call carries the token.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from flask import Blueprint, Response, current_app, redirect, send_from_directory

STATIC_DIR = Path(__file__).resolve().parent.parent / "static" / "dashboard"
FILES = {"index.html", "app.js", "style.css"}
DEFAULT_URLS = {"kehadiran": "http://127.0.0.1:8001", "tugas": "http://127.0.0.1:8002",
                "penilaian": "http://127.0.0.1:8003"}

bp = Blueprint("dashboard", __name__)


def service_urls() -> dict[str, str]:
    return {svc: (os.environ.get(f"{svc.upper()}_URL") or default).rstrip("/") for svc, default in DEFAULT_URLS.items()}


def _headers(response: Response) -> Response:
    urls = " ".join(sorted(set(service_urls().values())))
    response.headers["Content-Security-Policy"] = (
        f"default-src 'self'; connect-src 'self' {urls}; img-src 'self' data:; style-src 'self'; "
        "script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/")
def root():
    return redirect("/dashboard/", code=302)


@bp.get("/dashboard")
def bare():
    return redirect("/dashboard/", code=301)


@bp.get("/dashboard/")
def index():
    return _headers(send_from_directory(STATIC_DIR, "index.html", max_age=0))


@bp.get("/dashboard/config.js")
def config_js():
    settings = current_app.config["KINERJA_SETTINGS"]
    config = {**service_urls(), "notifikasi": "", "timezone": settings.timezone}
    body = f"window.KINERJA_CONFIG = {json.dumps(config)};\n"
    return _headers(Response(body, mimetype="text/javascript"))


@bp.get("/dashboard/<name>")
def asset(name: str):
    if name not in FILES:
        return Response("not found", status=404, mimetype="text/plain")
    return _headers(send_from_directory(STATIC_DIR, name, max_age=0))
