"""The shape of each web app's gunicorn in a stack (``kinerja up``, the test and bench stacks):
``<SERVICE>_WEB_WORKERS`` / ``<SERVICE>_WEB_THREADS`` per service, read when the stack starts a
process, or the counts given for every app; a bad value stops the start with its name."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from kinerja.cli.up_command import up
from kinerja.stack import SERVICES, Stack

WEB_VARS = [f"{svc.upper()}_WEB_{key}" for svc in SERVICES for key in ("WORKERS", "THREADS")]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in [*WEB_VARS, "NOTIFIKASI_WORKERS", "NOTIFIKASI_THREADS", "PROMETHEUS_MULTIPROC_DIR"]:
        monkeypatch.delenv(name, raising=False)


def option(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def test_each_web_app_takes_its_own_workers_and_threads_from_the_environment(tmp_path, monkeypatch):
    stack = Stack(var_dir=tmp_path, kafka_bootstrap="127.0.0.1:1", extra_env={"KEHADIRAN_WEB_WORKERS": "3"})
    monkeypatch.setenv("KEHADIRAN_WEB_THREADS", "6")  # read when the process starts, not when the stack is made
    monkeypatch.setenv("PENILAIAN_WEB_WORKERS", "2")
    assert stack.web_shape("kehadiran") == (3, 6)
    assert stack.web_shape("penilaian") == (2, 16)
    assert stack.web_shape("tugas") == (1, 16)
    command = stack.command("kehadiran", "web")
    assert (option(command, "--workers"), option(command, "--threads")) == ("3", "6")


def test_counts_given_to_the_stack_apply_to_every_app_but_leave_notifikasis_stream_threads(tmp_path, monkeypatch):
    monkeypatch.setenv("KEHADIRAN_WEB_WORKERS", "5")
    stack = Stack(var_dir=tmp_path, kafka_bootstrap="127.0.0.1:1", web_workers=2, web_threads=8)
    assert [stack.web_shape(svc) for svc in SERVICES] == [(2, 8), (2, 8), (2, 8), (2, 1000)]


def test_notifikasi_gets_its_shape_through_its_own_config_variables(tmp_path, monkeypatch):
    monkeypatch.setenv("NOTIFIKASI_THREADS", "200")  # notifikasi's own setting is honoured
    stack = Stack(var_dir=tmp_path, kafka_bootstrap="127.0.0.1:1", extra_env={"NOTIFIKASI_WEB_WORKERS": "2"})
    env = stack.web_env("notifikasi", stack.env())
    assert (env["NOTIFIKASI_WORKERS"], env["NOTIFIKASI_THREADS"]) == ("2", "200")
    assert "--workers" not in stack.command("notifikasi", "web")  # its config reads them


def test_several_workers_get_a_fresh_prometheus_multiprocess_folder(tmp_path):
    stack = Stack(var_dir=tmp_path, kafka_bootstrap="127.0.0.1:1", extra_env={"TUGAS_WEB_WORKERS": "2"})
    left = tmp_path / "metrics" / "tugas" / "counter_123.db"
    left.parent.mkdir(parents=True)
    left.write_bytes(b"old")
    env = stack.web_env("tugas", stack.env())
    assert env["PROMETHEUS_MULTIPROC_DIR"] == str(tmp_path / "metrics" / "tugas")
    assert list((tmp_path / "metrics" / "tugas").iterdir()) == []  # a previous run's values are gone
    assert "PROMETHEUS_MULTIPROC_DIR" not in stack.web_env("kehadiran", stack.env())  # one worker: its own


@pytest.mark.parametrize("name, raw, message", [
    ("KEHADIRAN_WEB_WORKERS", "two", "'two' is not a whole number"),
    ("KEHADIRAN_WEB_WORKERS", "0", "0 is outside 1..64"),
    ("TUGAS_WEB_THREADS", "10001", "10001 is outside 1..10000"),
    ("NOTIFIKASI_WEB_WORKERS", "-1", "-1 is outside 1..64"),
])
def test_a_bad_value_stops_the_start_by_name_before_anything_runs(tmp_path, name, raw, message):
    stack = Stack(var_dir=tmp_path, kafka_bootstrap="127.0.0.1:1", extra_env={name: raw})
    with pytest.raises(ValueError, match=f"{name}={message}"):
        stack.start()
    assert stack.procs == [] and list(tmp_path.rglob("*.db")) == []  # not even migrated


@pytest.mark.parametrize("name, raw, message", [
    ("PENILAIAN_WEB_THREADS", "many", "PENILAIAN_WEB_THREADS='many' is not a whole number"),
    ("TUGAS_PORT", "80022", "TUGAS_PORT=80022 is outside 1..65535"),  # a typo, not a port
])
def test_kinerja_up_refuses_a_bad_value_by_name_before_starting_anything(tmp_path, name, raw, message):
    result = CliRunner().invoke(up, ["--no-demo", "--stop-after", "0"], env={name: raw, "KINERJA_VAR_DIR": str(tmp_path)})
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert list(tmp_path.iterdir()) == []


def test_kinerja_up_takes_workers_and_threads_options():
    names = {p.name: p for p in up.params}
    assert names["web_workers"].type.min == 1 and names["web_workers"].type.max == 64
    result = CliRunner().invoke(up, ["--web-workers", "0"])
    assert result.exit_code == 2 and "--web-workers" in result.output
