"""``GET /api/v1/scores/<nip>/document``: the "Dokumen Evaluasi Kinerja Pegawai" as PDF, built from
penilaian's own facts (the SKP and feedback arrive as ``tugas.v1`` events), rendered and read back
with pypdf; for the ASN, their supervisor and their agency's admin only."""
import io
import re
from datetime import date
from decimal import Decimal

import pytest

from kinerja.events import make_event
from kinerja.events.pegawai import EMPLOYEE_UPSERTED
from kinerja.events.tugas import FEEDBACK_POSTED, SKP_APPROVED, TASK_APPROVED, TASK_ASSIGNED
from kinerja.webapp import runtime_of
from penilaian.entrypoints.app import create_app
from kinerja_testkit.penilaian import AGENCY, ATASAN, FOREIGN, KEPALA, OTHER_ATASAN, PEG1, PEG2, at, day_event, task_event

pypdf = pytest.importorskip("pypdf")
pytestmark = pytest.mark.integration

RHK_MAIN, RHK_EXTRA = "rhk-laporan", "rhk-tambahan"
LEVELS = {"berorientasi_pelayanan": "above", "akuntabel": "meets", "kompeten": "meets", "harmonis": "above",
          "loyal": "meets", "adaptif": "below", "kolaboratif": "meets"}


def skp_event(revision: int, text: str) -> object:
    return make_event(SKP_APPROVED, subject=PEG1, agency=AGENCY, source="test/tugas", time=at(date(2026, 1, 9)),
                      data={"skp_id": "skp-1", "nip": PEG1, "atasan_nip": ATASAN, "year": 2026, "revision": revision,
                            "approved_at": at(date(2026, 1, 9)),
                            "rhk": [{"id": RHK_MAIN, "kind": "main", "text": text,
                                     "indicators": [{"indicator": "Jumlah laporan keuangan yang tersusun",
                                                     "target_quantity": Decimal("12"), "unit": "laporan",
                                                     "quality_target": 90, "time_target": "12 bulan"}]},
                                    {"id": RHK_EXTRA, "kind": "additional", "text": "Terlaksananya tugas tambahan",
                                     "indicators": [{"indicator": "Jumlah kegiatan", "target_quantity": Decimal("6"),
                                                     "unit": "kegiatan", "quality_target": 100,
                                                     "time_target": "12 bulan"}]}]})


def rhk_task(task_id, due, *, realised=None, quality=None, submitted=None, rhk=RHK_MAIN, event=TASK_APPROVED):
    return task_event(event, PEG1, task_id, "approved" if event == TASK_APPROVED else "assigned", due,
                      at=at(submitted or due), realised=realised, quality=quality, target="4",
                      submitted_at=at(submitted) if submitted else None,
                      approved_at=at(submitted) if event == TASK_APPROVED else None, rhk_id=rhk)


def feedback(message_id, text, author=ATASAN, day=date(2026, 11, 10), rhk=RHK_MAIN):
    return make_event(FEEDBACK_POSTED, subject=PEG1, agency=AGENCY, source="test/tugas", time=at(day),
                      data={"message_id": message_id, "thread_id": "t-" + rhk, "nip": PEG1, "author_nip": author,
                            "recipient_nip": PEG1 if author == ATASAN else ATASAN, "text": text, "rhk_id": rhk,
                            "posted_at": at(day)})


@pytest.fixture
def api(penilaian):
    penilaian.seed_roster()
    # the roster names the jabatan of both people on the document
    for nip, nama, boss, jabatan in ((PEG1, "Pegawai Satu", ATASAN, "Analis Kebijakan"),
                                     (ATASAN, "Atasan Satu", KEPALA, "Kepala Bidang Anggaran")):
        penilaian.apply(make_event(EMPLOYEE_UPSERTED, subject=nip, agency=AGENCY, source="test/roster",
                                   data={"nip": nip, "nama": nama, "agency": AGENCY, "unit": "Sekretariat",
                                         "atasan_nip": boss, "jabatan": jabatan}))
    penilaian.apply(
        skp_event(1, "Tersusunnya laporan (revisi lama)"),
        skp_event(2, "Tersusunnya laporan keuangan yang tepat waktu"),
        skp_event(1, "Tersusunnya laporan (revisi lama)"),  # a late, older revision changes nothing
        rhk_task("t1", date(2026, 10, 12), realised="4", quality=90, submitted=date(2026, 10, 9)),
        rhk_task("t2", date(2026, 11, 12), realised="3", quality=80, submitted=date(2026, 11, 14)),
        rhk_task("t3", date(2026, 12, 5), rhk=RHK_EXTRA, event=TASK_ASSIGNED),  # still open
        rhk_task("t0", date(2026, 9, 10), realised="1", quality=10, submitted=date(2026, 9, 10)),  # another quarter
        day_event(PEG1, date(2026, 10, 6), ("TL2", "1")),
        feedback("m1", "Capaian sesuai target, lengkapi bukti dukung."),
        feedback("m2", "Baik, akan saya lengkapi.", author=PEG1),  # the ASN's reply is not the appraiser's feedback
        feedback("m0", "Umpan balik triwulan lalu.", day=date(2026, 9, 1)),
    )
    app = create_app({"database_url": penilaian.url})
    client = app.test_client()

    def get(path, nip, role, agency=AGENCY, method="GET", **kw):
        return client.open(path, method=method, headers={"Authorization": f"Bearer {penilaian.token(nip, role, agency)}"},
                           **kw)

    r = get(f"/api/v1/ratings/{PEG1}?period=2026-Q4", ATASAN, "atasan", method="PUT", json={"levels": LEVELS})
    assert r.status_code == 200, r.json
    r = get(f"/api/v1/organisation-rating?period=2026", KEPALA, "admin", method="PUT", json={"predikat": "Baik"})
    assert r.status_code == 200, r.json
    yield get
    runtime_of(app).dispose()


