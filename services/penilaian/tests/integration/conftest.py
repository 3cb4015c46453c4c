import pytest

from kinerja_testkit.penilaian import make_penilaian


@pytest.fixture
def penilaian(database_url):
    p = make_penilaian(database_url)
    yield p
    p.runtime.dispose()
