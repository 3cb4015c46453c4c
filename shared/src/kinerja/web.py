"""Flask plumbing shared by the four apps: settings, errors as JSON, OpenAPI. The guards before
every view live in ``kinerja.request_guards``, the health checks in ``kinerja.health``, the app
factory and ``current_runtime`` in ``kinerja.webapp``."""
from __future__ import annotations

import logging
import os
from decimal import Decimal

from flask import Flask, current_app, jsonify
from flask_smorest import Api
from marshmallow import Schema
from marshmallow import fields as ma_fields
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

from kinerja.auth import PUBLIC_BLUEPRINTS, guard_app
from kinerja.config import Settings
from kinerja.health import health_blueprint  # noqa: F401 - where the apps have always found it
from kinerja.metrics import instrument_app
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
         expose_headers=["ETag", "Location"], max_age=600)


class FieldErrorSchema(Schema):
    field = ma_fields.String(allow_none=True, metadata={
        "description": "the value at fault: a dotted path into the body or the query (punches.0.time); "
                       "null when the request as a whole is at fault"})
    reason = ma_fields.String(metadata={"description": "why, in the client's language"})
    in_ = ma_fields.String(data_key="in", metadata={"description": "json, query, form, files, headers or path, "
                                                                   "when the request's schema refused it"})


class RejectedItemSchema(Schema):
    index = ma_fields.Integer(metadata={"description": "the item's position (0-based), or a CSV line (line)"})
    line = ma_fields.Integer()
    error = ma_fields.String()
    errors = ma_fields.Dict(keys=ma_fields.String(), values=ma_fields.List(ma_fields.String()),
                            metadata={"description": "field → the reasons it was refused"})


class ErrorSchema(Schema):
    """Every error the APIs answer (4xx and 5xx), in Bahasa Indonesia unless the client asks for
    English (``Accept-Language: en``; ``Content-Language`` says which)."""

    code = ma_fields.Integer(metadata={"description": "the HTTP status code"})
    status = ma_fields.String(metadata={"description": "the HTTP status name"})
    message = ma_fields.String(metadata={"description": "what went wrong, in a sentence (for a refused value: "
                                                        "the field and why)"})
    field = ma_fields.String(allow_none=True, metadata={"description": "the first value at fault (when there is one)"})
    reason = ma_fields.String(metadata={"description": "why that value was refused"})
    errors = ma_fields.List(ma_fields.Nested(FieldErrorSchema), metadata={
        "description": "every value at fault, each with its reason (empty when none is)"})
    detail = ma_fields.Dict(keys=ma_fields.String(), values=ma_fields.List(ma_fields.Nested(RejectedItemSchema)), metadata={
        "description": "structured extras of some refusals: rejected, the items of a batch refused one by one"})


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
    api.ma_plugin.converter.add_attribute_function(_decimal_properties)
    api.ma_plugin.converter.add_attribute_function(_nullable_nested)
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


def unprocessable(message: str, detail: dict | None = None, **errors) -> HTTPException:
    """A 422 whose ``message`` is a sentence and whose ``errors`` name each field at fault with its
    reasons (``field=[reason, ...]``, or nested ``{index: {field: [...]}}`` for an item of a list),
    the same shape as every other error the APIs give; ``detail`` carries structured extras."""
    from werkzeug.exceptions import UnprocessableEntity

    exc = UnprocessableEntity(message)
    exc.data = {"messages": errors, "kinerja_fields": True, "detail": detail}
    return exc


# -- errors people read: in Bahasa Indonesia, or English when asked (kinerja.i18n) ----------------------
LOCATIONS = frozenset({"json", "query", "querystring", "form", "files", "headers", "cookies", "path", "view_args"})


def field_errors(messages, *, located: bool = True) -> list[dict]:
    """marshmallow's nested messages (``{location: {field: [reasons] | {index: {...}}}}``, or without
    the location level) as a flat list: one ``{"field", "reason"[, "in"]}`` per reason, the field
    a dotted path (``punches.0.time``; a schema-wide reason names the object it is about)."""
    out: list[dict] = []

    def walk(node, path: list, where: str | None) -> None:
        if isinstance(node, str):
            field = ".".join(str(p) for p in path if p != "_schema") or None
            out.append({"field": field, "reason": node, **({"in": where} if where else {})})
        elif isinstance(node, dict):
            for key, value in node.items():
                walk(value, path + [key], where)
        elif isinstance(node, (list, tuple)):
            if all(isinstance(v, str) for v in node):
                for v in node:
                    walk(v, path, where)
            else:
                for i, v in enumerate(node):
                    walk(v, path + [i], where)

    if not isinstance(messages, dict):
        return out
    for key, value in messages.items():
        if located and key in LOCATIONS:
            walk(value, [], "query" if key == "querystring" else key)
        else:
            walk(value, [key], None)
    return out


