"""The e2e tests' one way to run the whole system: ``running_stack(**settings)`` starts a
``kinerja.stack.Stack`` (every process ``make run`` starts, on free ports, under the test's
tmp_path), waits until each service answers, and stops it when the test ends, printing each
process's last lines when the test failed."""
from __future__ import annotations

from typing import Callable, Iterator

import pytest

from kinerja.localbroker import free_port
from kinerja.stack import Stack
from kinerja.testing import test_failed

SERVICES = ("kehadiran", "tugas", "penilaian", "notifikasi")


@pytest.fixture
def running_stack(tmp_path, request) -> Iterator[Callable[..., Stack]]:
    """A factory: ``running_stack(services=..., database_urls=..., extra_env=...)`` → a started,
    ready Stack. Without ``kafka_bootstrap`` it runs on the session's broker under the test's own
    topic prefix; any other keyword goes to ``Stack`` as it is."""
    started: list[Stack] = []

    def start(*, ready_s: float = 90, **settings) -> Stack:
        if "kafka_bootstrap" not in settings:
            settings["kafka_bootstrap"] = request.getfixturevalue("kafka_bootstrap")
            settings.setdefault("topic_prefix", request.getfixturevalue("topic_prefix"))
        settings.setdefault("var_dir", tmp_path / "var")
        settings.setdefault("ports", {svc: free_port() for svc in settings.get("services", SERVICES)})
        stack = Stack(**settings)
        started.append(stack)
        stack.start()
        stack.wait_ready(ready_s)
        return stack

    try:
        yield start
    finally:
        for stack in started:
            if test_failed(request):
                for p in stack.procs:
                    print(f"--- {p.name}\n{stack.tail(p, 60)}")
            stack.stop()
