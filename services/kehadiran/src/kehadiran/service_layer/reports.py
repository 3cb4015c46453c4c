"""The monthly attendance recap (rekap absensi) per unit, as agencies hand it to payroll for TPP."""
from __future__ import annotations

import calendar
import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from kehadiran.adapters.orm import DaySummaryRow, Employee
from kinerja.events.kehadiran import CODES


@dataclass
class RecapRow:
    nip: str
    nama: str
    unit: str
    days: dict[int, str] = field(default_factory=dict)  # day of month → "TL1+PSW4", "C", "H", ...
    totals: dict[str, int] = field(default_factory=lambda: {c: 0 for c in CODES})
    percent: Decimal = Decimal("0")
    corrected: list[int] = field(default_factory=list)  # days of month resting on a correction
    tpp_base: int | None = None  # monthly, whole rupiah; None when the roster does not give it

    @property
    def deduction_rupiah(self) -> int | None:
        """The month's deduction from the TPP base, whole rupiah (half up); never more than the base."""
        if self.tpp_base is None:
            return None
        share = min(self.percent, Decimal("100")) / Decimal("100")
        return int((Decimal(self.tpp_base) * share).to_integral_value(rounding=ROUND_HALF_UP))


@dataclass
class UnitTotal:
    unit: str
    asn: int = 0
    with_tpp: int = 0  # ASN whose TPP base the roster gives
    tpp_base: int = 0
    deduction_rupiah: int = 0


def unit_totals(rows: list[RecapRow]) -> list[UnitTotal]:
    """Per unit: the TPP bases and the deductions in rupiah added up, as payroll receives them."""
    units: dict[str, UnitTotal] = {}
    for r in rows:
        u = units.setdefault(r.unit, UnitTotal(r.unit))
        u.asn += 1
        if r.tpp_base is not None:
            u.with_tpp += 1
            u.tpp_base += r.tpp_base
            u.deduction_rupiah += r.deduction_rupiah or 0
    return [units[k] for k in sorted(units)]


EXCUSE_MARK = {"cuti": "C", "sakit": "S", "dinas_luar": "DL"}
# after a day's mark: the day rests on an approved correction (lupa absen), e.g. "H/K", "TL1/K"
CORRECTED_MARK = "/K"
LEGEND = ("Keterangan: H hadir tepat waktu, C cuti, S sakit, DL dinas luar, TL/PSW/TK potongan, "
          "/K koreksi lupa absen yang disetujui atasan")


def monthly_recap(session: Session, agency: str, year: int, month: int, unit: str | None = None) -> list[RecapRow]:
    first, last = date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
    q = select(Employee).where(Employee.agency == agency).order_by(Employee.unit, Employee.nama, Employee.nip)
    if unit:
        q = q.where(Employee.unit == unit)
    rows: dict[str, RecapRow] = {e.nip: RecapRow(e.nip, e.nama, e.unit, tpp_base=e.tpp_base)
                                 for e in session.execute(q).scalars()}
    if not rows:
        return []
    summaries = session.execute(
        select(DaySummaryRow).where(DaySummaryRow.nip.in_(list(rows)), DaySummaryRow.day >= first,
                                    DaySummaryRow.day <= last)
    ).scalars()
    for s in summaries:
        r = rows[s.nip]
        p = s.payload
        codes = [d["code"] for d in p.get("deductions", [])]
        if p.get("excused"):
            mark = EXCUSE_MARK.get(p["excused"], p["excused"])
        elif codes:
            mark = "+".join(codes)
        elif p.get("workday"):
            mark = "H"  # hadir, on time
        else:
            mark = "-"
        if p.get("corrected"):
            mark += CORRECTED_MARK
            r.corrected.append(s.day.day)
        r.days[s.day.day] = mark
        for d in p.get("deductions", []):
            r.totals[d["code"]] += 1
            r.percent += Decimal(str(d["percent"]))
    return list(rows.values())


# a cell a spreadsheet would run as a formula (OWASP, CSV injection): =, +, -, @, and TAB or CR
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")


def spreadsheet_text(value):
    """A text cell as text: one that starts like a formula gets a leading ``'`` (a number, and the
    recap's own marks for a day off, ``-`` or ``-/K``, stay as they are)."""
    if (isinstance(value, str) and value.startswith(FORMULA_START) and value not in ("-", "-" + CORRECTED_MARK)
            and not _NUMBER.match(value)):
        return "'" + value
    return value


