"""The background roles' CPU priority (``kinerja.cpu_priority``): which roles ``kinerja.stack``
lowers and by how much, and what ``apply_nice`` does to a real process (its nice, and its session's
autogroup only when the session is its own)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kinerja.config import ConfigError
from kinerja.cpu_priority import BACKGROUND_ROLES, NICE_ENV, background_nice, role_env

# the autogroup file is empty for a process in no autogroup (a session started by PID 1 or one
# that never called setsid, as a CI runner's may be): '-' then, as where the file is missing
_REPORT = ("import os; from kinerja.cpu_priority import apply_nice; apply_nice(); "
           "from pathlib import Path; a = Path('/proc/self/autogroup'); "
           "t = a.read_text().split() if a.exists() else []; print(os.nice(0), t[-1] if t else '-')")


def _autogroup_nice() -> str:
    path = Path("/proc/self/autogroup")
    words = path.read_text().split() if path.exists() else []
    return words[-1] if words else "-"


def test_background_roles_get_the_background_nice_and_the_others_none():
    env = {"PATH": "/bin", NICE_ENV: "5"}  # a KINERJA_NICE of the caller's goes to no web app
    assert role_env("web", env) == {"PATH": "/bin"}
    assert role_env("worker", env) == {"PATH": "/bin"}
    assert BACKGROUND_ROLES == {"consumer", "relay", "webhooks", "mailer"}
    for role in BACKGROUND_ROLES:
        assert role_env(role, env)[NICE_ENV] == "10"
    assert role_env("relay", {"KINERJA_BACKGROUND_NICE": "0"})[NICE_ENV] == "0"
    assert role_env("relay", {"KINERJA_BACKGROUND_NICE": " 19 "})[NICE_ENV] == "19"


@pytest.mark.parametrize("raw", ["ten", "-1", "20"])
def test_a_bad_background_nice_is_refused_by_name(raw):
    with pytest.raises(ConfigError, match="KINERJA_BACKGROUND_NICE"):
        background_nice({"KINERJA_BACKGROUND_NICE": raw})


def _run(nice: str | None, *, own_session: bool) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if k != NICE_ENV}
    if nice is not None:
        env[NICE_ENV] = nice
    out = subprocess.run([sys.executable, "-c", _REPORT], env=env, capture_output=True, text=True, check=True,
                         start_new_session=own_session).stdout.split()
    return int(out[0]), out[1]


def test_a_process_in_its_own_session_lowers_itself_and_its_autogroup():
    base = os.nice(0)
    nice, group = _run("7", own_session=True)
    assert nice == min(19, base + 7)
    if Path("/proc/self/autogroup").exists():
        assert group == "7"
    assert _run(None, own_session=True)[0] == base  # unset: as it was


def test_a_process_sharing_its_callers_session_leaves_that_session_alone():
    if not Path("/proc/self/autogroup").exists():
        pytest.skip("no autogroup scheduling on this kernel")
    before = _autogroup_nice()  # '-' when pytest's session is in no autogroup
    nice, group = _run("7", own_session=False)
    assert nice == min(19, os.nice(0) + 7)
    assert group == before  # the session's (pytest's) autogroup nice is untouched
    assert _autogroup_nice() == before
