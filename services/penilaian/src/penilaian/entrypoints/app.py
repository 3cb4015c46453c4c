"""penilaian's Flask app factory, served by gunicorn:

    gunicorn -b 127.0.0.1:8003 'penilaian.entrypoints.app:create_app()'
"""
from __future__ import annotations

from typing import Any, Mapping

from flask import Flask

from kinerja.config import load_settings
from kinerja.logging import configure_logging
from kinerja.web import configure_app, health_blueprint
from penilaian.entrypoints import agency_api, ratings_api, scores_api, training_api
from penilaian.entrypoints.runtime import SERVICE, make_runtime


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    settings = load_settings(SERVICE, config)
    configure_logging(SERVICE)
    app = Flask(__name__)
    api = configure_app(app, settings, title="Kinerja penilaian API")
    runtime = make_runtime(settings)
    app.extensions["kinerja_runtime"] = runtime
    app.register_blueprint(health_blueprint(lambda: runtime.engine, settings))
    api.register_blueprint(scores_api.blp)
    api.register_blueprint(ratings_api.blp)
    api.register_blueprint(ratings_api.dlg)
    api.register_blueprint(training_api.blp)
    api.register_blueprint(agency_api.blp)
    return app
