"""The monthly attendance recap (rekap absensi) as JSON, CSV or XLSX."""
from __future__ import annotations

import re

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from kehadiran.entrypoints.wt_schemas import RecapQuery
from kehadiran.service_layer.access import agency_scope, own_unit, supervised_by
from kehadiran.service_layer.reports import monthly_recap, recap_csv, recap_xlsx, unit_totals
from kinerja.auth import current_principal, require_auth
from kinerja.webapp import current_runtime

def download_name(text: str) -> str:
    """A file name safe in a Content-Disposition header: letters, digits, ``.``, ``_`` and ``-``."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)[:150] or "rekap"


blp = Blueprint("reports", __name__, url_prefix="/api/v1/reports", description="Attendance recaps for payroll")


@blp.route("/recap")
class Recap(MethodView):
    @require_auth("admin", "operator", "atasan")
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(RecapQuery, location="query")
    @blp.response(200)
    def get(self, args):
        """Per ASN per day the codes (H on time, C/S/DL excused; ``/K`` after a code: the day rests
        on an approved correction, lupa absen), totals per code, the total deduction percent and,
        where the roster gives the ASN's TPP base, the deduction in rupiah; per unit the rupiah
        added up; ``format=csv`` or ``xlsx`` (numbers with formats) for payroll. An admin reads
        their agency's (any unit), a supervisor their own unit's (the roster's unit of the supervisor:
        the people of it they lead, directly or through the supervisors under them, and themselves)."""
        p = current_principal()
        y, m = map(int, args["period"].split("-"))
        rt = current_runtime()
        with rt.session() as s:
            if p.role == "atasan":
                args["unit"] = own_unit(s, p, args["unit"], args["agency"])
                agency = p.agency
                led = supervised_by(s, agency, p.nip) | {p.nip}
                rows = [r for r in monthly_recap(s, agency, y, m, args["unit"]) if r.nip in led]
            else:
                agency = agency_scope(p, args["agency"])
                rows = monthly_recap(s, agency, y, m, args["unit"])
        name = download_name(f"rekap-{agency}-{args['period']}" + (f"-{args['unit']}" if args["unit"] else ""))
        if args["format"] == "csv":
            return Response(recap_csv(rows, y, m), mimetype="text/csv",
                            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
        if args["format"] == "xlsx":
            data = recap_xlsx(rows, y, m, f"Rekap absensi {agency} {args['period']}")
            return Response(data, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                            headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})
        units = unit_totals(rows)
        return {"period": args["period"], "agency": agency, "unit": args["unit"],
                "rows": [{"nip": r.nip, "nama": r.nama, "unit": r.unit, "days": {str(k): v for k, v in r.days.items()},
                          "totals": r.totals, "percent": float(r.percent), "corrected_days": sorted(r.corrected),
                          "tpp_base": r.tpp_base, "deduction_rupiah": r.deduction_rupiah} for r in rows],
                "units": [u.__dict__ for u in units],
                "deduction_rupiah": sum(u.deduction_rupiah for u in units)}
