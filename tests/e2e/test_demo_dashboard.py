"""Issue 16: the demo agency on first run, as a newcomer sees it. One system (every service, its
consumer and relay, a real broker) and one ``kinerja demo`` serve all the tests here:

- the demo's history goes through the services (ADMS uploads, tugas's handlers, penilaian's API)
  and a second ``kinerja demo`` adds nothing: no new event on kehadiran.v1, tugas.v1 or
  penilaian.v1, nothing reported as loaded;
- each role's page, in Debian's Chromium, holds rows in every panel, and a screenshot of it is kept
  under ``artifacts/`` (dashboard-demo-asn.png, -atasan.png, -admin.png);
- the ASN page's button downloads the evaluation document (a PDF).

Chromium is /usr/bin/chromium (``scripts/ensure-system-deps.sh --browser``), never Playwright's own."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests

from kinerja.localbroker import free_port
from kinerja.messaging.topics import ensure_topics, topic
from kinerja.stack import Stack

sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
CHROMIUM = os.environ.get("KINERJA_CHROMIUM", "/usr/bin/chromium")
pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                                  reason=f"{CHROMIUM} missing: scripts/ensure-system-deps.sh --browser")]
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
WIB = timezone(timedelta(hours=7))
EVENT_TOPICS = ("kehadiran.v1", "tugas.v1", "penilaian.v1")


def end_offsets(bootstrap: str, prefix: str) -> dict[str, int]:
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        out = {}
        for name in EVENT_TOPICS:
            full = topic(name, prefix)
            parts = [TopicPartition(full, p) for p in sorted(consumer.partitions_for_topic(full) or ())]
            out[name] = sum(consumer.end_offsets(parts).values())
        return out
    finally:
        consumer.close()


def run_demo(stack: Stack, now: str) -> tuple[str, float]:
    began = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "kinerja.cli.main", "demo", "--now", now], env=stack.env(),
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return proc.stdout, time.monotonic() - began


@pytest.fixture(scope="module")
def demo(kafka_bootstrap, tmp_path_factory):
    """The system with the demo agency loaded once (and a second time, to show it adds nothing)."""
    prefix = "t" + uuid.uuid4().hex[:10]
    ensure_topics(kafka_bootstrap, prefix=prefix, partitions=3)
    stack = Stack(var_dir=tmp_path_factory.mktemp("demo") / "var", kafka_bootstrap=kafka_bootstrap,
                  topic_prefix=prefix, ports={svc: free_port() for svc in ("kehadiran", "tugas", "penilaian", "notifikasi")})
    stack.start()
    failed = True
    try:
        stack.wait_ready(90)
        # both runs up to the same instant: in the morning a later run would also send the arrivals
        # that came due in between (new punches, not twice-sent ones)
        now = datetime.now(WIB).isoformat()
        first, first_s = run_demo(stack, now)
        print(f"first kinerja demo: {first_s:.1f} s\n{first}")
        before = end_offsets(kafka_bootstrap, prefix)
        second, second_s = run_demo(stack, now)
        print(f"second kinerja demo: {second_s:.1f} s\n{second}")
        after = end_offsets(kafka_bootstrap, prefix)
        info = json.loads((stack.var_dir / "demo.json").read_text())
        yield {"stack": stack, "first": first, "second": second, "before": before, "after": after, "info": info}
        failed = False
    finally:
        if failed:
            for p in stack.procs:
                print(f"--- {p.name}\n{stack.tail(p, 30)}")
        stack.stop()


def test_the_history_went_through_the_services(demo):
    out = demo["first"]
    # kehadiran: both terminals' logs over ADMS, leave, the calendar; tugas: its own handlers;
    # penilaian: its API. Each says what it loaded.
    assert re.search(r"attendance \(kehadiran\): .*1 holidays, 3 leave, \d{4,} punches sent", out), out
    assert re.search(r"work \(tugas\): .*\d+ skps, \d{3,} tasks", out), out
    assert re.search(r"appraisal \(penilaian\): \d{3,} ratings, \d+ trainings, 1 organisation predikat", out), out
    assert all(demo["before"][t] > 0 for t in EVENT_TOPICS), demo["before"]


def test_a_second_demo_adds_nothing_twice(demo):
    assert demo["after"] == demo["before"], (demo["before"], demo["after"])  # not one more event
    out = demo["second"]
    assert "0 holidays" in out and " leave" not in out.split("attendance")[1].split("\n")[0]
    assert re.search(r"work \(tugas\): .*already loaded", out) and not re.search(r"\d+ tasks(,| in)", out), out
    assert "appraisal (penilaian): 0 ratings, 0 trainings" in out, out


# -- the pages ---------------------------------------------------------------------------------
def page_clock() -> datetime:
    """Now, or, when today is not a workday, the last workday at 10:00 WIB: the supervisor's
    "not arrived yet" panel speaks of a workday (the demo leaves a few absent on it)."""
    now = datetime.now(WIB)
    day = now.date()
    if day.weekday() < 5:
        return now
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return datetime(day.year, day.month, day.day, 10, tzinfo=WIB)


def page_period() -> str:
    """The month the pages show: the clock's, unless it has not yet had three workdays (the 1st to
    the 3rd of a month), then the month before, which the demo filled."""
    clock = page_clock()
    first = clock.date().replace(day=1)
    done = sum(1 for d in range(1, clock.day) if first.replace(day=d).weekday() < 5)
    if done >= 3:
        return f"{first:%Y-%m}"
    before = first - timedelta(days=1)
    return f"{before:%Y-%m}"


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def open_page(browser, demo, role, errors):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="id-ID", timezone_id="Asia/Jakarta",
                                  accept_downloads=True)
    page = context.new_page()
    page.clock.set_fixed_time(page_clock())
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "favicon" not in m.text else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url.split('?')[0]}") if r.status >= 400 else None)
    page.goto(f"{demo['stack'].url('notifikasi')}/dashboard/?period={page_period()}#token={demo['info'][role]['token']}")
    page.wait_for_selector("body[data-ready='1']", timeout=60_000)
    return page


def keep(page, name: str) -> None:
    page.wait_for_timeout(300)
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")


def rows(page, test_id: str, selector: str = "tbody tr") -> int:
    return page.get_by_test_id(test_id).locator(selector).count()


def test_the_asn_page_holds_every_panel(demo, browser, tmp_path):
    errors: list[str] = []
    page = open_page(browser, demo, "pegawai", errors)
    expect = sync_api.expect
    expect(page.get_by_test_id("score-total")).to_have_text(re.compile(r"^\d+(,\d+)?$"))
    expect(page.get_by_test_id("score-predikat")).not_to_have_text("…")
    # issue 19 item 5: the matrix cell behind the predikat and the cut-offs
    expect(page.get_by_test_id("score-basis")).to_contain_text("matriks PermenPANRB 6/2022")
    expect(page.get_by_test_id("score-basis")).to_contain_text(re.compile(r"Hasil kerja \d+(,\d+)? \((di atas|sesuai|di bawah) ekspektasi\)"))
    for component in ("disiplin", "produktivitas", "berakhlak", "perilaku", "hasil_kerja"):
        expect(page.get_by_test_id(f"score-{component}")).to_have_text(re.compile(r"^\d+(,\d+)?$"))
    # the month day by day from penilaian's facts: both lines drawn
    expect(page.locator("#chart svg path.line-total")).to_have_count(1)
    expect(page.locator("#chart svg path.line-disiplin")).to_have_count(1)
    assert page.locator("#chart svg circle.dot-total").count() >= 1
    # the month's deductions as penilaian holds them, one row a code (whether the demo's seeded days
    # made the ASN late this month depends on the date the history was drawn on)
    score = requests.get(f"{demo['stack'].url('penilaian')}/api/v1/scores/{demo['info']['pegawai']['nip']}",
                         params={"period": page_period()}, timeout=10,
                         headers={"Authorization": f"Bearer {demo['info']['pegawai']['token']}"}).json()
    codes = {d["code"] for d in score["disiplin"]["deductions"]}
    if codes:
        expect(page.get_by_test_id("deductions").locator("tbody tr")).to_have_count(len(codes))
    else:
        expect(page.get_by_test_id("deductions")).to_contain_text("Tidak ada potongan bulan ini.")
    assert page.get_by_test_id("ledger-row").count() >= 3
    counts = {s: int(page.locator(f"[data-testid=tasks] .pill[data-status={s}] strong").inner_text())
              for s in ("assigned", "in_progress", "submitted", "returned", "approved", "cancelled")}
    assert counts["approved"] >= 4 and sum(counts.values()) > counts["approved"], counts
    assert rows(page, "ratings") == 7  # the seven values, the supervisor's beside the ASN's own
    expect(page.get_by_test_id("ratings")).not_to_contain_text("belum dinilai")
    expect(page.get_by_test_id("training")).to_contain_text(re.compile(r"\d+ dari 20 JP"))
    expect(page.get_by_test_id("training")).to_contain_text("Saran pelatihan: Manajemen waktu")
    assert page.get_by_test_id("inbox").locator("li").count() >= 3
    keep(page, "dashboard-demo-asn.png")
    # the evaluation document of the quarter, from the button
    with page.expect_download(timeout=30_000) as download:
        page.get_by_test_id("document-quarter").click()
    pdf = tmp_path / "dokumen.pdf"
    download.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF") and re.match(r"evaluasi-kinerja-\d{18}-\d{4}-Q[1-4]\.pdf",
                                                            download.value.suggested_filename)
    import pypdf

    text = " ".join(p.extract_text() for p in pypdf.PdfReader(str(pdf)).pages)
    assert "DOKUMEN EVALUASI KINERJA PEGAWAI" in text and demo["info"]["pegawai"]["nama"] in text
    assert errors == [], errors


def test_the_supervisor_page_holds_every_panel(demo, browser):
    errors: list[str] = []
    page = open_page(browser, demo, "atasan", errors)
    team = page.get_by_test_id("team-scores")
    sync_api.expect(team.locator("tbody tr")).to_have_count(11)
    predikat = [team.locator("tbody tr").nth(i).locator("td").last.inner_text() for i in range(11)]
    assert sum(p != "Belum dinilai" for p in predikat) >= 9, predikat  # the team table carries predikat
    assert rows(page, "team-approvals") >= 2  # submitted tasks waiting for this supervisor
    assert page.get_by_test_id("team-absent").locator("li").count() >= 1  # someone has not come in
    gaps = page.get_by_test_id("team-gaps")
    assert gaps.locator("tbody tr").count() >= 2
    sync_api.expect(gaps.locator("tbody tr").first).to_contain_text("perlu dialog kinerja")
    keep(page, "dashboard-demo-atasan.png")
    assert errors == [], errors


def test_the_admin_page_holds_every_panel(demo, browser):
    errors: list[str] = []
    page = open_page(browser, demo, "admin", errors)
    dist = page.get_by_test_id("admin-distribution")
    assert dist.locator("tbody tr").count() == 5  # four units and the agency
    sync_api.expect(page.get_by_test_id("curve")).to_contain_text("Predikat organisasi: Baik")
    sync_api.expect(page.get_by_test_id("curve")).to_contain_text("Baik paling banyak 70")
    verdicts = dist.locator("[data-testid=within-curve], [data-testid=breaks-curve]").count()
    assert verdicts == 5  # each row held against the curve
    assert rows(page, "recap-units") == 4
    sync_api.expect(page.get_by_test_id("recap-units").locator("tfoot")).to_contain_text("Rp")
    assert rows(page, "recap-rows") == 50
    devices = page.get_by_test_id("admin-devices")
    sync_api.expect(devices).to_contain_text("LMS0001")
    sync_api.expect(devices).to_contain_text("LMS0002")
    keep(page, "dashboard-demo-admin.png")
    assert errors == [], errors
