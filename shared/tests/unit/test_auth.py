import base64
import json
import time

import jwt
import pytest

from kinerja.auth import TokenError, decode_token, issue_token

SECRET = "s" * 40
NIP = "198503122010011001"
pytestmark = pytest.mark.unit


def test_token_carries_role_agency_and_nip():
    p = decode_token(issue_token(SECRET, role="atasan", agency="disdik", nip=NIP), SECRET)
    assert (p.role, p.agency, p.nip, p.sub) == ("atasan", "disdik", NIP, NIP)


def test_device_token_names_the_device():
    p = decode_token(issue_token(SECRET, role="device", agency="disdik", device_sn="LMS1"), SECRET)
    assert p.device_sn == "LMS1" and p.sub == "device:LMS1"


def test_expired_token_is_refused():
    tok = issue_token(SECRET, role="pegawai", agency="a", nip=NIP, ttl_s=10, now=time.time() - 100)
    with pytest.raises(TokenError, match="expired"):
        decode_token(tok, SECRET)


def test_tampered_and_foreign_tokens_are_refused():
    tok = issue_token(SECRET, role="pegawai", agency="a", nip=NIP)
    head, body, sig = tok.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=="))
    claims["role"] = "admin"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    with pytest.raises(TokenError):
        decode_token(f"{head}.{forged}.{sig}", SECRET)
    with pytest.raises(TokenError):
        decode_token(issue_token("other" * 10, role="pegawai", agency="a", nip=NIP), SECRET)


def test_alg_none_is_refused():
    unsigned = jwt.encode({"sub": NIP, "role": "admin", "agency": "a", "iat": int(time.time()),
                           "exp": int(time.time()) + 60, "iss": "kinerja"}, None, algorithm="none")
    with pytest.raises(TokenError):
        decode_token(unsigned, SECRET)


def test_unknown_role_cannot_be_issued():
    with pytest.raises(ValueError):
        issue_token(SECRET, role="root", agency="a", nip=NIP)


def test_a_verified_token_is_remembered_for_its_secret_only_and_still_expires():
    from kinerja.testing import wait_until

    tok = issue_token(SECRET, role="device", agency="disdik", device_sn="LMS1", ttl_s=2, now=time.time() - 1)
    first = decode_token(tok, SECRET)
    assert decode_token(tok, SECRET) is first  # not verified again
    with pytest.raises(TokenError):
        decode_token(tok, "another secret of forty characters, at least")

    def refused():
        try:
            decode_token(tok, SECRET)
        except TokenError as exc:
            return "expired" in str(exc)
        return False

    assert wait_until(refused, 10, message="the remembered token expired")
