"""What the APIs say to people, in Bahasa Indonesia, or in English when the client asks for it
(``Accept-Language: en``). One place: the shared error handlers (``kinerja.web``) translate every
message on its way out, so the code keeps writing its reasons in English, next to the rule they
explain, and no route translates anything itself.

A message is looked up in ``CATALOGUE``: English templates whose ``{}`` stand for the values the
code put in (NIPs, dates, counts, names), each with its Indonesian sentence (``{0}``, ``{1}``, ...
are the values in the English order, so a sentence may put them where Indonesian wants them). A
value that is itself an English word the catalogue knows (an action, a duration) is translated too.
``tests`` hold every message the services raise against the catalogue, so a new one without its
Indonesian fails the build rather than reaching an ASN in English.
"""
from __future__ import annotations

import re
from functools import lru_cache

ID, EN = "id", "en"
LANGUAGES = (ID, EN)

# (English template, Indonesian). Sorted by where the messages come from.
CATALOGUE: tuple[tuple[str, str], ...] = (
    # -- HTTP (werkzeug's own descriptions) --------------------------------------------------------
    ("The browser (or proxy) sent a request that this server could not understand.",
     "Permintaan tidak dapat dipahami server."),
    ("The server could not verify that you are authorized to access the URL requested. You either supplied "
     "the wrong credentials (e.g. a bad password), or your browser doesn't understand how to supply the "
     "credentials required.", "Server tidak dapat memastikan Anda berhak mengakses alamat ini: kredensial salah "
                              "atau tidak dikirim."),
    ("You don't have the permission to access the requested resource. It is either read-protected or not "
     "readable by the server.", "Anda tidak berhak mengakses sumber daya ini."),
    ("The requested URL was not found on the server. If you entered the URL manually please check your "
     "spelling and try again.", "Alamat yang diminta tidak ditemukan di server. Periksa kembali penulisannya."),
    ("The method is not allowed for the requested URL.", "Metode ini tidak diizinkan untuk alamat tersebut."),
    ("A conflict happened while processing the request. The resource might have been modified while the "
     "request was being processed.", "Terjadi konflik: data mungkin diubah pihak lain saat permintaan diproses."),
    ("The data value transmitted exceeds the capacity limit.", "Data yang dikirim melebihi batas ukuran."),
    ("The server does not support the media type transmitted in the request.",
     "Server tidak mendukung jenis media yang dikirim."),
    ("The request was well-formed but was unable to be followed due to semantic errors.",
     "Permintaan tidak dapat diproses karena isinya tidak sah."),
    ("This user has exceeded an allotted request count. Try again later.",
     "Terlalu banyak permintaan. Coba lagi nanti."),
    ("The server encountered an internal error and was unable to complete your request. Either the server "
     "is overloaded or there is an error in the application.",
     "Terjadi kesalahan di server sehingga permintaan tidak dapat diselesaikan."),
    ("The server is temporarily unable to service your request due to maintenance downtime or capacity "
     "problems. Please try again later.", "Server sementara tidak dapat melayani permintaan. Coba lagi nanti."),
    ("The resource identified by the request is only capable of generating response entities which have "
     "content characteristics not acceptable according to the accept headers sent in the request.",
     "Sumber daya ini tidak dapat dikirim dalam format yang diminta (header Accept)."),
    # -- marshmallow's own messages -------------------------------------------------------------------
    ("Missing data for required field.", "wajib diisi"),
    ("Field may not be null.", "tidak boleh kosong (null)"),
    ("Unknown field.", "kolom tidak dikenal"),
    ("Invalid input type.", "jenis masukan tidak sah"),
    ("Invalid type.", "jenis tidak sah"),
    ("Invalid value.", "nilai tidak sah"),
    ("Invalid input.", "masukan tidak sah"),
    ("Not a valid string.", "bukan teks yang sah"),
    ("Not a valid integer.", "bukan bilangan bulat yang sah"),
    ("Not a valid number.", "bukan angka yang sah"),
    ("Not a valid boolean.", "bukan nilai boolean yang sah"),
    ("Not a valid date.", "bukan tanggal yang sah (YYYY-MM-DD)"),
    ("Not a valid datetime.", "bukan waktu yang sah (RFC 3339)"),
    ("Not a valid aware datetime.", "bukan waktu yang sah dengan zona waktu (RFC 3339, mis. +07:00)"),
    ("Not a valid naive datetime.", "bukan waktu tanpa zona waktu yang sah"),
    ("Not a valid time.", "bukan jam yang sah"),
    ("Not a valid list.", "bukan daftar (list) yang sah"),
    ("Not a valid tuple.", "bukan tuple yang sah"),
    ("Not a valid mapping type.", "bukan objek yang sah"),
    ("Not a valid email address.", "bukan alamat e-mail yang sah"),
    ("Not a valid URL.", "bukan URL yang sah"),
    ("Not a valid UUID.", "bukan UUID yang sah"),
    ("Not a valid IP address.", "bukan alamat IP yang sah"),
    ("Not a valid utf-8 string.", "bukan teks UTF-8 yang sah"),
    ("Not a valid period of time.", "bukan rentang waktu yang sah"),
    ("Number too large.", "angka terlalu besar"),
    ("Special numeric values (nan or infinity) are not permitted.",
     "nilai angka khusus (nan atau tak hingga) tidak diizinkan"),
    ("String does not match expected pattern.", "teks tidak sesuai pola yang diharapkan"),
    ('"{}" cannot be formatted as a date.', '"{0}" tidak dapat dibaca sebagai tanggal'),
    ('"{}" cannot be formatted as a datetime.', '"{0}" tidak dapat dibaca sebagai waktu'),
    ("Length must be between {} and {}.", "panjangnya harus {0} sampai {1}"),
    ("Shorter than minimum length {}.", "lebih pendek dari panjang minimum {0}"),
    ("Longer than maximum length {}.", "lebih panjang dari panjang maksimum {0}"),
    ("Length must be {}.", "panjangnya harus {0}"),
    ("Must be one of: {}.", "harus salah satu dari: {0}"),
    ("Must be greater than or equal to {} and less than or equal to {}.", "harus antara {0} dan {1}"),
    ("Must be greater than {} and less than or equal to {}.", "harus lebih dari {0} dan paling banyak {1}"),
    ("Must be greater than or equal to {} and less than {}.", "harus paling sedikit {0} dan kurang dari {1}"),
    ("Must be greater than {} and less than {}.", "harus lebih dari {0} dan kurang dari {1}"),
    ("Must be greater than or equal to {}.", "harus paling sedikit {0}"),
    ("Must be greater than {}.", "harus lebih dari {0}"),
    ("Must be less than or equal to {}.", "harus paling banyak {0}"),
    ("Must be less than {}.", "harus kurang dari {0}"),
    ("Must be equal to {}.", "harus sama dengan {0}"),
    # -- shared: fields, the web layer, tokens --------------------------------------------------------
    ("{} must be from {} to {}", "{0} harus dari {1} sampai {2}"),
    ("period must be YYYY-MM from {} to {}", "periode harus YYYY-MM, dari {0} sampai {1}"),
    ("control characters are not allowed", "karakter kontrol tidak diizinkan"),
    ("control characters are not allowed (line breaks and tabs are)",
     "karakter kontrol tidak diizinkan (kecuali ganti baris dan tab)"),
    ("at most {} digits after the decimal point", "paling banyak {0} angka di belakang koma"),
    ("between {} and {} entries", "harus berisi {0} sampai {1} entri"),
    ("request body of {} bytes is over the limit of {}", "isi permintaan {0} byte melebihi batas {1} byte"),
    ("chunked request body is over the limit of {} bytes", "isi permintaan melebihi batas {0} byte"),
    ("parameter {} contains a control character", "parameter {0} berisi karakter kontrol"),
    ("request body is nested too deeply", "isi permintaan bersarang terlalu dalam"),
    ("invalid JSON body: {}", "isi JSON tidak sah: {0}"),
    ("an integer of {} digits is out of range", "bilangan bulat {0} digit di luar jangkauan"),
    ("the number {} is out of range", "angka {0} di luar jangkauan"),
    ("{} is not a JSON number", "{0} bukan angka JSON"),
    ("a string contains a NUL character", "teks berisi karakter NUL"),
    ("database unavailable, retry: {}", "basis data tidak tersedia, coba lagi: {0}"),
    ("missing bearer token", "token bearer tidak ada"),
    ("token expired", "token kedaluwarsa"),
    ("invalid token: unknown role", "token tidak sah: peran tidak dikenal"),
    ("invalid token: algorithm {} not allowed for {}", "token tidak sah: algoritma {0} tidak diizinkan untuk {1}"),
    ("invalid token: no known role in claim {}", "token tidak sah: tidak ada peran yang dikenal di klaim {0}"),
    ("invalid token: no agency in claim {}", "token tidak sah: tidak ada instansi di klaim {0}"),
    ("invalid token: no NIP in claim {}", "token tidak sah: tidak ada NIP di klaim {0}"),
    ("invalid token: the agency and NIP claims must be plain values",
     "token tidak sah: klaim instansi dan NIP harus berupa nilai tunggal"),
    ("invalid token: {}", "token tidak sah: {0}"),
    ("a token in the query string (access_token) is accepted only by the event stream; send it as "
     "'Authorization: Bearer <token>'", "token di query string (access_token) hanya diterima aliran notifikasi; "
                                        "kirim sebagai 'Authorization: Bearer <token>'"),
    ("role {} may not do this", "peran {0} tidak boleh melakukan ini"),
    ("NIP must be 18 digits", "NIP harus 18 digit"),
    ("tmt must be between {} and {}", "tmt harus antara {0} dan {1}"),
    ("tpp must be 0 to 1,000,000,000 rupiah", "tpp harus 0 sampai 1.000.000.000 rupiah"),
    # -- kehadiran -------------------------------------------------------------------------------------
    ("PIN must be 1-20 digits", "PIN harus 1-20 digit"),
    ("1-128 letters or digits", "1-128 huruf atau angka"),
    ("HH:MM", "format jam HH:MM"),
    ("period must be YYYY-MM", "periode harus YYYY-MM"),
    ("give one of pin or nip, not both", "isi salah satu, pin atau nip, bukan keduanya"),
    ("each punch is an object", "setiap absen harus berupa objek"),
    ("a punch has at most {} fields", "satu absen paling banyak berisi {0} kolom"),
    ("give both start and end, or neither for a day off", "isi start dan end, atau kosongkan keduanya untuk hari libur"),
    ("give exactly one of command or kind", "isi tepat satu, command atau kind"),
    ("reupload needs start and end", "reupload butuh start dan end"),
    ("user needs nip, or pin and name", "user butuh nip, atau pin dan name"),
    ("a phone may punch only for its own NIP", "ponsel hanya boleh absen untuk NIP pemiliknya"),
    ("a device names the person: pin or nip", "mesin absen harus menyebut orangnya: pin atau nip"),
    ("a device sends the time of each punch", "mesin absen harus mengirim waktu setiap absen"),
    ("time is in the future", "waktunya di masa depan"),
    ("lat and lon are required to check in", "lat dan lon wajib diisi untuk absen"),
    ("outside the office of {}: {} m away, the radius is {} m (record official duty to check in elsewhere)",
     "di luar kantor {0}: berjarak {1} m, radiusnya {2} m (catat dinas luar untuk absen di tempat lain)"),
    ("a phone punch is recorded at the moment it arrives ({}); {} is {} that, more than the {} allowed. "
     "A punch forgotten on a past day is asked for as a correction (lupa absen): POST /api/v1/corrections",
     "absen dari ponsel dicatat saat diterima ({0}); {1} berselisih {2} itu, lebih dari {3} yang diizinkan. "
     "Absen yang terlupa pada hari yang lalu diajukan sebagai koreksi (lupa absen): POST /api/v1/corrections"),
    ("no valid punch in the batch", "tidak ada absen yang sah dalam kiriman ini"),
    ("no valid line in the CSV", "tidak ada baris yang sah dalam CSV"),
    ("expected date,name[,kind]", "format baris: tanggal,nama[,jenis]"),
    ("date: {} is not YYYY-MM-DD", "tanggal: {0} bukan YYYY-MM-DD"),
    ("name: empty", "nama: kosong"),
    ("kind: {} is not one of {}", "jenis: {0} bukan salah satu dari {1}"),
    ("device is not registered", "mesin absen belum terdaftar"),
    ("device {} is not registered", "mesin absen {0} belum terdaftar"),
    ("device {} is not registered in your agency", "mesin absen {0} tidak terdaftar di instansi Anda"),
    ("device {} is registered to another agency; that agency (or an operator) must release it first",
     "mesin absen {0} terdaftar di instansi lain; instansi itu (atau operator) harus melepasnya dulu"),
    ("device {} is released already", "mesin absen {0} sudah dilepas"),
    ("device {} is released: it gets no commands", "mesin absen {0} sudah dilepas: tidak menerima perintah"),
    ("an admin manages the devices of their own agency only", "admin hanya mengelola mesin absen instansinya sendiri"),
    ("an admin registers devices of their own agency only", "admin hanya mendaftarkan mesin absen instansinya sendiri"),
    ("NIP {} is not on the roster of agency {}", "NIP {0} tidak ada di daftar pegawai instansi {1}"),
    ("NIP {} has no device PIN on the roster", "NIP {0} tidak punya PIN mesin absen di daftar pegawai"),
    ("only operators queue raw commands; use a typed kind", "hanya operator yang boleh mengirim perintah mentah; "
                                                            "gunakan kind"),
    ("a re-upload spans at most {} days", "unggah ulang paling lama {0} hari"),
    ("end must be after start", "end harus sesudah start"),
    ("PIN must be 1-{} letters or digits", "PIN harus 1-{0} huruf atau angka"),
    ("{} may not contain tabs or line breaks", "{0} tidak boleh berisi tab atau pindah baris"),
    ("command is empty", "perintah kosong"),
    ("a command is one line", "perintah hanya satu baris"),
    ("a command has at most {} characters", "perintah paling banyak {0} karakter"),
    ("{} is not an IP address or network", "{0} bukan alamat atau jaringan IP"),
    ("at most {} addresses", "paling banyak {0} alamat"),
    ("serial numbers starting with {} are kept for phone check-ins",
     "nomor seri yang diawali {0} disediakan untuk absen ponsel"),
    ("the range must run forwards and span at most 93 days",
     "rentang tanggal harus maju dan paling lama 93 hari"),
    ("end_date is before start_date", "end_date sebelum start_date"),
    ("{} spans at most {} days", "{0} paling lama {1} hari"),
    ("{} is not a weekday ({})", "{0} bukan nama hari ({1})"),
    ("recompute_from is in the future", "recompute_from di masa depan"),
    ("recompute_from must be within the last {} days", "recompute_from harus dalam {0} hari terakhir"),
    ("no office location set for {}", "lokasi kantor {0} belum diatur"),
    ("no ASN {} in your agency", "tidak ada ASN {0} di instansi Anda"),
    ("you may not {} the attendance of {}", "Anda tidak boleh {0} kehadiran {1}"),
    ("an operator names the agency", "operator harus menyebut instansinya"),
    ("an admin acts on their own agency only", "admin hanya bertindak untuk instansinya sendiri"),
    ("a supervisor reads the recap of their own unit, and the roster does not name yours",
     "atasan membaca rekap unitnya sendiri, dan daftar pegawai tidak mencatat unit Anda"),
    ("a supervisor reads the recap of their own unit ({}) only", "atasan hanya membaca rekap unitnya sendiri ({0})"),
    # corrections (lupa absen)
    ("a correction is asked for by the ASN themselves", "koreksi diajukan oleh ASN sendiri"),
    ("the correction cannot be asked for", "koreksi tidak dapat diajukan"),
    ("{} has not begun: a correction is for today or a past day",
     "{0} belum tiba: koreksi untuk hari ini atau hari yang telah lalu"),
    ("{} is more than {} days ago: corrections are asked within {} days",
     "{0} lebih dari {1} hari yang lalu: koreksi diajukan paling lambat {2} hari"),
    ("{} is not a workday for this ASN: there is nothing to correct",
     "{0} bukan hari kerja ASN ini: tidak ada yang perlu dikoreksi"),
    ("[{}] {} is given twice", "[{0}] {1} diisi dua kali"),
    ("[{}] {} is in the future", "[{0}] {1} di masa depan"),
    ("[{}] {} does not belong to the workday of {}", "[{0}] {1} bukan bagian dari hari kerja {2}"),
    ("a correction of {} is waiting for a decision already ({})",
     "koreksi untuk {0} sudah menunggu keputusan ({1})"),
    ("nobody decides on their own correction", "tidak ada yang memutuskan koreksinya sendiri"),
    ("only the supervisor of {} or an admin of the agency decides on this correction",
     "hanya atasan {0} atau admin instansi yang memutuskan koreksi ini"),
    ("no correction {} in your agency", "tidak ada koreksi {0} di instansi Anda"),
    ("you may not see the corrections of {}", "Anda tidak boleh melihat koreksi milik {0}"),
    ("the request was {} already", "permohonan ini sudah {0}"),
    ("the request was {} already: only a waiting request is withdrawn",
     "permohonan ini sudah {0}: hanya permohonan yang menunggu yang dapat dibatalkan"),
    # leave requests
    ("a leave request is made by the ASN themselves", "permohonan cuti diajukan oleh ASN sendiri"),
    ("the leave request cannot be made", "permohonan cuti tidak dapat diajukan"),
    ("{} is before start_date {}", "{0} sebelum start_date {1}"),
    ("a request spans at most {} days", "permohonan paling lama {0} hari"),
    ("{} is more than {} days ago: ask within {} days", "{0} lebih dari {1} hari yang lalu: ajukan paling lambat {2} hari"),
    ("{} is more than {} days ahead", "{0} lebih dari {1} hari ke depan"),
    ("a request over these days is waiting for a decision already ({})",
     "permohonan untuk hari-hari ini sudah menunggu keputusan ({0})"),
    ("nobody decides on their own leave request", "tidak ada yang memutuskan permohonan cutinya sendiri"),
    ("only the supervisor of {} or an admin of the agency decides on this request",
     "hanya atasan {0} atau admin instansi yang memutuskan permohonan ini"),
    ("only the ASN withdraws their own request", "hanya ASN yang bersangkutan yang membatalkan permohonannya"),
    ("no leave request {} in your agency", "tidak ada permohonan cuti {0} di instansi Anda"),
    ("you may not see the leave requests of {}", "Anda tidak boleh melihat permohonan cuti milik {0}"),
    # -- tugas ---------------------------------------------------------------------------------------------
    ("task or RHK {} not found", "tugas atau RHK {0} tidak ditemukan"),
    ("innovation {} not found", "inovasi {0} tidak ditemukan"),
    ("evidence {} not found", "bukti {0} tidak ditemukan"),
    ("task {} not found", "tugas {0} tidak ditemukan"),
    ("SKP {} not found", "SKP {0} tidak ditemukan"),
    ("multipart field 'file' is required", "kolom multipart 'file' wajib diisi"),
    ("this proposal is neither yours nor your team's", "usulan ini bukan milik Anda atau tim Anda"),
    ("this SKP is neither yours, your team's nor your supervisor's",
     "SKP ini bukan milik Anda, tim Anda, atau atasan Anda"),
    ("this task is neither yours nor your team's", "tugas ini bukan milik Anda atau tim Anda"),
    ("feedback must not be blank", "umpan balik tidak boleh kosong"),
    ("give at least one of due_date, title, target_quantity", "isi paling sedikit satu: due_date, title, target_quantity"),
    ("title must not be blank", "judul tidak boleh kosong"),
    ("note must not be blank", "catatan tidak boleh kosong"),
    ("give exactly one of task_id or rhk_id", "isi tepat satu, task_id atau rhk_id"),
    ("you have no supervisor on the roster to write to", "Anda tidak punya atasan di daftar pegawai untuk disurati"),
    ("only the ASN and their supervisor take part in this thread", "hanya ASN dan atasannya yang ikut dalam percakapan ini"),
    ("a message needs text", "pesan harus berisi teks"),
    ("a message is at most {} characters", "pesan paling banyak {0} karakter"),
    ("an innovation needs a title and a description", "inovasi butuh judul dan uraian"),
    ("only the proposer's supervisor may {} this innovation", "hanya atasan pengusul yang boleh {0} inovasi ini"),
    ("cannot {} an innovation that is {}", "tidak dapat {0} inovasi yang berstatus {1}"),
    ("a note is required when rejecting an innovation", "catatan wajib diisi saat menolak inovasi"),
    ("cannot {} an SKP that is {}; allowed from: {}", "tidak dapat {0} SKP yang berstatus {1}; hanya dari: {2}"),
    ("{}: kind must be one of {}", "{0}: kind harus salah satu dari {1}"),
    ("{}: text is required", "{0}: teks wajib diisi"),
    ("{}: at least one indicator is required", "{0}: paling sedikit satu indikator wajib diisi"),
    ("{}.indicators[{}]: target_quantity must be greater than 0",
     "{0}.indicators[{1}]: target_quantity harus lebih dari 0"),
    ("{}.indicators[{}]: indicator and unit are required", "{0}.indicators[{1}]: indicator dan unit wajib diisi"),
    ("{}.indicators[{}]: quality_target must be 0 to 100", "{0}.indicators[{1}]: quality_target harus 0 sampai 100"),
    ("{}: parent_rhk_id {} is not an RHK of your supervisor's SKP",
     "{0}: parent_rhk_id {1} bukan RHK dalam SKP atasan Anda"),
    ("year is out of range", "tahun di luar jangkauan"),
    ("only the owner of an SKP may change it", "hanya pemilik SKP yang boleh mengubahnya"),
    ("only the owner of an SKP may submit it", "hanya pemilik SKP yang boleh mengajukannya"),
    ("an SKP needs at least one main RHK", "SKP butuh paling sedikit satu RHK utama"),
    ("only the owner's supervisor may {} this SKP", "hanya atasan pemilik yang boleh {0} SKP ini"),
    ("a note is required when returning an SKP", "catatan wajib diisi saat mengembalikan SKP"),
    ("cannot {} a task that is {}; allowed from: {}", "tidak dapat {0} tugas yang berstatus {1}; hanya dari: {2}"),
    ("{} must be greater than 0", "{0} harus lebih dari 0"),
    ("only the direct supervisor of the assignee may assign them a task",
     "hanya atasan langsung penerima tugas yang boleh memberinya tugas"),
    ("a supervisor cannot assign a task to themselves", "atasan tidak dapat memberi tugas kepada dirinya sendiri"),
    ("title is required", "judul wajib diisi"),
    ("due_date {} is in the past (today is {})", "due_date {0} sudah lewat (hari ini {1})"),
    ("you have no supervisor on the roster to accept a proposal",
     "Anda tidak punya atasan di daftar pegawai untuk menerima usulan"),
    ("a reason is required when rejecting a proposal", "alasan wajib diisi saat menolak usulan"),
    ("only the assignee may {} this task", "hanya penerima tugas yang boleh {0} tugas ini"),
    ("only the assignee's supervisor may {} this task", "hanya atasan penerima tugas yang boleh {0} tugas ini"),
    ("realised_quantity must be 0 or more", "realised_quantity harus 0 atau lebih"),
    ("quality must be a whole number from 0 to 100", "quality harus bilangan bulat 0 sampai 100"),
    ("feedback is required when returning a task", "umpan balik wajib diisi saat mengembalikan tugas"),
    ("only the assignee adds evidence to this task", "hanya penerima tugas yang menambah bukti ke tugas ini"),
    ("cannot add evidence to a task that is {}", "tidak dapat menambah bukti ke tugas yang berstatus {0}"),
    ("file is larger than {} bytes", "berkas lebih besar dari {0} byte"),
    ("file is empty", "berkas kosong"),
    ("only the ASN, their supervisor and the agency admin read this thread",
     "hanya ASN, atasannya, dan admin instansi yang membaca percakapan ini"),
    ("the innovation was decided by someone else at the same time",
     "inovasi ini diputuskan orang lain pada saat yang sama"),
    ("you are not on your agency's roster", "Anda tidak ada di daftar pegawai instansi Anda"),
    ("you already have an SKP for {} ({}); change that one", "Anda sudah punya SKP tahun {0} ({1}); ubah yang itu"),
    ("you already have an SKP for {}", "Anda sudah punya SKP tahun {0}"),
    ("RHK {} has tasks or supporting RHK of subordinates; keep it",
     "RHK {0} punya tugas atau RHK bawahan yang mendukungnya; pertahankan"),
    ("the SKP was changed by someone else at the same time; reload it and try again",
     "SKP diubah orang lain pada saat yang sama; muat ulang lalu coba lagi"),
    ("SKP changed since version {} (now at version {})", "SKP berubah sejak versi {0} (kini versi {1})"),
    ("unknown RHK {} in this SKP (leave id out for a new one)",
     "RHK {0} tidak ada di SKP ini (kosongkan id untuk RHK baru)"),
    ("the assignee is not in your team", "penerima tugas bukan anggota tim Anda"),
    ("unknown RHK {} for {}", "RHK {0} tidak dikenal untuk {1}"),
    ("only a supervisor assigns tasks to others; propose your own instead",
     "hanya atasan yang memberi tugas kepada orang lain; usulkan tugas Anda sendiri"),
    ("RHK {} belongs to the SKP of {}; the task is due in {}", "RHK {0} milik SKP tahun {1}; tugasnya jatuh tempo {2}"),
    ("task changed since version {} (now at version {})", "tugas berubah sejak versi {0} (kini versi {1})"),
    ("the task was changed by someone else at the same time; reload it and try again",
     "tugas diubah orang lain pada saat yang sama; muat ulang lalu coba lagi"),
    # -- penilaian -----------------------------------------------------------------------------------------
    ("period must be YYYY-MM, YYYY-Qn or YYYY", "periode harus YYYY-MM, YYYY-Qn atau YYYY"),
    ("period must be YYYY-Qn, YYYY or YYYY-MM", "periode harus YYYY-Qn, YYYY atau YYYY-MM"),
    ("period {} is not YYYY-MM, YYYY-Qn or YYYY", "periode {0} bukan YYYY-MM, YYYY-Qn atau YYYY"),
    ("YYYY-MM", "format YYYY-MM"),
    ("an admin sees only their own agency", "admin hanya melihat instansinya sendiri"),
    ("only the ASN and their direct supervisor (of the same agency) rate them",
     "hanya ASN dan atasan langsungnya (di instansi yang sama) yang menilainya"),
    ("the ASN has no direct supervisor on the roster", "ASN ini tidak punya atasan langsung di daftar pegawai"),
    ("only the ASN and their direct supervisor (of the same agency) record their dialogue",
     "hanya ASN dan atasan langsungnya (di instansi yang sama) yang mencatat dialognya"),
    ("a pegawai reads only their own scores", "pegawai hanya membaca skornya sendiri"),
    ("an atasan reads only their own team (in their own agency)",
     "atasan hanya membaca timnya sendiri (di instansinya sendiri)"),
    ("an atasan reads only their own team", "atasan hanya membaca timnya sendiri"),
    ("no such ASN", "ASN tidak ditemukan"),
    ("no such ASN on the roster", "ASN tidak ada di daftar pegawai"),
    ("an admin reads only their own agency", "admin hanya membaca instansinya sendiri"),
    ("not allowed", "tidak diizinkan"),
    ("only the ASN, an admin of their agency or an operator records training",
     "hanya ASN, admin instansinya, atau operator yang mencatat pelatihan"),
    ("not a number: {}", "bukan angka: {0}"),
    ("numbers must be finite", "angka harus terhingga"),
    ("numbers have at most {} digits after the decimal point", "angka paling banyak {0} digit di belakang koma"),
    ("{} must be above 0 and at most 1", "{0} harus lebih dari 0 dan paling banyak 1"),
    ("weight_hasil_kerja and weight_perilaku must add up to 1 (e.g. 0.6 and 0.4)",
     "weight_hasil_kerja dan weight_perilaku harus berjumlah 1 (mis. 0,6 dan 0,4)"),
    ("0 ≤ meets_from ≤ above_from ≤ 100", "harus 0 ≤ meets_from ≤ above_from ≤ 100"),
    ("{} must be between 0 and 100", "{0} harus antara 0 dan 100"),
    ("distribution_curve: {}", "distribution_curve: {0}"),
    ("unknown organisation predikat {}", "predikat organisasi {0} tidak dikenal"),
    ("unknown predikat {}", "predikat {0} tidak dikenal"),
    ("shares are between 0 and 1", "proporsi harus antara 0 dan 1"),
    ("berakhlak_points: an object with below, meets and above",
     "berakhlak_points: objek berisi below, meets dan above"),
    ("berakhlak_points: unknown level(s) {}; the levels are below, meets, above",
     "berakhlak_points: tingkat {0} tidak dikenal; tingkatnya below, meets, above"),
    ("berakhlak_points.{}: not a number", "berakhlak_points.{0}: bukan angka"),
    ("berakhlak_points.{} has at most {} digits after the decimal point",
     "berakhlak_points.{0} paling banyak {1} digit di belakang koma"),
    ("berakhlak_points: below ≤ meets ≤ above", "berakhlak_points: harus below ≤ meets ≤ above"),
    # -- notifikasi ----------------------------------------------------------------------------------------
    ("no such notification in your inbox", "notifikasi itu tidak ada di kotak masuk Anda"),
    ("you read the delivery status of your own e-mail only", "Anda hanya membaca status pengiriman e-mail Anda sendiri"),
    ("no e-mail preference set", "pengaturan e-mail belum diisi"),
    ("no e-mail preference set, and the roster gives no address",
     "pengaturan e-mail belum diisi, dan daftar pegawai tidak memuat alamat"),
    ("no e-mail address: give one, or ask the agency's admin to add it to the roster",
     "tidak ada alamat e-mail: isikan satu, atau minta admin instansi menambahkannya ke daftar pegawai"),
    ("this token names no NIP, so it has no inbox", "token ini tidak menyebut NIP, jadi tidak punya kotak masuk"),
    ("Last-Event-ID must be a notification id, a whole number from 0 to {}",
     "Last-Event-ID harus id notifikasi, bilangan bulat dari 0 sampai {0}"),
    ("no such webhook in your agency", "webhook itu tidak ada di instansi Anda"),
    ("an admin registers webhooks of their own agency only", "admin hanya mendaftarkan webhook instansinya sendiri"),
    ("{}; an operator allows on-premise receivers with NOTIFIKASI_WEBHOOK_ALLOW",
     "{0}; operator mengizinkan penerima di jaringan internal lewat NOTIFIKASI_WEBHOOK_ALLOW"),
    ("{} does not resolve: {}", "{0} tidak dapat diresolusi: {1}"),
    ("{} does not resolve", "{0} tidak dapat diresolusi"),
    ("{} resolves to {}", "{0} mengarah ke {1}"),
)

