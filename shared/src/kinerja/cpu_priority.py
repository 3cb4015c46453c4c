"""The CPU priority of the processes whose work can wait: consumers, relays, notifikasi's webhook
dispatcher and mailer run below the web apps and kehadiran's day worker when the cores are short.

Why: at 07:25 on a Monday the punches must be accepted and each ASN-day recomputed first; the
scores, the streams and the webhooks follow from those and catch up once the rush is over (their
work is the same either way, and larger batches make it cheaper). On one machine ``kinerja.stack``
(``make run``, the benchmarks) starts every process in a session of its own, and with Linux's
autogroup scheduling the cores are shared between sessions, each PostgreSQL backend being one too:
a process's nice value alone then changes nothing against the others. So the process sets both,
its session's autogroup nice (``/proc/self/autogroup``) and its own nice (what counts where no
autogroup applies, as inside a container's cgroup, and what its threads inherit).

``KINERJA_NICE`` (0-19) is the process's; ``kinerja.stack`` gives it to the background roles from
``KINERJA_BACKGROUND_NICE`` (default 10, 0 turns it off). Under Docker Compose or Kubernetes the
containers' CPU weights (``cpu_shares``, CPU requests) are the tool instead (``deploy/README.md``).
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Mapping

from kinerja.config import whole_number

log = logging.getLogger(__name__)

NICE_ENV = "KINERJA_NICE"
BACKGROUND_NICE_ENV = "KINERJA_BACKGROUND_NICE"
BACKGROUND_NICE = 10
BACKGROUND_ROLES = frozenset({"consumer", "relay", "webhooks", "mailer"})
_AUTOGROUP = Path("/proc/self/autogroup")


def _nice_value(env: Mapping[str, str], name: str, default: int) -> int:
    return whole_number(env, name, default, 0, 19)  # a nice below 0 needs privileges; 19 is the lowest


def background_nice(env: Mapping[str, str]) -> int:
    """``KINERJA_BACKGROUND_NICE``: the nice ``kinerja.stack`` gives its background roles."""
    return _nice_value(env, BACKGROUND_NICE_ENV, BACKGROUND_NICE)


def role_env(role: str, env: Mapping[str, str]) -> dict[str, str]:
    """``KINERJA_NICE`` for a process of ``role`` started from ``env``: the background nice for
    the roles whose work can wait, none for the others (a web app, the day worker)."""
    out = {k: v for k, v in env.items() if k != NICE_ENV}
    if role in BACKGROUND_ROLES:
        out[NICE_ENV] = str(background_nice(env))
    return out


def apply_nice(env: Mapping[str, str] | None = None) -> int:
    """Lower this process's CPU priority by ``KINERJA_NICE`` (unset or 0: nothing), before it
    starts a thread (threads inherit the nice of the one that starts them). Returns the nice asked."""
    nice = _nice_value(os.environ if env is None else env, NICE_ENV, 0)
    if nice == 0:
        return 0
    os.nice(nice)
    if os.getsid(0) == os.getpid():
        # the session is this process alone (``kinerja.stack`` starts each in its own); one
        # started from a shell shares the shell's, which is not this process's to lower
        try:
            _AUTOGROUP.write_text(str(nice))
        except OSError as exc:  # no autogroup (a container, another kernel): the nice above holds
            log.debug("autogroup nice not set", extra={"error": repr(exc)})
    return nice