def _translated(node, lang: str):
    from kinerja.i18n import translate

    if isinstance(node, str):
        return translate(node, lang)
    if isinstance(node, dict):
        return {k: _translated(v, lang) for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        return [_translated(v, lang) for v in node]
    return node


def request_language() -> str:
    from flask import has_request_context, request

    from kinerja.i18n import preferred

    return preferred(request.headers.get("Accept-Language")) if has_request_context() else "id"


def _sentence(text: str | None, lang: str) -> str | None:
    """The catalogue's Indonesian phrases start lower-case; as a message they start a sentence
    (English is left as the code wrote it), unless they start with a field's name as the API
    spells it (``berakhlak_points: ...``, ``punches.0.nip: ...``)."""
    if not text or lang != "id" or any(c in text.split(" ", 1)[0] for c in "_."):
        return text
    return text[:1].upper() + text[1:]


def error_response(code: int, status: str, description: str | None, messages=None, *, located: bool = True,
                   detail=None):
    """Every error the APIs give, in one shape and in the client's language: ``message`` a sentence
    that says what went wrong (for a refused value: the field and why); ``field`` and ``reason`` the
    first value at fault; ``errors`` each value at fault (``field``, ``reason``, ``in``)."""
    from werkzeug.exceptions import default_exceptions

    from kinerja.i18n import translate

    lang = request_language()
    generic = description is None or description == getattr(default_exceptions.get(code), "description", None)
    errors = [{**e, "reason": translate(e["reason"], lang)} for e in field_errors(messages, located=located)]
    message = translate(description or status, lang)
    body: dict = {"code": code, "status": status}
    if errors:
        first = errors[0]
        said = f"{first['field']}: {first['reason']}" if first["field"] else first["reason"]
        more = len(errors) - 1
        if more:
            said += f" (dan {more} kesalahan lain)" if lang == "id" else f" (and {more} more)"
        message = said if generic else f"{_sentence(message, lang)}: {said}"
        body.update(message=message, field=first["field"], reason=first["reason"])
    else:
        body["message"] = _sentence(message, lang)
    body["errors"] = errors
    if detail:
        body["detail"] = _translated(detail, lang)
    response = jsonify(body)
    response.status_code = code
    response.headers["Content-Language"] = lang
    response.vary.add("Accept-Language")
    return response


def localize_reports(app: Flask) -> None:
    """The reasons a partly accepted request reports (``rejected`` in a 2xx JSON answer: punches
    refused one by one, CSV lines) in the client's language too."""
    import json as _json

    from flask import request

    @app.after_request
    def _localize(response):
        if (response.status_code >= 300 or response.mimetype != "application/json" or response.direct_passthrough
                or b'"rejected"' not in response.get_data()):
            return response
        lang = request_language()
        if lang == "en":
            response.headers["Content-Language"] = "en"
            return response
        try:
            body = _json.loads(response.get_data())
        except ValueError:
            return response
        if isinstance(body, dict) and isinstance(body.get("rejected"), list):
            body["rejected"] = [{k: (_translated(v, lang) if k in ("errors", "error", "reason") else v)
                                 for k, v in item.items()} if isinstance(item, dict) else item
                                for item in body["rejected"]]
            response.set_data(_json.dumps(body, ensure_ascii=False, separators=(",", ":")))
            response.headers["Content-Language"] = lang
        return response


def _decimal_properties(self, field, ret, **kwargs) -> dict:
    """Decimal fields in the OpenAPI document: a ``string`` (format decimal) when they travel as
    strings, else a ``number`` whose bounds are numbers, not the strings apispec renders."""
    from marshmallow import fields as ma_fields

    if not isinstance(field, ma_fields.Decimal):
        return {}
    if field.as_string:
        bounds = {f"x-{bound}": str(ret.pop(bound)) for bound in ("minimum", "maximum", "exclusiveMinimum",
                                                                  "exclusiveMaximum") if bound in ret}
        return {"type": "string", "format": "decimal", "pattern": r"^-?\d+(\.\d+)?$", "maxLength": 32, **bounds}
    return {k: float(ret[k]) for k in ("minimum", "maximum") if isinstance(ret.get(k), (str, Decimal))}


def _nullable_nested(self, field, ret, **kwargs) -> dict:
    """A nested schema that may be null, as OpenAPI 3.0 says it (``allOf`` + ``nullable``), not
    apispec's ``anyOf`` with an empty object beside it (which reads as "any object")."""
    any_of = ret.get("anyOf")
    if isinstance(any_of, list) and len(any_of) == 2:
        stub = {"type": "object", "nullable": True}
        refs = [x for x in any_of if x != stub]
        if len(refs) == 1 and stub in any_of:
            ret.pop("anyOf")
            return {"allOf": refs, "nullable": True}
    return {}


def settings_of_app() -> Settings:
    return current_app.config["KINERJA_SETTINGS"]
