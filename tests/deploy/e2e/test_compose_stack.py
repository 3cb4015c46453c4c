"""The whole system as containers: every image built (deploy/docker/build-images.sh, cached),
`docker compose up` with host networking (deploy/docker/compose.host.yml) until every service is
healthy and the demo job has run, then

1. the thin slice: a punch posted to kehadiran reaches the ASN's SSE stream as a score change;
2. `--scale penilaian-consumer=3` in the middle of a burst of punches (and the burst re-sent):
   every score as with one consumer, no deduction twice, each event applied once;
3. SIGTERM drains: the consumers stop with exit code 0 after committing;
4. `docker compose down -v` leaves no container, volume or network of the project behind.

Needs a Docker engine (started here when the machine has docker.io and none runs) and the Compose
v2 CLI plugin (`make compose-plugin`); without them the tests skip and say why."""
from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text

from kinerja import docker_engine
from kinerja.auth import issue_token
from kinerja.cli.roster import parse_roster, publish
from kinerja.localbroker import free_port
from kinerja.testing import wait_until
from kinerja_testkit.sse_journey import SseClient

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[3]
FILES = ["-f", str(REPO / "docker-compose.yml"), "-f", str(REPO / "deploy" / "docker" / "compose.host.yml"),
         "-f", str(Path(__file__).with_name("compose.test.yml"))]  # the demo without its history
SERVICES = ("kehadiran", "tugas", "penilaian", "notifikasi")
# the metrics-port variables compose.host.yml reads (each with its fixed default)
METRICS_PORT_VARS = tuple(re.findall(r"\$\{([A-Z_]+_METRICS_PORT):-\d+\}",
                                     (REPO / "deploy" / "docker" / "compose.host.yml").read_text()))
AGENCY = "disdik-compose"
KADIS, ATASAN = "197803132000011901", "197910022009031902"
BURST = 12  # ASN in the scaled-consumer burst
WIB = timezone(timedelta(hours=7))



def asn_nip(i: int) -> str:
    return f"1981020820041210{i:02d}"