def recap_csv(rows: list[RecapRow], year: int, month: int) -> str:
    ndays = calendar.monthrange(year, month)[1]
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["nip", "nama", "unit", *[str(d) for d in range(1, ndays + 1)], *CODES, "potongan_persen",
                "tpp_dasar", "potongan_rupiah"])
    for r in rows:
        w.writerow([spreadsheet_text(v) for v in
                    [r.nip, r.nama, r.unit, *[r.days.get(d, "") for d in range(1, ndays + 1)],
                     *[r.totals[c] for c in CODES], f"{r.percent:.2f}",
                     "" if r.tpp_base is None else r.tpp_base, "" if r.tpp_base is None else r.deduction_rupiah]])
    return out.getvalue()


def recap_xlsx(rows: list[RecapRow], year: int, month: int, title: str) -> bytes:
    """Two sheets: per ASN (days, codes, percent, TPP base and deduction in rupiah) and per unit
    (the rupiah added up). Numbers are numbers with formats, never text, so payroll can sum them."""
    import xlsxwriter

    ndays = calendar.monthrange(year, month)[1]
    buf = io.BytesIO()
    # text is text: never a formula, a link or a number xlsxwriter guessed from a string
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                                   "strings_to_numbers": False})
    ws = wb.add_worksheet(f"Rekap {year}-{month:02d}")
    bold = wb.add_format({"bold": True})
    percent = wb.add_format({"num_format": "0.00"})
    rupiah = wb.add_format({"num_format": RUPIAH_FORMAT})
    rupiah_bold = wb.add_format({"num_format": RUPIAH_FORMAT, "bold": True})
    ws.write_string(0, 0, title, bold)
    ws.write_string(1, 0, LEGEND)
    header = ["NIP", "Nama", "Unit", *[str(d) for d in range(1, ndays + 1)], *CODES, "Potongan (%)",
              "TPP dasar (Rp)", "Potongan (Rp)"]
    for c, h in enumerate(header):
        ws.write_string(2, c, h, bold)
    for i, r in enumerate(rows, start=3):
        values = [r.nip, r.nama, r.unit, *[r.days.get(d, "") for d in range(1, ndays + 1)]]
        for c, v in enumerate(values):
            ws.write_string(i, c, v)
        for c, code in enumerate(CODES, start=len(values)):
            ws.write_number(i, c, r.totals[code])
        c = len(values) + len(CODES)
        ws.write_number(i, c, float(r.percent), percent)
        if r.tpp_base is not None:
            ws.write_number(i, c + 1, r.tpp_base, rupiah)
            ws.write_number(i, c + 2, r.deduction_rupiah, rupiah)
    ws.set_column(0, 0, 20)
    ws.set_column(1, 1, 28)
    ws.set_column(2, 2, 22)
    ws.set_column(3 + ndays + len(CODES), 5 + ndays + len(CODES), 16)
    us = wb.add_worksheet("Per unit")
    us.write_string(0, 0, f"{title}: potongan TPP per unit", bold)
    for c, h in enumerate(("Unit", "ASN", "ASN dengan TPP", "TPP dasar (Rp)", "Potongan (Rp)")):
        us.write_string(2, c, h, bold)
    totals = unit_totals(rows)
    for i, u in enumerate(totals, start=3):
        us.write_string(i, 0, u.unit)
        us.write_number(i, 1, u.asn)
        us.write_number(i, 2, u.with_tpp)
        us.write_number(i, 3, u.tpp_base, rupiah)
        us.write_number(i, 4, u.deduction_rupiah, rupiah)
    last = 3 + len(totals)
    us.write_string(last, 0, "Jumlah", bold)
    us.write_number(last, 1, sum(u.asn for u in totals), bold)
    us.write_number(last, 2, sum(u.with_tpp for u in totals), bold)
    us.write_number(last, 3, sum(u.tpp_base for u in totals), rupiah_bold)
    us.write_number(last, 4, sum(u.deduction_rupiah for u in totals), rupiah_bold)
    us.set_column(0, 0, 28)
    us.set_column(1, 2, 14)
    us.set_column(3, 4, 18)
    wb.close()
    return buf.getvalue()


RUPIAH_FORMAT = '"Rp" #,##0'
