"""The synthetic month's NIPs stay valid (18 digits, distinct) however many ASN a benchmark asks
for: a 1 M-event month has ~12,000 ASN, and a 19-digit NIP made its roster events invalid."""
import pytest

from kinerja.events import make_event
from kinerja.events.pegawai import EMPLOYEE_UPSERTED
from kinerja_testkit.synthetic import synthetic_nip


def test_eighteen_digits_and_distinct_well_past_ten_thousand():
    nips = [synthetic_nip(i) for i in range(0, 990_000, 7)] + [synthetic_nip(989_999)]
    assert all(len(n) == 18 and n.isdigit() for n in nips)
    assert len(set(nips)) == len(nips)
    assert synthetic_nip(9_999) != synthetic_nip(10_000)


def test_a_roster_event_for_the_twelve_thousandth_asn_is_valid():
    nip = synthetic_nip(12_000)
    make_event(EMPLOYEE_UPSERTED, subject=nip, agency="dinkes", source="t",
               data={"nip": nip, "nama": "ASN", "agency": "dinkes", "unit": "U", "jabatan": "Analis", "active": True})


def test_no_nip_beyond_the_range():
    with pytest.raises(ValueError):
        synthetic_nip(990_000)
