"""``tugas-relay``: tugas's outbox relay process (``kinerja.runtime.relay_main``)."""
from kinerja.runtime import relay_entrypoint
from tugas.entrypoints.runtime import make_runtime

main = relay_entrypoint(make_runtime)

if __name__ == "__main__":
    main()
