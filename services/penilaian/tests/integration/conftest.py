import sys
from pathlib import Path

import pytest

# --import-mode=importlib does not put test folders on sys.path; our helpers live next to us
sys.path.insert(0, str(Path(__file__).parent))

from penilaian_testkit import make_penilaian  # noqa: E402


@pytest.fixture
def penilaian(database_url):
    p = make_penilaian(database_url)
    yield p
    p.runtime.dispose()
