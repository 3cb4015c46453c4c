"""The notifications one event gives: who is told, and the text in Bahasa Indonesia."""
from datetime import date

import pytest

from notifikasi.domain import messages as m
from notifikasi.domain.messages import Draft, Person

pytestmark = pytest.mark.unit

ASN = Person("199001012015031001", "Siti Aminah", atasan_nip="198001012005011002")
NO_BOSS = Person("199001012015031001", "Siti Aminah")
UNKNOWN = Person("199001012015031001")  # not on the roster (yet)


def score(**kw):
    return {"nip": ASN.nip, "period": "2026-11", "total": 97.5, "predikat": "Baik", "changes": [], **kw}


@pytest.mark.parametrize("value, text", [(97.5, "97.5"), (100.0, "100"), (0.0, "0"), (88.123, "88.12"),
                                         (99.999, "100"), (None, "belum dinilai")])
def test_format_score(value, text):
    assert m.format_score(value) == text


def test_format_period_and_date():
    assert m.format_period("2026-11") == "November 2026"
    assert m.format_period("Q4") == "Q4"
    assert m.format_date(date(2026, 1, 5)) == "5 Januari 2026"
    assert m.format_date("2026-08-17") == "17 Agustus 2026"


def test_score_update_tells_the_asn_and_their_supervisor():
    asn, atasan = m.score_updated(score(), ASN)
    assert asn == Draft(ASN.nip, m.ASN, m.SCORE_UPDATED, "Skor kinerja November 2026",
                        "Skor kinerja Anda berubah: 97.5 (Baik).")
    assert atasan.recipient_nip == "198001012005011002"
    assert atasan.audience == m.ATASAN
    assert atasan.body == "Skor kinerja Siti Aminah berubah: 97.5 (Baik)."


def test_score_update_names_what_changed():
    [draft, _] = m.score_updated(score(changes=[{"component": "disiplin", "before": 100.0, "after": 99.5},
                                                {"component": "total", "before": 98.0, "after": 97.5}]), ASN)
    assert draft.body == ("Skor kinerja Anda berubah: 97.5 (Baik). "
                          "Perubahan: Disiplin 100 → 99.5; Total 98 → 97.5.")


def test_unrated_score():
    [draft] = m.score_updated(score(total=None, predikat="Belum dinilai"), NO_BOSS)
    assert draft.body == "Skor kinerja Anda berubah: belum dinilai (Belum dinilai)."


def test_a_provisional_total_is_said_to_be_so():
    [draft] = m.score_updated(score(total=None, total_partial=99.5, predikat="Belum dinilai",
                                    changes=[{"component": "total_partial", "before": 100.0, "after": 99.5}]), NO_BOSS)
    assert draft.body == ("Skor kinerja Anda berubah: 99.5 (sementara) (Belum dinilai). "
                          "Perubahan: Total sementara 100 → 99.5.")


def test_the_events_supervisor_wins_over_the_roster_and_a_nip_stands_in_for_a_name():
    drafts = m.score_updated(score(atasan_nip="197001012000011001"), UNKNOWN)
    assert [d.recipient_nip for d in drafts] == [UNKNOWN.nip, "197001012000011001"]
    assert drafts[1].body.startswith(f"Skor kinerja {UNKNOWN.nip} berubah")


def test_nobody_is_their_own_supervisor():
    me = Person("199001012015031001", "Siti", atasan_nip="199001012015031001")
    assert [d.audience for d in m.score_updated(score(), me)] == [m.ASN]


def task(**kw):
    return {"task_id": "t1", "nip": ASN.nip, "title": "Laporan bulanan", "status": "assigned",
            "due_date": "2026-12-01", "target_quantity": "1", **kw}


