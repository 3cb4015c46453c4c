"""kehadiran's Flask app factory, served by gunicorn:

    gunicorn -b 127.0.0.1:8001 'kehadiran.entrypoints.app:create_app()'
"""
from __future__ import annotations

from typing import Any, Mapping

from flask import Flask

from kehadiran.entrypoints import (calendar_api, days_api, devices_api, leave_api, locations_api, punches_api,
                                    reports_api, schedules_api)
from kehadiran.entrypoints import device_ops_api, iclock
from kehadiran.entrypoints import agency_api, corrections_api, leave_requests_api, punch_reads_api
from kehadiran.entrypoints.runtime import SERVICE, correction_max_days, make_runtime, phone_skew
from kinerja.config import load_settings
from kinerja.logging import configure_logging
from kinerja.web import configure_app, health_blueprint


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    settings = load_settings(SERVICE, config)
    configure_logging(SERVICE)
    app = Flask(__name__)
    app.config["KEHADIRAN_PHONE_SKEW"] = phone_skew(settings)
    app.config["KEHADIRAN_CORRECTION_MAX_DAYS"] = correction_max_days(settings)
    api = configure_app(app, settings, title="Kinerja kehadiran API")
    runtime = make_runtime(settings)
    app.extensions["kinerja_runtime"] = runtime
    app.register_blueprint(health_blueprint(lambda: runtime.engine, settings))
    api.register_blueprint(punches_api.blp)
    api.register_blueprint(punch_reads_api.blp)  # the same path, GET
    api.register_blueprint(devices_api.blp)
    for module in (calendar_api, schedules_api, leave_api, locations_api, days_api, reports_api, corrections_api,
                   leave_requests_api, agency_api):
        api.register_blueprint(module.blp)
    api.register_blueprint(device_ops_api.blp)
    app.register_blueprint(iclock.bp)
    return app
