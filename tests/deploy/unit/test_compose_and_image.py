"""docker-compose.yml, its host-network override and the Dockerfiles, offline (tests/deploy/e2e
builds and runs them for real where a Docker engine is): the compose file against the Compose
Specification's JSON schema, its start order and health checks, and that every command it runs is
an entry point of the image it runs in; the Dockerfiles' stages, users, health checks and signals."""
from __future__ import annotations

import json
import re
import shlex
from importlib import resources

import jsonschema
import pytest
import yaml

pytestmark = pytest.mark.unit

LONG_RUNNING_ROLES = {"web", "consumer", "worker", "relay", "webhooks", "mailer"}


@pytest.fixture(scope="module")
def compose(repo):
    return yaml.safe_load((repo / "docker-compose.yml").read_text())


def image_service(spec) -> str:
    return spec["build"]["args"]["SERVICE"]


def is_service_image(spec) -> bool:
    """Built from deploy/docker/Dockerfile (one of the four services), not Kafka or PostgreSQL."""
    return "build" in spec and spec["build"].get("dockerfile") == "deploy/docker/Dockerfile"


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
    # Kafka and PostgreSQL are built here too (no registry needed); a registry's image can stand in
    assert services["kafka"]["image"] == "${KINERJA_KAFKA_IMAGE:-kinerja/kafka:4.3.1}"
    assert services["kafka"]["build"]["context"] == "deploy/kafka"
    assert services["postgres"]["image"] == "${KINERJA_POSTGRES_IMAGE:-kinerja/postgres:15}"
    assert services["postgres"]["build"]["context"] == "deploy/postgres"
    env = services["kafka"]["environment"]
    assert "controller" in env["KAFKA_PROCESS_ROLES"] and "broker" in env["KAFKA_PROCESS_ROLES"]
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false", "the topics job creates them as specified"
    assert len(env["CLUSTER_ID"]) == 22, "KRaft wants a base64 UUID (22 characters)"
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
        if not is_service_image(spec):
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
        if not is_service_image(spec) or name in ("topics", "demo"):
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
        if not is_service_image(spec):
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
    text = (repo / "deploy" / "docker" / "Dockerfile").read_text()
    # Docker's classic builder builds it (compose falls back to it without buildx): no frontend
    # image to pull, no BuildKit-only mounts
    assert not re.search(r"^# *syntax=", text, re.M) and "--mount=" not in text
    steps = dockerfile_instructions(text)
    froms = [rest for word, rest in steps if word == "FROM"]
    assert froms == ["${PYTHON_IMAGE} AS builder", "${PYTHON_IMAGE} AS runtime"]
    args = {rest.split("=")[0]: rest.split("=", 1)[1] for word, rest in steps if word == "ARG" and "=" in rest}
    assert args["PYTHON_IMAGE"] == "python:3.11-slim"
    last_from = max(i for i, (w, _) in enumerate(steps) if w == "FROM")
    final, builder = steps[last_from:], steps[:last_from]
    user = [rest for word, rest in final if word == "USER"]
    assert user and user[-1].split(":")[0] not in ("0", "root")
    # the runtime stage takes the builder's virtualenv and installs nothing: no pip, apt or compiler
    run = " ".join(rest for word, rest in final if word == "RUN")
    assert "pip" not in run and "apt-get" not in run
    copies = [shlex.split(rest) for word, rest in final if word == "COPY"]
    assert ["--from=builder", "/opt/venv", "/opt/venv"] in copies
    # the builder: dependencies from the pyproject files first (a layer of their own), then the two
    # projects from the source, never from an index; pip removed from the virtualenv
    builder_run = " ".join(rest for word, rest in builder if word == "RUN")
    assert "requirements.py pyproject.toml" in builder_run
    assert '--no-index --no-deps --no-build-isolation ./shared "./services/${SERVICE}"' in builder_run
    assert "pip uninstall -y -q pip" in builder_run
    cmd = json.loads([rest for word, rest in final if word == "CMD"][-1])
    assert cmd == ["gunicorn", "-c", "/app/gunicorn.conf.py"]
    env = " ".join(rest for word, rest in final if word == "ENV")
    assert "KINERJA_MIGRATIONS_DIR=/app/migrations" in env and "KINERJA_SERVICE=${SERVICE}" in env
    assert "KINERJA_HEARTBEAT_FILE=/tmp/kinerja-heartbeat" in env
    assert ("STOPSIGNAL", "SIGTERM") in final
    dests = {c[-1]: c[-2] for c in copies}
    assert dests["/app/migrations/"] == "services/${SERVICE}/migrations/"
    assert dests["/app/gunicorn.conf.py"] == "deploy/docker/gunicorn.conf.py"
    for service in ("kehadiran", "tugas", "penilaian", "notifikasi"):
        assert (repo / "services" / service / "migrations" / "env.py").is_file()
    assert (repo / "deploy" / "docker" / "gunicorn.conf.py").is_file()