def test_task_events_reach_the_right_people():
    assert [(d.audience, d.kind) for d in m.task_assigned(task(), ASN)] == [(m.ASN, m.TASK_ASSIGNED)]
    assert m.task_assigned(task(), ASN)[0].body == "Anda mendapat tugas baru: Laporan bulanan (tenggat 1 Desember 2026)."
    # submitted: the supervisor has to act; the ASN did it themselves
    [sub] = m.task_submitted(task(status="submitted"), ASN)
    assert (sub.recipient_nip, sub.body) == (ASN.atasan_nip, "Siti Aminah mengirim hasil tugas: Laporan bulanan. Mohon diperiksa.")
    assert m.task_submitted(task(status="submitted"), NO_BOSS) == []
    [ok] = m.task_approved(task(status="approved", quality=90), ASN)
    assert (ok.recipient_nip, ok.body) == (ASN.nip, "Tugas Anda disetujui: Laporan bulanan. Nilai kualitas: 90.")
    [back] = m.task_returned(task(status="returned", note="Lengkapi lampiran"), ASN)
    assert back.body == "Tugas Anda dikembalikan untuk diperbaiki: Laporan bulanan. Catatan atasan: Lengkapi lampiran"
    late = m.task_overdue(task(), ASN)
    assert [(d.recipient_nip, d.audience) for d in late] == [(ASN.nip, m.ASN), (ASN.atasan_nip, m.ATASAN)]
    assert late[1].body == "Tugas Siti Aminah melewati tenggat 1 Desember 2026: Laporan bulanan."
    assert [d.recipient_nip for d in m.task_cancelled(task(), ASN)] == [ASN.nip]


def test_a_submission_names_its_evidence_files_and_a_reschedule_says_what_changed():
    files = [{"evidence_id": "e1", "name": "a.pdf", "size": 10, "sha256": "0" * 64},
             {"evidence_id": "e2", "name": "b.csv", "size": 5, "sha256": "1" * 64}]
    [sub] = m.task_submitted(task(status="submitted", evidence=files), ASN)
    assert sub.body == "Siti Aminah mengirim hasil tugas: Laporan bulanan (2 berkas bukti). Mohon diperiksa."
    moved = task(due_date="2026-12-20", target_quantity="3.00", previous_due_date="2026-12-01",
                 previous_target_quantity="1", previous_title="Laporan bulanan")
    [d] = m.task_rescheduled(moved, ASN)
    assert (d.recipient_nip, d.audience, d.kind, d.title) == (ASN.nip, m.ASN, m.TASK_RESCHEDULED, "Jadwal tugas diubah")
    assert d.body == ("Atasan mengubah tugas Anda: Laporan bulanan (tenggat 1 Desember 2026 → 20 Desember 2026; "
                      "target 1 → 3).")
    renamed = task(title="Laporan akhir", previous_due_date="2026-12-01", previous_target_quantity="1",
                   previous_title="Laporan bulanan")
    assert m.task_rescheduled(renamed, ASN)[0].body == (
        "Atasan mengubah tugas Anda: Laporan akhir (judul semula \"Laporan bulanan\").")


def test_feedback_goes_to_its_recipient_only():
    data = {"message_id": "m1", "thread_id": "th", "nip": ASN.nip, "author_nip": ASN.atasan_nip,
            "recipient_nip": ASN.nip, "text": "Bagus, lanjutkan."}
    [d] = m.feedback_posted(data, ASN, Person(ASN.atasan_nip, "Ir. Budi"))
    assert (d.recipient_nip, d.audience, d.body) == (ASN.nip, m.ASN, "Ir. Budi menulis: Bagus, lanjutkan.")
    long = m.feedback_posted({**data, "text": "x" * 300}, ASN)[0]
    assert len(long.body.split(": ", 1)[1]) == 140
    assert m.feedback_posted({**data, "recipient_nip": data["author_nip"]}, ASN) == []


def test_discipline_alert():
    data = {"nip": ASN.nip, "year": 2026, "kind": "cumulative", "days": 3, "threshold": 3, "date": "2026-11-27"}
    asn, atasan = m.discipline_alert(data, ASN)
    assert asn.body == "Anda tercatat tidak masuk kerja 3 hari tanpa keterangan sepanjang tahun 2026 (per 27 November 2026)."
    assert atasan.recipient_nip == ASN.atasan_nip and "PP 94/2021" in atasan.body
    [only] = m.discipline_alert({**data, "kind": "consecutive", "days": 10}, NO_BOSS)
    assert "10 hari kerja berturut-turut" in only.body


def test_discipline_alert_withdrawn():
    data = {"nip": ASN.nip, "year": 2026, "kind": "cumulative", "days": 2, "threshold": 3,
            "raised_on": "2026-11-27", "date": "2026-12-02"}
    asn, atasan = m.discipline_withdrawn(data, ASN)
    assert (asn.kind, asn.title) == ("discipline.withdrawn", "Peringatan disiplin dicabut")
    assert asn.body.startswith("Peringatan disiplin Anda karena 3 hari tanpa keterangan sepanjang tahun 2026 "
                               "(per 27 November 2026) dicabut: kini tercatat 2 hari")
    assert atasan.recipient_nip == ASN.atasan_nip and "Tidak perlu ditindaklanjuti lagi" in atasan.body
    [only] = m.discipline_withdrawn({**data, "kind": "consecutive", "threshold": 10, "days": 6}, NO_BOSS)
    assert "10 hari kerja berturut-turut" in only.body and "rangkaian terpanjang kini 6 hari" in only.body


