"""Issue 19 item 10 across the four services: errors in Bahasa Indonesia by default and in English
when the client asks (``Accept-Language: en``), with the field and the reason at the top level of a
refused value; one shape for every error, from the shared handlers."""
from __future__ import annotations

import pytest

from .world import AGENCY, SERVICES, VICTIM, bearer, build_app, token
from kinerja.webapp import runtime_of

pytestmark = pytest.mark.integration

EN = {"Accept-Language": "en-US,en;q=0.9"}
# per service: a GET whose query the route's schema refuses, and the field it names
BAD_QUERY = {
    "kehadiran": ("/api/v1/days?nip=123&period=2026-11", "nip", "NIP harus 18 digit", "NIP must be 18 digits"),
    "tugas": ("/api/v1/tasks?status=dreaming", "status", "harus salah satu dari", "Must be one of"),
    "penilaian": (f"/api/v1/scores/{VICTIM}?period=2026-13", "period", "periode harus", "period must be"),
    "notifikasi": ("/api/v1/notifications?limit=0", "limit", "harus antara 1 dan 200", "Must be greater"),
}


@pytest.fixture
def client(service, tmp_path):
    app = build_app(service, f"sqlite:///{tmp_path}/errors.db")
    yield app.test_client()
    runtime_of(app).dispose()


@pytest.mark.parametrize("service", SERVICES)
def test_errors_speak_indonesian_unless_english_is_asked_for(service, client):
    path, field, reason_id, reason_en = BAD_QUERY[service]
    r = client.get(path.split("?")[0])
    assert r.status_code == 401 and r.json["message"] == "Token bearer tidak ada" and r.json["errors"] == []
    assert r.headers["Content-Language"] == "id"
    r = client.get(path.split("?")[0], headers=EN)
    assert r.status_code == 401 and r.json["message"] == "missing bearer token" and r.headers["Content-Language"] == "en"

    who = bearer(token("admin", AGENCY, "198001012005011009"))
    r = client.get(path, headers=who)
    assert r.status_code in (400, 422), r.json
    body = r.json
    assert body["field"] == field and reason_id in body["reason"], body
    assert body["message"].startswith(f"{field}: ") and reason_id in body["message"]
    assert body["errors"][0] == {"field": field, "reason": body["reason"], "in": "query"}
    english = client.get(path, headers={**who, **EN}).json
    assert english["field"] == field and reason_en in english["reason"] and english["message"].startswith(f"{field}: ")

    r = client.get("/api/v1/no-such-thing", headers=who)
    assert r.status_code == 404 and r.json["message"].startswith("Alamat yang diminta tidak ditemukan")


def test_a_domain_refusal_and_a_partly_refused_batch_speak_indonesian(tmp_path):
    app = build_app("kehadiran", f"sqlite:///{tmp_path}/batch.db")
    try:
        c = app.test_client()
        phone = bearer(token("pegawai", AGENCY, VICTIM))
        r = c.get(f"/api/v1/days?nip=199601012020011004&period=2026-11", headers=phone)
        assert r.status_code == 404 and r.json["message"] == "Tidak ada ASN 199601012020011004 di instansi Anda"
        r = c.post("/api/v1/punches", headers=phone, json={"punches": [{"nip": "199601012020011004"}]})
        assert r.status_code == 422, r.json
        assert r.json["field"] == "punches.0.nip" and r.json["reason"] == "ponsel hanya boleh absen untuk NIP pemiliknya"
        assert r.json["message"] == ("Tidak ada absen yang sah dalam kiriman ini: punches.0.nip: "
                                     "ponsel hanya boleh absen untuk NIP pemiliknya")
        assert r.json["detail"]["rejected"] == [{"index": 0, "errors": {"nip": [r.json["reason"]]}}]
        r = c.post("/api/v1/punches", headers={**phone, **EN}, json={"punches": [{"nip": "199601012020011004"}]})
        assert r.json["reason"] == "a phone may punch only for its own NIP"
    finally:
        runtime_of(app).dispose()


def test_the_refusals_of_routes_added_since_speak_indonesian(tmp_path):
    """Routes the base grew meanwhile answer in the same shape and language: a policy's BerAKHLAK
    points out of order (penilaian) and an e-mail preference with no address anywhere (notifikasi)."""
    admin = bearer(token("admin", AGENCY, "198001012005011009"))
    app = build_app("penilaian", f"sqlite:///{tmp_path}/policy.db")
    try:
        c = app.test_client()
        body = {"effective_from": "2026-11", "berakhlak_points": {"below": "90"}}
        r = c.put("/api/v1/policy", headers=admin, json=body)
        assert r.status_code == 400 and r.json["message"] == "berakhlak_points: harus below ≤ meets ≤ above", r.json
        r = c.put("/api/v1/policy", headers={**admin, **EN}, json=body)
        assert r.json["message"] == "berakhlak_points: below ≤ meets ≤ above"
    finally:
        runtime_of(app).dispose()
    app = build_app("notifikasi", f"sqlite:///{tmp_path}/inbox.db")
    try:
        c = app.test_client()
        asn = bearer(token("pegawai", AGENCY, VICTIM))
        r = c.get("/api/v1/notifications/email", headers=asn)
        assert r.status_code == 404
        assert r.json["message"] == "Pengaturan e-mail belum diisi, dan daftar pegawai tidak memuat alamat", r.json
        r = c.put("/api/v1/notifications/email", headers=asn, json={"mode": "immediate"})
        assert r.status_code == 400 and r.json["message"].startswith("Tidak ada alamat e-mail: isikan satu"), r.json
        r = c.put("/api/v1/notifications/email", headers={**asn, **EN}, json={"mode": "immediate"})
        assert r.json["message"].startswith("no e-mail address: give one")
    finally:
        runtime_of(app).dispose()
