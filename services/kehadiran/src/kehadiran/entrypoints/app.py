"""kehadiran's Flask app factory, served by gunicorn:

    gunicorn -b 127.0.0.1:8001 'kehadiran.entrypoints.app:create_app()'
"""
from __future__ import annotations

from typing import Any, Mapping

from flask import Flask
from flask_smorest import Api

from kehadiran.entrypoints import (agency_api, calendar_api, corrections_api, days_api, device_ops_api, devices_api,
                                    iclock, lean_routes, leave_api, leave_requests_api, locations_api, punch_reads_api,
                                    punches_api, reports_api, schedules_api)
from kehadiran.entrypoints.errors import register_rule_errors
from kehadiran.entrypoints.runtime import SERVICE, correction_max_days, make_runtime, phone_skew
from kinerja.config import Settings
from kinerja.webapp import create_service_app


def _prepare(app: Flask, api: Api, settings: Settings) -> None:
    register_rule_errors(app)
    app.config["KEHADIRAN_PHONE_SKEW"] = phone_skew(settings)
    app.config["KEHADIRAN_CORRECTION_MAX_DAYS"] = correction_max_days(settings)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    app = create_service_app(
        SERVICE, __name__, title="Kinerja kehadiran API", make_runtime=make_runtime, config=config, prepare=_prepare,
        blueprints=[punches_api.blp, punch_reads_api.blp,  # the same path: POST, then GET
                    devices_api.blp, calendar_api.blp, schedules_api.blp, leave_api.blp, locations_api.blp,
                    days_api.blp, reports_api.blp, corrections_api.blp, leave_requests_api.blp, agency_api.blp,
                    device_ops_api.blp],
        public_blueprints=[iclock.bp])  # the device protocol: devices carry no JWT
    lean_routes.install(app)  # a terminal's punch requests without Flask's per-request machinery
    return app
