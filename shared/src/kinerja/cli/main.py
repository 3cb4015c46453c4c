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

import click

from kinerja.auth import ROLES, issue_token
from kinerja.cli.broker_commands import broker
from kinerja.cli.demo_command import demo
from kinerja.cli.device_commands import add_device, device  # noqa: F401 - add_device: where it always was
from kinerja.cli.installed_commands import COMMAND_GROUP, KinerjaGroup  # noqa: F401
from kinerja.cli.roster_commands import roster
from kinerja.cli.settings import cli_settings
from kinerja.cli.topic_commands import topics
from kinerja.cli.up_command import up


@click.group(cls=KinerjaGroup)
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
    s = cli_settings()
    if nip and (len(nip) != 18 or not nip.isdigit()):
        raise click.BadParameter("NIP must be 18 digits", param_hint="--nip")
    try:
        click.echo(issue_token(s.jwt_secret, role=role, agency=agency, nip=nip, device_sn=device_sn, ttl_s=ttl,
                               issuer=s.jwt_issuer))
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


for _command in (roster, device, broker, topics, demo, up):
    cli.add_command(_command)


def main() -> None:  # pragma: no cover
    cli()


if __name__ == "__main__":  # pragma: no cover
    main()