@pytest.mark.parametrize("folder", ["deploy/kafka", "deploy/postgres"])
def test_kafka_and_postgres_images_are_non_root_with_a_health_check_and_a_stop_signal(repo, folder):
    text = (repo / folder / "Dockerfile").read_text()
    steps = dockerfile_instructions(text)
    args = {rest.split("=")[0]: rest.split("=", 1)[1] for word, rest in steps if word == "ARG" and "=" in rest}
    assert args["BASE_IMAGE"] == "debian:bookworm-slim"  # kinerja/base:bookworm without a registry
    assert [rest for word, rest in steps if word == "FROM"] == ["${BASE_IMAGE}"]
    user = [rest for word, rest in steps if word == "USER"]
    assert user and user[-1].split(":")[0] not in ("0", "root")
    assert any(word == "HEALTHCHECK" for word, _ in steps)
    assert any(word == "STOPSIGNAL" for word, _ in steps)
    entrypoint = json.loads(next(rest for word, rest in steps if word == "ENTRYPOINT"))
    script = {"deploy/kafka": "docker/kafka-entrypoint", "deploy/postgres": "docker-entrypoint"}[folder]
    assert (repo / folder / script).is_file() and entrypoint == [script.rsplit("/", 1)[-1]]
    # the entrypoint execs the server, so the stop signal reaches it as PID 1
    assert re.search(r"^exec .*(kafka\.Kafka|postgres )", (repo / folder / script).read_text(), re.M)


def test_the_host_network_override_puts_every_process_on_loopback_with_its_own_ports(compose, repo):
    class Loader(yaml.SafeLoader):
        pass

    # compose's !reset: the base file's value is dropped (here: every published port)
    Loader.add_constructor("!reset", lambda loader, node: ("!reset", loader.construct_sequence(node)))
    host = yaml.load((repo / "deploy" / "docker" / "compose.host.yml").read_text(), Loader=Loader)["services"]
    assert set(host) == set(compose["services"]), "every service of docker-compose.yml is on the host network"
    for name, spec in host.items():
        assert spec["network_mode"] == "host", name
    assert all(host[n].get("ports") == ("!reset", []) for n, spec in compose["services"].items() if spec.get("ports"))
    assert host["postgres"]["environment"]["POSTGRES_LISTEN_ADDRESSES"] == "127.0.0.1"
    assert all("127.0.0.1" in a for a in host["kafka"]["environment"]["KAFKA_LISTENERS"].split(","))
    metrics = {}
    for name, spec in host.items():
        env = spec.get("environment", {})
        if "KINERJA_KAFKA_BOOTSTRAP" in env:
            assert env["KINERJA_KAFKA_BOOTSTRAP"].startswith("127.0.0.1:")
            assert env["KINERJA_METRICS_ADDR"] == "127.0.0.1"
        if "KINERJA_METRICS_PORT" in env:
            metrics[name] = env["KINERJA_METRICS_PORT"]
        if name.endswith("-web"):
            assert env["GUNICORN_CMD_ARGS"].startswith("--bind 127.0.0.1:")
    # every long-running process that serves metrics has its own port; the scaled consumer has none
    assert metrics.pop("penilaian-consumer") == "0"
    assert len(set(metrics.values())) == len(metrics) and "9100" not in metrics.values()
    # each one a variable named after its process, so a second stack on the host can move them all
    # (tests/deploy/e2e/test_compose_stack.py does): a fixed port collides with whatever holds it
    defaults = {}
    for name, value in metrics.items():
        if value == "0":
            continue
        var = name.replace("-", "_").upper() + "_METRICS_PORT"
        assert value.startswith("${" + var + ":-") and value.endswith("}"), (name, value)
        defaults[name] = value[len(var) + 4:-1]
    assert len(set(defaults.values())) == len(defaults) and all(d.isdigit() for d in defaults.values())
    assert compose["services"]["penilaian-consumer"]["healthcheck"]["test"][:4] == ["CMD", "python", "-m", "kinerja.heartbeat"]


def test_dockerignore_keeps_the_build_context_small(repo):
    ignore = (repo / ".dockerignore").read_text().split()
    for pattern in (".venv", "var", "deploy/kafka/lib", ".git", "**/__pycache__"):
        assert pattern in ignore
