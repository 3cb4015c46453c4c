"""Bring notifikasi's database to the newest Alembic revision."""
from pathlib import Path

from kinerja.config import load_settings
from kinerja.migrations import upgrade

MIGRATIONS = Path(__file__).resolve().parents[3] / "migrations"


def main(database_url: str | None = None) -> None:
    upgrade(MIGRATIONS, database_url or load_settings("notifikasi").database_url)


if __name__ == "__main__":
    main()
