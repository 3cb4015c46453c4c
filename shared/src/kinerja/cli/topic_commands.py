"""``kinerja topics``: create the missing topics, grow running ones safely."""
from __future__ import annotations

import click

from kinerja.cli.settings import cli_settings


@click.group()
def topics() -> None:
    """Kafka topics."""


@topics.command("create")
@click.option("--partitions", type=click.IntRange(1, 10_000), default=None,
              help="partitions of each event topic [default: KINERJA_PARTITIONS, else 12]")
def topics_create(partitions) -> None:
    """Create the topics that are missing (existing ones are left as they are)."""
    from kinerja.config import ConfigError, default_partitions
    from kinerja.messaging.topics import ensure_topics

    s = cli_settings()
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

    s = cli_settings()
    try:
        report = grow(s.kafka_bootstrap, s.topic_prefix, partitions, tuple(bases) or GROWABLE, quiet_s=quiet_s)
    except NotDrained as exc:
        raise click.ClickException(f"not grown: {exc}") from None
    for name, count in report.before.items():
        click.echo(f"{name}: {count} → {report.after.get(name, count)} partitions")
    if report.grown:
        click.echo("now: raise KINERJA_PARTITIONS (and the KEDA maxReplicaCount) to match, then start the relays")