# English words that come inside a message as one of its values
WORDS = {
    "see": "melihat", "change": "mengubah", "approve": "menyetujui", "reject": "menolak", "return": "mengembalikan",
    "submit": "mengajukan", "start": "memulai", "cancel": "membatalkan", "accept": "menerima", "edit": "mengubah",
    "reschedule": "menjadwal ulang", "before": "sebelum", "after": "sesudah", "approved": "disetujui",
    "rejected": "ditolak", "cancelled": "dibatalkan", "pending": "menunggu",
}
_UNITS = {"day": "hari", "days": "hari", "hour": "jam", "hours": "jam", "minute": "menit", "minutes": "menit",
          "second": "detik", "seconds": "detik"}
_DURATION = re.compile(r"\b(\d+) (days?|hours?|minutes?|seconds?)\b")
_SIDE = re.compile(r"(?<= )(before|after)$")


def preferred(accept_language: str | None) -> str:
    """``en`` when the client ranks English above Indonesian (``Accept-Language: en``,
    ``en-US,en;q=0.9``), else ``id``: the product speaks Indonesian unless asked otherwise."""
    best: dict[str, float] = {}
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        lang = tag.strip().lower().split("-")[0]
        if lang not in LANGUAGES:
            continue
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        best[lang] = max(best.get(lang, 0.0), q)
    return EN if best.get(EN, 0.0) > best.get(ID, 0.0) else ID


