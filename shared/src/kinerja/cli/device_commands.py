"""``kinerja device``: attendance devices, registered with and commanded through kehadiran."""
from __future__ import annotations

import json

import click
import requests

from kinerja.cli.settings import operator_headers, service_url


@click.group()
def device() -> None:
    """Attendance devices (kept by kehadiran)."""


def add_device(sn: str, agency: str, tz: float, name: str = "", url: str | None = None) -> dict:
    resp = requests.post(f"{url or service_url('kehadiran')}/api/v1/devices",
                         json={"sn": sn, "agency": agency, "tz": tz, "name": name},
                         headers=operator_headers(), timeout=10)
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
    base = url or service_url("kehadiran")
    path = f"/api/v1/devices/{sn}/status" if sn else "/api/v1/devices/status"
    resp = requests.get(base + path, headers=operator_headers(), timeout=10)
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
    resp = requests.post(f"{url or service_url('kehadiran')}/api/v1/devices/{sn}/commands", json=body,
                         headers=operator_headers(), timeout=10)
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
    resp = requests.get(f"{url or service_url('kehadiran')}/api/v1/devices/{sn}/commands", params=params,
                        headers=operator_headers(), timeout=10)
    if resp.status_code >= 400:
        raise click.ClickException(f"kehadiran answered {resp.status_code}: {resp.text}")
    for c in resp.json():
        why = (c.get("result") or {}).get("error") or ""
        click.echo(f"{c['id']}\t{c['status']}\t{c.get('attempts', 0)}\t{c['command']}"
                   + (f"\t{why}" if why else ""))
