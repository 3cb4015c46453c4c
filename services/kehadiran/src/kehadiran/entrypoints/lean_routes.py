"""The two requests a terminal sends all day, served without Flask's per-request machinery: a
device's JSON batch (``POST /api/v1/punches`` with a device token) and an ATTLOG upload
(``POST /iclock/cdata?SN=..&table=ATTLOG``). A WSGI layer in front of the Flask app, which
``create_app`` still builds with every route (these included: they stay documented in OpenAPI and
serve everything this layer leaves to them).

Only the plain case is served here, through the same functions the views call (the token
checked as ``kinerja.auth`` checks it, the body as the strict guard and the view's schema read
it, the device as its registry knows it, ``screen``/``write_device_batch``/``store_attlog``), with
the answer the Flask app gives to it, byte for byte. Anything else goes to the Flask app as it
came, before anything is written: a request with a query string, an ``Origin`` (CORS), no
``Content-Length`` or a body over the limit, a token that does not verify or is not a device's,
a body or an item the schemas refuse, a device the registry refuses or must check, malformed
ATTLOG lines, and a database error (the write rolled back; the Flask view tries it once more
and answers 503 if the database is away; a punch stored by a commit whose answer was lost is
then a duplicate, never a second punch). So every refusal, with its status and message, is the
Flask app's own.

Why: Flask, Werkzeug's request and response objects, the before/after hooks and webargs cost a
one-punch request more Python than its validation and its write together.
"""
from __future__ import annotations

import logging
import time
from datetime import datetime, timezone
from email.utils import formatdate
from io import BytesIO
from typing import Any, Callable, Iterable

import orjson
from flask import Flask
from marshmallow import ValidationError
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from kehadiran.adapters import adms
from kehadiran.entrypoints import punches_api
from kehadiran.entrypoints.iclock.blueprint import SN_RE
from kehadiran.entrypoints.iclock.callers import address_binding_of
from kehadiran.entrypoints.iclock.uploads import NotPlain, store_attlog
from kinerja.i18n import preferred
from kinerja.metrics import HTTP_LATENCY
from kinerja.oidc_tokens import OidcConfig, decode_any
from kinerja.request_guards import strict_json
from kinerja.tokens import TokenError
from kinerja.webapp import runtime_of

log = logging.getLogger(__name__)

PUNCHES, CDATA = "/api/v1/punches", "/iclock/cdata"
# an ATTLOG upload's query as terminals send it (SN, table, Stamp): anything else (an escape, a
# control character, another separator) is read by Werkzeug in the Flask app
_PLAIN_QUERY = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.=&")
# the headers every answer of the API carries (``kinerja.request_guards.secure_headers``)
_SECURE = [("X-Content-Type-Options", "nosniff"), ("Cache-Control", "no-store")]
_JSON_ERRORS = (HTTPException, ValidationError, ValueError, TokenError, NotPlain, RecursionError)


