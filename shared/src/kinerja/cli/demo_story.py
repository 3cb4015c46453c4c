"""The demo history's material: the agency's people as personas (how each works), the texts of
their tasks, RHK, feedback, training and innovations, and the working day."""
from __future__ import annotations

import uuid
from datetime import time
from typing import Any



BERAKHLAK = ("berorientasi_pelayanan", "akuntabel", "kompeten", "harmonis", "loyal", "adaptif", "kolaboratif")
LEVELS = ("below", "meets", "above")
START, END_MON_THU, END_FRI = time(7, 30), time(16, 0), time(16, 30)
TMT_LOOKBACK_DAYS = 92  # kehadiran closes the days of a TMT at most this far before the roster named the ASN
NAMESPACE = uuid.UUID("6f1c2b8e-4d1a-4c47-9a55-0d6c1e9b7a10")  # ids: uuid5 of this and a story key

# persona → (discipline weights, task quality range, submission offset days (min, max), supervisor level
# weights, self level shift)
PERSONAS: dict[str, dict[str, Any]] = {
    "teladan": {"days": {"ontime": 97, "TL1": 3}, "quality": (88, 97), "offset": (-3, -1), "realised": (0.95, 1.1),
                "levels": {"above": 6, "meets": 1}},
    "baik": {"days": {"ontime": 88, "TL1": 7, "TL2": 2, "PSW1": 2, "PSW2": 1}, "quality": (70, 86),
             "offset": (-2, 1), "realised": (0.75, 1.0), "levels": {"meets": 5, "above": 1}},
    "telat": {"days": {"ontime": 66, "TL1": 17, "TL2": 9, "TL3": 3, "TL4": 1, "PSW1": 2, "PSW4": 2},
              "quality": (68, 84), "offset": (-1, 2), "realised": (0.75, 1.0), "levels": {"meets": 5, "below": 1}},
    "lemah": {"days": {"ontime": 80, "TL1": 8, "TL2": 4, "TL3": 2, "PSW2": 2, "PSW3": 2, "PSW4": 2},
              "quality": (48, 66), "offset": (2, 5), "realised": (0.5, 0.8), "levels": {"below": 2, "meets": 3}},
}
TASKS = ("Menyusun laporan {what}", "Memverifikasi data {what}", "Menyiapkan bahan rapat {what}",
         "Mengolah usulan {what}", "Memutakhirkan arsip {what}", "Melayani konsultasi {what}")
WHAT = {"Sekretariat": ("keuangan", "kepegawaian", "aset", "perencanaan"),
        "Bidang Pembinaan SD": ("BOS SD", "akreditasi SD", "sarana SD", "kurikulum SD"),
        "Bidang Pembinaan SMP": ("BOS SMP", "akreditasi SMP", "sarana SMP", "ujian SMP"),
        "Bidang GTK": ("sertifikasi guru", "mutasi guru", "tunjangan profesi", "kenaikan pangkat guru")}
RHK = (("main", "Terselenggaranya layanan administrasi {what} yang tepat waktu",
        [("Jumlah laporan {what} yang tersusun", 12, "laporan")]),
       ("main", "Meningkatnya kualitas data {what}",
        [("Persentase data {what} yang terverifikasi", 100, "persen"), ("Jumlah dokumen yang dimutakhirkan", 24, "dokumen")]),
       ("additional", "Terlaksananya tugas tambahan dari pimpinan", [("Jumlah kegiatan yang dilaksanakan", 6, "kegiatan")]))
FEEDBACK = {"teladan": ("Capaian melampaui target, pertahankan dan bagikan caranya ke rekan satu tim.",
                        "Kualitas laporan sangat baik dan selalu tepat waktu."),
            "baik": ("Capaian sesuai target. Perhatikan kelengkapan lampiran bukti dukung.",
                     "Sudah baik; tingkatkan ketelitian pada rekap data."),
            "telat": ("Hasil kerja cukup, tetapi kehadiran sering terlambat; mohon diperbaiki.",
                      "Penyelesaian tugas baik, disiplin waktu masuk kerja perlu ditingkatkan."),
            "lemah": ("Beberapa tugas terlambat dan perlu perbaikan; kita bahas dalam dialog kinerja.",
                      "Kualitas hasil kerja belum sesuai ekspektasi; ikuti pendampingan dari kepala bidang.")}
TRAININGS = (("Pelatihan Manajemen Waktu dan Produktivitas", 12, "BKPSDM Lampung Selatan"),
             ("Bimtek Pelayanan Publik Prima", 16, "BPSDM Provinsi Lampung"),
             ("Pelatihan Penyusunan SKP dan Kinerja ASN", 8, "BKPSDM Lampung Selatan"),
             ("Diklat Pengelolaan Data dan Arsip Digital", 10, "ANRI"),
             ("Webinar Core Values BerAKHLAK", 4, "Kementerian PANRB"))
INNOVATIONS = ("Formulir daring usulan sertifikasi guru", "Dasbor rekap BOS per sekolah",
               "Antrian layanan mutasi berbasis WhatsApp", "Arsip digital SK kenaikan pangkat",
               "Kalender bersama jadwal akreditasi sekolah")


MONTHS_ID = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
             "November", "Desember")
