"""notifikasi's consumer process: the roster slice from ``pegawai.v1``, and an inbox row per
recipient for what ``penilaian.v1``, ``tugas.v1`` and ``kehadiran.v1`` publish. It publishes
nothing (no relay); the web processes read the rows it writes (see ``stream_api``)."""
from __future__ import annotations

from notifikasi.entrypoints.runtime import make_runtime
from notifikasi.service_layer.notifications import handle_event
from kinerja.messaging import topics
from kinerja.runtime import consumer_main

TOPICS = [topics.PEGAWAI, topics.PENILAIAN, topics.TUGAS, topics.KEHADIRAN]


def handle(session, event) -> None:
    handle_event(session, event)


def main() -> None:
    consumer_main(make_runtime(), TOPICS, handle)


if __name__ == "__main__":
    main()
