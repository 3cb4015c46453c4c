"""Every non-public route of every service refuses a missing or bad token with 401 and a JSON reason;
the set of public routes is exactly the agreed one."""
from __future__ import annotations

import base64
import json
import time
import warnings

import jwt
import pytest

from kinerja.config import DEV_JWT_SECRET

from .routes import PROTECTED, PUBLIC, PUBLIC_ALLOWED, ROUTES, allowed_token, params
from .world import AGENCY, OWN_AGENCY, bearer

pytestmark = pytest.mark.integration


def _b64(obj) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def _claims(role="admin", **over):
    now = int(time.time())
    claims = {"sub": OWN_AGENCY.get(role) or "operator", "role": role, "agency": AGENCY, "iat": now,
              "exp": now + 3600, "iss": "kinerja", "jti": "x", "nip": OWN_AGENCY.get(role)}
    claims.update(over)
    return {k: v for k, v in claims.items() if v is not None}


def _hs512(claims) -> str:
    """The same secret with another HMAC algorithm: only HS256 is accepted."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyJWT warns that the dev secret is short for SHA-512
        return jwt.encode(claims, DEV_JWT_SECRET, algorithm="HS512")


def bad_tokens(role: str) -> dict[str, str]:
    """Tokens that must all be refused, each naming a role the route allows."""
    good = jwt.encode(_claims(role), DEV_JWT_SECRET, algorithm="HS256")
    head, payload, sig = good.split(".")
    forged_payload = _b64(_claims("operator", agency="*"))
    return {
        "expired": jwt.encode(_claims(role, iat=int(time.time()) - 7200, exp=int(time.time()) - 3600),
                              DEV_JWT_SECRET, algorithm="HS256"),
        "tampered signature": f"{head}.{payload}.{sig[:-4]}{'AAAA' if not sig.endswith('AAAA') else 'BBBB'}",
        "tampered payload": f"{head}.{forged_payload}.{sig}",
        "wrong secret": jwt.encode(_claims(role), "another-secret-of-thirty-two-bytes-or-more!!", algorithm="HS256"),
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(role))}.",
        "alg none with signature": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(role))}.{sig}",
        "alg HS512": _hs512(_claims(role)),
        "wrong issuer": jwt.encode(_claims(role, iss="someone-else"), DEV_JWT_SECRET, algorithm="HS256"),
        "unknown role": jwt.encode({**_claims(role), "role": "superadmin"}, DEV_JWT_SECRET, algorithm="HS256"),
        "no agency": jwt.encode({k: v for k, v in _claims(role).items() if k != "agency"}, DEV_JWT_SECRET,
                                algorithm="HS256"),
        "no exp": jwt.encode({k: v for k, v in _claims(role).items() if k != "exp"}, DEV_JWT_SECRET,
                             algorithm="HS256"),
        "garbage": "not.a.token",
        "empty": "",
    }


def _assert_401(resp, what: str):
    body = resp.get_json(silent=True)
    assert resp.status_code == 401, f"{what}: {resp.status_code} {resp.get_data(as_text=True)[:300]}"
    assert isinstance(body, dict) and body.get("message"), f"{what}: 401 without a JSON reason: {body!r}"
    assert resp.headers.get("WWW-Authenticate", "").startswith("Bearer")


def test_the_public_routes_are_exactly_the_agreed_ones(security_report):
    # the dashboard's page and static files are public (it signs in with a token it asks for)
    unexpected = [r.id for r in PUBLIC if not PUBLIC_ALLOWED.match(r.rule)
                  and not (r.blueprint == "dashboard" and r.method == "GET")]
    for r in PUBLIC:
        security_report.attempt("public route checked", r.service, r.method, r.rule,
                                got_through="public but not agreed" if r.id in unexpected else None)
    assert not unexpected, f"routes answering without a token that are not agreed to be public: {unexpected}"


def test_every_protected_route_declares_its_roles():
    undeclared = [r.id for r in PROTECTED if r.roles is None]
    assert not undeclared, f"protected routes without require_auth (roles): {undeclared}"


def test_routes_were_discovered():
    services = {r.service for r in ROUTES}
    assert services == {"kehadiran", "tugas", "penilaian", "notifikasi"}
    assert len(PROTECTED) > 40


@params(PROTECTED)
def test_no_token_is_401_with_a_reason(route, world_of, security_report):
    w = world_of(route.service)
    for label, headers in {"no header": {}, "basic auth": {"Authorization": "Basic YWRtaW46YWRtaW4="},
                           "bearer without token": {"Authorization": "Bearer "}}.items():
        resp = w.call(route, headers)
        got = resp.status_code != 401
        security_report.attempt("no token", route.service, route.method, route.rule,
                                got_through=f"{label}: {resp.status_code}" if got else None, status=resp.status_code)
        _assert_401(resp, label)
        resp.close()


@params(PROTECTED)
def test_bad_tokens_are_401(route, world_of, security_report):
    w = world_of(route.service)
    role = next(r for r in ("admin", "atasan", "pegawai", "operator", "device") if r in (route.roles or ("admin",)))
    for label, tok in bad_tokens(role).items():
        resp = w.call(route, bearer(tok))
        security_report.attempt("bad token", route.service, route.method, route.rule, status=resp.status_code,
                                got_through=f"{label}: {resp.status_code}" if resp.status_code != 401 else None)
        _assert_401(resp, label)
        resp.close()
        if route.method == "GET":  # the EventSource way: ?access_token=
            resp = w.client.get(w.url(route), query_string={**w.query, "access_token": tok}, buffered=False)
            security_report.attempt("bad token", route.service, route.method, route.rule, status=resp.status_code,
                                    got_through=f"{label} as access_token: {resp.status_code}"
                                    if resp.status_code != 401 else None)
            _assert_401(resp, f"{label} as access_token")
            resp.close()


@params(PROTECTED)
def test_a_good_token_is_not_refused_as_unauthenticated(route, world_of):
    """The control: the same request with a valid token is not a 401 (so the 401s above mean the token)."""
    w = world_of(route.service)
    resp = w.call(route, bearer(allowed_token(route)))
    assert resp.status_code != 401, resp.get_data(as_text=True)[:300]
    assert resp.status_code < 500, resp.get_data(as_text=True)[:300]
    resp.close()


QUERY_TOKEN_ROUTES = {("notifikasi", "/api/v1/stream")}  # EventSource cannot set headers


@params([r for r in PROTECTED if r.method == "GET"])
def test_a_valid_token_in_the_query_string_is_refused_except_by_the_stream(route, world_of, security_report):
    """Issue 15, item 3: a token in a URL ends up in logs, histories and Referers; only the event
    stream takes one there."""
    w = world_of(route.service)
    resp = w.client.get(w.url(route), query_string={**w.query, "access_token": allowed_token(route)}, buffered=False)
    allowed = (route.service, route.rule) in QUERY_TOKEN_ROUTES
    ok = resp.status_code != 401 if allowed else resp.status_code == 401
    security_report.attempt("token in the query string", route.service, route.method, route.rule,
                            status=resp.status_code, got_through=None if ok else f"{resp.status_code}")
    if not allowed:
        _assert_401(resp, "access_token in the query")
    assert ok, resp.status_code
    resp.close()
