"""``kinerja broker``: the local Kafka broker (KRaft) from deploy/kafka."""
from __future__ import annotations

import json
import os
import sys

import click


@click.group()
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