@lru_cache(maxsize=1)
def _compiled() -> tuple[dict[str, str], list[tuple[re.Pattern, str]]]:
    exact, patterns = {}, []
    for english, indonesian in CATALOGUE:
        if "{}" not in english:
            exact[english] = indonesian
            continue
        parts = [re.escape(p) for p in english.split("{}")]
        patterns.append((re.compile("^" + "(.+?)".join(parts) + "$", re.S), indonesian))
    # the longest literal text first, so a specific sentence wins over a general one ("{}: {}")
    patterns.sort(key=lambda p: -len(re.sub(r"\(\.\+\?\)", "", p[0].pattern)))
    return exact, patterns


def _value(text: str) -> str:
    if text in WORDS:
        return WORDS[text]
    if text.strip("'\"") in WORDS:
        return text.replace(text.strip("'\""), WORDS[text.strip("'\"")])
    text = _DURATION.sub(lambda m: f"{m.group(1)} {_UNITS[m.group(2)]}", text)
    return _SIDE.sub(lambda m: WORDS[m.group(1)], text)


def indonesian(text: str) -> str | None:
    """The Indonesian of ``text``, or None when the catalogue does not know it."""
    exact, patterns = _compiled()
    if text in exact:
        return exact[text]
    for pattern, template in patterns:
        m = pattern.match(text)
        if m:
            values = [_value(v) for v in m.groups()]
            try:
                return template.format(*values)
            except (IndexError, KeyError):  # pragma: no cover - a catalogue entry with a wrong index
                return None
    return None


def translate(text: str, lang: str) -> str:
    """``text`` (English, as the code wrote it) in ``lang``; unknown text is kept as it is."""
    if lang == EN or not isinstance(text, str):
        return text
    return indonesian(text) or text
