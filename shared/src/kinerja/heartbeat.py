"""A liveness file for the processes that loop (consumers): its modification time says when the
loop last went round, so a container's health check can tell a working consumer from a stuck one
without a port (replicas of one consumer on the host's network could not each have their own).

``KINERJA_HEARTBEAT_FILE`` names the file (the image sets it; unset: no file). The loop calls
:meth:`Heartbeat.beat` every time round; the file is touched at most once a second.

    python -m kinerja.heartbeat [--max-age 30]      # exit 0 if the file was touched in the last 30 s
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ENV = "KINERJA_HEARTBEAT_FILE"


class Heartbeat:
    def __init__(self, path: str | os.PathLike | None, interval_s: float = 1.0):
        self.path = Path(path) if path else None
        self.interval_s = interval_s
        self._last = float("-inf")

    @classmethod
    def from_env(cls) -> "Heartbeat":
        return cls(os.environ.get(ENV) or None)

    def beat(self) -> None:
        if self.path is None:
            return
        now = time.monotonic()
        if now - self._last < self.interval_s:
            return
        self._last = now
        try:
            self.path.touch()
        except OSError:  # a read-only or missing folder: liveness is a signal, never a reason to stop
            self.path = None


def age_s(path: str | os.PathLike) -> float | None:
    """Seconds since the file was last touched; None when there is none."""
    try:
        return time.time() - Path(path).stat().st_mtime
    except FileNotFoundError:
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kinerja.heartbeat", description=__doc__.splitlines()[0])
    parser.add_argument("--file", default=os.environ.get(ENV), help=f"the heartbeat file (default: ${ENV})")
    parser.add_argument("--max-age", type=float, default=30.0, help="seconds since the last beat (30)")
    args = parser.parse_args(argv)
    if not args.file:
        print(f"no heartbeat file: set {ENV} or --file", file=sys.stderr)
        return 2
    age = age_s(args.file)
    if age is None or age > args.max_age:
        print(f"{args.file}: " + ("no beat yet" if age is None else f"last beat {age:.0f} s ago"), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
