"""penilaian's outbox relay process."""
from kinerja.runtime import relay_main
from penilaian.entrypoints.runtime import make_runtime


def main() -> None:
    relay_main(make_runtime())


if __name__ == "__main__":
    main()
