"""gunicorn's access log without tokens: ``--logger-class kinerja.accesslog.RedactingLogger``.

The event stream takes its token as ``?access_token=`` (EventSource cannot set headers; every
other route refuses a token there), so a request line, a query string or a Referer may carry one.
Every value the access log could print goes through :func:`redact` first, whatever the format:
the value of any query parameter whose name decodes to ``access_token`` (``access%5Ftoken`` too)
becomes ``<redacted>``, and the Authorization header is never printed, whether a format names it as
a request header (``%({authorization}i)s``) or as the environ variable gunicorn also passes
(``%({http_authorization}e)s``).

A line's values are worked out as its format asks for them (:class:`AccessAtoms`): gunicorn's
own way builds every one it knows (each request and response header, each environ variable,
about sixty) for the ten a format prints, and each of those went through the redaction too: a
tenth of a one-punch request's CPU in kehadiran. The line then goes straight to the stream of
gunicorn's own handler (``--access-logfile``: a plain stream or file handler printing the message
alone), as that handler would write it, without a ``LogRecord`` and the logging module's dispatch,
which cost as much again (:meth:`RedactingLogger.access`); any other logging set-up (``logconfig``,
syslog, a filter, another formatter) gets the record as before.
"""
from __future__ import annotations

import logging
import os
import re
import traceback
from collections.abc import Mapping
from urllib.parse import unquote_plus

from gunicorn.glogging import Logger

REDACTED = "<redacted>"
SECRET_PARAMS = frozenset({"access_token"})
# a query: after "?" up to whitespace (a request line's protocol) or the end
_QUERY = re.compile(r"\?([^\s#]*)")
# the bearer token as a header and as the WSGI environ variable that carries the same header
_SECRET_ATOMS = frozenset({"{authorization}i", "{http_authorization}e"})


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


def _redacted(key: str, value):
    """``value`` of the atom ``key`` (lower case for ``{...}`` atoms) as the log may print it."""
    if key in _SECRET_ATOMS:
        return REDACTED
    return redact(value, is_query=key in ("q", "{query_string}e"))


class RedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        """Every atom gunicorn knows, redacted (what :class:`AccessAtoms` yields one by one)."""
        atoms = super().atoms(resp, req, environ, request_time)
        for key, value in atoms.items():
            atoms[key] = _redacted(key, value)
        return atoms

    def access(self, resp, req, environ, request_time):
        """gunicorn's ``access``, with the atoms worked out only as the format names them."""
        if not self._access_enabled():
            return
        try:
            atoms = AccessAtoms(self, resp, req, environ, request_time)
            handlers = self._plain_handlers()
            if handlers is None:
                self.access_log.info(self.cfg.access_log_format, atoms)
                return
            # what the handlers' ``emit`` would write of the record: the message and the terminator
            message = self.cfg.access_log_format % atoms
            for handler in handlers:
                line = message + handler.terminator
                with handler.lock:
                    stream = handler.stream
                    stream.write(line)
                    stream.flush()
        except Exception:
            self.error(traceback.format_exc())

    def _plain_handlers(self) -> list | None:
        """The access log's handlers when the record would come out of each as its message alone
        (gunicorn's own ``--access-logfile`` handler: a ``StreamHandler`` or ``FileHandler`` with
        the ``%(message)s`` formatter and an open stream, no filter anywhere, the logger on for
        INFO); else None. Looked at every line: a reload or a reopened file changes them."""
        log = self.access_log
        handlers = log.handlers
        if not handlers or log.propagate or log.filters or not log.isEnabledFor(logging.INFO):
            return None
        for handler in handlers:
            if not _plain(handler):
                return None
        return handlers

    def _access_enabled(self) -> bool:
        enabled = getattr(self, "access_log_enabled", None)  # gunicorn 23+
        if enabled is not None:
            return bool(enabled)
        cfg = self.cfg
        return bool(cfg.accesslog or cfg.logconfig or cfg.logconfig_dict or getattr(cfg, "logconfig_json", None)
                    or (cfg.syslog and not cfg.disable_redirect_access_to_syslog))


def _plain(handler) -> bool:
    formatter = handler.formatter
    return (type(handler) in (logging.StreamHandler, logging.FileHandler) and not handler.filters
            and handler.level <= logging.INFO and getattr(handler, "stream", None) is not None
            and type(formatter) is logging.Formatter and formatter._fmt == "%(message)s"
            and isinstance(formatter._style, logging.PercentStyle))


