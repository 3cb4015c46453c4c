"""``PENILAIAN_APPLY_BATCH`` and ``PENILAIAN_POLICY_RECOMPUTE_BATCH``: read when asked, a whole
number of at least 1; a typo or a 0 stops the consumer naming the setting (a 0 was quietly 1, a
typo a bare ``ValueError`` from ``int()``)."""
import pytest

from penilaian.entrypoints.consumer import APPLY_BATCH, apply_batch_size, recompute_batch_size
from penilaian.service_layer.policy_recompute import DEFAULT_BATCH

pytestmark = pytest.mark.unit

SETTINGS = [("PENILAIAN_APPLY_BATCH", apply_batch_size, APPLY_BATCH),
            ("PENILAIAN_POLICY_RECOMPUTE_BATCH", recompute_batch_size, DEFAULT_BATCH)]


@pytest.mark.parametrize("name, read, default", SETTINGS)
def test_the_default_and_a_value(monkeypatch, name, read, default):
    monkeypatch.delenv(name, raising=False)
    assert read() == default
    monkeypatch.setenv(name, " 40 ")
    assert read() == 40
    monkeypatch.setenv(name, "")
    assert read() == default


@pytest.mark.parametrize("name, read, default", SETTINGS)
@pytest.mark.parametrize("raw, reason", [("1OO", "='1OO' is not a whole number"), ("0", "=0 must be at least 1")])
def test_a_typo_or_a_zero_is_refused_by_name(monkeypatch, name, read, default, raw, reason):
    monkeypatch.setenv(name, raw)
    with pytest.raises(ValueError) as refused:
        read()
    assert str(refused.value) == name + reason
