"""Webhook rules: the signature an agency's endpoint verifies, the retry schedule, when to give up.

Signature (documented for integrators): with the webhook's secret as the key,

    X-Kinerja-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>
    X-Kinerja-Timestamp: <unix seconds when this attempt was sent>

A receiver recomputes it over the raw body it got and the timestamp header, compares in constant
time, and refuses timestamps older than a few minutes (replays). Every attempt is signed afresh;
the body of one delivery is the same bytes on every attempt. ``X-Kinerja-Event-Id`` lets a
receiver drop a delivery it already processed.
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

SIGNATURE_HEADER = "X-Kinerja-Signature"
TIMESTAMP_HEADER = "X-Kinerja-Timestamp"
EVENT_ID_HEADER = "X-Kinerja-Event-Id"
DELIVERY_HEADER = "X-Kinerja-Delivery"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: int | str, body: bytes, signature: str, *, now: float | None = None,
           tolerance_s: int = 300) -> bool:
    """What a receiver does (and what the tests do)."""
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        return False
    if now is not None and abs(now - ts) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, ts, body), signature or "")


@dataclass(frozen=True)
class RetryPolicy:
    base_delay_s: float = 5.0  # after the first failed attempt
    max_delay_s: float = 3600.0
    max_attempts: int = 10  # then the delivery is marked failed
    disable_after: int = 20  # consecutive failed attempts of one webhook, across deliveries

    def delay_after(self, attempts: int) -> float:
        """Seconds to wait after the ``attempts``-th failed attempt: base, 2x, 4x, ... capped."""
        return min(self.max_delay_s, self.base_delay_s * (2 ** max(0, attempts - 1)))

    def gives_up(self, attempts: int) -> bool:
        return attempts >= self.max_attempts

    def disables(self, consecutive_failures: int) -> bool:
        return consecutive_failures >= self.disable_after


def succeeded(status_code: int | None) -> bool:
    return status_code is not None and 200 <= status_code < 300


def disabled_message(url: str, failures: int, last_error: str | None) -> tuple[str, str]:
    """Title and body of the notification that tells the admin who registered it."""
    tail = f" Kesalahan terakhir: {last_error}." if last_error else ""
    return ("Webhook dinonaktifkan",
            f"Webhook {url} dinonaktifkan setelah {failures} kali gagal berturut-turut.{tail} "
            "Perbaiki penerimanya lalu aktifkan kembali.")
