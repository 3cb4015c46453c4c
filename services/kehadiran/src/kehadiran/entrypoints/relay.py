"""kehadiran's outbox relay process."""
from kehadiran.entrypoints.runtime import make_runtime
from kinerja.runtime import relay_main


def main() -> None:
    relay_main(make_runtime())


if __name__ == "__main__":
    main()