def text_of(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def test_the_document_says_what_the_form_asks(api):
    r = api(f"/api/v1/scores/{PEG1}/document?period=2026-Q4", PEG1, "pegawai")
    assert r.status_code == 200, r.data[:300]
    assert r.mimetype == "application/pdf" and r.data.startswith(b"%PDF")
    assert f"evaluasi-kinerja-{PEG1}-2026-Q4.pdf" in r.headers["Content-Disposition"]
    text = text_of(r.data)
    for expected in (
        "DOKUMEN EVALUASI KINERJA PEGAWAI", "TRIWULAN IV (1 OKTOBER 2026 – 31 DESEMBER 2026)",
        # the ASN and the appraiser, from the roster
        "PEGAWAI YANG DINILAI", "Pegawai Satu", PEG1, "Analis Kebijakan",
        "PEJABAT PENILAI KINERJA", "Atasan Satu", ATASAN, "Kepala Bidang Anggaran",
        "CAPAIAN KINERJA ORGANISASI", "Baik",
        # the SKP's latest revision, its indicators and targets, the realisation from the tasks
        "SKP revisi 2", "[Utama] Tersusunnya laporan keuangan yang tepat waktu", "[Tambahan] Terlaksananya tugas tambahan",
        "Jumlah laporan keuangan yang tersusun", "12 laporan; kualitas 90; 12 bulan",
        "2 tugas disetujui; kuantitas 7 dari target 8 (88 %); kualitas rata-rata 85; 1 dari 2 tepat waktu.",
        "1 tugas masih berjalan.",
        # the appraiser's feedback of the quarter (not the ASN's reply, not last quarter's)
        "Capaian sesuai target, lengkapi bukti dukung.",
        # the ratings, the core values as the supervisor rated them, the predikat
        "RATING HASIL KERJA", "RATING PERILAKU KERJA", "Berorientasi Pelayanan", "Kolaboratif",
        "Di atas ekspektasi", "Di bawah ekspektasi", "PREDIKAT KINERJA PEGAWAI",
        "Pegawai yang dinilai", "Pejabat penilai kinerja", f"NIP {ATASAN}",
    ):
        assert expected in text, (expected, text)
    for absent in ("revisi lama", "Baik, akan saya lengkapi.", "Umpan balik triwulan lalu."):
        assert absent not in text
    # the numbers are the score's, as the score API gives them
    score = api(f"/api/v1/scores/{PEG1}?period=2026-Q4", PEG1, "pegawai").json
    assert f"(nilai {score['hasil_kerja']:.2f})".replace(".", ",") in text
    assert f"PREDIKAT KINERJA PEGAWAI {score['predikat'].upper()}" in text


def test_a_year_document_and_who_may_read_it(api):
    year = api(f"/api/v1/scores/{PEG1}/document?period=2026", ATASAN, "atasan")
    assert year.status_code == 200
    text = text_of(year.data)
    assert "TAHUNAN 2026" in text and "3 tugas disetujui" in text  # September's task counts in the year
    assert api(f"/api/v1/scores/{PEG1}/document?period=2026-Q4", KEPALA, "admin").status_code == 200
    # others: another ASN, another supervisor, another agency's admin, an operator
    assert api(f"/api/v1/scores/{PEG1}/document?period=2026-Q4", PEG2, "pegawai").status_code == 403
    assert api(f"/api/v1/scores/{PEG1}/document?period=2026-Q4", OTHER_ATASAN, "atasan").status_code == 403
    assert api(f"/api/v1/scores/{PEG1}/document?period=2026-Q4", KEPALA, "admin", FOREIGN).status_code == 403
    assert api(f"/api/v1/scores/{PEG1}/document?period=2026-Q4", None, "operator").status_code == 403
    # a quarter or a year (a month for an agency that evaluates monthly); nothing else
    month = api(f"/api/v1/scores/{PEG1}/document?period=2026-11", PEG1, "pegawai")
    assert month.status_code == 200 and "BULANAN NOVEMBER 2026" in text_of(month.data)
    for bad in ("2026-13", "2026-Q5", "x", "", "2026-11-01"):
        assert api(f"/api/v1/scores/{PEG1}/document?period={bad}", PEG1, "pegawai").status_code == 400
    assert api(f"/api/v1/scores/{PEG1}/document", PEG1, "pegawai").status_code == 400  # the period is required


def test_without_an_approved_skp_the_document_says_so(api):
    r = api(f"/api/v1/scores/{PEG2}/document?period=2026-Q4", ATASAN, "atasan")
    assert r.status_code == 200
    text = text_of(r.data)
    assert "SKP periode ini belum disetujui." in text and "Pegawai Dua" in text
    assert "BELUM DINILAI" in text  # no facts at all: not rated, never 0


def test_the_skp_and_feedback_facts_survive_a_rebuild_comparison(penilaian, api):
    """The facts the document needs are penilaian's own (stored from events), so a rebuild from
    the topics compares them too."""
    from penilaian.entrypoints.rebuild import _facts

    with penilaian.runtime.session() as s:
        facts = _facts(s)
    assert {(nip, year, rev) for nip, year, _, rev, _ in facts["approved SKPs"]} == {(PEG1, 2026, 2)}
    assert {m for m, *_ in facts["feedback"]} == {"m0", "m1", "m2"}
