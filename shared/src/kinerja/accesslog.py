"""gunicorn's access log without tokens: ``--logger-class kinerja.accesslog.RedactingLogger``.

The event stream takes its token as ``?access_token=`` (EventSource cannot set headers; every
other route refuses a token there), so a request line, a query string or a Referer may carry one.
Every value the access log could print goes through :func:`redact` first, whatever the format:
the value of any query parameter whose name decodes to ``access_token`` (``access%5Ftoken`` too)
becomes ``<redacted>``, and the Authorization header is never printed.
"""
from __future__ import annotations

import re
from urllib.parse import unquote_plus

from gunicorn.glogging import Logger

REDACTED = "<redacted>"
SECRET_PARAMS = frozenset({"access_token"})
# a query: after "?" up to whitespace (a request line's protocol) or the end
_QUERY = re.compile(r"\?([^\s#]*)")


def _redact_query(query: str) -> str:
    parts = []
    for pair in re.split(r"([&;])", query):
        key, sep, _ = pair.partition("=")
        if sep and unquote_plus(key).strip().lower() in SECRET_PARAMS:
            pair = f"{key}={REDACTED}"
        parts.append(pair)
    return "".join(parts)


def redact(value, *, is_query: bool = False):
    """``value`` with every secret query parameter's value replaced (a request line, a URL, or a
    bare query string when ``is_query``)."""
    if not isinstance(value, str) or "=" not in value:
        return value
    if "%" not in value and "access_token" not in value.lower():
        # no parameter name here decodes to a secret one (without a %-escape only "+" changes, to
        # a space, and strip() takes those off the ends): most lines leave here, for a fraction
        # of the regex's cost on every atom of every line
        return value
    if is_query:
        return _redact_query(value)
    return _QUERY.sub(lambda m: "?" + _redact_query(m.group(1)), value)


class RedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key, value in atoms.items():
            if key == "{authorization}i":
                atoms[key] = REDACTED
            else:
                atoms[key] = redact(value, is_query=key in ("q", "{query_string}e"))
        return atoms
