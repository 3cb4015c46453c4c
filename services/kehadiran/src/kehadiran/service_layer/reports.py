"""The monthly attendance recap (rekap absensi) per unit, as agencies hand it to payroll for TPP."""
from __future__ import annotations

import calendar
import csv
import io
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

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
    rows: dict[str, RecapRow] = {e.nip: RecapRow(e.nip, e.nama, e.unit) for e in session.execute(q).scalars()}
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


def recap_csv(rows: list[RecapRow], year: int, month: int) -> str:
    ndays = calendar.monthrange(year, month)[1]
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["nip", "nama", "unit", *[str(d) for d in range(1, ndays + 1)], *CODES, "potongan_persen"])
    for r in rows:
        w.writerow([r.nip, r.nama, r.unit, *[r.days.get(d, "") for d in range(1, ndays + 1)],
                    *[r.totals[c] for c in CODES], f"{r.percent:.2f}"])
    return out.getvalue()


def recap_xlsx(rows: list[RecapRow], year: int, month: int, title: str) -> bytes:
    import xlsxwriter

    ndays = calendar.monthrange(year, month)[1]
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet(f"Rekap {year}-{month:02d}")
    bold = wb.add_format({"bold": True})
    ws.write(0, 0, title, bold)
    ws.write(1, 0, LEGEND)
    header = ["NIP", "Nama", "Unit", *[str(d) for d in range(1, ndays + 1)], *CODES, "Potongan (%)"]
    for c, h in enumerate(header):
        ws.write(2, c, h, bold)
    for i, r in enumerate(rows, start=3):
        values = [r.nip, r.nama, r.unit, *[r.days.get(d, "") for d in range(1, ndays + 1)],
                  *[r.totals[c] for c in CODES]]
        for c, v in enumerate(values):
            ws.write(i, c, v)
        ws.write_number(i, len(values), float(r.percent))
    ws.set_column(0, 0, 20)
    ws.set_column(1, 1, 28)
    ws.set_column(2, 2, 22)
    wb.close()
    return buf.getvalue()
