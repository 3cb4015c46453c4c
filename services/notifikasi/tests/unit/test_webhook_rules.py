"""Webhook signatures and the retry schedule."""
import hashlib
import hmac

import pytest

from notifikasi.domain.webhooks import RetryPolicy, disabled_message, sign, succeeded, verify

pytestmark = pytest.mark.unit


def test_signature_is_hmac_sha256_over_timestamp_dot_body():
    body = b'{"id":"e1"}'
    expected = hmac.new(b"rahasia-yang-panjang", b"1764355200." + body, hashlib.sha256).hexdigest()
    assert sign("rahasia-yang-panjang", 1764355200, body) == "sha256=" + expected


def test_verify_refuses_tampering_other_secrets_and_stale_timestamps():
    body, ts = b'{"a":1}', 1764355200
    sig = sign("s" * 20, ts, body)
    assert verify("s" * 20, str(ts), body, sig, now=ts + 10)
    assert not verify("s" * 20, ts, b'{"a":2}', sig)
    assert not verify("t" * 20, ts, body, sig)
    assert not verify("s" * 20, ts + 1, body, sig)
    assert not verify("s" * 20, ts, body, sig, now=ts + 301)
    assert not verify("s" * 20, "not-a-number", body, sig)


def test_backoff_doubles_up_to_a_cap_and_gives_up():
    policy = RetryPolicy(base_delay_s=5, max_delay_s=60, max_attempts=4, disable_after=3)
    assert [policy.delay_after(n) for n in (1, 2, 3, 4, 5)] == [5, 10, 20, 40, 60]
    assert not policy.gives_up(3) and policy.gives_up(4)
    assert not policy.disables(2) and policy.disables(3)


def test_success_is_2xx_only():
    assert succeeded(200) and succeeded(204)
    assert not any(succeeded(c) for c in (None, 199, 301, 404, 500))


def test_the_admin_is_told_in_bahasa_indonesia():
    title, body = disabled_message("https://simpeg.example/hook", 20, "HTTP 500")
    assert title == "Webhook dinonaktifkan"
    assert body.startswith("Webhook https://simpeg.example/hook dinonaktifkan setelah 20 kali gagal berturut-turut.")
