import pytest

from penilaian.domain.competency import jp_progress, suggest_training

pytestmark = pytest.mark.unit


def test_progress_towards_20_jp():
    assert jp_progress([8, 4]) == {"jp_total": 12, "jp_target": 20, "jp_remaining": 8, "met": False}
    assert jp_progress([16, 8])["jp_remaining"] == 0 and jp_progress([20])["met"] is True
    assert jp_progress([]) == {"jp_total": 0, "jp_target": 20, "jp_remaining": 20, "met": False}


def test_weak_components_suggest_training():
    assert suggest_training(["TL1", "PSW1", "TL2"], [("pelayanan", 70), (None, 10)]) == []
    topics = suggest_training(["TL1", "TL2", "TL4", "TK"], [("pelayanan", 65), ("pelayanan", 90)])
    assert [(s.topic, s.reason) for s in topics] == [
        ("Manajemen waktu", "terlambat masuk 3 kali"),
        ("Pelayanan publik", "1 tugas pelayanan dengan kualitas di bawah 70")]


def test_below_values_dialog_follow_ups_and_late_tasks_suggest_training_too():
    """Issue 19 item 6: a supervisor's "below", a dialog's follow-up and low timeliness suggest training."""
    from datetime import date
    from decimal import Decimal

    from penilaian.domain.competency import FollowUp

    out = suggest_training(
        [], [], below_values=[("akuntabel", "2026-05"), ("akuntabel", "2026-Q2"), ("unknown", "2026-05")],
        follow_ups=[FollowUp(date(2026, 6, 3), "  Ikut pelatihan\npenyusunan SAKIP ", ("kolaboratif",)),
                    FollowUp(date(2026, 6, 4), "", ())],
        timeliness=[Decimal(100), Decimal(60), Decimal(0), Decimal(70)])
    assert [(s.topic, s.reason) for s in out] == [
        ("Perencanaan dan manajemen pekerjaan", "2 tugas dengan ketepatan waktu di bawah 70"),
        ("Akuntabilitas dan integritas ASN", "nilai Akuntabel di bawah ekspektasi menurut atasan (2026-05, 2026-Q2)"),
        ("Tindak lanjut dialog kinerja: Ikut pelatihan penyusunan SAKIP", "disepakati dalam dialog kinerja 2026-06-03"),
        ("Kerja sama tim dan kolaborasi", "Kolaboratif dibahas dalam dialog kinerja 2026-06-03")]
    assert suggest_training([], [], timeliness=[Decimal(70), Decimal(100)]) == []
