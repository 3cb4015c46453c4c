"""Tokens from an agency's OIDC identity provider: RS256 verified against a JWKS served by a tiny
local HTTP server (no network), claims mapped to a Principal, and no alg confusion."""
from __future__ import annotations

import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, jsonify

from kinerja.auth import OidcConfig, TokenError, current_principal, decode_any, issue_token, require_auth
from kinerja.config import load_settings
from kinerja.web import configure_app

pytestmark = pytest.mark.integration
SECRET = "s" * 40
ISSUER = "https://sso.lampungselatankab.go.id/realms/asn"
AUDIENCE = "kinerja"
NIP = "198503122010011001"


@pytest.fixture(scope="module")
def idp():
    """An RSA key pair and a JWKS endpoint on 127.0.0.1 that counts its requests."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": "k1", "use": "sig", "alg": "RS256"})
    body = json.dumps({"keys": [jwk]}).encode()
    hits = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/protocol/openid-connect/certs"
    yield {"key": key, "url": url, "hits": hits}
    server.shutdown()


def idp_token(idp, *, kid="k1", alg="RS256", key=None, **claims):
    now = int(time.time())
    body = {"iss": ISSUER, "aud": AUDIENCE, "sub": "f3a1-uuid", "iat": now, "exp": now + 300,
            "nip": NIP, "role": "pegawai", "agency": "disdik", **claims}
    return jwt.encode(body, key if key is not None else idp["key"], algorithm=alg, headers={"kid": kid})


@pytest.fixture
def config(idp):
    return OidcConfig(issuer=ISSUER, jwks_url=idp["url"], audience=AUDIENCE)


def test_an_idp_token_maps_its_claims(idp, config):
    p = decode_any(idp_token(idp), SECRET, oidc=config)
    assert (p.sub, p.role, p.agency, p.nip) == ("f3a1-uuid", "pegawai", "disdik", NIP)


def test_claim_names_are_configurable_and_a_role_list_picks_a_known_role(idp):
    cfg = OidcConfig.from_env({"KINERJA_OIDC_ISSUER": ISSUER, "KINERJA_OIDC_JWKS_URL": idp["url"],
                               "KINERJA_OIDC_AUDIENCE": AUDIENCE, "KINERJA_OIDC_NIP_CLAIM": "employee_number",
                               "KINERJA_OIDC_ROLE_CLAIM": "kinerja_roles", "KINERJA_OIDC_AGENCY_CLAIM": "opd"})
    tok = idp_token(idp, nip=None, role=None, agency=None, employee_number=NIP,
                    kinerja_roles=["offline_access", "atasan"], opd="dinkes")
    p = decode_any(tok, SECRET, oidc=cfg)
    assert (p.role, p.agency, p.nip) == ("atasan", "dinkes", NIP)


def test_a_claim_may_be_a_path_into_nested_claims(idp):
    """Keycloak puts realm roles under ``realm_access.roles``; an agency maps that path."""
    cfg = OidcConfig.from_env({"KINERJA_OIDC_ISSUER": ISSUER, "KINERJA_OIDC_JWKS_URL": idp["url"],
                               "KINERJA_OIDC_AUDIENCE": AUDIENCE, "KINERJA_OIDC_ROLE_CLAIM": "realm_access.roles",
                               "KINERJA_OIDC_AGENCY_CLAIM": "kinerja.opd"})
    tok = idp_token(idp, role=None, agency=None, realm_access={"roles": ["default-roles-asn", "admin"]},
                    kinerja={"opd": "disdik"})
    p = decode_any(tok, SECRET, oidc=cfg)
    assert (p.role, p.agency, p.nip) == ("admin", "disdik", NIP)
    with pytest.raises(TokenError, match="role"):  # the path leads nowhere
        decode_any(idp_token(idp, role=None, realm_access=["admin"]), SECRET, oidc=cfg)
    with pytest.raises(TokenError, match="plain values"):  # an object where the agency should be
        decode_any(idp_token(idp, agency=None, kinerja={"opd": {"id": "disdik"}}), SECRET, oidc=cfg)


def test_our_own_tokens_still_work_when_oidc_is_configured(config):
    p = decode_any(issue_token(SECRET, role="admin", agency="disdik", nip=NIP), SECRET, oidc=config)
    assert p.role == "admin"


@pytest.mark.parametrize("mutate, message", [
    (lambda idp: idp_token(idp, aud="another-app"), "(?i)audience"),
    (lambda idp: idp_token(idp, exp=int(time.time()) - 10), "expired"),
    (lambda idp: idp_token(idp, role="device"), "role"),
    (lambda idp: idp_token(idp, role="bupati"), "role"),
    (lambda idp: idp_token(idp, agency=None), "agency"),
    (lambda idp: idp_token(idp, nip=None), "NIP"),
    (lambda idp: idp_token(idp, kid="unknown"), "invalid token"),
    (lambda idp: idp_token(idp, key=rsa.generate_private_key(public_exponent=65537, key_size=2048)), "invalid token"),
])
def test_bad_idp_tokens_are_refused(idp, config, mutate, message):
    with pytest.raises(TokenError, match=message):
        decode_any(mutate(idp), SECRET, oidc=config)


def _hs256_with(key_bytes: bytes, claims: dict) -> str:
    """Sign HS256 by hand with the public key as the HMAC secret (PyJWT itself refuses PEM secrets)."""
    import hashlib
    import hmac

    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    head = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "k1"}).encode())
    body = b64(json.dumps(claims).encode())
    sig = hmac.new(key_bytes, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(sig)}"


@pytest.mark.parametrize("issuer", [ISSUER, "kinerja"])
def test_alg_confusion_with_the_public_key_is_impossible(idp, config, issuer):
    now = int(time.time())
    claims = {"iss": issuer, "aud": AUDIENCE, "sub": "x", "iat": now, "exp": now + 300, "nip": NIP,
              "role": "operator", "agency": "disdik"}
    public = idp["key"].public_key()
    for key_bytes in (public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
                      public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1),
                      json.dumps({"keys": []}).encode()):
        with pytest.raises(TokenError):
            decode_any(_hs256_with(key_bytes, claims), SECRET, oidc=config)
    with pytest.raises(TokenError):  # alg none
        decode_any(jwt.encode(claims, None, algorithm="none"), SECRET, oidc=config)


def test_the_jwks_is_cached(idp, config):
    before = len(idp["hits"])
    for _ in range(5):
        decode_any(idp_token(idp), SECRET, oidc=config)
    assert len(idp["hits"]) - before <= 1


def test_a_flask_app_accepts_idp_tokens_from_the_environment(idp, monkeypatch):
    monkeypatch.setenv("KINERJA_OIDC_ISSUER", ISSUER)
    monkeypatch.setenv("KINERJA_OIDC_JWKS_URL", idp["url"])
    monkeypatch.setenv("KINERJA_OIDC_AUDIENCE", AUDIENCE)
    app = Flask(__name__)
    configure_app(app, load_settings("kehadiran", {"jwt_secret": SECRET}), title="t")

    @app.get("/api/v1/me")
    @require_auth("pegawai")
    def me():
        p = current_principal()
        return jsonify(nip=p.nip, agency=p.agency)

    client = app.test_client()
    r = client.get("/api/v1/me", headers={"Authorization": f"Bearer {idp_token(idp)}"})
    assert r.status_code == 200 and r.json == {"nip": NIP, "agency": "disdik"}
    r = client.get("/api/v1/me", headers={"Authorization": f"Bearer {idp_token(idp, aud='x')}"})
    assert r.status_code == 401


def test_cors_lets_the_dashboard_origin_read_the_api(monkeypatch):
    monkeypatch.setenv("KINERJA_CORS_ORIGINS", "http://127.0.0.1:9999")
    app = Flask(__name__)
    configure_app(app, load_settings("kehadiran", {"jwt_secret": SECRET}), title="t")

    @app.get("/api/v1/ping")
    @require_auth()
    def ping():
        return jsonify(ok=True)

    client = app.test_client()
    pre = client.options("/api/v1/ping", headers={"Origin": "http://127.0.0.1:9999",
                                                  "Access-Control-Request-Method": "GET",
                                                  "Access-Control-Request-Headers": "authorization"})
    assert pre.headers.get("Access-Control-Allow-Origin") == "http://127.0.0.1:9999"
    assert "authorization" in pre.headers.get("Access-Control-Allow-Headers", "").lower()
    tok = issue_token(SECRET, role="pegawai", agency="a", nip=NIP)
    r = client.get("/api/v1/ping", headers={"Origin": "http://127.0.0.1:9999", "Authorization": f"Bearer {tok}"})
    assert r.status_code == 200 and r.headers.get("Access-Control-Allow-Origin") == "http://127.0.0.1:9999"
    other = client.get("/api/v1/ping", headers={"Origin": "http://evil.example", "Authorization": f"Bearer {tok}"})
    assert "Access-Control-Allow-Origin" not in other.headers
