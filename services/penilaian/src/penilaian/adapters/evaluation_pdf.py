"""The evaluation document on A4 paper (ReportLab): the parts of the PermenPANRB 6/2022 form in
its order — the ASN and the appraiser, the organisation's result, hasil kerja (RHK, indicators,
targets, realisation, feedback) and its rating, perilaku kerja (the seven core values) and its
rating, the predikat, and the two signatures.

ReportLab rather than WeasyPrint: it needs no system libraries (WeasyPrint needs Pango, which the
service image does not carry), installs in about half the space, and renders this document in
about 15 ms against about 230 ms (measured on this project's machine)."""
from __future__ import annotations

import io
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

_SS = getSampleStyleSheet()
BODY = ParagraphStyle("body", parent=_SS["Normal"], fontName="Helvetica", fontSize=8.5, leading=10.5)
SMALL = ParagraphStyle("small", parent=BODY, fontSize=7.5, leading=9)
BOLD = ParagraphStyle("bold", parent=BODY, fontName="Helvetica-Bold")
TITLE = ParagraphStyle("title", parent=BODY, fontName="Helvetica-Bold", fontSize=12, leading=15, alignment=TA_CENTER)
CENTER = ParagraphStyle("center", parent=BODY, alignment=TA_CENTER)
HEAD = colors.HexColor("#dfe9e4")
GRID = TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                   ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3)])


def _p(text: Any, style: ParagraphStyle = BODY) -> Paragraph:
    return Paragraph(escape("" if text is None else str(text)), style)


def _num(value: Any) -> str:
    if value is None:
        return "belum dinilai"
    return format(Decimal(str(value)).quantize(Decimal("0.01")), "f").replace(".", ",")


def _section(title: str) -> Table:
    t = Table([[_p(title, BOLD)]], colWidths=[180 * mm])
    t.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, -1), HEAD), ("GRID", (0, 0), (-1, -1), 0.5, colors.grey)]))
    return t


def _people(doc: dict[str, Any]) -> Table:
    rows = [[_p("PEGAWAI YANG DINILAI", BOLD), "", _p("PEJABAT PENILAI KINERJA", BOLD), ""]]
    a, b = doc["asn"] or {}, doc["appraiser"] or {}
    for label, key in (("Nama", "nama"), ("NIP", "nip"), ("Pangkat/Gol. Ruang", None), ("Jabatan", "jabatan"),
                       ("Unit kerja", "unit")):
        rows.append([_p(label), _p(a.get(key, "-") if key else "-"), _p(label),
                     _p((b.get(key, "-") if key else "-") if b else "-")])
    t = Table(rows, colWidths=[28 * mm, 62 * mm, 28 * mm, 62 * mm])
    t.setStyle(GRID)
    t.setStyle(TableStyle([("SPAN", (0, 0), (1, 0)), ("SPAN", (2, 0), (3, 0)), ("BACKGROUND", (0, 0), (-1, 0), HEAD)]))
    return t


def _results(doc: dict[str, Any]) -> Table:
    rows = [[_p(h, BOLD) for h in ("No", "Rencana hasil kerja", "Indikator kinerja individu", "Target",
                                    "Realisasi berdasarkan bukti dukung", "Umpan balik berkelanjutan")]]
    if not doc["rhk"]:
        rows.append(["", _p("SKP periode ini belum disetujui."), "", "", "", ""])
    for n, r in enumerate(doc["rhk"], start=1):
        indicators = r["indicators"] or [{"indicator": "-", "target": "-"}]
        feedback = "\n".join(r["feedback"]) or "-"
        for k, ind in enumerate(indicators):
            rows.append([_p(n if k == 0 else ""), _p(f"[{r['kind']}] {r['text']}" if k == 0 else ""),
                         _p(ind["indicator"]), _p(ind["target"]), _p(r["realisation"] if k == 0 else ""),
                         Paragraph("<br/>".join(escape(line) for line in feedback.split("\n")), SMALL) if k == 0 else ""])
    t = Table(rows, colWidths=[8 * mm, 38 * mm, 36 * mm, 26 * mm, 38 * mm, 34 * mm], repeatRows=1)
    t.setStyle(GRID)
    t.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, 0), HEAD)]))
    return t


