"""A month of attendance for three ASN, with holidays, leave and a device in WITA while the agency
is in WIB: exactly the expected codes and deduction totals, whether the punches arrive in order,
or shuffled, duplicated and days late (after the days were already closed as TK).

The expectations are written out literally from DESIGN section 6, not computed by the code under
test."""
import calendar
import random
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from kehadiran.adapters.orm import DaySummaryRow
from kehadiran.entrypoints.app import create_app
from kehadiran.entrypoints.runtime import settle_days
from kehadiran.entrypoints.migrate import main as migrate
from kehadiran.service_layer.roster import apply_roster_event
from kinerja.auth import issue_token
from kinerja.config import DEV_JWT_SECRET
from kinerja.events import make_event
from kinerja.events.pegawai import EMPLOYEE_UPSERTED
from kinerja.webapp import runtime_of

pytestmark = pytest.mark.integration
AGENCY = "disdik"
YEAR, MONTH = 2026, 10   # October 2026: over, whatever day the suite runs
HOLIDAY = date(2026, 10, 22)
A, B, C = "198503122010011001", "198601012011012002", "198702022012011003"
PINS = {A: "11", B: "12", C: "13"}

PERCENT = {"TL1": "0.5", "TL2": "1", "TL3": "1.5", "TL4": "2", "PSW1": "0.5", "PSW2": "1", "PSW3": "1.5",
           "PSW4": "2", "TK": "4"}
# (arrival, departure as minutes before the end of the day or None for no departure, expected codes)
PATTERNS = {
    "ontime": ("07:25:00", -5, []),
    "sec59": ("07:30:59", 0, []),            # 07:30:59 is on time
    "tl1": ("07:31:00", 0, ["TL1"]),         # 07:31:00 is one minute late
    "tl2": ("08:10:00", -1, ["TL2"]),        # 40 minutes
    "tl3": ("09:00:00", 0, ["TL3"]),         # 90 minutes
    "tl4": ("09:01:00", 0, ["TL4"]),         # 91 minutes
    "psw1": ("07:20:00", 15, ["PSW1"]),      # leaves 15 minutes early
    "psw2": ("07:20:00", 45, ["PSW2"]),
    "psw3": ("07:20:00", 90, ["PSW3"]),
    "nodep": ("07:29:00", None, ["PSW4"]),   # no departure punch
    "late_nodep": ("07:45:00", None, ["TL1", "PSW4"]),
    "noarr": (None, 0, ["TL4"]),             # one punch, after the midpoint: a departure
    "absent": (None, None, ["TK"]),
}


def workdays():
    days = [date(YEAR, MONTH, d) for d in range(1, calendar.monthrange(YEAR, MONTH)[1] + 1)]
    return [d for d in days if d.weekday() < 5 and d != HOLIDAY]


def plan():
    """Per ASN per workday the pattern; C is on leave 12–14 October."""
    names = list(PATTERNS)
    out = {}
    for k, nip in enumerate((A, B, C)):
        for i, day in enumerate(workdays()):
            if nip == C and date(2026, 10, 12) <= day <= date(2026, 10, 14):
                out[(nip, day)] = None  # cuti
            else:
                out[(nip, day)] = names[(i + 5 * k) % len(names)]
    return out


def end_of(day):
    return datetime.combine(day, datetime.strptime("16:30" if day.weekday() == 4 else "16:00", "%H:%M").time())


def punches_for(nip, day, pattern, shift_hours=0):
    """Device-local punch times (a WITA device shows WIB + 1 hour)."""
    arrival, early, _ = PATTERNS[pattern]
    times = []
    if arrival:
        times.append(datetime.combine(day, datetime.strptime(arrival, "%H:%M:%S").time()))
    if early is not None:
        times.append(end_of(day) - timedelta(minutes=early))
    return [t + timedelta(hours=shift_hours) for t in times]


def expected_codes():
    exp = {}
    for (nip, day), pattern in plan().items():
        exp[(nip, day)] = [] if pattern is None else PATTERNS[pattern][2]
    return exp


@pytest.fixture
def app(database_url):
    migrate(database_url)
    app = create_app({"database_url": database_url, "kafka_bootstrap": "127.0.0.1:1"})
    yield app
    runtime_of(app).dispose()


def bearer(**kw):
    return {"Authorization": "Bearer " + issue_token(DEV_JWT_SECRET, **kw)}


ADMIN = bearer(role="admin", agency=AGENCY, nip=A)


