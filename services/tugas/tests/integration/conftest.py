import sys
from pathlib import Path

import pytest

# --import-mode=importlib does not put test folders on sys.path; our helpers live next to us
sys.path.insert(0, str(Path(__file__).parent))

from tugas_testkit import make_tugas  # noqa: E402


@pytest.fixture
def tugas(database_url):
    t = make_tugas(database_url)
    yield t
    t.runtime.dispose()