def _behaviour(doc: dict[str, Any]) -> Table:
    rows = [[_p(h, BOLD) for h in ("No", "Perilaku kerja", "Penilaian pejabat penilai")]]
    for n, b in enumerate(doc["behaviour"], start=1):
        rows.append([_p(n), Paragraph(f"<b>{escape(b['label'])}</b><br/>{escape(b['description'])}", SMALL),
                     _p(b["level"])])
    t = Table(rows, colWidths=[8 * mm, 132 * mm, 40 * mm], repeatRows=1)
    t.setStyle(GRID)
    t.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, 0), HEAD)]))
    return t


def _rating(label: str, part: dict[str, Any], extra: str = "") -> Table:
    t = Table([[_p(label, BOLD), _p(f"{part['level'].upper()} (nilai {_num(part['score'])}){extra}", BOLD)]],
              colWidths=[60 * mm, 120 * mm])
    t.setStyle(GRID)
    return t


def render(doc: dict[str, Any]) -> bytes:
    """The document as PDF bytes."""
    buf = io.BytesIO()
    pdf = SimpleDocTemplate(buf, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=14 * mm,
                            bottomMargin=14 * mm, title="Dokumen Evaluasi Kinerja Pegawai",
                            author="Kinerja", subject=f"{doc['asn']['nama']} {doc['period']}")
    story: list = [_p("DOKUMEN EVALUASI KINERJA PEGAWAI", TITLE),
                   _p(f"PERIODE PENILAIAN: {doc['period_text'].upper()}", CENTER),
                   _p(doc["asn"].get("agency", ""), CENTER), Spacer(0, 4 * mm), _people(doc), Spacer(0, 3 * mm),
                   _section("CAPAIAN KINERJA ORGANISASI"),
                   _p(doc["organisation_predikat"] or "Belum ditetapkan"), Spacer(0, 3 * mm),
                   _section("HASIL KERJA")]
    if doc["skp"]:
        story.append(_p(f"SKP revisi {doc['skp']['revision']}, disetujui {doc['skp']['approved_on'] or '-'}", SMALL))
    story += [_results(doc), Spacer(0, 2 * mm), _rating("RATING HASIL KERJA", doc["hasil_kerja"]), Spacer(0, 3 * mm),
              _section("PERILAKU KERJA"), _behaviour(doc)]
    if doc["dialogs"]:
        story.append(_p("Dialog kinerja: " + " ".join(
            f"{d['date']}: {d['notes']} Tindak lanjut: {d['follow_up']}" for d in doc["dialogs"]), SMALL))
    p = doc["perilaku"]
    story += [Spacer(0, 2 * mm),
              _rating("RATING PERILAKU KERJA", p, f"; disiplin {_num(p['disiplin'])}, BerAKHLAK {_num(p['berakhlak'])}"),
              Spacer(0, 3 * mm)]
    total = (f"nilai {_num(doc['total'])}" if doc["total"] is not None else
             f"nilai sementara {_num(doc['total_partial'])}" if doc["total_partial"] is not None else "belum dinilai")
    predikat = Table([[_p("PREDIKAT KINERJA PEGAWAI", BOLD), _p(f"{doc['predikat'].upper()} ({total})", BOLD)]],
                     colWidths=[60 * mm, 120 * mm])
    predikat.setStyle(GRID)
    predikat.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, -1), HEAD)]))
    story += [predikat, Spacer(0, 8 * mm)]
    a, b = doc["asn"], doc["appraiser"] or {"nama": "-", "nip": "-"}
    signatures = Table([[_p(""), _p(f"............................, {doc['signed_on']}", CENTER)],
                        [_p("Pegawai yang dinilai", CENTER), _p("Pejabat penilai kinerja", CENTER)],
                        [Spacer(0, 16 * mm), Spacer(0, 16 * mm)],
                        [_p(a["nama"], CENTER), _p(b["nama"], CENTER)],
                        [_p(f"NIP {a['nip']}", CENTER), _p(f"NIP {b['nip']}", CENTER)]],
                       colWidths=[90 * mm, 90 * mm])
    story.append(KeepTogether(signatures))
    pdf.build(story)
    return buf.getvalue()
