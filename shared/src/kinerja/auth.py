"""Who may call a view: the bearer token of each request (ours, ``kinerja.tokens``, or an identity
provider's, ``kinerja.oidc_tokens``) checked before the view runs, and the roles it names.

Every request needs a valid token unless its blueprint is public (:func:`guard_app`); a view says
which roles may call it with :func:`require_auth`.
"""
from __future__ import annotations

import functools
from typing import Callable

from flask import current_app, g, request
from werkzeug.exceptions import Forbidden, Unauthorized

from kinerja.oidc_tokens import (  # noqa: F401 - re-exported: where the services have always found them
    OIDC_ALGORITHMS, OidcConfig, claim, decode_any, decode_oidc_token)
from kinerja.tokens import (  # noqa: F401 - re-exported
    ALGORITHM, PEOPLE, ROLES, SUPERVISING_ROLES, VERIFIED_MAX, Principal, TokenError, decode_token, issue_token)


def query_token_allowed() -> bool:
    """Whether the route being served takes its token from ``?access_token=``: only a view that
    says so (``kinerja_query_token = True`` on its class), i.e. the event stream, since EventSource
    cannot set headers. Anywhere else a token in a URL would end up in logs and histories."""
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    return request.method == "GET" and bool(getattr(getattr(view, "view_class", view), "kinerja_query_token", False))


def _bearer() -> str:
    query_token = request.args.get("access_token")
    if query_token is not None and not query_token_allowed():
        raise Unauthorized("a token in the query string (access_token) is accepted only by the event stream; "
                           "send it as 'Authorization: Bearer <token>'")
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    if query_token:
        return query_token
    raise Unauthorized("missing bearer token")


def current_principal() -> Principal:
    principal = getattr(g, "principal", None)
    if principal is None:
        raise Unauthorized("missing bearer token")
    return principal


def authenticate() -> Principal:
    settings = current_app.config["KINERJA_SETTINGS"]
    try:
        principal = decode_any(_bearer(), settings.jwt_secret, issuer=settings.jwt_issuer, oidc=OidcConfig.from_env())
    except TokenError as exc:
        raise Unauthorized(str(exc)) from None
    g.principal = principal
    return principal


# the roles of people; a device token is for the routes that name ``device`` explicitly
PERSON_ROLES = ("pegawai", "atasan", "admin", "operator")


def require_auth(*roles: str) -> Callable:
    """Route decorator: a valid token, and one of ``roles`` (every person's role when none are
    given: a device is let in only where it is named). Put it outermost, so a caller without the
    right token learns nothing from validation errors."""
    allowed = roles or PERSON_ROLES

    def wrap(view: Callable) -> Callable:
        @functools.wraps(view)
        def inner(*args, **kwargs):
            principal = getattr(g, "principal", None) or authenticate()
            if principal.role not in allowed:
                raise Forbidden(f"role {principal.role!r} may not do this")
            return view(*args, **kwargs)

        inner._kinerja_roles = allowed  # type: ignore[attr-defined]
        return inner

    return wrap


PUBLIC_BLUEPRINTS = frozenset({"health", "api-docs", "static", "iclock", "dashboard", "metrics"})


def guard_app(app, public_blueprints: frozenset[str] = PUBLIC_BLUEPRINTS) -> None:
    """Every request needs a valid token unless its blueprint is public (health checks, OpenAPI
    documents, static files, the device protocol): secure by default, not by remembering."""

    @app.before_request
    def _authenticate():
        req = request._get_current_object()  # one look-up through the proxy, not one an attribute
        if req.method == "OPTIONS":
            return None
        endpoint = req.endpoint
        if endpoint is None:  # 404/405: let Flask answer
            return None
        if req.blueprint in public_blueprints or endpoint == "static":
            return None
        authenticate()
        return None
