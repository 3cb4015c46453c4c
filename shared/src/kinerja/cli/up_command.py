"""``kinerja up``: the whole system on this machine (broker, services, consumers, relays), the
demo loaded, until Ctrl-C."""
from __future__ import annotations

import json
import os

import click

from kinerja.cli.demo_command import demo
from kinerja.cli.settings import cli_settings
from kinerja.config import MAX_DAY_WORKERS, MAX_RELAYS, MAX_WEB_THREADS, MAX_WEB_WORKERS


@click.command()
@click.option("--demo/--no-demo", "load_demo", default=True, show_default=True, help="load the demo agency")
@click.option("--stop-after", type=float, default=None, help="stop after this many seconds (for checks)")
@click.option("--relays", type=click.IntRange(0, MAX_RELAYS), default=1, show_default=True, envvar="KINERJA_RELAYS",
              help="outbox relays per publishing service (they share the work, each key's events stay in order); "
                   "0: none, events wait in the outboxes (adding partitions: deploy/README.md)")
@click.option("--day-workers", type=click.IntRange(1, MAX_DAY_WORKERS), default=None,
              envvar="KEHADIRAN_DAY_WORKERS",
              help="kehadiran day worker processes (they recompute disjoint ASN's days at once) "
                   "[default: 2 on PostgreSQL, 1 on SQLite]")
@click.option("--web-workers", type=click.IntRange(1, MAX_WEB_WORKERS), default=None,
              help="gunicorn worker processes of every web app [default: each service's <SERVICE>_WEB_WORKERS, "
                   "else 1]")
@click.option("--web-threads", type=click.IntRange(1, MAX_WEB_THREADS), default=None,
              help="threads per gunicorn worker of kehadiran, tugas and penilaian [default: <SERVICE>_WEB_THREADS, "
                   "else 16]; notifikasi's are its streams (NOTIFIKASI_WEB_THREADS)")
def up(load_demo: bool, stop_after: float | None, relays: int, day_workers: int | None, web_workers: int | None,
       web_threads: int | None) -> None:
    """Start the broker, every service with its consumer and relay, load the demo, wait for Ctrl-C."""
    import signal as _signal
    import threading
    import time as _time

    from kinerja.config import DEFAULT_PORTS, port_number, repo_var_dir
    from kinerja.localbroker import LocalBroker
    from kinerja.stack import SERVICES, Stack, service_installed, web_shape

    try:  # a bad <SERVICE>_WEB_* or <SERVICE>_PORT value stops here, named, before anything is made or started
        for svc in SERVICES:
            web_shape(svc, os.environ, web_workers, web_threads)
        ports = {svc: port_number(os.environ, f"{svc.upper()}_PORT", port)
                 for svc, port in DEFAULT_PORTS.items()}
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None

    from kinerja.config import installation_secret

    began = _time.monotonic()
    if not os.environ.get("KINERJA_JWT_SECRET") and not os.environ.get("KINERJA_JWT_SECRET_FILE"):
        # this installation's own signing secret, made once and kept under var/: every process
        # started below (and the demo tokens) use it, never the development secret in the source
        os.environ["KINERJA_JWT_SECRET"] = installation_secret(repo_var_dir())
        click.echo(f"signing secret: {repo_var_dir() / 'jwt-secret'}")
    s = cli_settings()
    broker = LocalBroker.default()
    services = tuple(svc for svc in SERVICES if service_installed(svc))
    missing = [svc for svc in SERVICES if svc not in services]
    if missing:
        click.echo(f"warning: not installed, not started: {', '.join(missing)}", err=True)
    stack = Stack(var_dir=repo_var_dir(), kafka_bootstrap=broker.bootstrap, topic_prefix=s.topic_prefix,
                  services=services, ports=ports, relays=relays, day_workers=day_workers,
                  web_workers=web_workers, web_threads=web_threads)
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
