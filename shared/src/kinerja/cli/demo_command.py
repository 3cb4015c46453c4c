"""``kinerja demo``: the demo agency with its history, and tokens to try it with."""
from __future__ import annotations

import json
import os
from pathlib import Path

import click

from kinerja.auth import issue_token
from kinerja.cli.device_commands import add_device
from kinerja.cli.settings import cli_settings, service_url


@click.command()
@click.option("--size", default=50, show_default=True)
@click.option("--write-csv", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--history/--no-history", default=True, show_default=True,
              help="the last three months and this month so far: punches, SKP and tasks, ratings, training")
@click.option("--seed", default=7, show_default=True, help="the same seed (and day) gives the same history")
@click.option("--now", "now_text", default=None, metavar="ISO-TIME",
              help="the instant the history runs up to (default: the clock; without an offset, the agency's zone): "
                   "two runs with the same one load the same punches, where a run later in the morning also "
                   "sends the arrivals that have come due since")
def demo(size, write_csv, history, seed, now_text) -> None:
    """Load the demo agency: roster, supervisors, devices and (by default) its history; print demo tokens.
    Running it again adds nothing twice."""
    import time as _time
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from kinerja.cli.demo import AGENCY, DEVICES, demo_roster, roster_csv
    from kinerja.cli.demo_history import demo_people, make_plan
    from kinerja.cli.roster import parse_roster, publish

    began = _time.monotonic()
    s = cli_settings()
    rows = demo_roster(size)
    zone = ZoneInfo(s.timezone)
    try:
        now = datetime.fromisoformat(now_text) if now_text else datetime.now(zone)
    except ValueError:
        raise click.BadParameter(f"{now_text!r} is not an ISO 8601 time", param_hint="--now") from None
    now = now if now.tzinfo else now.replace(tzinfo=zone)
    plan = make_plan(rows, now.astimezone(zone), seed=seed) if history else None
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
        from kinerja.cli.demo_load import load_plan
        from kinerja.cli.demo_load_client import DemoError, Services
        from kinerja.config import repo_var_dir

        click.echo(f"loading its history {plan.first:%d %B %Y} – {plan.today:%d %B %Y} (seed {seed}) ...")
        svc = Services(kehadiran=service_url("kehadiran"), penilaian=service_url("penilaian"),
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
