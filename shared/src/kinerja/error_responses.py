"""Every error the APIs give, in one JSON shape and in the client's language (Bahasa Indonesia, or
English when asked: ``kinerja.i18n``); ``kinerja.web.configure_app`` installs the handlers that
answer with :func:`error_response`."""
from __future__ import annotations

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException


def unprocessable(message: str, detail: dict | None = None, **errors) -> HTTPException:
    """A 422 whose ``message`` is a sentence and whose ``errors`` name each field at fault with its
    reasons (``field=[reason, ...]``, or nested ``{index: {field: [...]}}`` for an item of a list),
    the same shape as every other error the APIs give; ``detail`` carries structured extras."""
    from werkzeug.exceptions import UnprocessableEntity

    exc = UnprocessableEntity(message)
    exc.data = {"messages": errors, "kinerja_fields": True, "detail": detail}
    return exc


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
