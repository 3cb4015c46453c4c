"""kehadiran's consumer process: keeps its slice of the roster from ``pegawai.v1``. What a roster
event changes of the days (a TMT, quarantined punches of a PIN) is marked for the day worker
(``kehadiran.entrypoints.worker``), which also closes finished days."""
from __future__ import annotations

from kehadiran.entrypoints.runtime import make_runtime
from kehadiran.service_layer.roster import apply_roster_event
from kinerja.messaging import topics
from kinerja.runtime import consumer_main


def main() -> None:
    runtime = make_runtime()

    def handle(session, event):
        # the deployment's zone for an agency whose roster names none (the roster's otherwise)
        apply_roster_event(session, event, agency_tz=runtime.settings.timezone)

    consumer_main(runtime, [topics.PEGAWAI], handle)


if __name__ == "__main__":
    main()
