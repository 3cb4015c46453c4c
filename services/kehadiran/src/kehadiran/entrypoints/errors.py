"""Rule violations from below become the HTTP answer they always were: the status their kind
says, the reason as the message, in the shape and language of every other error (the app's
HTTPException handler writes it, so a blueprint with its own handler, iclock's, keeps its own)."""
from __future__ import annotations

from flask import Flask
from werkzeug.exceptions import Conflict, Forbidden, HTTPException, NotFound

from kehadiran.domain.errors import Conflicting, NotAllowed, Refused, RuleError, Unknown
from kinerja.web import unprocessable

STATUS_OF = ((NotAllowed, Forbidden), (Unknown, NotFound), (Conflicting, Conflict))


def as_http(exc: RuleError) -> HTTPException:
    if isinstance(exc, Refused):
        return unprocessable(exc.reason, **exc.errors)
    for kind, http in STATUS_OF:
        if isinstance(exc, kind):
            return http(exc.reason)
    raise exc  # a kind without a status is a bug: a 500, not a guess


def register_rule_errors(app: Flask) -> None:
    @app.errorhandler(RuleError)
    def _rule_error(exc: RuleError):
        return app.handle_http_exception(as_http(exc))
