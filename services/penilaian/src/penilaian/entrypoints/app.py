"""penilaian's Flask app factory, served by gunicorn:

    gunicorn -b 127.0.0.1:8003 'penilaian.entrypoints.app:create_app()'
"""
from __future__ import annotations

from typing import Any, Mapping

from flask import Flask

from kinerja.webapp import create_service_app
from penilaian.entrypoints import agency_api, ratings_api, scores_api, training_api
from penilaian.entrypoints.runtime import SERVICE, make_runtime


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    return create_service_app(
        SERVICE, __name__, title="Kinerja penilaian API", make_runtime=make_runtime, config=config,
        blueprints=[scores_api.blp, ratings_api.blp, ratings_api.dlg, training_api.blp, agency_api.blp])
