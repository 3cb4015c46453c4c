"""The Alembic history builds exactly the tables the models describe, on SQLite and PostgreSQL."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from kinerja.db import make_engine
from penilaian.adapters.orm import metadata
from penilaian.entrypoints.migrate import main as migrate

pytestmark = pytest.mark.integration


def test_migrations_match_the_models(database_url):
    migrate(database_url)
    migrate(database_url)  # running it again is harmless
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
    finally:
        engine.dispose()
    assert diff == []
