"""``kinerja roster``: the roster CSV published to pegawai.v1."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from kinerja.cli.settings import cli_settings


@click.group()
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
        s = cli_settings()
        n = publish(parsed.events, s.kafka_bootstrap, s.topic_prefix) if parsed.events else 0
        click.echo(f"published {n} employee(s), rejected {len(parsed.errors)} row(s)")
    if parsed.errors:
        sys.exit(1)
