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
