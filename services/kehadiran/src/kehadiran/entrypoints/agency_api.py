"""An agency's settings for its days and terminals: its time zone (read-only here: it comes with the
roster, ``pegawai.v1``), whether a terminal's PIN leading zeros tell people apart, and the burst
window within which one person's punches on any terminals are one punch. Everyone of the agency
reads them (the dashboard takes its "today" from the zone); its admin, or an operator, changes them."""
from __future__ import annotations

from datetime import datetime, timezone

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from werkzeug.exceptions import UnprocessableEntity

from kehadiran.adapters.orm import AgencySettings
from kehadiran.entrypoints.runtime import agencies
from kehadiran.service_layer.access import agency_scope
from kehadiran.service_layer.agencies import MAX_BURST_S, describe, update_settings
from kehadiran.service_layer.working_time import MAX_SPAN_DAYS
from kinerja.auth import current_principal, require_auth
from kinerja.fields import Agency, WindowDate
from kinerja.webapp import current_runtime

blp = Blueprint("agency_settings", __name__, url_prefix="/api/v1/agency-settings",
                description="An agency's time zone, PIN rule and punch burst window")


class SettingsQuery(Schema):
    agency = Agency(metadata={"description": "operators: the agency (others read their own)"})


class SettingsIn(Schema):
    agency = Agency(metadata={"description": "operators: the agency (an admin changes their own)"})
    ignore_pin_zeros = fields.Boolean(metadata={"description": "true: a terminal's 007 and 7 are the same person"})
    burst_window_s = fields.Integer(allow_none=True, strict=True, validate=validate.Range(0, MAX_BURST_S), metadata={
        "description": "punches of one person closer than this many seconds (any terminals) are one punch; "
                       "null: the deployment's default; 0: off"})
    recompute_from = WindowDate(load_default=None, metadata={
        "description": "recompute the agency's days from this date to today under the new settings"})


class SettingsOut(Schema):
    agency = fields.String()
    timezone = fields.String(metadata={"description": "IANA name: Asia/Jakarta (WIB), Asia/Makassar (WITA), "
                                                      "Asia/Jayapura (WIT)"})
    timezone_from_roster = fields.Boolean(metadata={"description": "false: the deployment's default zone"})
    ignore_pin_zeros = fields.Boolean()
    burst_window_s = fields.Integer()
    burst_window_default = fields.Boolean()
    default_burst_window_s = fields.Integer()
    updated_at = fields.DateTime(allow_none=True)
    updated_by = fields.String(allow_none=True)
    days_marked = fields.Integer(metadata={"description": "days queued for recomputing (PUT)"})



@blp.route("")
class AgencySettingsView(MethodView):
    @require_auth()
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(SettingsQuery, location="query")
    @blp.response(200, SettingsOut)
    def get(self, query):
        """The caller's agency's settings (an operator names the agency)."""
        agency = agency_scope(current_principal(), query.get("agency"))
        rt = current_runtime()
        directory = agencies(rt)
        with rt.session() as s:
            return describe(directory.rules(agency, s), agency, s.get(AgencySettings, agency), directory.default_burst)

    @require_auth("admin", "operator")
    @blp.doc(security=[{"bearer": []}])
    @blp.arguments(SettingsIn)
    @blp.response(200, SettingsOut)
    def put(self, body):
        """Change the PIN rule or the burst window; ``recompute_from`` applies them to past days."""
        p = current_principal()
        agency = agency_scope(p, body.get("agency"))
        rt = current_runtime()
        directory = agencies(rt)
        now = datetime.now(timezone.utc)
        changes = {k: body[k] for k in ("ignore_pin_zeros", "burst_window_s") if k in body}
        with rt.session() as s, s.begin():
            today = now.astimezone(directory.rules(agency, s).zone).date()
            start = body.get("recompute_from")
            if start is not None and (start > today or (today - start).days >= MAX_SPAN_DAYS):
                raise UnprocessableEntity(f"recompute_from must be within the last {MAX_SPAN_DAYS} days")
            row, marked = update_settings(s, directory, agency, changes, actor=p.sub, now=now, recompute_from=start,
                                          today=today)
            directory.refresh(s, force=True)
            out = describe(directory.rules(agency), agency, row, directory.default_burst)
        return {**out, "days_marked": marked}
