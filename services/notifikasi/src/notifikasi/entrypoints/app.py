"""notifikasi's Flask app factory, served by gunicorn with gthread workers (see ``gunicorn_conf``
and, for why, ``stream_api``):

    gunicorn -c python:notifikasi.entrypoints.gunicorn_conf 'notifikasi.entrypoints.app:create_app()'
"""
from __future__ import annotations

from typing import Any, Mapping

from flask import Flask

from kinerja.config import load_settings
from kinerja.logging import configure_logging
from kinerja.web import configure_app, health_blueprint
from notifikasi.entrypoints import dashboard, inbox_api, me_api, preferences_api, stream_api, webhooks_api
from notifikasi.entrypoints.runtime import SERVICE, make_runtime
from notifikasi.entrypoints.schemas import MailerNoticePayload, payload_schemas


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    settings = load_settings(SERVICE, config)
    configure_logging(SERVICE)
    app = Flask(__name__)
    api = configure_app(app, settings, title="Kinerja notifikasi API")
    for name, schema in {**payload_schemas(), "MailerNoticePayload": MailerNoticePayload}.items():
        api.spec.components.schema(name, schema=schema)  # what a notification's payload can be
    runtime = make_runtime(settings)
    app.extensions["kinerja_runtime"] = runtime
    app.register_blueprint(health_blueprint(lambda: runtime.engine, settings, needs_kafka=False,
                                            lines={"mailer": runtime.mailer_line}))
    api.register_blueprint(stream_api.blp)
    api.register_blueprint(inbox_api.blp)
    api.register_blueprint(webhooks_api.blp)
    api.register_blueprint(preferences_api.blp)
    api.register_blueprint(me_api.blp)
    app.register_blueprint(dashboard.bp)  # public: static files; the data comes with the token
    return app
