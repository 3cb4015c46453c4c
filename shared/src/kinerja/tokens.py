"""Our own JWTs: who is calling (NIP or device), with which role, for which agency.

Roles: ``pegawai`` (an ASN), ``atasan`` (a supervisor), ``admin`` (an agency admin), ``operator``
(runs the system), and ``device`` for attendance devices and phone apps posting punches.
HS256 with a shared secret; ``alg: none`` and other algorithms are refused.
"""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt

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