class Compose:
    """`docker compose` for one project, with the environment that picks its ports and secret."""

    def __init__(self, project: str, env: dict[str, str]):
        self.project, self.env = project, env

    def run(self, *args: str, timeout_s: float = 600, check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run(["docker", "compose", "-p", self.project, *FILES, *args], env=self.env, cwd=REPO,
                              capture_output=True, text=True, timeout=timeout_s)
        if check and proc.returncode != 0:
            raise AssertionError(f"docker compose {' '.join(args)} failed ({proc.returncode}):\n"
                                 f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}\n{self.unhealthy()}")
        return proc

    def containers(self, *flags: str) -> list[dict]:
        out = self.run("ps", "-a", "--format", "json", *flags, check=False).stdout
        rows = [json.loads(line) for line in out.splitlines() if line.strip().startswith("{")]
        if len(rows) == 1 and isinstance(rows[0], list):
            rows = rows[0]
        return rows

    def unhealthy(self) -> str:
        lines = []
        for c in self.containers():
            if c.get("Health") not in ("", "healthy", None) or (c.get("State") == "exited" and c.get("ExitCode")):
                logs = subprocess.run(docker_engine.docker_cmd("logs", "--tail", "25", c["Name"]), capture_output=True,
                                      text=True, timeout=60)
                lines.append(f"--- {c['Name']} ({c.get('State')}, {c.get('Health')}, exit {c.get('ExitCode')})\n"
                             f"{logs.stdout[-2500:]}{logs.stderr[-2500:]}")
        return "\n".join(lines)


@pytest.fixture(scope="module")
def engine(docker_engine_status):
    """The session's engine (kinerja.testing: started there when none answers, stopped at the end)."""
    if docker_engine_status is None:
        pytest.skip("KINERJA_TEST_NO_DOCKER is set: no containers")
    if not docker_engine_status.available:
        pytest.skip(f"no Docker engine: {docker_engine_status.reason}")
    if not docker_engine.compose_available():
        pytest.skip("the Compose v2 CLI plugin is not installed (`make compose-plugin` builds it with Go)")
    return docker_engine_status


@pytest.fixture(scope="module")
def images(engine):
    started = time.monotonic()
    build = subprocess.run([str(REPO / "deploy" / "docker" / "build-images.sh")], cwd=REPO, capture_output=True,
                           text=True, timeout=3600)
    assert build.returncode == 0, f"building the images failed:\n{build.stdout[-4000:]}\n{build.stderr[-4000:]}"
    print(f"\nimages built in {time.monotonic() - started:.0f} s (cached layers reused):")
    print("\n".join(line for line in build.stdout.splitlines() if line.startswith(("==", "   ("))))
    print("\n".join(line for line in build.stdout.splitlines() if line.startswith("kinerja/")))


def remove_stacks_of_ended_runs() -> list[str]:
    """`docker compose down -v` every kinerja-test-<pid> project whose test process is gone: a run
    killed mid-test (a CI timeout, a session ended) leaves its stack, and its `restart:
    unless-stopped` containers come back with the next dockerd, holding ports, CPU and memory
    while the next run's stack starts. Another run's stack whose process still lives is left alone."""
    out = subprocess.run(docker_engine.docker_cmd("ps", "-a", "--format", '{{.Label "com.docker.compose.project"}}'),
                         capture_output=True, text=True, timeout=60).stdout
    removed = []
    for project in sorted(set(out.split())):
        match = re.fullmatch(r"kinerja-test-(\d+)", project)
        if not match or pid_alive(int(match.group(1))):
            continue
        Compose(project, dict(os.environ)).run("down", "-v", "--remove-orphans", "--timeout", "10", check=False)
        removed.append(project)
    return removed


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@pytest.fixture(scope="module")
def stack(images, request):
    removed = remove_stacks_of_ended_runs()
    if removed:
        print(f"\nremoved the stacks of ended runs: {', '.join(removed)}")
    ports = {svc: free_port() for svc in SERVICES}
    secret = secrets.token_hex(32)
    # every host port the stack binds is a free one, the metrics ports too: a `make run` or a second
    # stack on this host (another checkout's tests) holds the defaults 8001-8004, 9092, 9111-9143
    metrics_ports = {name: str(free_port()) for name in METRICS_PORT_VARS}
    env = {**os.environ, "KINERJA_JWT_SECRET": secret, "KINERJA_KAFKA_PORT": str(free_port()),
           "KINERJA_KAFKA_CONTROLLER_PORT": str(free_port()), "KINERJA_POSTGRES_PORT": str(free_port()),
           "KINERJA_DB_PASSWORD": "kinerja-test", **{f"{s.upper()}_PORT": str(p) for s, p in ports.items()},
           **metrics_ports}
    compose = Compose(f"kinerja-test-{os.getpid()}", env)
    compose.secret, compose.ports = secret, ports
    compose.kafka = f"127.0.0.1:{env['KINERJA_KAFKA_PORT']}"
    compose.postgres = f"127.0.0.1:{env['KINERJA_POSTGRES_PORT']}"
    started = time.monotonic()
    try:
        compose.run("up", "-d", "--wait", "--no-build", timeout_s=900)
        healthy = time.monotonic() - started
        # the demo job (roster and devices of the demo agency) runs once every web app and consumer is healthy
        wait_until(lambda: any(c["Service"] == "demo" and c["State"] == "exited" for c in compose.containers()),
                   300, interval_s=1, message="the demo job to finish")
        demo = next(c for c in compose.containers() if c["Service"] == "demo")
        assert demo["ExitCode"] == 0, compose.unhealthy()
        print(f"\ndocker compose up → every service healthy: {healthy:.0f} s; demo job done: "
              f"{time.monotonic() - started:.0f} s")
        yield compose
    finally:
        if getattr(request.node, "_compose_down_tested", False) is False:
            compose.run("down", "-v", "--remove-orphans", "--timeout", "30", check=False)


def token(stack, role, nip=None, **kw):
    return issue_token(stack.secret, role=role, agency=AGENCY, nip=nip, **kw)


def auth(tok):
    return {"Authorization": f"Bearer {tok}"}


def url(stack, svc):
    return f"http://127.0.0.1:{stack.ports[svc]}"


def last_workday() -> datetime.date:
    day = datetime.now(WIB).date() - timedelta(days=1)
    while day.weekday() > 3:  # Monday–Thursday: no Friday hours, no weekend
        day -= timedelta(days=1)
    return day


def load_roster(stack, count: int) -> None:
    rows = [f"{KADIS},Hermansyah,{AGENCY},Sekretariat,Kepala Dinas,,1",
            f"{ATASAN},Citra,{AGENCY},Bidang GTK,Kepala Bidang,{KADIS},2"]
    rows += [f"{asn_nip(i)},ASN {i},{AGENCY},Bidang GTK,Analis,{ATASAN},{100 + i}" for i in range(count)]
    parsed = parse_roster("nip,nama,agency,unit,jabatan,atasan_nip,pin\n" + "\n".join(rows) + "\n")
    assert parsed.errors == []
    publish(parsed.events, stack.kafka, "")


def post_punches(stack, pins_and_times) -> dict:
    body = {"punches": [{"pin": str(pin), "time": when.isoformat()} for pin, when in pins_and_times]}
    r = requests.post(f"{url(stack, 'kehadiran')}/api/v1/punches", json=body,
                      headers=auth(token(stack, "device", device_sn="COMPOSE01")), timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def score(stack, nip, period):
    r = requests.get(f"{url(stack, 'penilaian')}/api/v1/scores/{nip}", params={"period": period},
                     headers=auth(token(stack, "pegawai", nip)), timeout=30)
    return r.json() if r.status_code == 200 else None


def late_arrival(day, minute=45):
    return datetime(day.year, day.month, day.day, 7, minute, tzinfo=WIB)


# one late arrival (07:45: TL1, −0.5 %) on a day that is over with no departure (PSW4, −2 %)
EXPECTED = (97.5, [("PSW4", 2.0), ("TL1", 0.5)])


def scored_as_expected(stack, nip, period) -> bool:
    s = score(stack, nip, period)
    if not s or s["disiplin"]["score"] != EXPECTED[0]:
        return False
    return sorted((d["code"], d["percent"]) for d in s["disiplin"]["deductions"]) == EXPECTED[1]


def test_1_a_punch_reaches_the_asn_stream_as_a_score_change(stack):
    r = requests.post(f"{url(stack, 'kehadiran')}/api/v1/devices", json={"sn": "COMPOSE01", "agency": AGENCY, "tz": 7},
                      headers=auth(token(stack, "operator")), timeout=30)
    assert r.status_code == 201, r.text
    load_roster(stack, BURST + 1)
    day = last_workday()
    asn = asn_nip(BURST)  # the thin slice's ASN; the burst below uses the others
    stream = SseClient(f"{url(stack, 'notifikasi')}/api/v1/stream", token(stack, "pegawai", asn))
    try:
        posted = time.monotonic()
        result = post_punches(stack, [(100 + BURST, late_arrival(day))])
        assert result["accepted"] + result["quarantined"] == 1, result
        stream.wait_for(lambda e: e.event == "score.updated"
                             and e.data.get("payload", {}).get("disiplin") == EXPECTED[0], 90)
        print(f"\npunch → score on the stream, through the containers: {(time.monotonic() - posted) * 1000:.0f} ms")
        assert scored_as_expected(stack, asn, day.strftime("%Y-%m"))
    finally:
        stream.close()


def group_members(stack, group: str) -> int:
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=stack.kafka, client_id="compose-test")
    try:
        desc = admin.describe_groups([group])[group]
        return len(desc["members"]) if desc.get("group_state") == "Stable" else 0
    finally:
        admin.close()


def test_2_three_penilaian_consumers_score_a_burst_as_one_does_and_count_nothing_twice(stack):
    day = last_workday()
    period = day.strftime("%Y-%m")
    punches = [(100 + i, late_arrival(day)) for i in range(BURST)]
    first = post_punches(stack, punches[: BURST // 2])
    # scale out while the first half is being applied: the group rebalances mid-stream
    stack.run("up", "-d", "--wait", "--no-build", "--no-recreate", "--scale", "penilaian-consumer=3",
              "penilaian-consumer", timeout_s=600)
    second = post_punches(stack, punches[BURST // 2:])
    assert first["accepted"] + first["quarantined"] + second["accepted"] + second["quarantined"] == BURST
    wait_until(lambda: group_members(stack, "penilaian") == 3, 120, interval_s=1, message="3 members in the group")
    again = post_punches(stack, punches)  # the whole burst re-sent, as a device does after a lost reply
    assert again["duplicates"] == BURST and again["accepted"] == 0, again
    running = [c for c in stack.containers() if c["Service"] == "penilaian-consumer" and c["State"] == "running"]
    assert len(running) == 3
    deadline = time.monotonic() + 300
    for i in range(BURST):
        wait_until(lambda: scored_as_expected(stack, asn_nip(i), period), max(deadline - time.monotonic(), 1),
                   interval_s=0.5, message=f"ASN {i} scored {EXPECTED} (as with one consumer)")
    # each kehadiran event applied once by the three together: no event id twice, none missing
    engine = create_engine(f"postgresql+psycopg://penilaian:kinerja-test@{stack.postgres}/penilaian")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT event_id, count(*) FROM processed_events WHERE topic = 'kehadiran.v1' "
                                 "GROUP BY event_id HAVING count(*) > 1")).all()
    engine.dispose()
    assert rows == []


def test_3_sigterm_drains_the_consumers_and_down_leaves_nothing_behind(stack, request):
    stopped = stack.run("stop", "--timeout", "30", "penilaian-consumer", "kehadiran-consumer", timeout_s=300)
    assert stopped.returncode == 0
    consumers = [c for c in stack.containers() if c["Service"] in ("penilaian-consumer", "kehadiran-consumer")]
    assert len(consumers) == 4
    for c in consumers:
        assert c["State"] == "exited" and c["ExitCode"] == 0, f"{c['Name']} exited {c['ExitCode']} on SIGTERM"
        logs = subprocess.run(docker_engine.docker_cmd("logs", "--tail", "20", c["Name"]), capture_output=True,
                              text=True, timeout=60)
        assert '"consumer stopped"' in logs.stdout + logs.stderr, f"{c['Name']} did not finish its loop"
    request.node.parent._compose_down_tested = True
    started = time.monotonic()
    stack.run("down", "-v", "--remove-orphans", "--timeout", "30", timeout_s=600)
    print(f"\ndocker compose down -v: {time.monotonic() - started:.0f} s")
    label = f"label=com.docker.compose.project={stack.project}"
    for kind in (["ps", "-aq"], ["volume", "ls", "-q"], ["network", "ls", "-q"]):
        left = subprocess.run(docker_engine.docker_cmd(*kind, "--filter", label), capture_output=True, text=True,
                              timeout=60)
        assert left.returncode == 0 and left.stdout.split() == [], f"docker {' '.join(kind)}: {left.stdout}"
