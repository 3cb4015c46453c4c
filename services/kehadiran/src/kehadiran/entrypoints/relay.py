"""``kehadiran-relay``: kehadiran's outbox relay process (``kinerja.runtime.relay_main``)."""
from kehadiran.entrypoints.runtime import make_runtime
from kinerja.runtime import relay_entrypoint

main = relay_entrypoint(make_runtime)

if __name__ == "__main__":
    main()
