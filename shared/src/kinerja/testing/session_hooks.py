"""The suite's pytest hooks: a test session's settings and temporary var/, test databases migrated
by copy (:mod:`kinerja.testing.migrated`), markers from a test's folder, each phase's report kept on
the item, and the real parts used in the summary."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from kinerja.testing import migrated
from kinerja.testing.containers import BACKENDS


def pytest_configure(config):
    """The tests sign their tokens with the development secret and keep their files in temporary
    folders: a checkout's own ``var/`` (where ``make run`` keeps this installation's signing
    secret, SQLite files and broker data) is never read, and a shell's KINERJA_ENV=production does
    not make every in-process app refuse to start."""
    if not os.environ.get("KINERJA_VAR_DIR"):
        var_dir = os.environ["KINERJA_VAR_DIR"] = tempfile.mkdtemp(prefix="kinerja-test-var-")
        config.add_cleanup(lambda: shutil.rmtree(var_dir, ignore_errors=True))
    if os.environ.get("KINERJA_ENV", "").strip().lower() == "production":
        os.environ["KINERJA_ENV"] = "test"
    # an empty test database reaches a service's head as a copy of the session's first (Alembic's own)
    migrated.install()
    config.add_cleanup(migrated.uninstall)


# -- markers from the folder a test lives in (tests/unit, tests/integration, tests/e2e) --------
def pytest_collection_modifyitems(config, items):
    for item in items:
        parts = Path(str(item.fspath)).parts
        for kind in ("unit", "integration", "e2e"):
            if kind in parts and not item.get_closest_marker(kind):
                item.add_marker(getattr(pytest.mark, kind))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item, so fixtures can tell whether the test failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def test_failed(request) -> bool:
    rep = getattr(request.node, "rep_call", None)
    return rep is None or rep.failed


test_failed.__test__ = False  # not a test, whatever pytest's name matching thinks


def pytest_terminal_summary(terminalreporter):
    if BACKENDS:
        terminalreporter.write_sep("-", "real parts used")
        for why in BACKENDS.values():
            terminalreporter.write_line(why)
