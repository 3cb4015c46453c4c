"""JWT tokens: who is calling (NIP or device), with which role, for which agency.

Roles: ``pegawai`` (an ASN), ``atasan`` (a supervisor), ``admin`` (an agency admin), ``operator``
(runs the system), and ``device`` for attendance devices and phone apps posting punches.
HS256 with a shared secret; ``alg: none`` and other algorithms are refused.
"""
from __future__ import annotations

import functools
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable

import jwt
from flask import current_app, g, request
from werkzeug.exceptions import Forbidden, Unauthorized

ROLES = ("pegawai", "atasan", "admin", "operator", "device")
ALGORITHM = "HS256"


@dataclass(frozen=True)
class Principal:
    sub: str
    role: str
    agency: str
    nip: str | None = None
    device_sn: str | None = None
    token_id: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role in ("admin", "operator")


def issue_token(
    secret: str,
    *,
    role: str,
    agency: str,
    nip: str | None = None,
    device_sn: str | None = None,
    ttl_s: int = 12 * 3600,
    issuer: str = "kinerja",
    now: float | None = None,
) -> str:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if role == "device":
        if not device_sn:
            raise ValueError("a device token needs the device serial number")
        sub = f"device:{device_sn}"
    else:
        if not nip and role != "operator":
            raise ValueError(f"a {role} token needs a NIP")
        sub = nip or "operator"
    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {
        "sub": sub,
        "role": role,
        "agency": agency,
        "iat": issued,
        "exp": issued + ttl_s,
        "iss": issuer,
        "jti": uuid.uuid4().hex,
    }
    if nip:
        claims["nip"] = nip
    if device_sn:
        claims["device_sn"] = device_sn
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


class TokenError(Exception):
    pass


def decode_token(token: str, secret: str, *, issuer: str = "kinerja") -> Principal:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            issuer=issuer,
            options={"require": ["exp", "iat", "sub", "role", "agency"]},
        )
    except jwt.ExpiredSignatureError:
        raise TokenError("token expired") from None
    except jwt.PyJWTError as exc:
        raise TokenError(f"invalid token: {exc}") from None
    role = claims.get("role")
    if role not in ROLES:
        raise TokenError("invalid token: unknown role")
    return Principal(
        sub=str(claims["sub"]),
        role=role,
        agency=str(claims["agency"]),
        nip=claims.get("nip"),
        device_sn=claims.get("device_sn"),
        token_id=claims.get("jti"),
    )


def _bearer() -> str:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    # EventSource cannot set headers: the stream accepts the token as a query parameter
    token = request.args.get("access_token")
    if token and request.method == "GET":
        return token
    raise Unauthorized("missing bearer token")


def current_principal() -> Principal:
    principal = getattr(g, "principal", None)
    if principal is None:
        raise Unauthorized("missing bearer token")
    return principal


def authenticate() -> Principal:
    settings = current_app.config["KINERJA_SETTINGS"]
    try:
        principal = decode_token(_bearer(), settings.jwt_secret, issuer=settings.jwt_issuer)
    except TokenError as exc:
        raise Unauthorized(str(exc)) from None
    g.principal = principal
    return principal


def require_auth(*roles: str) -> Callable:
    """Route decorator: a valid token, and one of ``roles`` if given. Put it outermost, so a caller
    without the right token learns nothing from validation errors."""

    def wrap(view: Callable) -> Callable:
        @functools.wraps(view)
        def inner(*args, **kwargs):
            principal = getattr(g, "principal", None) or authenticate()
            if roles and principal.role not in roles:
                raise Forbidden(f"role {principal.role!r} may not do this")
            return view(*args, **kwargs)

        inner._kinerja_roles = roles or ROLES  # type: ignore[attr-defined]
        return inner

    return wrap


PUBLIC_BLUEPRINTS = frozenset({"health", "api-docs", "static", "iclock", "dashboard", "metrics"})


def guard_app(app, public_blueprints: frozenset[str] = PUBLIC_BLUEPRINTS) -> None:
    """Every request needs a valid token unless its blueprint is public (health checks, OpenAPI
    documents, static files, the device protocol): secure by default, not by remembering."""

    @app.before_request
    def _authenticate():
        if request.method == "OPTIONS":
            return None
        blueprint = request.blueprint
        if request.endpoint is None:  # 404/405: let Flask answer
            return None
        if blueprint in public_blueprints or request.endpoint == "static":
            return None
        authenticate()
        return None
