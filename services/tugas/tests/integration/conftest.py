import pytest

from .tugas_testkit import make_tugas


@pytest.fixture
def tugas(database_url):
    t = make_tugas(database_url)
    yield t
    t.runtime.dispose()
