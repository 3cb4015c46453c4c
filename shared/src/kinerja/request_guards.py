"""Guards every app puts before its views: body size, bounded path values, JSON that is usable
(no NUL, no huge integers, no control characters where text is expected) and secure headers."""
from __future__ import annotations

import json
import re

from flask import Flask
from werkzeug.routing import IntegerConverter, UnicodeConverter

from kinerja.fields import MAX_ID

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def enforce_body_limit(app: Flask) -> None:
    """Refuse a body over ``MAX_CONTENT_LENGTH`` with 413 before any view runs, whether or not the
    view reads it. A chunked body (no Content-Length) is read up to the limit plus one byte, so a
    larger one is refused rather than cut short silently: a device told ``OK`` must have had every
    line stored. A view that takes larger uploads says so with ``kinerja_large_body = True`` on
    its class (or function) and sets ``request.max_content_length`` itself."""
    from io import BytesIO

    from flask import request
    from werkzeug.exceptions import RequestEntityTooLarge

    @app.before_request
    def _body_limit():
        req = request._get_current_object()  # one look-up through the proxy, not one an attribute
        if req.method not in BODY_METHODS or req.endpoint is None:  # no route: Flask answers 404/405
            return None
        view = app.view_functions.get(req.endpoint)
        if view is not None and getattr(getattr(view, "view_class", view), "kinerja_large_body", False):
            return None
        limit = app.config["MAX_CONTENT_LENGTH"]
        length = req.content_length
        if length is not None:
            if length > limit:
                raise RequestEntityTooLarge(f"request body of {length} bytes is over the limit of {limit}")
            return None
        if "chunked" in req.headers.get("Transfer-Encoding", "").lower():
            raw = req.environ["wsgi.input"].read(limit + 1)
            if len(raw) > limit:
                raise RequestEntityTooLarge(f"chunked request body is over the limit of {limit} bytes")
            # the body now has a known length: hand werkzeug a plain stream of it
            req.environ.update({"wsgi.input": BytesIO(raw), "CONTENT_LENGTH": str(len(raw))})
            req.environ.pop("HTTP_TRANSFER_ENCODING", None)
        return None


class BoundedIntegerConverter(IntegerConverter):
    """``<int:...>`` in a route: at most 2^63 - 1 (a larger id cannot exist, and SQLite cannot
    even bind it), so a bigger one is a 404 like any id that does not exist."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = MAX_ID,  # noqa: A002
                 signed: bool = False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


# the longest text one segment of a path may carry (a unit's name, the longest, has 200)
MAX_PATH_SEGMENT = 200


class BoundedStringConverter(UnicodeConverter):
    """``<name>`` in a route: one segment of at most ``MAX_PATH_SEGMENT`` characters; a longer
    one matches no route (404) instead of reaching a column it does not fit."""

    def __init__(self, map, minlength: int = 1, maxlength: int | None = MAX_PATH_SEGMENT,  # noqa: A002
                 length: int | None = None):
        super().__init__(map, minlength=minlength, maxlength=maxlength, length=length)


def bounded_url_integers(app: Flask) -> None:
    """Path parameters with a range, for every route of the app (set before any is added)."""
    app.url_map.converters["int"] = BoundedIntegerConverter
    app.url_map.converters["default"] = app.url_map.converters["string"] = BoundedStringConverter


# a JSON integer needs at most 19 digits to reach 2^63 - 1; Python refuses past 4,300 with a
# ValueError no JSON parser turns into a 400, so every longer one is refused here with the reason
MAX_JSON_INT_DIGITS = 20


def _json_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_JSON_INT_DIGITS:
        raise ValueError(f"an integer of {len(text.lstrip('-'))} digits is out of range")
    return int(text)


def _json_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"the number {text[:40]} is out of range")
    return value


def _json_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def strict_json(raw: bytes):
    """``raw`` parsed as JSON, or ValueError with the reason: numbers must fit (integers of at most
    20 digits, floats finite, no NaN), and no string may hold a NUL (no database keeps it)."""
    text = raw.decode("utf-8")
    value = json.loads(text, parse_int=_json_int, parse_float=_json_float, parse_constant=_json_constant)
    if "\\u0000" in text and _has_nul(value):
        raise ValueError("a string contains a NUL character")
    return value


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def refuse_unusable_input(app: Flask) -> None:
    """Before any view: 400 with the reason for a path or query value holding a control character
    (a line break in a file name header, a NUL no database keeps), and for a JSON body a strict
    parser refuses (see :func:`strict_json`). Schemas then give each value its range."""
    from flask import request
    from werkzeug.exceptions import BadRequest

    @app.before_request
    def _refuse_unusable_input():
        req = request._get_current_object()
        if req.endpoint is None:  # no route: Flask answers 404/405
            return None
        for key, value in [*req.args.items(multi=True), *(req.view_args or {}).items()]:
            if _CONTROL.search(key) or (isinstance(value, str) and _CONTROL.search(value)):
                raise BadRequest(f"parameter {key[:40]!r} contains a control character")
        if req.method not in BODY_METHODS or not req.is_json:
            return None
        view = app.view_functions.get(req.endpoint)
        if view is not None and getattr(getattr(view, "view_class", view), "kinerja_large_body", False):
            return None
        raw = req.get_data(cache=True)
        if not raw.strip():
            return None  # no body: the view's schema says what is missing
        try:
            strict_json(raw)
        except RecursionError:
            raise BadRequest("request body is nested too deeply") from None
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors too
            raise BadRequest(f"invalid JSON body: {str(exc)[:200]}") from None
        return None


# a response the browser must neither sniff into another type nor keep: API answers name people
CACHEABLE_BLUEPRINTS = frozenset({"dashboard", "static", "api-docs"})


def secure_headers(app: Flask) -> None:
    from flask import request

    @app.after_request
    def _secure_headers(response):
        req = request._get_current_object()
        response.headers["X-Content-Type-Options"] = "nosniff"
        if req.blueprint not in CACHEABLE_BLUEPRINTS and req.endpoint != "static":
            response.headers["Cache-Control"] = "no-store"
        return response