def setup_agency(app, client, tpp=None, units=None, named=datetime(2026, 9, 30, 12)):
    runtime = runtime_of(app)
    for nip in (A, B, C):
        extra = {"tpp": (tpp or {}).get(nip)} if tpp else {}
        event = make_event(EMPLOYEE_UPSERTED, subject=nip, agency=AGENCY, source="test",
                           time=named.replace(tzinfo=runtime_tz()),
                           data={"nip": nip, "nama": nip[-3:], "agency": AGENCY,
                                 "unit": (units or {}).get(nip, "Sekretariat"), "pin": PINS[nip], **extra})
        with runtime.session() as s, s.begin():
            apply_roster_event(s, event, agency_tz="Asia/Jakarta")
    op = bearer(role="operator", agency="*")
    assert client.post("/api/v1/devices", json={"sn": "WIB01", "agency": AGENCY, "tz": 7}, headers=op).status_code == 201
    assert client.post("/api/v1/devices", json={"sn": "WITA01", "agency": AGENCY, "tz": 8}, headers=op).status_code == 201
    r = client.post("/api/v1/calendar/holidays", headers=ADMIN,
                    json={"csv": "date,name,kind\n2026-10-22,Hari Santri Nasional,libur\n"})
    assert r.status_code == 200 and r.json["loaded"] == 1
    r = client.post("/api/v1/leave", headers=ADMIN, json={"nip": C, "start_date": "2026-10-12",
                                                          "end_date": "2026-10-14", "kind": "cuti"})
    assert r.status_code == 201, r.json


def runtime_tz():
    from zoneinfo import ZoneInfo

    return ZoneInfo("Asia/Jakarta")


def all_punches():
    """(nip, device, device-local time); B punches on the WITA device."""
    out = []
    for (nip, day), pattern in plan().items():
        if pattern is None:
            continue
        device = "WITA01" if nip == B else "WIB01"
        for t in punches_for(nip, day, pattern, shift_hours=1 if nip == B else 0):
            out.append((nip, device, t))
    return out


def post(client, batch):
    """WIB01 speaks the JSON API; WITA01 is a ZKTeco terminal speaking ADMS."""
    json_items = [{"pin": PINS[n], "time": t.strftime("%Y-%m-%dT%H:%M:%S+07:00")} for n, d, t in batch if d == "WIB01"]
    adms_lines = [f"{PINS[n]}\t{t:%Y-%m-%d %H:%M:%S}\t0\t1\t0\t0\t0" for n, d, t in batch if d == "WITA01"]
    if json_items:
        r = client.post("/api/v1/punches", json={"punches": json_items},
                        headers=bearer(role="device", agency=AGENCY, device_sn="WIB01"))
        assert r.status_code == 200 and r.json["rejected"] == [], r.json
    if adms_lines:
        r = client.post("/iclock/cdata?SN=WITA01&table=ATTLOG&Stamp=1", data="\r\n".join(adms_lines) + "\r\n")
        assert r.status_code == 200 and r.data.decode().startswith("OK:"), r.data
        assert int(r.data.decode().split(":")[1]) == len(adms_lines)


def close_month(client):
    r = client.post("/api/v1/days/close", headers=ADMIN,
                    json={"start_date": f"{YEAR}-{MONTH:02d}-01", "end_date": f"{YEAR}-{MONTH:02d}-31"})
    assert r.status_code == 200, r.json


def actual(app):
    runtime = runtime_of(app)
    settle_days(runtime)  # what the day worker does as markers commit
    with runtime.session() as s:
        rows = s.execute(select(DaySummaryRow)).scalars().all()
    return {(r.nip, r.day): r.payload for r in rows}


def check(app, client):
    got = actual(app)
    exp = expected_codes()
    mismatches = {k: ([d["code"] for d in got[k]["deductions"]] if k in got else "missing", v)
                  for k, v in exp.items() if k not in got or [d["code"] for d in got[k]["deductions"]] != v}
    assert mismatches == {}
    assert all(p["final"] for p in got.values())
    assert not any(day == HOLIDAY or day.weekday() >= 5 for _, day in got)  # no record of days off
    assert {got[(C, date(2026, 10, d))]["excused"] for d in (12, 13, 14)} == {"cuti"}
    for nip in (A, B, C):
        total = sum(Decimal(PERCENT[c]) for (n, _), codes in exp.items() if n == nip for c in codes)
        got_total = sum(Decimal(d["percent"]) for (n, _), p in got.items() if n == nip for d in p["deductions"])
        assert got_total == total, nip
    # the recap the payroll gets says the same
    r = client.get(f"/api/v1/reports/recap?period={YEAR}-{MONTH:02d}", headers=ADMIN)
    rows = {row["nip"]: row for row in r.json["rows"]}
    for nip in (A, B, C):
        counts = {}
        for (n, _), codes in exp.items():
            if n == nip:
                for c in codes:
                    counts[c] = counts.get(c, 0) + 1
        assert {c: k for c, k in rows[nip]["totals"].items() if k} == counts
    return got


def test_punches_in_order(app):
    client = app.test_client()
    setup_agency(app, client)
    punches = sorted(all_punches(), key=lambda p: p[2])
    for day in workdays():
        post(client, [p for p in punches if p[2].date() == day])
    close_month(client)
    check(app, client)


