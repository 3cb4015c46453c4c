"""penilaian's consumer process: facts from attendance, tasks and the roster → live scores."""
from __future__ import annotations

from typing import Callable

from sqlalchemy.orm import Session

from kinerja.events.envelope import Event
from kinerja.messaging import topics
from kinerja.runtime import ServiceRuntime, consumer_main
from penilaian.entrypoints.runtime import make_runtime
from penilaian.service_layer.scoring import apply_event

TOPICS = (topics.KEHADIRAN, topics.TUGAS, topics.PEGAWAI)


def make_handler(runtime: ServiceRuntime) -> Callable[[Session, Event], None]:
    def handle(session: Session, event: Event) -> None:
        apply_event(session, runtime.outbox, event, tz=runtime.settings.timezone)

    return handle


def main() -> None:
    runtime = make_runtime()
    consumer_main(runtime, TOPICS, make_handler(runtime))


if __name__ == "__main__":
    main()
