"""The dashboard in real Chromium (Debian's ``chromium``, driven by Playwright): the ASN page loads
signed in, a punch is posted to kehadiran, and the score and the ledger on the page change without
a reload (the stream's ``score.updated`` makes the page re-fetch). The supervisor and admin pages
are opened too. Screenshots are kept under the test's tmp dir and copied to ``artifacts/``.

Chromium is launched from /usr/bin/chromium (``scripts/ensure-system-deps.sh --browser``); Playwright's
own browser download is never used."""
from __future__ import annotations

import os
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests

from kinerja.auth import issue_token
from kinerja.cli.roster import parse_roster, publish
from kinerja.config import DEV_JWT_SECRET
from kinerja.testing import wait_until

sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
CHROMIUM = os.environ.get("KINERJA_CHROMIUM", "/usr/bin/chromium")
pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                                  reason=f"{CHROMIUM} missing: scripts/ensure-system-deps.sh --browser")]
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
AGENCY = "disdik-ui"
KADIS = "197803132000011001"
ATASAN = "197910022009031002"
ASN = "198102082004121003"
WIB = timezone(timedelta(hours=7))


def token(role, nip=None, **kw):
    return issue_token(DEV_JWT_SECRET, role=role, agency=AGENCY, nip=nip, **kw)


def auth(tok):
    return {"Authorization": f"Bearer {tok}"}


def last_workday():
    """The most recent Monday–Thursday before today (WIB): a day that is over."""
    day = datetime.now(WIB).date() - timedelta(days=1)
    while day.weekday() > 3:
        day -= timedelta(days=1)
    return day


@pytest.fixture
def stack(running_stack):
    return running_stack(extra_env={"NOTIFIKASI_SSE_HEARTBEAT_S": "2"})


@pytest.fixture
def browser():
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def keep(page, tmp_path: Path, name: str) -> Path:
    shot = tmp_path / name
    page.screenshot(path=str(shot), full_page=True)
    ARTIFACTS.mkdir(exist_ok=True)
    kept = ARTIFACTS / name
    shutil.copyfile(shot, kept)
    print(f"screenshot: {kept} (and {shot})")
    return kept


def open_dashboard(browser, stack, tok, period, errors):
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="id-ID", timezone_id="Asia/Jakarta")
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "favicon" not in m.text else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url.split('?')[0]}") if r.status >= 400 else None)
    page.goto(f"{stack.url('notifikasi')}/dashboard/?period={period}#token={tok}")
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    return page