def test_shuffled_duplicated_and_days_late(app):
    client = app.test_client()
    setup_agency(app, client)
    close_month(client)  # every workday closed as TK before any punch arrived
    assert sum(1 for p in actual(app).values() if [d["code"] for d in p["deductions"]] == ["TK"]) \
        == 3 * len(workdays()) - 3  # all but C's three days of leave
    punches = all_punches()
    rng = random.Random(20261028)
    sent = punches * 2 + rng.sample(punches, len(punches) // 3)   # everything twice, a third three times
    rng.shuffle(sent)
    for i in range(0, len(sent), 17):
        post(client, sent[i:i + 17])
    got = check(app, client)
    # a day re-opened by late punches carries a new version, never the TK one
    a_day = next(d for (n, d), p in plan().items() if n == A and p == "ontime")
    assert got[(A, a_day)]["version"] >= 2


def test_recap_as_csv_and_xlsx(app):
    import io

    import openpyxl

    client = app.test_client()
    setup_agency(app, client)
    post(client, all_punches())
    close_month(client)
    csv_text = client.get(f"/api/v1/reports/recap?period={YEAR}-{MONTH:02d}&format=csv", headers=ADMIN).data.decode()
    header, *lines = csv_text.strip().split("\n")
    assert header.startswith("nip,nama,unit,1,2,") and header.endswith("TK,potongan_persen,tpp_dasar,potongan_rupiah")
    assert len(lines) == 3
    xlsx = client.get(f"/api/v1/reports/recap?period={YEAR}-{MONTH:02d}&format=xlsx", headers=ADMIN)
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.data)).active
    assert sheet.cell(3, 1).value == "NIP" and sheet.cell(4, 1).value in (A, B, C)
    percent_col = sheet.max_column - 2  # then the TPP base and the rupiah, empty without a TPP base
    csv_percent = {line.split(",")[0]: float(line.split(",")[-3]) for line in lines}
    assert {sheet.cell(r, 1).value: sheet.cell(r, percent_col).value for r in range(4, 7)} == csv_percent


def expected_percent(nip):
    return sum((Decimal(PERCENT[c]) for (n, _), codes in expected_codes().items() if n == nip for c in codes),
               Decimal(0))


def test_tpp_deductions_in_rupiah_per_asn_and_per_unit(app):
    """Issue 16: with the roster's TPP base, the recap gives each ASN's deduction in rupiah (base ×
    percent, half up, never above the base) and the sum per unit; CSV and XLSX alike, the XLSX
    with numbers in rupiah format, not text. C has no TPP base on the roster: no rupiah for them."""
    import io

    import openpyxl

    client = app.test_client()
    tpp = {A: 7_250_000, B: 5_333_333}
    setup_agency(app, client, tpp=tpp, units={A: "Sekretariat", B: "Bidang GTK", C: "Bidang GTK"})
    post(client, all_punches())
    close_month(client)
    want = {nip: int((Decimal(base) * expected_percent(nip) / 100).quantize(Decimal(1), rounding="ROUND_HALF_UP"))
            for nip, base in tpp.items()}
    assert all(0 < v < tpp[nip] for nip, v in want.items())  # the scenario does deduct something
    body = client.get(f"/api/v1/reports/recap?period={YEAR}-{MONTH:02d}", headers=ADMIN).json
    rows = {r["nip"]: r for r in body["rows"]}
    assert {nip: (rows[nip]["tpp_base"], rows[nip]["deduction_rupiah"]) for nip in (A, B, C)} == {
        A: (tpp[A], want[A]), B: (tpp[B], want[B]), C: (None, None)}
    units = {u["unit"]: u for u in body["units"]}
    assert units["Bidang GTK"] == {"unit": "Bidang GTK", "asn": 2, "with_tpp": 1, "tpp_base": tpp[B],
                                   "deduction_rupiah": want[B]}
    assert units["Sekretariat"]["deduction_rupiah"] == want[A]
    assert body["deduction_rupiah"] == want[A] + want[B]
    csv_text = client.get(f"/api/v1/reports/recap?period={YEAR}-{MONTH:02d}&format=csv", headers=ADMIN).data.decode()
    csv_rows = {line.split(",")[0]: line.split(",")[-2:] for line in csv_text.strip().split("\n")[1:]}
    assert csv_rows == {A: [str(tpp[A]), str(want[A])], B: [str(tpp[B]), str(want[B])], C: ["", ""]}
    book = openpyxl.load_workbook(io.BytesIO(client.get(
        f"/api/v1/reports/recap?period={YEAR}-{MONTH:02d}&format=xlsx", headers=ADMIN).data))
    sheet = book.worksheets[0]
    last = sheet.max_column
    by_nip = {sheet.cell(r, 1).value: (sheet.cell(r, last - 1), sheet.cell(r, last)) for r in range(4, 7)}
    for nip in (A, B):
        base, deduction = by_nip[nip]
        assert (base.value, deduction.value) == (tpp[nip], want[nip])
        assert isinstance(deduction.value, (int, float)) and "#,##0" in deduction.number_format
    assert by_nip[C][1].value is None
    per_unit = book["Per unit"]
    cells = {per_unit.cell(r, 1).value: per_unit.cell(r, 5) for r in range(4, per_unit.max_row + 1)}
    assert cells["Bidang GTK"].value == want[B] and cells["Jumlah"].value == want[A] + want[B]
    assert isinstance(cells["Jumlah"].value, (int, float)) and "#,##0" in cells["Jumlah"].number_format
