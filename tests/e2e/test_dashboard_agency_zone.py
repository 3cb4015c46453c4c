"""The dashboard's "today" is the agency's, not the deployment's nor the browser's: an ASN of a WIT
agency on a WIB deployment, in a browser set to WIB, at 16:30 UTC (23:30 WIB, 01:30 WIT the next
day) sees the next day as today. kehadiran and notifikasi as real processes, the roster through
the broker, a real Chromium (Playwright) with its clock fixed."""
from __future__ import annotations

import os
from datetime import datetime, timezone

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
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
AGENCY = "kab-timur-dash"
ASN = "198001012005011021"


@pytest.fixture
def stack(running_stack):
    return running_stack(services=("kehadiran", "notifikasi"), extra_env={"KINERJA_TIMEZONE": "Asia/Jakarta"})


def test_today_on_the_dashboard_is_the_agencys_today(stack):
    parsed = parse_roster("nip,nama,agency,unit,jabatan,atasan_nip,pin,timezone\n"
                          f"{ASN},Yohanes,{AGENCY},Umum,Analis,,1,WIT\n")
    assert parsed.errors == []
    publish(parsed.events, stack.kafka_bootstrap, stack.topic_prefix)
    tok = issue_token(DEV_JWT_SECRET, role="pegawai", agency=AGENCY, nip=ASN)

    def zone():
        r = requests.get(f"{stack.url('kehadiran')}/api/v1/agency-settings",
                         headers={"Authorization": f"Bearer {tok}"}, timeout=10)
        return r.status_code == 200 and r.json()["timezone_from_roster"] and r.json()["timezone"]
    assert wait_until(zone, 60, message="the agency's zone from the roster") == "Asia/Jayapura"

    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(locale="id-ID", timezone_id="Asia/Jakarta")
            page.clock.set_fixed_time(datetime(2026, 12, 3, 16, 30, tzinfo=timezone.utc))
            page.goto(f"{stack.url('notifikasi')}/dashboard/#token={tok}")
            page.wait_for_selector("body[data-ready='1']", timeout=30_000)
            assert page.text_content("#today-date") == "4 Desember 2026"  # WIT's; WIB's is the 3rd
            assert page.text_content("#period-label") == "Desember 2026"
        finally:
            browser.close()