def _status(resp) -> str:
    status = resp.status
    return status.split(None, 1)[0] if isinstance(status, str) else status


def _sent(resp):
    return getattr(resp, "sent", None)


# the atoms of gunicorn's ``Logger.atoms`` that are no header or environ variable, each worked out
# from (logger, resp, the request's WSGI environ, request_time) as gunicorn does (``wsgi_env``: the
# request's, not the process's configuration, which README's table lists)
_BASE = {
    "h": lambda lg, resp, wsgi_env, rt: wsgi_env.get("REMOTE_ADDR", "-"),
    "l": lambda lg, resp, wsgi_env, rt: "-",
    "u": lambda lg, resp, wsgi_env, rt: lg._get_user(wsgi_env) or "-",
    "t": lambda lg, resp, wsgi_env, rt: lg.now(),
    "r": lambda lg, resp, wsgi_env, rt: "%s %s %s" % (
        wsgi_env["REQUEST_METHOD"], wsgi_env["RAW_URI"], wsgi_env["SERVER_PROTOCOL"]),
    "s": lambda lg, resp, wsgi_env, rt: _status(resp),
    "m": lambda lg, resp, wsgi_env, rt: wsgi_env.get("REQUEST_METHOD"),
    "U": lambda lg, resp, wsgi_env, rt: wsgi_env.get("PATH_INFO"),
    "q": lambda lg, resp, wsgi_env, rt: wsgi_env.get("QUERY_STRING"),
    "H": lambda lg, resp, wsgi_env, rt: wsgi_env.get("SERVER_PROTOCOL"),
    "b": lambda lg, resp, wsgi_env, rt: _sent(resp) is not None and str(_sent(resp)) or "-",
    "B": lambda lg, resp, wsgi_env, rt: _sent(resp),
    "f": lambda lg, resp, wsgi_env, rt: wsgi_env.get("HTTP_REFERER", "-"),
    "a": lambda lg, resp, wsgi_env, rt: wsgi_env.get("HTTP_USER_AGENT", "-"),
    "T": lambda lg, resp, wsgi_env, rt: rt.seconds,
    "D": lambda lg, resp, wsgi_env, rt: (rt.seconds * 1000000) + rt.microseconds,
    "M": lambda lg, resp, wsgi_env, rt: (rt.seconds * 1000) + int(rt.microseconds / 1000),
    "L": lambda lg, resp, wsgi_env, rt: "%d.%06d" % (rt.seconds, rt.microseconds),
    "p": lambda lg, resp, wsgi_env, rt: "<%s>" % os.getpid(),
}
_MISSING = object()


def _items(headers):
    if hasattr(headers, "headers"):
        headers = headers.headers
    return headers.items() if hasattr(headers, "items") else headers


class AccessAtoms(Mapping):
    """What gunicorn's ``SafeAtoms(RedactingLogger.atoms(...))`` holds, each value worked out when
    the format asks for it: ``{name}i`` / ``{name}o`` / ``{name}e`` (any case) a request header,
    response header or environ variable, the others gunicorn's letters; ``-`` for one that is not
    there; every value redacted (:func:`_redacted`) and its double quotes escaped."""

    __slots__ = ("_logger", "_resp", "_req", "_environ", "_time")

    def __init__(self, logger, resp, req, environ, request_time):
        self._logger, self._resp, self._req, self._environ, self._time = logger, resp, req, environ, request_time

    def __getitem__(self, key: str):
        if key.startswith("{"):
            key = key.lower()
            value = self._braced(key)
        else:
            find = _BASE.get(key)
            value = _MISSING if find is None else find(self._logger, self._resp, self._environ, self._time)
        if value is _MISSING:
            return "-"
        value = _redacted(key, value)
        return value.replace('"', '\\"') if isinstance(value, str) else value

    def _braced(self, key: str):
        kind, name = key[-1:], key[1:-2]
        if not key.endswith("}" + kind) or kind not in "ioe":
            return _MISSING
        pairs = (_items(self._req) if kind == "i" else _items(self._resp) if kind == "o"
                 else self._environ.items())
        value = _MISSING
        for k, v in pairs:  # the last of a repeated name, as gunicorn's dict keeps it
            if k.lower() == name:
                value = v
        return value

    def __bool__(self) -> bool:  # logging takes a non-empty mapping as the line's values
        return True

    def _all(self) -> dict:
        return self._logger.atoms(self._resp, self._req, self._environ, self._time)

    def __iter__(self):
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())
