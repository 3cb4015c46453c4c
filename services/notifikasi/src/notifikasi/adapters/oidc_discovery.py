"""The agency's OpenID provider as the dashboard's sign-in needs it: its endpoints, read from the
provider's discovery document (``<issuer>/.well-known/openid-configuration``) once and kept for
``TTL_S``; a provider that does not answer leaves the dashboard with its other sign-in ways."""
from __future__ import annotations

import json
import logging
import threading
import time
import urllib.request
from typing import Any

log = logging.getLogger(__name__)

TTL_S = 300.0
FIELDS = ("issuer", "authorization_endpoint", "token_endpoint", "end_session_endpoint")
_cache: dict[str, tuple[float, dict[str, Any] | None]] = {}
_lock = threading.Lock()


def discover(issuer: str, *, timeout_s: float = 5.0, now: float | None = None) -> dict[str, Any] | None:
    """The provider's endpoints, or None (logged) when its discovery document cannot be read or
    names another issuer. A failure is remembered for a tenth of ``TTL_S``, not longer."""
    now = time.monotonic() if now is None else now
    with _lock:
        hit = _cache.get(issuer)
        if hit is not None and hit[0] > now:
            return hit[1]
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    found: dict[str, Any] | None = None
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as resp:  # noqa: S310 - the configured issuer
            doc = json.loads(resp.read(1_000_000))
        if doc.get("issuer") != issuer:
            raise ValueError(f"the document names issuer {doc.get('issuer')!r}")
        if not doc.get("authorization_endpoint") or not doc.get("token_endpoint"):
            raise ValueError("no authorization or token endpoint")
        found = {k: doc.get(k) for k in FIELDS}
    except Exception as exc:  # noqa: BLE001 - an absent provider must not break the page
        log.warning("OpenID provider discovery failed", extra={"url": url, "error": repr(exc)[:300]})
    with _lock:
        _cache[issuer] = (now + (TTL_S if found else TTL_S / 10), found)
    return found
