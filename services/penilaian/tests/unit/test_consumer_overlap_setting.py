"""``PENILAIAN_CONSUMER_OVERLAP``: the overlapped apply off by default, on with 1, anything else refused."""
import pytest

from penilaian.entrypoints.consumer import overlap_enabled

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("raw,expected", [(None, False), ("", False), ("1", True), (" 1 ", True), ("0", False)])
def test_the_setting(monkeypatch, raw, expected):
    if raw is None:
        monkeypatch.delenv("PENILAIAN_CONSUMER_OVERLAP", raising=False)
    else:
        monkeypatch.setenv("PENILAIAN_CONSUMER_OVERLAP", raw)
    assert overlap_enabled() is expected


def test_a_value_that_is_not_0_or_1_is_refused_with_its_name(monkeypatch):
    monkeypatch.setenv("PENILAIAN_CONSUMER_OVERLAP", "yes")
    with pytest.raises(ValueError, match="PENILAIAN_CONSUMER_OVERLAP"):
        overlap_enabled()
