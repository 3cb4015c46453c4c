"""The HTTP side of webhooks: one POST, its outcome, never an exception."""
from __future__ import annotations

import time
from dataclasses import dataclass

import requests


@dataclass(frozen=True)
class PostResult:
    status_code: int | None
    error: str | None
    duration_ms: int


class WebhookClient:
    def __init__(self, timeout_s: float = 10.0, user_agent: str = "kinerja-notifikasi-webhook/1"):
        self.timeout_s = timeout_s
        self.http = requests.Session()
        self.http.headers["User-Agent"] = user_agent

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> PostResult:
        started = time.monotonic()
        try:
            # redirects are not followed: the registered URL is the one that gets the secret's signature
            response = self.http.post(url, data=body, headers={"Content-Type": "application/json", **headers},
                                      timeout=self.timeout_s, allow_redirects=False)
            response.close()
            error = None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
            return PostResult(response.status_code, error, _ms(started))
        except requests.RequestException as exc:
            return PostResult(None, f"{type(exc).__name__}: {exc}"[:500], _ms(started))

    def close(self) -> None:
        self.http.close()


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
