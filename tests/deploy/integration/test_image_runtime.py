"""What the container image does, without Docker: the image's gunicorn config serving a service
with two workers in Prometheus multiprocess mode, the services installed from wheels (not the
editable source tree) migrating through KINERJA_MIGRATIONS_DIR, and the PostgreSQL init script
making one database per service."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import requests

from kinerja.localbroker import free_port
from kinerja.testing import wait_until

pytestmark = pytest.mark.integration


def metric_sum(text: str, name: str, **labels) -> float:
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


@pytest.mark.slow
@pytest.mark.parametrize("service", ["penilaian", "notifikasi"])
def test_the_image_gunicorn_config_serves_the_service_and_sums_its_workers_metrics(repo, tmp_path, service):
    db = f"sqlite:///{tmp_path / 'svc.db'}"
    env = {**os.environ, "KINERJA_SERVICE": service, f"{service.upper()}_DATABASE_URL": db,
           "KINERJA_VAR_DIR": str(tmp_path / "var"), "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prom"),
           "WEB_WORKERS": "2", "KINERJA_KAFKA_BOOTSTRAP": "127.0.0.1:9", "HOME": str(tmp_path / "home")}
    subprocess.run([sys.executable, "-m", f"{service}.entrypoints.migrate"], env=env, check=True, capture_output=True)
    port = free_port()
    log = open(tmp_path / "gunicorn.log", "wb")
    # --bind on the command line wins over the config's 0.0.0.0 (tests stay on loopback)
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", str(repo / "deploy" / "docker" / "gunicorn.conf.py"),
                             "--bind", f"127.0.0.1:{port}", "--workers", "2"], env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: requests.get(f"{base}/healthz", timeout=2).status_code == 200, 30, message="gunicorn up")
        for _ in range(40):  # spread over both workers by the kernel's accept queue
            assert requests.get(f"{base}/healthz", timeout=5).status_code == 200
        assert requests.get(f"{base}/openapi.json", timeout=5).status_code == 200
        text = requests.get(f"{base}/metrics", timeout=5).text
        count = metric_sum(text, "kinerja_http_request_duration_seconds_count", service=service, route="/healthz")
        assert count >= 41, text[:2000]
        assert metric_sum(text, "kinerja_http_request_duration_seconds_count", route="/openapi.json") == 1
        # one file per worker in the multiprocess folder: /metrics summed them
        assert len(list((tmp_path / "prom").glob("histogram_*.db"))) >= 1
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(30)
        log.close()
    assert proc.returncode == 0, (tmp_path / "gunicorn.log").read_text()[-3000:]
    assert "Shutting down" in (tmp_path / "gunicorn.log").read_text()
    # no control socket (gunicorn 25.1+ would make $HOME/.gunicorn; the image's $HOME is read-only)
    assert not (tmp_path / "home" / ".gunicorn").exists()
    assert "Control server" not in (tmp_path / "gunicorn.log").read_text()


@pytest.mark.slow
def test_services_installed_from_wheels_migrate_through_KINERJA_MIGRATIONS_DIR(repo, tmp_path):
    """The image installs wheels: no source tree around the package, so the migrations are found
    through KINERJA_MIGRATIONS_DIR (the image copies them to /app/migrations)."""
    wheels, site, src = tmp_path / "wheels", tmp_path / "site", tmp_path / "src"
    # build from a copy, as the image's builder stage does (setuptools leaves build/ behind)
    skip = shutil.ignore_patterns("build", "*.egg-info", "__pycache__", "tests")
    shutil.copytree(repo / "shared", src / "shared", ignore=skip)
    shutil.copytree(repo / "services" / "tugas", src / "tugas", ignore=skip)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(wheels),
                    str(src / "shared"), str(src / "tugas")], check=True, capture_output=True)
    built = sorted(p.name for p in wheels.glob("*.whl"))
    assert [re.sub(r"-\d.*", "", n) for n in built] == ["kinerja_shared", "kinerja_tugas"], built
    with zipfile.ZipFile(next(wheels.glob("kinerja_tugas-*.whl"))) as whl:
        entry_points = next(whl.read(n).decode() for n in whl.namelist() if n.endswith("entry_points.txt"))
    for script in ("tugas-consumer", "tugas-relay", "tugas-migrate"):
        assert f"{script} = " in entry_points
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--target", str(site),
                    *map(str, wheels.glob("*.whl"))], check=True, capture_output=True)
    migrations = tmp_path / "app" / "migrations"
    shutil.copytree(repo / "services" / "tugas" / "migrations", migrations)
    env = {**os.environ, "PYTHONPATH": str(site), "TUGAS_DATABASE_URL": f"sqlite:///{tmp_path / 'tugas.db'}"}
    env.pop("KINERJA_MIGRATIONS_DIR", None)
    where = subprocess.run([sys.executable, "-c", "import tugas, kinerja; print(tugas.__file__); print(kinerja.__file__)"],
                           env=env, cwd=tmp_path, check=True, capture_output=True, text=True).stdout.split()
    assert all(w.startswith(str(site)) for w in where), where  # the wheels, not the editable source
    without = subprocess.run([sys.executable, "-m", "tugas.entrypoints.migrate"], env=env, cwd=tmp_path,
                             capture_output=True, text=True)
    assert without.returncode != 0, "an installed package cannot find services/tugas/migrations by itself"
    ok = subprocess.run([sys.executable, "-m", "tugas.entrypoints.migrate"],
                        env={**env, "KINERJA_MIGRATIONS_DIR": str(migrations)}, cwd=tmp_path, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr[-3000:]
    import sqlite3

    tables = {r[0] for r in sqlite3.connect(tmp_path / "tugas.db").execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"alembic_version", "outbox", "processed_events"} <= tables


def test_postgres_init_script_makes_one_owned_database_per_service_and_reruns_harmlessly(repo):
    from kinerja.testing import ThrowawayPostgres

    if not shutil.which("psql"):
        pytest.skip("psql (PostgreSQL client) not installed")
    try:
        pg = ThrowawayPostgres()
    except RuntimeError as exc:
        pytest.skip(str(exc))
    pg.start()
    try:
        env = {**os.environ, "POSTGRES_USER": "postgres", "PGHOST": "127.0.0.1", "PGPORT": str(pg.port),
               "KINERJA_DB_PASSWORD": "s3cret"}
        for _ in range(2):
            run = subprocess.run(["bash", str(repo / "deploy" / "docker" / "postgres-init.sh")], env=env,
                                 capture_output=True, text=True)
            assert run.returncode == 0, run.stderr
        out = subprocess.run(["psql", "-At", "-U", "postgres", "-d", "postgres", "-c",
                              "SELECT d.datname || ':' || pg_get_userbyid(d.datdba) FROM pg_database d "
                              "WHERE d.datname IN ('kehadiran','tugas','penilaian','notifikasi') ORDER BY 1"],
                             env=env, capture_output=True, text=True, check=True).stdout.split()
        assert out == ["kehadiran:kehadiran", "notifikasi:notifikasi", "penilaian:penilaian", "tugas:tugas"]
    finally:
        pg.stop()
