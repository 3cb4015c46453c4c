"""notifikasi's Flask app factory, served by gunicorn with gthread workers (see ``gunicorn_conf``
and, for why, ``stream_api``):

    gunicorn -c python:notifikasi.entrypoints.gunicorn_conf 'notifikasi.entrypoints.app:create_app()'
"""
from __future__ import annotations

from typing import Any, Mapping

from flask import Blueprint, Flask
from flask_smorest import Api

from kinerja.config import Settings
from kinerja.health import health_blueprint
from kinerja.webapp import create_service_app
from notifikasi.entrypoints import dashboard, inbox_api, me_api, preferences_api, stream_api, webhooks_api
from notifikasi.entrypoints.runtime import SERVICE, NotifikasiRuntime, make_runtime
from notifikasi.entrypoints.schemas import MailerNoticePayload, payload_schemas


def _payload_components(app: Flask, api: Api, settings: Settings) -> None:
    for name, schema in {**payload_schemas(), "MailerNoticePayload": MailerNoticePayload}.items():
        api.spec.components.schema(name, schema=schema)  # what a notification's payload can be


def _health(runtime: NotifikasiRuntime, settings: Settings) -> Blueprint:
    # the web app never talks to Kafka (the consumer does); the mailer's line is its own
    return health_blueprint(lambda: runtime.engine, settings, needs_kafka=False,
                            lines={"mailer": runtime.mailer_line})


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    return create_service_app(
        SERVICE, __name__, title="Kinerja notifikasi API", make_runtime=make_runtime, config=config,
        prepare=_payload_components, health=_health,
        blueprints=[stream_api.blp, inbox_api.blp, webhooks_api.blp, preferences_api.blp, me_api.blp],
        public_blueprints=[dashboard.bp])  # static files; the data comes with the token
