"""Polling with a deadline, instead of sleeping for a guess."""
from __future__ import annotations

import time
from typing import Callable


def wait_until(predicate: Callable[[], object], timeout_s: float = 30.0, interval_s: float = 0.05,
               message: str = "condition") -> object:
    """Poll ``predicate`` until it returns something truthy; fail with ``message`` at the deadline."""
    deadline = time.monotonic() + timeout_s
    last_exc: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # noqa: BLE001 - keep polling; report the last one
            last_exc = exc
        time.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {message}" + (f" (last error: {last_exc!r})" if last_exc else ""))
