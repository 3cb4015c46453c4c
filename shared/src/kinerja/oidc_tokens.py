"""Tokens from an agency's OIDC identity provider, accepted when ``KINERJA_OIDC_ISSUER`` and
``KINERJA_OIDC_JWKS_URL`` are set: a token whose ``iss`` is that issuer is verified against the
provider's JWKS with asymmetric algorithms only, so a token signed HS256 with the provider's public
key as the "secret" (alg confusion) can never pass (:func:`decode_any` decides which kind a token is).
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any

import jwt

from kinerja.tokens import ROLES, Principal, TokenError, decode_token

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
