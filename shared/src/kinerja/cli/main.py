"""``kinerja``: the operators' command line.

    kinerja token --nip N --role R --agency A      a signed JWT
    kinerja roster import FILE.csv                 publish the roster to pegawai.v1
    kinerja device add --sn SN --agency A --tz 7   register an attendance device with kehadiran
    kinerja broker start|stop|status               the local Kafka broker
    kinerja topics create                          create missing topics (KINERJA_PARTITIONS each)
    kinerja topics grow --partitions N             add partitions once every group has drained
    kinerja demo                                   load the demo agency
    kinerja scores rebuild [--into URL]            replay the topics into fresh tables, compare with live

Commands of an installed service join through the ``kinerja.commands`` entry point group (e.g.
penilaian's ``scores``): this library imports no service.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click
import requests

from kinerja.auth import ROLES, issue_token


def _settings():
    """The command's settings; without KINERJA_JWT_SECRET, the installation's secret that
    ``kinerja up`` keeps under var/ (so a token it prints is one the running services accept)."""
    from kinerja.config import installation_secret, load_settings, repo_var_dir

    if not os.environ.get("KINERJA_JWT_SECRET") and not os.environ.get("KINERJA_JWT_SECRET_FILE"):
        secret = installation_secret(repo_var_dir(), create=False)
        if secret:
            return load_settings("cli", {"jwt_secret": secret})
    return load_settings("cli")


def _service_url(service: str) -> str:
    from kinerja.config import DEFAULT_PORTS

    env = os.environ.get(f"{service.upper()}_URL")
    return env or f"http://127.0.0.1:{DEFAULT_PORTS[service]}"


COMMAND_GROUP = "kinerja.commands"


def _installed_commands() -> dict:
    from importlib.metadata import entry_points

    return {ep.name: ep for ep in entry_points(group=COMMAND_GROUP)}


class _KinerjaGroup(click.Group):
    """Its own commands plus those installed services register under ``kinerja.commands``
    (loaded only when named or listed)."""

    def list_commands(self, ctx):
        return sorted(set(super().list_commands(ctx)) | set(_installed_commands()))

    def get_command(self, ctx, name):
        command = super().get_command(ctx, name)
        if command is None:
            ep = _installed_commands().get(name)
            if ep is not None:
                command = ep.load()
        return command

    def resolve_command(self, ctx, args):
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError:
            if args and args[0] == "scores":
                raise click.UsageError("'kinerja scores' comes with penilaian, which is not installed here "
                                       "(pip install -e services/penilaian)") from None
            raise


@click.group(cls=_KinerjaGroup)
def cli() -> None:
    """Kinerja operator tool."""


@cli.command()
@click.option("--nip", help="the NIP (18 digits) the token speaks for")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--agency", required=True, help="agency code, e.g. disdik-lamsel")
@click.option("--device", "device_sn", help="device serial number (role device)")
@click.option("--ttl", default=12 * 3600, show_default=True, help="lifetime in seconds")
def token(nip, role, agency, device_sn, ttl) -> None:
    """Print a signed JWT."""
    s = _settings()
    if nip and (len(nip) != 18 or not nip.isdigit()):
        raise click.BadParameter("NIP must be 18 digits", param_hint="--nip")
    try:
        click.echo(issue_token(s.jwt_secret, role=role, agency=agency, nip=nip, device_sn=device_sn, ttl_s=ttl,
                               issuer=s.jwt_issuer))
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


# -- roster -----------------------------------------------------------------------------------
@cli.group()
def roster() -> None:
    """The roster (pegawai.v1)."""


@roster.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="check the file, publish nothing")
def roster_import(file: Path, dry_run: bool) -> None:
    """Publish FILE.csv (nip,nama,agency,unit,jabatan,atasan_nip,pin[,tmt]); bad rows are reported and skipped.

    tmt: the first day the ASN is expected at work (YYYY-MM-DD); days from it on are workdays."""
    from kinerja.cli.roster import parse_roster, publish

    parsed = parse_roster(file.read_text(encoding="utf-8-sig", errors="replace"))
    for line, msg in parsed.errors:
        click.echo(f"{file}:{line}: {msg}", err=True)
    if dry_run:
        click.echo(f"{len(parsed.events)} valid row(s), {len(parsed.errors)} rejected (dry run)")
    else:
        s = _settings()
        n = publish(parsed.events, s.kafka_bootstrap, s.topic_prefix) if parsed.events else 0
        click.echo(f"published {n} employee(s), rejected {len(parsed.errors)} row(s)")
    if parsed.errors:
        sys.exit(1)


# -- devices ----------------------------------------------------------------------------------
@cli.group()
def device() -> None:
    """Attendance devices (kept by kehadiran)."""


def _operator_headers() -> dict:
    s = _settings()
    tok = issue_token(s.jwt_secret, role="operator", agency="*", ttl_s=300, issuer=s.jwt_issuer)
    return {"Authorization": f"Bearer {tok}"}


def add_device(sn: str, agency: str, tz: float, name: str = "", url: str | None = None) -> dict:
    resp = requests.post(f"{url or _service_url('kehadiran')}/api/v1/devices",
                         json={"sn": sn, "agency": agency, "tz": tz, "name": name},
                         headers=_operator_headers(), timeout=10)
    if resp.status_code >= 400:
        raise click.ClickException(f"kehadiran refused the device ({resp.status_code}): {resp.text}")
    return resp.json()


@device.command("add")
@click.option("--sn", required=True, help="serial number as the device reports it")
@click.option("--agency", required=True)
@click.option("--tz", type=float, default=7, show_default=True, help="hours from UTC: WIB 7, WITA 8, WIT 9")
@click.option("--name", default="")
@click.option("--url", default=None, help="kehadiran base URL (default KEHADIRAN_URL or :8001)")
def device_add(sn, agency, tz, name, url) -> None:
    """Register a device so kehadiran accepts its punches."""
    click.echo(json.dumps(add_device(sn, agency, tz, name, url)))


@device.command("status")
@click.option("--sn", default=None, help="one device; all of the agency's without it")
@click.option("--url", default=None, help="kehadiran base URL (default KEHADIRAN_URL or :8001)")
def device_status(sn, url) -> None:
    """Last contact, records today, firmware and counts a device reported."""
    base = url or _service_url("kehadiran")
    path = f"/api/v1/devices/{sn}/status" if sn else "/api/v1/devices/status"
    resp = requests.get(base + path, headers=_operator_headers(), timeout=10)
    if resp.status_code >= 400:
        raise click.ClickException(f"kehadiran answered {resp.status_code}: {resp.text}")
    click.echo(json.dumps(resp.json(), indent=2))


@device.command("command")
@click.option("--sn", required=True)
@click.option("--reupload", nargs=2, metavar="START END", default=None,
              help="ask the device to send its records again, e.g. '2026-11-02 00:00:00' '2026-11-03 00:00:00'")
@click.option("--push-nip", default=None, help="put an ASN (PIN and name from the roster) on the device")
@click.option("--raw", default=None, help="a raw ADMS command, e.g. CHECK")
@click.option("--url", default=None)
def device_command(sn, reupload, push_nip, raw, url) -> None:
    """Queue a command the device fetches on its next getrequest."""
    if sum(x is not None for x in (reupload, push_nip, raw)) != 1:
        raise click.UsageError("give exactly one of --reupload, --push-nip, --raw")
    if reupload:
        body = {"kind": "reupload", "start": reupload[0], "end": reupload[1]}
    elif push_nip:
        body = {"kind": "user", "nip": push_nip}
    else:
        body = {"command": raw}
    resp = requests.post(f"{url or _service_url('kehadiran')}/api/v1/devices/{sn}/commands", json=body,
                         headers=_operator_headers(), timeout=10)
    if resp.status_code >= 400:
        raise click.ClickException(f"kehadiran refused the command ({resp.status_code}): {resp.text}")
    click.echo(json.dumps(resp.json()))


@device.command("commands")
@click.option("--sn", required=True)
@click.option("--status", type=click.Choice(("pending", "sent", "done", "failed", "cancelled")), default=None,
              help="only these (failed: never answered after every attempt, or refused by the device)")
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True)
@click.option("--url", default=None)
def device_commands(sn, status, limit, url) -> None:
    """A device's commands, newest first: state, attempts, the device's reply or why it failed."""
    params = {"limit": limit, **({"status": status} if status else {})}
    resp = requests.get(f"{url or _service_url('kehadiran')}/api/v1/devices/{sn}/commands", params=params,
                        headers=_operator_headers(), timeout=10)
    if resp.status_code >= 400:
        raise click.ClickException(f"kehadiran answered {resp.status_code}: {resp.text}")
    for c in resp.json():
        why = (c.get("result") or {}).get("error") or ""
        click.echo(f"{c['id']}\t{c['status']}\t{c.get('attempts', 0)}\t{c['command']}"
                   + (f"\t{why}" if why else ""))


# -- broker -----------------------------------------------------------------------------------
@cli.group()
def broker() -> None:
    """The local Kafka broker (KRaft) from deploy/kafka."""


@broker.command("start")
@click.option("--port", type=int, default=None, help="default KINERJA_KAFKA_PORT or 9092")
def broker_start(port) -> None:
    from kinerja.localbroker import BrokerError, LocalBroker

    b = LocalBroker.default(port)
    try:
        click.echo(f"broker ready at {b.start(prefix=os.environ.get('KINERJA_TOPIC_PREFIX', ''))}")
    except BrokerError as exc:
        raise click.ClickException(str(exc)) from None


@broker.command("stop")
@click.option("--port", type=int, default=None)
def broker_stop(port) -> None:
    from kinerja.localbroker import LocalBroker

    click.echo("broker stopped" if LocalBroker.default(port).stop() else "broker was not running")


@broker.command("status")
@click.option("--port", type=int, default=None)
def broker_status(port) -> None:
    from kinerja.localbroker import LocalBroker

    st = LocalBroker.default(port).status()
    click.echo(json.dumps(st))
    sys.exit(0 if st["running"] else 3)


@cli.group()
def topics() -> None:
    """Kafka topics."""


@topics.command("create")
@click.option("--partitions", type=click.IntRange(1, 10_000), default=None,
              help="partitions of each event topic [default: KINERJA_PARTITIONS, else 12]")
def topics_create(partitions) -> None:
    """Create the topics that are missing (existing ones are left as they are)."""
    from kinerja.config import ConfigError, default_partitions
    from kinerja.messaging.topics import ensure_topics

    s = _settings()
    try:
        partitions = partitions or default_partitions()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    created = ensure_topics(s.kafka_bootstrap, s.topic_prefix, partitions)
    click.echo(f"created: {', '.join(created) if created else 'nothing (all exist)'} ({partitions} partitions each)")


@topics.command("grow")
@click.option("--partitions", type=click.IntRange(1, 10_000), required=True, help="the new partition count")
@click.option("--topic", "bases", multiple=True, type=click.Choice(["kehadiran.v1", "tugas.v1", "penilaian.v1"]),
              help="the topics to grow (repeatable) [default: all three]")
@click.option("--quiet", "quiet_s", type=float, default=5.0, show_default=True,
              help="seconds the topics' ends must stay still (nothing publishing) before the change")
def topics_grow(partitions, bases, quiet_s) -> None:
    """Add partitions to running topics, only once it is safe for per-NIP order: every consumer
    group read to the end and nothing publishing (stop the relays first; deploy/README.md,
    "Adding partitions to a running topic"). pegawai.v1 (compacted) is never grown."""
    from kinerja.messaging.repartition import GROWABLE, NotDrained, grow

    s = _settings()
    try:
        report = grow(s.kafka_bootstrap, s.topic_prefix, partitions, tuple(bases) or GROWABLE, quiet_s=quiet_s)
    except NotDrained as exc:
        raise click.ClickException(f"not grown: {exc}") from None
    for name, count in report.before.items():
        click.echo(f"{name}: {count} → {report.after.get(name, count)} partitions")
    if report.grown:
        click.echo("now: raise KINERJA_PARTITIONS (and the KEDA maxReplicaCount) to match, then start the relays")


# -- demo -------------------------------------------------------------------------------------
@cli.command()
@click.option("--size", default=50, show_default=True)
@click.option("--write-csv", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--history/--no-history", default=True, show_default=True,
              help="the last three months and this month so far: punches, SKP and tasks, ratings, training")
@click.option("--seed", default=7, show_default=True, help="the same seed (and day) gives the same history")
def demo(size, write_csv, history, seed) -> None:
    """Load the demo agency: roster, supervisors, devices and (by default) its history; print demo tokens.
    Running it again adds nothing twice."""
    import time as _time
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from kinerja.cli.demo import AGENCY, DEVICES, demo_roster, roster_csv
    from kinerja.cli.demo_history import demo_people, make_plan
    from kinerja.cli.roster import parse_roster, publish

    began = _time.monotonic()
    s = _settings()
    rows = demo_roster(size)
    plan = make_plan(rows, datetime.now(ZoneInfo(s.timezone)), seed=seed) if history else None
    text = roster_csv(plan.roster if plan else rows)
    if write_csv:
        write_csv.write_text(text)
    parsed = parse_roster(text)
    if parsed.errors:
        raise click.ClickException(f"demo roster invalid: {parsed.errors[:3]}")
    publish(parsed.events, s.kafka_bootstrap, s.topic_prefix)
    for sn, name in DEVICES:
        add_device(sn, AGENCY, 7, name)
    click.echo(f"demo agency {AGENCY}: {len(rows)} ASN, {len(DEVICES)} devices")
    if plan is not None:
        from kinerja.cli.demo_load import DemoError, Services, load_plan
        from kinerja.config import repo_var_dir

        click.echo(f"loading its history {plan.first:%d %B %Y} – {plan.today:%d %B %Y} (seed {seed}) ...")
        svc = Services(kehadiran=_service_url("kehadiran"), penilaian=_service_url("penilaian"),
                       kafka_bootstrap=s.kafka_bootstrap, topic_prefix=s.topic_prefix, jwt_secret=s.jwt_secret,
                       jwt_issuer=s.jwt_issuer, var_dir=repo_var_dir())
        try:
            load_plan(plan, svc, admin_nip=rows[0]["nip"], say=click.echo)
        except DemoError as exc:
            raise click.ClickException(f"the demo history did not load: {exc}") from None
    people = demo_people(rows)
    staff, chief = people["pegawai"], people["atasan"]
    tokens = {
        "pegawai": (staff, issue_token(s.jwt_secret, role="pegawai", agency=AGENCY, nip=staff["nip"], issuer=s.jwt_issuer)),
        "atasan": (chief, issue_token(s.jwt_secret, role="atasan", agency=AGENCY, nip=chief["nip"], issuer=s.jwt_issuer)),
        "admin": (rows[0], issue_token(s.jwt_secret, role="admin", agency=AGENCY, nip=rows[0]["nip"], issuer=s.jwt_issuer)),
        "device": ({"nip": "-", "nama": DEVICES[0][1], "pin": "-"},
                   issue_token(s.jwt_secret, role="device", agency=AGENCY, device_sn=DEVICES[0][0], issuer=s.jwt_issuer)),
    }
    out = {role: {"nip": who["nip"], "nama": who["nama"], "pin": who.get("pin"), "token": tok}
           for role, (who, tok) in tokens.items()}
    state = Path(os.environ.get("KINERJA_VAR_DIR", "var")) / "demo.json"
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text(json.dumps(out, indent=2))
    click.echo(f"demo tokens written to {state} ({_time.monotonic() - began:.1f} s)")


@cli.command()
@click.option("--demo/--no-demo", "load_demo", default=True, show_default=True, help="load the demo agency")
@click.option("--stop-after", type=float, default=None, help="stop after this many seconds (for checks)")
@click.option("--relays", type=click.IntRange(0, 64), default=1, show_default=True, envvar="KINERJA_RELAYS",
              help="outbox relays per publishing service (they share the work, each key's events stay in order); "
                   "0: none, events wait in the outboxes (adding partitions: deploy/README.md)")
def up(load_demo: bool, stop_after: float | None, relays: int) -> None:
    """Start the broker, every service with its consumer and relay, load the demo, wait for Ctrl-C."""
    import signal as _signal
    import threading
    import time as _time

    from kinerja.config import repo_var_dir
    from kinerja.localbroker import LocalBroker
    from kinerja.stack import SERVICES, Stack, service_installed

    from kinerja.config import installation_secret

    began = _time.monotonic()
    if not os.environ.get("KINERJA_JWT_SECRET") and not os.environ.get("KINERJA_JWT_SECRET_FILE"):
        # this installation's own signing secret, made once and kept under var/: every process
        # started below (and the demo tokens) use it, never the development secret in the source
        os.environ["KINERJA_JWT_SECRET"] = installation_secret(repo_var_dir())
        click.echo(f"signing secret: {repo_var_dir() / 'jwt-secret'}")
    s = _settings()
    broker = LocalBroker.default()
    services = tuple(svc for svc in SERVICES if service_installed(svc))
    missing = [svc for svc in SERVICES if svc not in services]
    if missing:
        click.echo(f"warning: not installed, not started: {', '.join(missing)}", err=True)
    from kinerja.config import DEFAULT_PORTS

    ports = {svc: int(os.environ.get(f"{svc.upper()}_PORT") or port) for svc, port in DEFAULT_PORTS.items()}
    stack = Stack(var_dir=repo_var_dir(), kafka_bootstrap=broker.bootstrap, topic_prefix=s.topic_prefix,
                  services=services, ports=ports, relays=relays)
    stop = threading.Event()
    for sig in (_signal.SIGINT, _signal.SIGTERM):
        _signal.signal(sig, lambda *_: stop.set())
    try:
        click.echo(f"broker: {broker.start(prefix=s.topic_prefix)}")
        stack.start()
        stack.wait_ready(120)
        # the demo loader below talks to this stack's broker and services
        os.environ.update({k: v for k, v in stack.env().items()
                           if k == "KINERJA_KAFKA_BOOTSTRAP" or k.endswith("_URL")})
        if load_demo:
            ctx = click.get_current_context()
            ctx.invoke(demo, size=50, write_csv=None, history=True, seed=7)
        ready_s = _time.monotonic() - began
        click.echo(f"\nKinerja is ready in {ready_s:.1f} s (Ctrl-C stops everything)")
        for svc in stack.services:
            click.echo(f"  {svc:<11} {stack.url(svc)}   (OpenAPI: {stack.url(svc)}/openapi.json)")
        click.echo(f"  kafka       {broker.bootstrap}")
        click.echo(f"  logs        {stack.var_dir / 'logs'}")
        demo_file = stack.var_dir / "demo.json"
        if load_demo and demo_file.exists():
            info = json.loads(demo_file.read_text())
            click.echo(f"\nDemo tokens (also in {demo_file}):")
            for role, who in info.items():
                click.echo(f"  {role:<8} {who['nama']} (NIP {who['nip']}, PIN {who['pin']})\n    {who['token']}")
            if "notifikasi" in stack.services:
                click.echo("\nDashboard sign-in links (open one in a browser; the token leaves the address bar):")
                for role, label in (("pegawai", "ASN"), ("atasan", "supervisor"), ("admin", "admin")):
                    if role in info:
                        click.echo(f"  {label:<10} {info[role]['nama']}\n    {stack.url('notifikasi')}/dashboard/#token={info[role]['token']}")
            nip = info["pegawai"]["nip"]
            click.echo(f"\nWatch the ASN's stream:  curl -N '{stack.url('notifikasi')}/api/v1/stream?access_token={info['pegawai']['token']}'")
            click.echo(f"Read the ASN's score:    curl -H 'Authorization: Bearer <pegawai token>' '{stack.url('penilaian')}/api/v1/scores/{nip}?period=YYYY-MM'")
        while not stop.is_set():
            if stop_after is not None and _time.monotonic() - began > stop_after:
                break
            for proc in stack.procs:
                if proc.popen.poll() is not None:
                    click.echo(f"{proc.name} exited ({proc.popen.returncode}); restarting. Log tail:\n{stack.tail(proc, 10)}",
                               err=True)
                    stack.start_process(proc.service, proc.role, proc.instance)
            stop.wait(1.0)
    finally:
        click.echo("stopping ...")
        stack.stop()
        broker.stop()
        click.echo("stopped")


def main() -> None:  # pragma: no cover
    cli()


if __name__ == "__main__":  # pragma: no cover
    main()
