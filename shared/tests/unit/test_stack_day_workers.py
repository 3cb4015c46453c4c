"""How many kehadiran day workers a stack starts: ``KEHADIRAN_DAY_WORKERS`` (its own environment or
the process's), or the count given; a bad value stops the start with its name."""
from __future__ import annotations

import pytest

from kinerja.stack import Stack


def test_the_stack_starts_as_many_day_workers_as_configured(tmp_path, monkeypatch):
    monkeypatch.delenv("KEHADIRAN_DAY_WORKERS", raising=False)
    monkeypatch.delenv("KEHADIRAN_DATABASE_URL", raising=False)
    assert Stack(var_dir=tmp_path, kafka_bootstrap="127.0.0.1:1").instances("worker") == 1  # SQLite
    on_pg = {"kehadiran": "postgresql+psycopg://u@127.0.0.1:5432/k"}
    assert Stack(var_dir=tmp_path, kafka_bootstrap="127.0.0.1:1", database_urls=on_pg).instances("worker") == 2
    assert Stack(var_dir=tmp_path, kafka_bootstrap="127.0.0.1:1", database_urls=on_pg,
                 extra_env={"KEHADIRAN_DAY_WORKERS": "1"}).instances("worker") == 1
    assert Stack(var_dir=tmp_path, kafka_bootstrap="127.0.0.1:1", day_workers=3).instances("worker") == 3
    assert Stack(var_dir=tmp_path, kafka_bootstrap="127.0.0.1:1",
                 extra_env={"KEHADIRAN_DAY_WORKERS": "4"}).instances("worker") == 4
    monkeypatch.setenv("KEHADIRAN_DAY_WORKERS", "2")
    stack = Stack(var_dir=tmp_path, kafka_bootstrap="127.0.0.1:1", relays=5)
    assert (stack.instances("worker"), stack.instances("relay"), stack.instances("consumer")) == (2, 5, 1)


@pytest.mark.parametrize("raw", ["two", "0", "65"])
def test_a_bad_day_worker_count_is_refused_by_name(tmp_path, raw):
    stack = Stack(var_dir=tmp_path, kafka_bootstrap="127.0.0.1:1", extra_env={"KEHADIRAN_DAY_WORKERS": raw})
    with pytest.raises(ValueError, match="KEHADIRAN_DAY_WORKERS"):
        stack.instances("worker")
