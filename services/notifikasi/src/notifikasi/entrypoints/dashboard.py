"""The web dashboard: static HTML + vanilla JS served by notifikasi, no build step.

``/dashboard/`` (``index.html``, its scripts and ``style.css`` from ``notifikasi/static/dashboard``) and
``/dashboard/config.js``, which tells the page where the other services answer (``KEHADIRAN_URL``,
``TUGAS_URL``, ``PENILAIAN_URL``; the stream is this service, same origin). The page reads those
APIs directly from the browser (every service allows the dashboard's origin, see
``kinerja.web.enable_cors``); services still never call each other.

Sign-in, the way agencies sign in: with ``KINERJA_OIDC_ISSUER`` and ``KINERJA_OIDC_CLIENT_ID`` (a
public client of the agency's OpenID provider, e.g. Keycloak, whose redirect URIs include this
``/dashboard/``), ``config.js`` carries the provider's endpoints (from its discovery document) and
the page signs in with the authorization code flow and PKCE (S256): the provider's own login page,
then the code exchanged for tokens in the browser; the access token is what every API checks
(RS256 against the provider's JWKS, role, agency and NIP from the claims ``KINERJA_OIDC_*_CLAIM``
name; the page learns them from ``GET /api/v1/me``). It is refreshed before it expires while the
provider allows. The demo's links (``#token=<jwt>``, printed by ``kinerja up``) and a pasted token
still work: the page moves the token to ``sessionStorage`` and clears the fragment. The blueprint
is public (``kinerja.auth.PUBLIC_BLUEPRINTS``): the files hold no data; every API call carries the token.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, redirect, send_from_directory

from notifikasi.adapters.oidc_discovery import discover

STATIC_DIR = Path(__file__).resolve().parent.parent / "static" / "dashboard"
# what the page loads (index.html, its scripts, style.css); nothing else in the folder is served by name
FILES = frozenset(p.name for p in STATIC_DIR.iterdir() if p.suffix in (".html", ".js", ".css"))
DEFAULT_URLS = {"kehadiran": "http://127.0.0.1:8001", "tugas": "http://127.0.0.1:8002",
                "penilaian": "http://127.0.0.1:8003"}

bp = Blueprint("dashboard", __name__)


def service_urls() -> dict[str, str]:
    return {svc: (os.environ.get(f"{svc.upper()}_URL") or default).rstrip("/") for svc, default in DEFAULT_URLS.items()}


def oidc_config() -> dict | None:
    """What the page needs to sign in with the agency's OpenID provider, or None when the
    dashboard has no client there (or the provider does not answer)."""
    issuer, client_id = os.environ.get("KINERJA_OIDC_ISSUER"), os.environ.get("KINERJA_OIDC_CLIENT_ID")
    if not issuer or not client_id:
        return None
    endpoints = discover(issuer)
    if endpoints is None:
        return None
    return {**endpoints, "client_id": client_id, "scope": os.environ.get("KINERJA_OIDC_SCOPE") or "openid"}


def _origin(url: str | None) -> str | None:
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else None


def _headers(response: Response) -> Response:
    origins = set(service_urls().values())
    oidc = oidc_config()
    if oidc and _origin(oidc["token_endpoint"]):
        origins.add(_origin(oidc["token_endpoint"]))  # the code is exchanged for tokens from the page
    urls = " ".join(sorted(origins))
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
    config = {**service_urls(), "notifikasi": "", "timezone": settings.timezone, "oidc": oidc_config()}
    body = f"window.KINERJA_CONFIG = {json.dumps(config)};\n"
    return _headers(Response(body, mimetype="text/javascript"))


@bp.get("/dashboard/<name>")
def asset(name: str):
    if name not in FILES:
        return Response("not found", status=404, mimetype="text/plain")
    return _headers(send_from_directory(STATIC_DIR, name, max_age=0))
