"""JWT tokens: who is calling (NIP or device), with which role, for which agency.

Roles: ``pegawai`` (an ASN), ``atasan`` (a supervisor), ``admin`` (an agency admin), ``operator``
(runs the system), and ``device`` for attendance devices and phone apps posting punches.
HS256 with a shared secret; ``alg: none`` and other algorithms are refused.

Tokens from an agency's OIDC identity provider are accepted too when ``KINERJA_OIDC_ISSUER`` and
``KINERJA_OIDC_JWKS_URL`` are set (see :func:`decode_oidc_token`): a token whose ``iss`` is that
issuer is verified against the provider's JWKS with asymmetric algorithms only, so a token signed
HS256 with the provider's public key as the "secret" (alg confusion) can never pass.
"""
from __future__ import annotations

import functools
import os
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable

import jwt
from flask import current_app, g, request
from werkzeug.exceptions import Forbidden, Unauthorized

ROLES = ("pegawai", "atasan", "admin", "operator", "device")
ALGORITHM = "HS256"
# Roles compose (issue 19): every person is an ASN for their own affairs, and a holder of
# ``atasan`` or ``admin`` is the supervisor of whoever the roster puts under them, so the head of
# an agency (admin) approves their own team's work with the one token. Supervision itself always
# comes from the roster's atasan_nip, never from the role alone.
PEOPLE = ("pegawai", "atasan", "admin")
SUPERVISING_ROLES = ("atasan", "admin")


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

    def supervises(self, atasan_nip: str | None) -> bool:
        """Whether this person is the supervisor the roster names (``atasan_nip``) and their role
        lets them act as one."""
        return bool(self.nip) and self.role in SUPERVISING_ROLES and atasan_nip == self.nip


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


# tokens verified already: a device sends the same token with every request, and verifying it
# (HMAC, JSON, claim checks) cost a tenth of a one-punch request. Keyed by the token's exact text
# with the secret and issuer it was checked against; its expiry is still checked on every use.
_VERIFIED: dict[tuple[str, str, str], tuple[Principal, float]] = {}
VERIFIED_MAX = 4096


def decode_token(token: str, secret: str, *, issuer: str = "kinerja") -> Principal:
    key = (token, secret, issuer)
    hit = _VERIFIED.get(key)
    if hit is not None:
        if time.time() < hit[1]:
            return hit[0]
        _VERIFIED.pop(key, None)
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
    principal = Principal(
        sub=str(claims["sub"]),
        role=role,
        agency=str(claims["agency"]),
        nip=claims.get("nip"),
        device_sn=claims.get("device_sn"),
        token_id=claims.get("jti"),
    )
    if len(_VERIFIED) >= VERIFIED_MAX:
        _VERIFIED.clear()
    _VERIFIED[key] = (principal, float(claims["exp"]))
    return principal


# -- OIDC ------------------------------------------------------------------------------------------
# asymmetric only: the JWKS holds public keys, and no HMAC algorithm may ever be tried with one
OIDC_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384")


@dataclass(frozen=True)
class OidcConfig:
    """``KINERJA_OIDC_ISSUER``, ``KINERJA_OIDC_JWKS_URL``, ``KINERJA_OIDC_AUDIENCE`` (checked when
    set), ``KINERJA_OIDC_ALGORITHMS`` (default RS256; only asymmetric ones are kept), and the claim
    names ``KINERJA_OIDC_NIP_CLAIM`` (nip), ``KINERJA_OIDC_ROLE_CLAIM`` (role; a string or a list,
    the first of pegawai/atasan/admin/operator in it wins), ``KINERJA_OIDC_AGENCY_CLAIM`` (agency).
    A claim name may be a dotted path into nested claims, e.g. Keycloak's ``realm_access.roles``."""

    issuer: str
    jwks_url: str
    audience: str | None = None
    algorithms: tuple[str, ...] = ("RS256",)
    nip_claim: str = "nip"
    role_claim: str = "role"
    agency_claim: str = "agency"

    @classmethod
    def from_env(cls, env=None) -> "OidcConfig | None":
        env = os.environ if env is None else env
        issuer, jwks = env.get("KINERJA_OIDC_ISSUER"), env.get("KINERJA_OIDC_JWKS_URL")
        if not issuer or not jwks:
            return None
        algs = tuple(a.strip() for a in (env.get("KINERJA_OIDC_ALGORITHMS") or "RS256").split(",")
                     if a.strip() in OIDC_ALGORITHMS) or ("RS256",)
        return cls(issuer=issuer, jwks_url=jwks, audience=env.get("KINERJA_OIDC_AUDIENCE") or None, algorithms=algs,
                   nip_claim=env.get("KINERJA_OIDC_NIP_CLAIM") or "nip",
                   role_claim=env.get("KINERJA_OIDC_ROLE_CLAIM") or "role",
                   agency_claim=env.get("KINERJA_OIDC_AGENCY_CLAIM") or "agency")


