"""The HTTP side of webhooks: one POST, its outcome, never an exception."""
from __future__ import annotations

import time
from dataclasses import dataclass

import requests

from kinerja.metrics import WEBHOOK_DESTINATIONS_REFUSED
from notifikasi.adapters.egress import DestinationRefused, EgressPolicy, GuardedAdapter


@dataclass(frozen=True)
class PostResult:
    status_code: int | None
    error: str | None
    duration_ms: int


class WebhookClient:
    """POSTs to a destination ``egress`` allows only (see adapters.egress): the address is checked
    after the name is resolved, right before connecting; no proxy from the environment is used."""

    def __init__(self, timeout_s: float = 10.0, user_agent: str = "kinerja-notifikasi-webhook/1",
                 egress: EgressPolicy | None = None):
        self.timeout_s = timeout_s
        self.egress = egress or EgressPolicy()
        self.http = requests.Session()
        self.http.trust_env = False
        self.http.headers["User-Agent"] = user_agent
        adapter = GuardedAdapter(self.egress)
        self.http.mount("http://", adapter)
        self.http.mount("https://", adapter)

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> PostResult:
        started = time.monotonic()
        try:
            # redirects are not followed: the registered URL is the one that gets the secret's signature
            response = self.http.post(url, data=body, headers={"Content-Type": "application/json", **headers},
                                      timeout=self.timeout_s, allow_redirects=False)
            response.close()
            error = None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
            return PostResult(response.status_code, error, _ms(started))
        except DestinationRefused as exc:
            # nothing was sent and no connection made: the log says why, never what is listening there
            WEBHOOK_DESTINATIONS_REFUSED.labels("notifikasi").inc()
            return PostResult(None, f"destination refused: {exc}"[:500], _ms(started))
        except requests.RequestException as exc:
            return PostResult(None, f"{type(exc).__name__}: {exc}"[:500], _ms(started))

    def close(self) -> None:
        self.http.close()


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
