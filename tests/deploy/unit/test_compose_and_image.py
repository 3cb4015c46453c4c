"""docker-compose.yml and deploy/docker/Dockerfile, offline (no Docker engine here): the compose
file against the Compose Specification's JSON schema, its start order and health checks, and that
every command it runs is an entry point of the image it runs in; the Dockerfile's stages, user
and commands."""
from __future__ import annotations

import json
import re
import shlex
from importlib import resources

import jsonschema
import pytest
import yaml

pytestmark = pytest.mark.unit

LONG_RUNNING_ROLES = {"web", "consumer", "relay", "webhooks", "mailer"}


@pytest.fixture(scope="module")
def compose(repo):
    return yaml.safe_load((repo / "docker-compose.yml").read_text())


def image_service(spec) -> str:
    return spec["build"]["args"]["SERVICE"]


def test_compose_file_matches_the_compose_specification(compose):
    schema = json.loads((resources.files("check_jsonschema") / "builtin_schemas" / "vendor" / "compose-spec.json").read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = sorted(validator.iter_errors(compose), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])


def test_compose_runs_what_make_run_runs(compose):
    from kinerja.stack import ROLES

    services = compose["services"]
    for svc, roles in ROLES.items():
        for role in roles:
            assert f"{svc}-{role}" in services, f"make run starts {svc}-{role}; compose does not"
        assert f"{svc}-migrate" in services
    assert "notifikasi-relay" not in services
    assert services["kafka"]["image"].startswith("apache/kafka:4.")
    env = services["kafka"]["environment"]
    assert "controller" in env["KAFKA_PROCESS_ROLES"] and "broker" in env["KAFKA_PROCESS_ROLES"]
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false", "the topics job creates them as specified"
    assert len(env["CLUSTER_ID"]) == 22, "KRaft wants a base64 UUID (22 characters)"
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["topics"]["command"][:3] == ["kinerja", "topics", "create"]
    assert services["demo"]["command"] == ["kinerja", "demo"]


def test_start_order_waits_for_health_and_completed_jobs(compose):
    services = compose["services"]
    jobs = {name for name, spec in services.items() if spec.get("restart") == "no"}
    assert jobs == {"topics", "demo"} | {f"{s}-migrate" for s in ("kehadiran", "tugas", "penilaian", "notifikasi")}
    for name, spec in services.items():
        for dep, cond in spec.get("depends_on", {}).items():
            assert dep in services, f"{name} depends on unknown {dep}"
            want = "service_completed_successfully" if dep in jobs else "service_healthy"
            assert cond["condition"] == want, f"{name} → {dep}: {cond}"
            if want == "service_healthy":
                assert "healthcheck" in services[dep], f"{dep} is waited on but has no healthcheck"
        role = name.split("-", 1)[-1]
        if name not in jobs and name not in ("kafka", "postgres"):
            assert role in LONG_RUNNING_ROLES, name
            assert f"{name.split('-')[0]}-migrate" in spec["depends_on"], f"{name} may start before its tables"
            if role != "mailer":
                assert "healthcheck" in spec, name
    # the demo waits for every web app and consumer to be healthy
    assert {d for d in services["demo"]["depends_on"]} >= {f"{s}-{r}" for s in ("kehadiran", "tugas", "penilaian", "notifikasi")
                                                       for r in ("web", "consumer")}


def test_every_compose_command_is_an_entry_point_of_its_image(compose, deploy_helpers):
    for name, spec in compose["services"].items():
        if "build" not in spec:
            continue
        service = image_service(spec)
        assert spec["image"].startswith(f"kinerja/{service}:"), name
        assert spec["build"]["dockerfile"] == "deploy/docker/Dockerfile" and spec["build"]["context"] == "."
        command = spec.get("command")
        if command is None:
            assert name.endswith("-web"), f"{name} runs the image's default command (gunicorn)"
            continue
        assert command[0] in deploy_helpers.image_commands(service), f"{name}: {command[0]} is not in the image"
        if command[0] == "python" and command[1] == "-m":
            assert deploy_helpers.module_exists(command[2]), command
        if command[0] == "kinerja":
            from click.testing import CliRunner

            from kinerja.cli.main import cli

            # the sub-command exists (asking for its help runs nothing)
            result = CliRunner().invoke(cli, [*command[1:], "--help"])
            assert result.exit_code == 0, result.output


