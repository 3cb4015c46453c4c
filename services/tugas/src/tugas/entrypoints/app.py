"""tugas's Flask app factory, served by gunicorn:

    gunicorn -b 127.0.0.1:8002 'tugas.entrypoints.app:create_app()'
"""
from __future__ import annotations

from typing import Any, Mapping

from flask import Flask

from kinerja.webapp import create_service_app
from tugas.entrypoints import evidence_api, feedback_api, innovations_api, skp_api, tasks_api
from tugas.entrypoints.runtime import SERVICE, make_runtime


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    return create_service_app(
        SERVICE, __name__, title="Kinerja tugas API", make_runtime=make_runtime, config=config,
        blueprints=[tasks_api.blp, evidence_api.blp, skp_api.blp, feedback_api.blp, innovations_api.blp])