def test_the_asn_page_follows_a_punch_live_without_reloading(stack, browser, tmp_path):
    operator = token("operator")
    r = requests.post(f"{stack.url('kehadiran')}/api/v1/devices", json={"sn": "UI01", "agency": AGENCY, "tz": 7,
                                                                       "name": "Lobi Disdik"},
                      headers=auth(operator), timeout=10)
    assert r.status_code == 201, r.text
    parsed = parse_roster("nip,nama,agency,unit,jabatan,atasan_nip,pin\n"
                          f"{KADIS},Hermansyah,{AGENCY},Sekretariat,Kepala Dinas,,1\n"
                          f"{ATASAN},Citra Lestari,{AGENCY},Bidang GTK,Kepala Bidang,{KADIS},2\n"
                          f"{ASN},Taufik Hidayat,{AGENCY},Bidang GTK,Analis,{ATASAN},3\n")
    publish(parsed.events, stack.kafka_bootstrap, stack.topic_prefix)
    day = last_workday()
    period = day.strftime("%Y-%m")
    asn_token = token("pegawai", ASN)

    def roster_known():
        r = requests.get(f"{stack.url('penilaian')}/api/v1/scores/{ASN}", params={"period": period},
                         headers=auth(asn_token), timeout=5)
        return r.status_code == 200 and r.json().get("nama")
    wait_until(roster_known, 60, interval_s=0.2, message="penilaian knows the roster")

    def kehadiran_knows_everyone():
        # the pages ask kehadiran for each person's days as they open: a roster not applied there
        # yet answers 404, which the page reports as a console error
        return all(requests.get(f"{stack.url('kehadiran')}/api/v1/days", params={"nip": nip, "period": period},
                                headers=auth(operator), timeout=5).status_code == 200
                   for nip in (KADIS, ATASAN, ASN))
    wait_until(kehadiran_knows_everyone, 60, interval_s=0.2, message="kehadiran knows the roster")

    errors: list[str] = []
    page = open_dashboard(browser, stack, asn_token, period, errors)
    assert "token=" not in page.url  # the token left the address bar ...
    assert page.evaluate("sessionStorage.getItem('kinerja.token')") == asn_token  # ... for sessionStorage
    expect = sync_api.expect
    expect(page.get_by_test_id("score-disiplin")).to_have_text("belum dinilai")
    expect(page.get_by_test_id("score-predikat")).to_have_text("Belum dinilai")
    assert page.get_by_test_id("ledger-row").count() == 0
    expect(page.locator("#live-text")).to_have_text("Langsung", timeout=15_000)
    page.evaluate("window.__sameDocument = 'no reload'")

    # a late arrival (07:45 → TL1) on a workday that is over (no departure → PSW4): −2.5 %
    r = requests.post(f"{stack.url('kehadiran')}/api/v1/punches", headers=auth(token("device", device_sn="UI01")),
                      json={"punches": [{"pin": "3", "time": datetime(day.year, day.month, day.day, 7, 45, tzinfo=WIB).isoformat()}]},
                      timeout=10)
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] + r.json()["quarantined"] == 1

    expect(page.get_by_test_id("score-disiplin")).to_have_text("97,5", timeout=30_000)
    # hasil kerja is unrated: the total is provisional and the page says so (DESIGN section 6)
    expect(page.get_by_test_id("score-total")).to_have_text("97,5")
    expect(page.get_by_test_id("score-provisional")).to_have_text("Total sementara")
    expect(page.get_by_test_id("ledger")).to_contain_text("TL1")
    expect(page.get_by_test_id("ledger")).to_contain_text("PSW4")
    assert page.get_by_test_id("ledger-row").count() >= 2
    expect(page.get_by_test_id("deductions")).to_contain_text("TL1")
    expect(page.get_by_test_id("inbox")).to_contain_text("Skor kinerja")
    assert page.evaluate("window.__sameDocument") == "no reload"
    assert page.locator("#chart svg path.line-disiplin").count() == 1
    page.wait_for_timeout(300)  # let the "fresh" highlight settle into the picture
    keep(page, tmp_path, "dashboard-asn.png")

    # the supervisor sees the team's live score: a departure punch (16:05, PSW4 gone → 99.5) moves
    # it on the open supervisor page and on the still open ASN page, neither reloaded
    sup = open_dashboard(browser, stack, token("atasan", ATASAN), period, errors)
    expect(sup.get_by_test_id("team-scores")).to_contain_text("Taufik Hidayat")
    expect(sup.get_by_test_id("team-scores")).to_contain_text("97,5")
    expect(sup.get_by_test_id("team-scores").get_by_test_id("provisional")).to_have_text("sementara")
    expect(sup.locator("#live-text")).to_have_text("Langsung", timeout=15_000)
    sup.evaluate("window.__sameDocument = 'no reload'")
    r = requests.post(f"{stack.url('kehadiran')}/api/v1/punches", headers=auth(token("device", device_sn="UI01")),
                      json={"punches": [{"pin": "3", "status": "out",
                                         "time": datetime(day.year, day.month, day.day, 16, 5, tzinfo=WIB).isoformat()}]},
                      timeout=10)
    assert r.status_code == 200, r.text
    expect(sup.get_by_test_id("team-scores")).to_contain_text("99,5", timeout=30_000)
    expect(page.get_by_test_id("score-disiplin")).to_have_text("99,5", timeout=30_000)
    expect(page.get_by_test_id("ledger")).not_to_contain_text("PSW4")
    assert sup.evaluate("window.__sameDocument") == page.evaluate("window.__sameDocument") == "no reload"
    keep(sup, tmp_path, "dashboard-atasan.png")
    adm = open_dashboard(browser, stack, token("admin", KADIS), period, errors)
    expect(adm.get_by_test_id("admin-devices")).to_contain_text("UI01")
    expect(adm.get_by_test_id("admin-distribution")).to_contain_text("Bidang GTK")
    expect(adm.get_by_test_id("admin-recap")).to_contain_text("Taufik Hidayat")
    keep(adm, tmp_path, "dashboard-admin.png")
    assert errors == [], errors
