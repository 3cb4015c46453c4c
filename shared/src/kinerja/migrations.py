"""Run a service's Alembic history programmatically (``<service>-migrate`` and the tests)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from alembic import command
from alembic.config import Config

from kinerja.config import load_settings
from kinerja.db import normalise_url


def alembic_config(script_location: Path, database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    cfg.set_main_option("sqlalchemy.url", normalise_url(database_url).replace("%", "%%"))
    return cfg


def migrations_dir(default: Path) -> Path:
    """The service's Alembic folder: ``KINERJA_MIGRATIONS_DIR`` when set (an installed wheel, as
    in the container image, has no source tree to find ``services/<name>/migrations`` in), else
    ``default``, the folder beside the package's source."""
    override = os.environ.get("KINERJA_MIGRATIONS_DIR")
    return Path(override) if override else Path(default)


def upgrade(script_location: Path, database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(migrations_dir(script_location), database_url), revision)


def run_env(target_metadata) -> None:
    """Body of every service's ``migrations/env.py`` (online mode; SQLite in batch mode)."""
    from alembic import context
    from kinerja.db import make_engine

    url = context.config.get_main_option("sqlalchemy.url")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True,
                          render_as_batch=url.startswith("sqlite"))
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=connection.dialect.name == "sqlite")
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


def migrate_main(service: str, default_dir: Path) -> Callable[[str | None], None]:
    """The ``<service>-migrate`` console script: upgrade to head the database given, else the one
    the service's settings name (read when it runs)."""
    def main(database_url: str | None = None) -> None:
        upgrade(default_dir, database_url or load_settings(service).database_url)

    main.__doc__ = f"Bring {service}'s database to the newest Alembic revision."
    return main
