"""``penilaian-rebuild`` (and ``kinerja scores rebuild``, which finds the ``scores`` group through
the ``kinerja.commands`` entry point): replay the topics into a fresh database and report every
difference from the live tables."""
from __future__ import annotations

import json
import sys
from dataclasses import asdict

import click


@click.command("rebuild")
@click.option("--into", "target_url", default=None,
              help="database URL to rebuild into (must hold no scores); default: a new SQLite file under var/")
@click.option("--live-url", default=None, help="penilaian's live database (default: PENILAIAN_DATABASE_URL)")
@click.option("--batch-size", default=2000, show_default=True, help="events stored per transaction")
@click.option("--show", default=20, show_default=True, help="differences to print")
@click.option("--compare/--no-compare", default=True, show_default=True, help="compare with the live tables")
@click.option("--dedup-window", default=10_000, show_default=True,
              help="records per partition whose ids a duplicate is recognised among")
@click.option("--workers", default=2, show_default=True,
              help="processes reading kehadiran.v1 (each a share of its partitions) beside the one reading tugas.v1")
@click.option("--json", "as_json", is_flag=True, help="print the report as one JSON object")
def rebuild_command(target_url, live_url, batch_size, show, compare, dedup_window, workers, as_json) -> None:
    """Replay kehadiran.v1, tugas.v1, pegawai.v1 and penilaian.v1 from offset 0 into a fresh
    database and report every difference from the live tables (exit status 1 if any)."""
    from kinerja.config import load_settings, repo_var_dir
    from penilaian.entrypoints.rebuild import fresh_sqlite_url, rebuild

    s = load_settings("penilaian")
    report = rebuild(bootstrap=s.kafka_bootstrap, prefix=s.topic_prefix,
                     live_url=(live_url or s.database_url) if compare else None,
                     target_url=target_url or fresh_sqlite_url(repo_var_dir() / "rebuild"), tz=s.timezone,
                     batch_size=batch_size, dedup_window=dedup_window, workers=workers, progress=lambda m: click.echo(m, err=True))
    if as_json:
        click.echo(json.dumps({**asdict(report), "messages": report.messages, "events_per_s": report.events_per_s}))
    else:
        click.echo(report.summary(show))
    sys.exit(1 if report.differences or report.failed else 0)


@click.group("scores")
def scores() -> None:
    """penilaian's scores."""


scores.add_command(rebuild_command)


def main() -> None:  # pragma: no cover - the console script
    rebuild_command()