def test_every_service_database_and_the_postgres_init_agree(compose, repo):
    init = (repo / "deploy" / "docker" / "postgres-init.sh").read_text()
    mounts = compose["services"]["postgres"]["volumes"]
    assert any(m.startswith("./deploy/docker/postgres-init.sh:/docker-entrypoint-initdb.d/") for m in mounts)
    for name, spec in compose["services"].items():
        if "build" not in spec or name in ("topics", "demo"):
            continue
        service = image_service(spec)
        url = spec["environment"][f"{service.upper()}_DATABASE_URL"]
        assert re.fullmatch(rf"postgresql://{service}:\$\{{KINERJA_DB_PASSWORD:-[^}}]+\}}@postgres:5432/{service}", url), url
        assert service in init
        others = [k for k in spec["environment"] if k.endswith("_DATABASE_URL") and k != f"{service.upper()}_DATABASE_URL"]
        assert not others, f"{name} can reach another service's database: {others}"


def test_compose_environment_names_are_documented(compose, repo):
    readme = (repo / "README.md").read_text()
    for name, spec in compose["services"].items():
        if "build" not in spec:
            continue
        for var in spec["environment"]:
            documented = var in readme or re.sub(r"^(KEHADIRAN|TUGAS|PENILAIAN|NOTIFIKASI)_", "<SERVICE>_", var) in readme
            assert documented, f"{name}: {var} is not in README.md's configuration table"


# -- the Dockerfile ----------------------------------------------------------------------------------
def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n", " ", text)
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def test_dockerfile_is_multi_stage_slim_non_root_and_runs_gunicorn(repo):
    steps = dockerfile_instructions((repo / "deploy" / "docker" / "Dockerfile").read_text())
    froms = [rest for word, rest in steps if word == "FROM"]
    assert len(froms) == 2 and froms[0].endswith("AS builder") and froms[1].endswith("AS runtime")
    args = {rest.split("=")[0]: rest.split("=", 1)[1] for word, rest in steps if word == "ARG" and "=" in rest}
    assert args["PYTHON_IMAGE"] == "python:3.11-slim"
    final = steps[max(i for i, (w, _) in enumerate(steps) if w == "FROM"):]
    user = [rest for word, rest in final if word == "USER"]
    assert user and user[-1].split(":")[0] not in ("0", "root")
    # runtime installs only from the builder's wheels, with no index, and keeps no compiler
    run = " ".join(rest for word, rest in final if word == "RUN")
    assert "--no-index" in run and "--find-links /wheels" in run and "apt-get" not in run
    builder = " ".join(rest for word, rest in steps[:max(i for i, (w, _) in enumerate(steps) if w == "FROM")])
    assert 'pip wheel --wheel-dir /wheels "./shared[postgres]" "./services/${SERVICE}"' in builder
    cmd = json.loads([rest for word, rest in final if word == "CMD"][-1])
    assert cmd == ["gunicorn", "-c", "/app/gunicorn.conf.py"]
    env = " ".join(rest for word, rest in final if word == "ENV")
    assert "KINERJA_MIGRATIONS_DIR=/app/migrations" in env and "KINERJA_SERVICE=${SERVICE}" in env
    copies = [shlex.split(rest) for word, rest in final if word == "COPY"]
    dests = {c[-1]: c[-2] for c in copies}
    assert dests["/app/migrations/"] == "services/${SERVICE}/migrations/"
    assert dests["/app/gunicorn.conf.py"] == "deploy/docker/gunicorn.conf.py"
    for service in ("kehadiran", "tugas", "penilaian", "notifikasi"):
        assert (repo / "services" / service / "migrations" / "env.py").is_file()
    assert (repo / "deploy" / "docker" / "gunicorn.conf.py").is_file()


def test_dockerignore_keeps_the_build_context_small(repo):
    ignore = (repo / ".dockerignore").read_text().split()
    for pattern in (".venv", "var", "deploy/kafka/lib", ".git", "**/__pycache__"):
        assert pattern in ignore
