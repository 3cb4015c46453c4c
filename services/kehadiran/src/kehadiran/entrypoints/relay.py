"""``kehadiran-relay``: kehadiran's outbox relay process (``kinerja.runtime.relay_main``).

A read that finds only punch rows leaves them for the next read (``OutboxRelay.hold_types``, at
most ``HOLD_S``): the day summary the day worker's round writes a few ms after a punch's request
then goes out with it, in one produce request, and penilaian's and notifikasi's consumers, which
pass punches over, fetch once for both instead of once each."""
from kehadiran.entrypoints.runtime import make_runtime
from kinerja.events.kehadiran import PUNCH_RECORDED
from kinerja.runtime import relay_entrypoint

main = relay_entrypoint(make_runtime, hold_types=(PUNCH_RECORDED,))

if __name__ == "__main__":
    main()
