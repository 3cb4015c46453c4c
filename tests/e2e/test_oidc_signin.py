"""Sign-in the way agencies sign in, against a real OpenID provider running locally: Keycloak's
server distribution from Maven Central (``scripts/install-keycloak.sh``, which ``make test`` runs),
with the demo realm ``kinerja`` (``deploy/keycloak/realm-kinerja.json``). In Debian's Chromium
(Playwright, never its own browser download): the dashboard's "Masuk dengan akun SSO instansi"
takes the ASN to Keycloak's own login page; back with the code, the page exchanges it (PKCE S256)
and the access token is what the APIs check (RS256 against Keycloak's JWKS; role, agency and NIP
from the claims mapped in ``KINERJA_OIDC_*_CLAIM``): the ASN reads their own score, not a peer's.
The supervisor signs in the same way and gets the team page; signing out ends Keycloak's session.

Keycloak's start is the test's main cost: it is measured and printed (``keycloak started in``)."""
from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone

import pytest
import requests

from kinerja.cli.roster import parse_roster, publish
from kinerja.localbroker import free_port
from kinerja.localkeycloak import USERS, LocalKeycloak, keycloak_home
from kinerja.stack import Stack
from kinerja.testing import test_failed, wait_until

sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
CHROMIUM = os.environ.get("KINERJA_CHROMIUM", "/usr/bin/chromium")
HOME = keycloak_home()
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} missing: scripts/ensure-system-deps.sh --browser"),
    pytest.mark.skipif(HOME is None, reason="Keycloak is not installed: scripts/install-keycloak.sh (make test runs it)"),
]
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
WIB = timezone(timedelta(hours=7))
_, SITI, _, AGENCY = USERS["siti"]
_, BUDI, _, _ = USERS["budi"]
_, DEWI, _, _ = USERS["dewi"]
PEER = "199001012015031009"  # in Siti's team, not Siti


@pytest.fixture
def keycloak_and_stack(kafka_bootstrap, topic_prefix, tmp_path, request):
    ports = {svc: free_port() for svc in ("kehadiran", "tugas", "penilaian", "notifikasi")}
    dashboard = f"http://127.0.0.1:{ports['notifikasi']}/dashboard/"
    # the realm with this run's dashboard as its client's redirect URI (and nothing else)
    realm = json.loads((HOME.parents[0] / "realm-kinerja.json").read_text())
    realm["clients"][0]["redirectUris"] = [dashboard + "*"]
    realm_file = tmp_path / "realm-kinerja.json"
    realm_file.write_text(json.dumps(realm))
    keycloak = LocalKeycloak(HOME, tmp_path / "keycloak", realm_file=realm_file)
    keycloak.start()
    print(f"\nkeycloak started in {keycloak.started_s:.1f} s (to its realm answering)")
    stack = Stack(var_dir=tmp_path / "var", kafka_bootstrap=kafka_bootstrap, topic_prefix=topic_prefix, ports=ports,
                  extra_env={**keycloak.env(), "NOTIFIKASI_SSE_HEARTBEAT_S": "2"})
    try:
        stack.start()
        stack.wait_ready(90)
        yield keycloak, stack
    finally:
        if test_failed(request):
            for p in stack.procs:
                print(f"--- {p.name}\n{stack.tail(p, 40)}")
            print(f"--- keycloak\n{keycloak.tail(40)}")
        stack.stop()
        keycloak.stop()


def sign_in(page, keycloak, stack, username):
    page.goto(f"{stack.url('notifikasi')}/dashboard/")
    page.get_by_test_id("oidc-signin").click()
    page.wait_for_url(f"{keycloak.issuer}/protocol/openid-connect/auth*", timeout=30_000)  # Keycloak's own page
    page.fill("#username", username)
    page.fill("#password", USERS[username][0])
    page.click("#kc-login")
    page.wait_for_url(f"{stack.url('notifikasi')}/dashboard/*", timeout=30_000)
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)


def test_an_asn_signs_in_through_keycloaks_own_login_page(keycloak_and_stack):
    keycloak, stack = keycloak_and_stack
    parsed = parse_roster("nip,nama,agency,unit,jabatan,atasan_nip,pin\n"
                          f"{DEWI},Dewi Lestari,{AGENCY},Sekretariat,Kepala Dinas,,1\n"
                          f"{BUDI},Budi Santoso,{AGENCY},Bidang GTK,Kepala Bidang,{DEWI},2\n"
                          f"{SITI},Siti Aminah,{AGENCY},Bidang GTK,Analis,{BUDI},3\n"
                          f"{PEER},Rahmat Hidayat,{AGENCY},Bidang GTK,Analis,{BUDI},4\n")
    publish(parsed.events, stack.kafka_bootstrap, stack.topic_prefix)
    period = datetime.now(WIB).strftime("%Y-%m")
    errors: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="id-ID", timezone_id="Asia/Jakarta")
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            sign_in(page, keycloak, stack, "siti")
            assert "code=" not in page.url and "state=" not in page.url  # the code left the address bar
            expect = sync_api.expect
            expect(page.locator("#who")).to_contain_text(f"NIP {SITI}")
            expect(page.locator("#who")).to_contain_text("ASN")
            token = page.evaluate("sessionStorage.getItem('kinerja.token')")
            claims = json.loads(__import__("base64").urlsafe_b64decode(token.split(".")[1] + "=="))
            assert claims["iss"] == keycloak.issuer and claims["azp"] == "kinerja-dashboard"
            assert "role" not in claims and "pegawai" in claims["kinerja_roles"]  # mapped, not our own claim names

            # the APIs check Keycloak's token (RS256 / JWKS) and read role, agency, NIP from its claims
            def own_score():
                r = requests.get(f"{stack.url('penilaian')}/api/v1/scores/{SITI}", params={"period": period},
                                 headers={"Authorization": f"Bearer {token}"}, timeout=10)
                return r if r.status_code == 200 and r.json().get("nama") == "Siti Aminah" else None
            wait_until(own_score, 60, interval_s=0.3, message="Siti's score with her Keycloak token")
            peer = requests.get(f"{stack.url('penilaian')}/api/v1/scores/{PEER}", params={"period": period},
                                headers={"Authorization": f"Bearer {token}"}, timeout=10)
            assert peer.status_code == 403
            me = requests.get(f"{stack.url('notifikasi')}/api/v1/me", headers={"Authorization": f"Bearer {token}"},
                              timeout=10).json()
            assert (me["role"], me["agency"], me["nip"]) == ("pegawai", AGENCY, SITI)
            tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
            assert requests.get(f"{stack.url('kehadiran')}/api/v1/days", params={"period": period},
                                headers={"Authorization": f"Bearer {tampered}"}, timeout=10).status_code == 401
            expect(page.locator("#live-text")).to_have_text("Langsung", timeout=15_000)

            # signing out ends Keycloak's session too: the next sign-in asks for the password again
            page.click("#signout")
            page.wait_for_url(f"{stack.url('notifikasi')}/dashboard/*", timeout=30_000)
            expect(page.get_by_test_id("oidc-signin")).to_be_visible()
            assert page.evaluate("sessionStorage.getItem('kinerja.token')") is None

            # the supervisor, the same way: the team page
            sign_in(page, keycloak, stack, "budi")
            expect(page.locator("#who")).to_contain_text(f"NIP {BUDI}")
            expect(page.get_by_test_id("team-scores")).to_contain_text("Siti Aminah", timeout=30_000)
        finally:
            browser.close()
    assert errors == [], errors