def test_skp_and_innovation():
    assert m.skp_approved({"year": 2026, "revision": 2}, ASN)[0].body == "SKP Anda tahun 2026 (revisi 2) telah disetujui."
    assert m.innovation_approved({"title": "Antrian daring"}, ASN)[0].body == "Usulan inovasi Anda disetujui: Antrian daring."


def test_one_notification_per_recipient():
    a = Draft("1", m.ASN, "k", "t", "b")
    b = Draft("1", m.ATASAN, "k", "t2", "b2")
    c = Draft("2", m.ATASAN, "k", "t", "b")
    assert m.unique_recipients([a, b, c]) == [a, c]


def test_one_change_is_told_once_with_its_other_periods():
    """Issue 19 item 11: the events of a change's quarter and year (part_of) tell nobody; the
    month's names them."""
    from notifikasi.domain.messages import format_period, score_updated

    asn = Person("199001012015031001", "Siti Aminah", atasan_nip="198001012005011002")
    lead = {"period": "2026-11", "total": 97.5, "predikat": "Baik", "changes": [],
            "also": [{"period": "2026-Q4", "total": 98.0, "predikat": "Sangat Baik"},
                     {"period": "2026", "total": None, "total_partial": 96.25, "predikat": "Belum dinilai"}]}
    drafts = score_updated(lead, asn)
    assert [d.recipient_nip for d in drafts] == [asn.nip, asn.atasan_nip]
    assert drafts[0].body == ("Skor kinerja Anda berubah: 97.5 (Baik). Juga: Triwulan IV 2026 98 (Sangat Baik); "
                              "Tahun 2026 96.25 (sementara) (Belum dinilai).")
    assert score_updated({"period": "2026-Q4", "total": 98.0, "predikat": "Baik", "part_of": "e-1"}, asn) == []
    assert [format_period(p) for p in ("2026-01", "2026-Q1", "2026", "x")] == [
        "Januari 2026", "Triwulan I 2026", "Tahun 2026", "x"]


def test_what_waits_goes_to_the_supervisor_and_the_decision_to_the_asn():
    """Issue 19 item 8."""
    from notifikasi.domain import messages as m

    asn = Person("199001012015031001", "Siti Aminah", atasan_nip="198001012005011002")
    [d] = m.leave_requested({"kind": "sakit", "start_date": "2026-12-01", "end_date": "2026-12-01",
                             "reason": "demam"}, asn)
    assert (d.recipient_nip, d.audience, d.kind, d.title) == (asn.atasan_nip, "atasan", "leave.requested",
                                                              "Permohonan izin sakit menunggu persetujuan")
    assert d.body == "Siti Aminah mengajukan izin sakit 1 Desember 2026 (alasan: demam). Mohon diperiksa dan diputuskan."
    [d] = m.leave_decided({"kind": "cuti", "start_date": "2026-12-01", "end_date": "2026-12-02", "status": "approved",
                           "note": ""}, asn)
    assert (d.recipient_nip, d.title, d.body) == (asn.nip, "Permohonan cuti disetujui",
                                                  "Permohonan cuti Anda 1 Desember 2026 s.d. 2 Desember 2026 disetujui.")
    [d] = m.leave_decided({"kind": "cuti", "start_date": "2026-12-01", "status": "cancelled"}, asn)
    assert d.recipient_nip == asn.atasan_nip and d.body == "Siti Aminah membatalkan permohonan cuti 1 Desember 2026."
    for rule, data in ((m.skp_submitted, {"year": 2027}), (m.task_proposed, {"title": "x", "due_date": "2026-12-01"}),
                       (m.innovation_proposed, {"title": "x"}), (m.correction_requested, {"date": "2026-11-26"})):
        [d] = rule(data, asn)
        assert d.recipient_nip == asn.atasan_nip and d.audience == "atasan" and "Mohon diperiksa" in d.body
        assert rule(data, Person(asn.nip)) == []  # nobody to tell without a supervisor
    [d] = m.correction_decided({"date": "2026-11-26", "status": "rejected", "note": "tidak ada bukti"}, asn)
    assert (d.recipient_nip, d.title) == (asn.nip, "Koreksi absen ditolak") and d.body.endswith("Catatan: tidak ada bukti")