class LeanRoutes:
    """WSGI: the plain punch requests served here, every other request by ``flask_wsgi``."""

    def __init__(self, app: Flask, flask_wsgi: Callable) -> None:
        self.app = app
        self.flask_wsgi = flask_wsgi
        self.service = app.config["KINERJA_SETTINGS"].service
        self._latency: dict[str, Any] = {}

    def __call__(self, wsgi_env: dict, start_response: Callable) -> Iterable[bytes]:
        if wsgi_env.get("REQUEST_METHOD") == "POST":
            path = wsgi_env.get("PATH_INFO")
            if path == PUNCHES:
                answer = self._punches(wsgi_env)
            elif path == CDATA:
                answer = self._attlog(wsgi_env)
            else:
                answer = None
            if answer is not None:
                status, headers, body, rule, t0 = answer
                start_response(status, headers)
                self._observe(rule, t0)
                return [body]
        return self.flask_wsgi(wsgi_env, start_response)

    # -- POST /api/v1/punches ----------------------------------------------------------------
    def _punches(self, wsgi_env: dict):
        if wsgi_env.get("QUERY_STRING") or "HTTP_ORIGIN" in wsgi_env:
            return None
        auth = wsgi_env.get("HTTP_AUTHORIZATION", "")
        if auth[:7].lower() != "bearer " or wsgi_env.get("CONTENT_TYPE", "").split(";", 1)[0].strip() != "application/json":
            return None
        t0 = time.perf_counter()
        body = self._body(wsgi_env)
        if body is None:
            return None
        settings = self.app.config["KINERJA_SETTINGS"]
        try:
            principal = decode_any(auth[7:].strip(), settings.jwt_secret, issuer=settings.jwt_issuer,
                                   oidc=OidcConfig.from_env())
            if principal.role != "device":
                return self._to_flask(wsgi_env, body)  # a phone's: its geofence and device row are the view's
            batch = punches_api.PUNCH_BATCH.load(strict_json(body))
            now = datetime.now(timezone.utc)
            items, rejected = punches_api.screen(batch["punches"], principal, now,
                                                 self.app.config["KEHADIRAN_PHONE_SKEW"])
            if rejected:  # reported by index, in the client's language: the view's
                return self._to_flask(wsgi_env, body)
            result = punches_api.write_device_batch(runtime_of(self.app), principal, items, now)
        except _JSON_ERRORS:
            return self._to_flask(wsgi_env, body)
        except DBAPIError:
            return self._to_flask(wsgi_env, body)
        except Exception:
            log.exception("lean path failed; the Flask view serves the request")
            return self._to_flask(wsgi_env, body)
        lang = preferred(wsgi_env.get("HTTP_ACCEPT_LANGUAGE"))
        # as the view's answer leaves the Flask app: Flask's JSON (a newline at its end), or for
        # Indonesian re-encoded by the reports' translation (``localize_reports``), which has none
        out = orjson.dumps(result.as_dict()) + (b"\n" if lang == "en" else b"")
        return ("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(out))),
                           ("Content-Language", lang), *_SECURE], out, PUNCHES, t0)

    # -- POST /iclock/cdata?table=ATTLOG -----------------------------------------------------
    def _attlog(self, wsgi_env: dict):
        query = wsgi_env.get("QUERY_STRING", "")
        if not query or not _PLAIN_QUERY.issuperset(query) or "json" in wsgi_env.get("CONTENT_TYPE", "").lower():
            return None
        args: dict[str, str] = {}
        for pair in query.split("&"):
            key, _, value = pair.partition("=")
            args.setdefault(key, value)
        if (args.get("table") or "").upper() != "ATTLOG":
            return None
        sn = args.get("SN") or args.get("sn") or ""
        if not SN_RE.match(sn):
            return None
        t0 = time.perf_counter()
        body = self._body(wsgi_env)
        if body is None:
            return None
        runtime = runtime_of(self.app)
        try:
            reply = store_attlog(runtime, sn, body, datetime.now(timezone.utc), remote_addr=wsgi_env.get("REMOTE_ADDR"),
                                 stamp=adms.stamp_of(args, "ATTLOG"), binding=address_binding_of(runtime.settings))
        except (HTTPException, NotPlain, DBAPIError):
            return self._to_flask(wsgi_env, body)
        except Exception:
            log.exception("lean path failed; the Flask view serves the request")
            return self._to_flask(wsgi_env, body)
        out = reply.encode()
        headers = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(out)))]
        if not wsgi_env.get("SERVER_SOFTWARE", "").startswith("gunicorn"):  # gunicorn writes its own
            headers.append(("Date", formatdate(usegmt=True)))
        return "200 OK", headers + _SECURE, out, CDATA, t0

    # -- plumbing ----------------------------------------------------------------------------
    def _body(self, wsgi_env: dict) -> bytes | None:
        """The body, when its length is given and within the limit (else None: the Flask app
        refuses it, 413, or reads a chunked one); once read, the wsgi_env carries it again."""
        if wsgi_env.get("HTTP_TRANSFER_ENCODING"):
            return None
        try:
            length = int(wsgi_env.get("CONTENT_LENGTH") or "")
        except ValueError:
            return None
        if length < 0 or length > self.app.config["MAX_CONTENT_LENGTH"]:
            return None
        body = wsgi_env["wsgi.input"].read(length) if length else b""
        # the Flask app reads it from here if the request goes on to it (a short body included:
        # Werkzeug then finds the client gone, as it would have)
        wsgi_env["wsgi.input"] = BytesIO(body)
        return body if len(body) == length else None

    def _to_flask(self, wsgi_env: dict, body: bytes) -> None:
        wsgi_env["wsgi.input"] = BytesIO(body)
        return None

    def _observe(self, rule: str, t0: float) -> None:
        """The request's latency, as ``kinerja.metrics.instrument_app`` records the Flask app's."""
        child = self._latency.get(rule)
        if child is None:
            child = self._latency[rule] = HTTP_LATENCY.labels(self.service, "POST", rule, "200")
        child.observe(time.perf_counter() - t0)


def install(app: Flask) -> None:
    """The lean routes in front of the app's WSGI callable (``app.wsgi_app``: middleware added
    later, by a deployment, still wraps both)."""
    app.wsgi_app = LeanRoutes(app, app.wsgi_app)  # type: ignore[method-assign]
