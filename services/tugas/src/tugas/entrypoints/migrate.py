"""``tugas-migrate``: bring tugas's database to the newest Alembic revision (``kinerja.migrations``)."""
from pathlib import Path

from kinerja.migrations import migrate_main

MIGRATIONS = Path(__file__).resolve().parents[3] / "migrations"
main = migrate_main("tugas", MIGRATIONS)

if __name__ == "__main__":
    main()
