"""E-mail texts and when the daily digest is due."""
from datetime import date, datetime, timedelta, timezone

import pytest

from notifikasi.domain import email as rules

pytestmark = pytest.mark.unit
WIB = timezone(timedelta(hours=7))


def test_digest_is_due_once_a_day_after_its_hour():
    at16 = datetime(2026, 11, 28, 16, 0, tzinfo=WIB)
    assert rules.digest_due(datetime(2026, 11, 28, 15, 59, tzinfo=WIB), at16 - timedelta(days=1), 16) is None
    assert rules.digest_due(datetime(2026, 11, 28, 16, 0, tzinfo=WIB), at16 - timedelta(days=1), 16) == at16
    assert rules.digest_due(datetime(2026, 11, 28, 23, 0, tzinfo=WIB), at16, 16) is None
    # before today's hour, yesterday's digest is the one due if it was missed
    assert rules.digest_due(datetime(2026, 11, 29, 9, 0, tzinfo=WIB), at16 - timedelta(days=1), 16) == at16
    assert rules.digest_due(datetime(2026, 11, 28, 17, 0, tzinfo=WIB), None, 16) == at16


def test_texts():
    subject, body = rules.immediate("Tugas baru", "Anda mendapat tugas baru: Laporan.")
    assert subject == "[Kinerja] Tugas baru" and body.startswith("Anda mendapat tugas baru: Laporan.\n\n--\n")
    items = [rules.Item("Skor kinerja November 2026", "Skor kinerja Anda berubah: 97.5 (Baik).",
                        datetime(2026, 11, 28, 8, 5, tzinfo=WIB))]
    subject, body = rules.digest(date(2026, 11, 28), items)
    assert subject == "[Kinerja] Ringkasan harian 28 November 2026"
    assert "- 28/11 08:05 Skor kinerja November 2026: Skor kinerja Anda berubah: 97.5 (Baik)." in body
