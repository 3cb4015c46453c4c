"""Flask plumbing shared by the four apps: settings, CORS, the error handlers, OpenAPI. The error
bodies are built in ``kinerja.error_responses``, the OpenAPI extras in ``kinerja.openapi_schemas``,
the guards before every view in ``kinerja.request_guards``, the health checks in ``kinerja.health``,
the app factory and ``current_runtime`` in ``kinerja.webapp``."""
from __future__ import annotations

import logging
import os

from flask import Flask, current_app
from flask_smorest import Api
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

from kinerja.auth import PUBLIC_BLUEPRINTS, guard_app
from kinerja.config import Settings
from kinerja.error_responses import (  # noqa: F401 - re-exported: where the services have always found them
    LOCATIONS, error_response, field_errors, localize_reports, request_language, unprocessable)
from kinerja.health import health_blueprint  # noqa: F401 - where the apps have always found it
from kinerja.metrics import instrument_app
from kinerja.openapi_schemas import (  # noqa: F401 - re-exported
    ErrorSchema, FieldErrorSchema, RejectedItemSchema, decimal_properties, nullable_nested)
from kinerja.request_guards import bounded_url_integers, enforce_body_limit, refuse_unusable_input, secure_headers

OPENAPI_VERSION = "3.0.3"
log = logging.getLogger(__name__)
DB_RETRY_AFTER_S = 2
# the dashboard (served by notifikasi) reads every service's API from the browser
DEFAULT_CORS_ORIGINS = ("http://127.0.0.1:8004", "http://localhost:8004")


def cors_origins() -> list[str]:
    """``KINERJA_CORS_ORIGINS`` (comma-separated; ``*`` is refused: tokens travel in headers, but
    the list says who may read the answers), else the notifikasi dashboard on its default port."""
    raw = os.environ.get("KINERJA_CORS_ORIGINS")
    origins = [o.strip().rstrip("/") for o in raw.split(",") if o.strip()] if raw else list(DEFAULT_CORS_ORIGINS)
    return [o for o in origins if o != "*"]


def enable_cors(app: Flask) -> None:
    """CORS for the dashboard's origins on the JSON API: bearer tokens in the Authorization header,
    no cookies (so no credentials mode), Last-Event-ID allowed for the stream."""
    from flask_cors import CORS

    CORS(app, resources={r"/api/*": {"origins": cors_origins()}}, supports_credentials=False,
         allow_headers=["Authorization", "Content-Type", "Last-Event-ID", "If-Match", "Accept-Language"],
         expose_headers=["ETag", "Location"], max_age=600,
         # a request without Origin is no browser's cross-origin one: nothing to answer it with
         always_send=False)


class KinerjaApi(Api):
    ERROR_SCHEMA = ErrorSchema


def configure_app(app: Flask, settings: Settings, *, title: str, version: str = "1.0.0",
                  public_blueprints: frozenset[str] = PUBLIC_BLUEPRINTS) -> Api:
    """Bind settings and flask-smorest; every error leaves as JSON with the reason."""
    app.config["KINERJA_SETTINGS"] = settings
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.config["API_TITLE"] = title
    app.config["API_VERSION"] = version
    app.config["OPENAPI_VERSION"] = OPENAPI_VERSION
    app.config["OPENAPI_URL_PREFIX"] = "/"
    app.config["OPENAPI_JSON_PATH"] = "openapi.json"
    app.json.sort_keys = False
    bounded_url_integers(app)
    guard_app(app, public_blueprints)
    enforce_body_limit(app)
    refuse_unusable_input(app)
    secure_headers(app)
    enable_cors(app)
    instrument_app(app, settings.service)  # request latency by route, and GET /metrics
    api = KinerjaApi(app, spec_kwargs={"servers": [{"url": "/"}]})
    api.ma_plugin.converter.add_attribute_function(decimal_properties)
    api.ma_plugin.converter.add_attribute_function(nullable_nested)
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        extra = getattr(exc, "data", None)
        messages = extra.get("messages") if isinstance(extra, dict) else None
        located = not (isinstance(extra, dict) and extra.get("kinerja_fields"))  # smorest: {location: {field: ...}}
        response = error_response(exc.code or 500, exc.name, exc.description, messages, located=located,
                                  detail=extra.get("detail") if isinstance(extra, dict) else None)
        if exc.code == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="kinerja"'
        return response

    @app.errorhandler(RecursionError)
    def _too_deep(exc: RecursionError):
        # a body like [[[[...]]]] exhausts the JSON parser's recursion; the client's fault
        return error_response(400, "Bad Request", "request body is nested too deeply")

    @app.errorhandler(DBAPIError)
    def _database_away(exc: DBAPIError):
        """The database dropped the connection or refused one (restart, failover): the request's
        transaction rolled back, so 503 + Retry-After tells the client to send it again. Any other
        database error is a bug and stays a 500."""
        if not (isinstance(exc, OperationalError) or exc.connection_invalidated):
            raise exc
        log.warning("database unavailable; answered 503", extra={"error": repr(exc.orig)[:300]})
        response = error_response(503, "Service Unavailable",
                                  f"database unavailable, retry: {str(exc.orig).strip()[:200]}")
        response.headers["Retry-After"] = str(DB_RETRY_AFTER_S)
        return response

    localize_reports(app)
    return api


def settings_of_app() -> Settings:
    return current_app.config["KINERJA_SETTINGS"]