_jwks_clients: dict[str, "jwt.PyJWKClient"] = {}
_jwks_lock = threading.Lock()


def _jwks_client(url: str) -> "jwt.PyJWKClient":
    """One cached key set per JWKS URL and process (refetched after 5 minutes, or for an unknown kid)."""
    with _jwks_lock:
        client = _jwks_clients.get(url)
        if client is None:
            client = _jwks_clients[url] = jwt.PyJWKClient(url, cache_jwk_set=True, lifespan=300, timeout=5)
        return client


def claim(claims: dict[str, Any], name: str) -> Any:
    """A claim by name, or by a dotted path into nested objects (``realm_access.roles``); a claim
    whose own name has dots (``https://example.org/agency``) is taken as it is when present."""
    if name in claims:
        return claims[name]
    value: Any = claims
    for part in name.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _oidc_role(value: Any) -> str | None:
    candidates = value if isinstance(value, (list, tuple)) else [value]
    for candidate in candidates:
        if candidate in ROLES and candidate != "device":  # devices sign in with device tokens only
            return candidate
    return None


def decode_oidc_token(token: str, config: OidcConfig) -> Principal:
    """Verify an identity provider's token against its JWKS and map its claims to a Principal."""
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") not in config.algorithms:
            raise TokenError(f"invalid token: algorithm {header.get('alg')!r} not allowed for {config.issuer}")
        key = _jwks_client(config.jwks_url).get_signing_key_from_jwt(token)
        claims = jwt.decode(
            token, key.key, algorithms=list(config.algorithms), issuer=config.issuer,
            audience=config.audience,
            options={"require": ["exp", "iat", "sub"], "verify_aud": config.audience is not None},
        )
    except TokenError:
        raise
    except jwt.ExpiredSignatureError:
        raise TokenError("token expired") from None
    except (jwt.PyJWTError, jwt.PyJWKClientError) as exc:
        raise TokenError(f"invalid token: {exc}") from None
    role = _oidc_role(claim(claims, config.role_claim))
    agency = claim(claims, config.agency_claim)
    nip = claim(claims, config.nip_claim)
    if not isinstance(agency, (str, type(None))) or not isinstance(nip, (str, int, type(None))):
        raise TokenError("invalid token: the agency and NIP claims must be plain values")
    if role is None:
        raise TokenError(f"invalid token: no known role in claim {config.role_claim!r}")
    if not agency:
        raise TokenError(f"invalid token: no agency in claim {config.agency_claim!r}")
    if not nip and role != "operator":
        raise TokenError(f"invalid token: no NIP in claim {config.nip_claim!r}")
    return Principal(sub=str(claims["sub"]), role=role, agency=str(agency), nip=str(nip) if nip else None,
                     token_id=claims.get("jti"))


def decode_any(token: str, secret: str, *, issuer: str = "kinerja", oidc: OidcConfig | None = None) -> Principal:
    """The identity provider's token when its ``iss`` is the configured OIDC issuer, else ours (HS256)."""
    if oidc is not None:
        try:
            unverified_iss = jwt.decode(token, options={"verify_signature": False}).get("iss")
        except jwt.PyJWTError as exc:
            raise TokenError(f"invalid token: {exc}") from None
        if unverified_iss == oidc.issuer and oidc.issuer != issuer:
            return decode_oidc_token(token, oidc)
    return decode_token(token, secret, issuer=issuer)


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
        if request.method == "OPTIONS":
            return None
        blueprint = request.blueprint
        if request.endpoint is None:  # 404/405: let Flask answer
            return None
        if blueprint in public_blueprints or request.endpoint == "static":
            return None
        authenticate()
        return None
